"""Curation through a local Dask cluster (2 worker processes on 127.0.0.1) gives the thread runner's clips.csv."""

from __future__ import annotations

import json

import pytest

from mannequin.stages.curate import load_flow as load_curate_flow
from tests.helpers.curation import copy_data


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


def test_local_dask_workers_start_without_the_nannys_malloc_trim_setting(tiny_params):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which made each clip 2.5x slower in a worker."""
    import dask
    import distributed  # noqa: F401  (loads the nanny defaults first, as the Dask runner does)

    make_task_runner = load_curate_flow().__globals__["make_task_runner"]
    nanny_default = {"MALLOC_TRIM_THRESHOLD_": 65536, "OMP_NUM_THREADS": 1}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": nanny_default}):
        make_task_runner(tiny_params.model_copy(update={"runner": "threads"}))
        assert "MALLOC_TRIM_THRESHOLD_" in dask.config.get("distributed.nanny.pre-spawn-environ")  # threads: untouched
        make_task_runner(tiny_params.model_copy(update={"runner": "dask"}))
        environ = dask.config.get("distributed.nanny.pre-spawn-environ")
        assert "MALLOC_TRIM_THRESHOLD_" not in environ and environ["OMP_NUM_THREADS"] == 1
