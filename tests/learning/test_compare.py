"""``make compare``'s script end to end on a tiny project: every pretext pretrained, fine-tuned, scored, reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mannequin.learning.objectives import objective_names
from mannequin.stages.compare import PARALLAX_RUNS
from tests.helpers.learning import H, W, make_clip, make_curated, write_splits

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "pretrain.net.width": 4, "pretrain.net.depth": 3, "pretrain.batch_size": 4, "pretrain.num_workers": 0,
    "pretrain.image_size": [W, H], "pretrain.trainer.accelerator": "cpu", "pretrain.trainer.max_steps": 2,
    "pretrain.objective.selfie.patch": 8, "pretrain.objective.selfie.k": 4, "pretrain.objective.selfie.margin": 1,
    "finetune.batch_size": 2, "finetune.image_size": [W, H], "finetune.val_frames": 0, "finetune.budgets": [2],
    "finetune.trainer.accelerator": "cpu", "finetune.trainer.max_steps": 2, "evaluate.example_mvs": False,
}  # fmt: skip


def tiny_project(root: Path) -> dict[str, str]:
    """A data folder (labelled and test clips with sensor depth) and curated shards; returns the path overrides."""
    data, curated = root / "data", root / "curated"
    write_splits(data, {"u0": "unlabeled", "u1": "unlabeled", "l0": "labeled", "t0": "test"})
    rng = np.random.default_rng(3)
    for c in ("l0", "t0"):
        make_clip(data, c, 4, rng)
    make_curated(curated, ["u0", "u1", "l0"], frames=4, parallax=True)
    return {"pretrain.curated": str(curated), "pretrain.data": str(data), "finetune.data": str(data),
            "evaluate.data": str(data), "evaluate.curated": str(curated)}  # fmt: skip


@pytest.mark.slow
def test_compare_runs_every_pretext_for_two_seeds(tmp_path: Path) -> None:
    paths = tiny_project(tmp_path)
    (tmp_path / "params.yaml").write_text("{}\n")
    sets = [f"--set={k}={json.dumps(v)}" for k, v in {**TINY, **paths}.items()]
    cmd = [sys.executable, str(ROOT / "bench" / "compare_pretexts.py"), "--params", str(tmp_path / "params.yaml"),
           "--out", str(tmp_path / "compare"), "--seeds", "0", "1", *sets]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    comparison = json.loads((tmp_path / "compare" / "report" / "pretexts_compared.json").read_text())
    assert comparison["seeds"] == [0, 1] and comparison["budgets"] == [2]
    assert {r["init"] for r in comparison["rows"]} == {"scratch", *objective_names(), *PARALLAX_RUNS}
    assert all("reduction" in r for r in comparison["rows"] if r["init"] != "scratch")
    assert "## Pretexts compared" in (tmp_path / "compare" / "report" / "pretexts_compared.md").read_text()
    assert comparison["pretrain_steps"] == [2]
    # the report again from the metrics there, the README's block rewritten from it, the bench JSON written
    from mannequin.stages.compare import RESULTS_MARKERS as README_MARKERS

    readme = tmp_path / "README.md"
    readme.write_text("intro\n" + "\nold\n".join(README_MARKERS) + "\noutro\n")
    again = [
        *cmd[:6],
        "--seeds",
        "0",
        "1",
        "--report-only",
        "--results-page",
        str(readme),
        "--results",
        str(tmp_path / "r.json"),
    ]
    done = subprocess.run(again, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "r.json").read_text())["comparison"] == comparison
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "\nold\n" not in text
    assert "| scratch | 2 |" in text and "2 pretraining steps" in text
