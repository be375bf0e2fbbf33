"""Two fine-tuning recipes on one tiny sample, end to end: pretrained once, each recipe fine-tuned and scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mannequin.stages.finetune_recipe import run_recipes
from tests.learning.test_compare import TINY, tiny_project


def test_each_recipe_fine_tunes_every_init_from_the_same_pretraining(tmp_path: Path) -> None:
    tiny_project(tmp_path)
    (tmp_path / "params.yaml").write_text("{}\n")
    sample = {"data": tmp_path / "data", "curated": tmp_path / "curated", "parallax": tmp_path / "parallax"}
    recipes = {"short": {"finetune.trainer.max_steps": 1}, "long": {"finetune.trainer.max_steps": 3}}
    table = run_recipes(tmp_path / "params.yaml", tmp_path / "out", recipes, sample, None, TINY, log=lambda _: None)
    assert list(table) == ["short", "long"]
    for rows in table.values():
        assert sorted(rows) == ["mvs-2", "mvs-parallax-2", "scratch-2"]
        assert all(np.isfinite(r["abs_rel"]) and 0 <= r["a1"] <= 1 for r in rows.values())
    steps = {r: json.loads((tmp_path / "out" / r / "models" / "mvs-2" / "model.json").read_text())["steps"]
             for r in recipes}  # fmt: skip
    assert steps == {"short": 1, "long": 3}
    # one pretraining served both recipes
    assert sorted(p.name for p in (tmp_path / "out" / "pretrain" / "models").iterdir()) == ["mvs", "mvs-parallax"]
    assert (tmp_path / "parallax").is_dir()  # the rgb+parallax fine-tunes read the stored input
