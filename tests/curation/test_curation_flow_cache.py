"""The real Prefect curate flow: per-clip cache (nothing changed → no clip task runs; one clip changed → one runs),
a missing shard is recomputed, and the flow's outputs equal the plain library run's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mannequin.curation.curate import curate_dataset
from mannequin.stages.curate import load_flow as load_curate_flow
from tests.helpers.curation import copy_data


def run(flow, data: Path, out: Path, params) -> dict:
    flow(data=str(data), out=str(out), params=params.model_dump(mode="json"))
    return json.loads((out / "timings.json").read_text())


@pytest.mark.slow
def test_flow_caches_per_clip_and_matches_the_library(clean_data, tmp_path, tiny_params):
    data = copy_data(clean_data, tmp_path / "data")
    out = tmp_path / "curated"
    flow = load_curate_flow()

    first = run(flow, data, out, tiny_params)
    assert (first["executed"], first["cached"], first["failed"]) == (3, 0, 0)
    table = (out / "clips.csv").read_text()
    shards = {p.name: (p / "depth.npy").read_bytes() for p in (out / "shards").iterdir()}
    assert sorted(shards) == ["good_a", "good_b"]

    again = run(flow, data, out, tiny_params)
    assert (again["executed"], again["cached"]) == (0, 3)  # nothing changed: no clip task executes
    assert (out / "clips.csv").read_text() == table

    poses = data / "clips" / "good_b" / "poses.txt"
    lines = poses.read_text().splitlines()
    poses.write_text("\n".join(["a new note line", *lines[1:]]) + "\n")  # content changed, same meaning
    changed = run(flow, data, out, tiny_params)
    assert (changed["executed"], changed["cached"]) == (1, 2)
    assert list(changed["clip_s"]) == ["good_b"]
    assert (out / "clips.csv").read_text() == table

    shutil.rmtree(out / "shards" / "good_a")  # e.g. cleared by hand: the cache must not hide the loss
    healed = run(flow, data, out, tiny_params)
    assert healed["executed"] == 1 and list(healed["clip_s"]) == ["good_a"]
    assert (out / "shards" / "good_a" / "depth.npy").read_bytes() == shards["good_a"]

    plain = tmp_path / "plain"
    curate_dataset(data, plain, tiny_params)
    assert (plain / "clips.csv").read_text() == table
    assert (plain / "summary.json").read_text() == (out / "summary.json").read_text()
    assert json.loads((out / "summary.json").read_text())["by_reason"] == {"accepted": 2, "held_out_test": 1}
    assert {p.name for p in (out / "validation").iterdir()} == {"clip_table.json", "curated_frames.json"}
