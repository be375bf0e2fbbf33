"""The scaling experiment (bench_learning_scale.py): the pool, each point's inputs, a real point end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mannequin.errors import InputError
from mannequin.stages.learning_scale import (
    ScaleRun,
    collect,
    pool_clips,
    run_point,
    slope_per_doubling,
    write_run_inputs,
)
from tests.helpers.learning import make_curated, write_splits
from tests.learning.test_compare import TINY, tiny_project


def two_sources(root: Path) -> list[tuple[Path, Path]]:
    """The first source: tiny_project's (u0, u1 unlabelled, l0 labelled, t0 test); a second with u2 (rejected:
    no shard) and u3."""
    tiny_project(root / "a")
    write_splits(root / "b" / "data", {"u2": "unlabeled", "u3": "unlabeled"})
    make_curated(root / "b" / "curated", ["u3"], frames=4, parallax=True)
    return [(root / "a" / "data", root / "a" / "curated"), (root / "b" / "data", root / "b" / "curated")]


def test_the_pool_is_every_sources_unlabelled_clips_in_order(tmp_path: Path) -> None:
    pool = pool_clips(two_sources(tmp_path))
    assert [(c.clip_id, c.shard is not None) for c in pool] == [("u0", True), ("u1", True), ("u2", False),
                                                                 ("u3", True)]  # fmt: skip
    sources = two_sources(tmp_path / "dup")
    write_splits(sources[1][0], {"u1": "unlabeled"})
    with pytest.raises(InputError, match="'u1' is also in an earlier source"):
        pool_clips(sources)


def test_a_point_trains_on_the_first_n_pool_clips_and_the_labelled_ones(tmp_path: Path) -> None:
    sources = two_sources(tmp_path)
    pool = pool_clips(sources)
    counts = write_run_inputs(tmp_path / "p", pool, 3, *sources[0])
    assert counts == {"pool_clips": 3, "accepted": 2}
    linked = sorted(p.name for p in (tmp_path / "p" / "curated" / "shards").iterdir())
    assert linked == ["l0", "u0", "u1"]  # u2 was rejected, u3 is beyond 3, t0 is a test clip
    splits = (tmp_path / "p" / "data" / "splits.csv").read_text().splitlines()
    assert splits == ["clip_id,split", "l0,labeled", "t0,test", "u0,unlabeled", "u1,unlabeled", "u2,unlabeled"]


def test_point_names_round_trip() -> None:
    run = ScaleRun(512, 2000, 32)
    assert run.name == "clips00512-steps02000-width032" and ScaleRun.parse(run.name) == run
    with pytest.raises(InputError, match="not a scaling point"):
        ScaleRun.parse("clips-many")


def test_the_slope_per_doubling_is_the_least_squares_line_over_log2_clips() -> None:
    points = [{"clips": n, "models": {"mvs": {"pretrained": {"abs_rel": v}}}} for n, v in [(64, 0.3), (128, 0.25),
                                                                                            (256, 0.2)]]  # fmt: skip
    assert slope_per_doubling(points, "mvs", "pretrained") == pytest.approx(-0.05)
    assert slope_per_doubling(points[:1], "mvs", "pretrained") is None
    assert slope_per_doubling(points, "mvs-parallax", "pretrained") is None


def test_a_point_pretrains_scores_and_fine_tunes_and_is_not_redone(tmp_path: Path) -> None:
    sources = two_sources(tmp_path)
    pool = pool_clips(sources)
    # a params file's step factor must not change a point's steps: the point's steps are its own
    (tmp_path / "params.yaml").write_text("pretrain:\n  step_factors:\n    mvs-parallax: 3.0\n")
    paths = {"parallax.data": str(sources[0][0]), "parallax.out": str(tmp_path / "parallax"),
             "finetune.parallax": str(tmp_path / "parallax"), "curate.data": str(sources[0][0])}  # fmt: skip
    run = ScaleRun(4, 2, 4)
    result = run_point(tmp_path / "params.yaml", run, pool, sources, tmp_path / "out", ("mvs", "mvs-parallax"),
                       {**TINY, **paths}, log=lambda _: None)  # fmt: skip
    assert result["accepted"] == 3 and set(result["models"]) == {"mvs", "mvs-parallax"}
    for m in result["models"].values():
        assert 0 < m["pretrained"]["abs_rel"] < 10 and np.isfinite(m["finetuned"]["abs_rel"])
        assert m["target_gap"] is None or m["target_gap"] >= 0
    meta = json.loads((tmp_path / "out" / run.name / "models" / "pretrain" / "mvs" / "model.json").read_text())
    assert sorted(meta["train_clips"] + meta["val_clips"]) == ["l0", "u0", "u1", "u3"]  # the pool's 4: u2 rejected
    parallax_meta = (tmp_path / "out" / run.name / "models" / "pretrain" / "mvs-parallax" / "model.json").read_text()
    assert meta["steps"] == json.loads(parallax_meta)["steps"] == run.steps
    stamp = (tmp_path / "out" / run.name / "mvs.result.json").stat().st_mtime_ns
    again = run_point(tmp_path / "params.yaml", run, pool, sources, tmp_path / "out", ("mvs",), {**TINY, **paths},
                      log=lambda _: None)  # fmt: skip
    assert again == result and (tmp_path / "out" / run.name / "mvs.result.json").stat().st_mtime_ns == stamp
    assert collect(tmp_path / "out", pool, 2) == [result]
