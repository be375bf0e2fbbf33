"""Curation through a local Dask cluster (2 worker processes on 127.0.0.1) gives the thread runner's clips.csv."""

from __future__ import annotations

import json

import pytest
from curation_helpers import copy_data

from mannequin.cli.curate_commands import load_curate_flow


@pytest.mark.slow
def test_dask_runner_gives_the_same_clip_table_as_threads(clean_data, tmp_path, tiny_params):
    data = copy_data(clean_data, tmp_path / "data")
    flow = load_curate_flow()
    outputs = {}
    for runner in ("threads", "dask"):
        params = tiny_params.model_copy(update={"runner": runner, "workers": 2})
        out = tmp_path / runner
        flow(data=str(data), out=str(out), params=params.model_dump(mode="json"))
        timings = json.loads((out / "timings.json").read_text())
        assert timings["runner"] == runner and timings["executed"] == 3 and timings["failed"] == 0
        assert timings["ran_in_flow_process"] == (runner == "threads")  # Dask ran the clips in its worker processes
        assert timings["worker_processes"] >= 1
        outputs[runner] = out
    assert (outputs["dask"] / "clips.csv").read_text() == (outputs["threads"] / "clips.csv").read_text()
    assert (outputs["dask"] / "summary.json").read_text() == (outputs["threads"] / "summary.json").read_text()
    for shard in (outputs["threads"] / "shards").iterdir():
        assert (outputs["dask"] / "shards" / shard.name / "meta.json").is_file()
