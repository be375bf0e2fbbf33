"""``curate.reuse``: the ablation copies the main run's shards instead of recomputing MVS, with identical outputs."""

from __future__ import annotations

import json
from pathlib import Path

import mannequin.curation.mvs as mvs
from mannequin.curation.curate import curate_dataset
from mannequin.curation.parallax import sweep_params
from mannequin.curation.table import read_clip_table


def _outputs(out: Path) -> dict[str, bytes]:
    files = [out / "clips.csv", out / "summary.json", *sorted((out / "shards").rglob("*"))]
    return {f.relative_to(out).as_posix(): f.read_bytes() for f in files if f.is_file()}


def test_reuse_gives_the_same_outputs_without_recomputing(clean_data, tmp_path, tiny_params, monkeypatch):
    calls: list[int] = []  # the multi-view MVS of a clip
    sweeps: list[int] = []  # the sweep of an accepted clip's parallax input (stored in its shard)
    real = mvs.clip_depth

    def counting(*args, **kwargs):
        (sweeps if args[2] == sweep_params(tiny_params.mvs, tiny_params.masks) else calls).append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mvs, "clip_depth", counting)
    main = tmp_path / "main"
    curate_dataset(clean_data, main, tiny_params, run_gates=False)
    accepted = read_clip_table(main / "clips.csv").query("accepted").clip_id.tolist()
    assert accepted == ["good_a", "good_b"] and len(calls) == 2 and len(sweeps) == 2
    meta = json.loads((main / "shards" / "good_a" / "meta.json").read_text())
    assert meta["provenance"]["scores"]["clip_id"] == "good_a" and "accepted" not in meta["provenance"]["scores"]

    ablation = tiny_params.model_copy(update={"accept_all": True})
    fresh, reused = tmp_path / "fresh", tmp_path / "reused"
    calls.clear()
    curate_dataset(clean_data, fresh, ablation, run_gates=False)
    assert len(calls) == 2
    calls.clear()
    sweeps.clear()
    curate_dataset(clean_data, reused, ablation.model_copy(update={"reuse": str(main)}), run_gates=False)
    assert calls == [] and sweeps == []  # both clips came from main/, their parallax input too
    assert _outputs(reused) == _outputs(fresh)
    assert (
        read_clip_table(reused / "clips.csv").set_index("clip_id").loc["good_a", "override"].startswith("force_accept")
    )


def test_reuse_ignores_shards_of_other_params_or_content(clean_data, tmp_path, tiny_params, monkeypatch):
    main = tmp_path / "main"
    curate_dataset(clean_data, main, tiny_params, run_gates=False)
    calls: list[int] = []
    real = mvs.clip_depth

    def counting(*args, **kwargs):
        if args[2].best_k > 1:  # the multi-view MVS (the parallax input's sweep keeps each pixel's best source)
            calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mvs, "clip_depth", counting)
    other = tiny_params.model_copy(
        update={"mvs": tiny_params.mvs.model_copy(update={"planes": 24}), "reuse": str(main)}
    )
    curate_dataset(clean_data, tmp_path / "other", other, run_gates=False)
    assert len(calls) == 2  # MVS params differ: nothing reused
    meta = main / "shards" / "good_b" / "meta.json"
    text = json.loads(meta.read_text())
    text["provenance"]["source_key"] = "0" * 32  # as if the clip's content had changed since
    meta.write_text(json.dumps(text))
    calls.clear()
    curate_dataset(clean_data, tmp_path / "again", tiny_params.model_copy(update={"reuse": str(main)}), run_gates=False)
    assert len(calls) == 1  # good_a reused, good_b recomputed
