"""``mannequin finetune --seed``: a repeat named ``<init>-<budget>-seed<k>``, with its own label draw."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.evaluation.evaluate import model_info
from mannequin.learning.predict import DepthPredictor
from tests.helpers.learning import tiny_params


def test_seed_option_names_the_repeat_and_draws_other_labels(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    params = tiny_params(tmp_path, **{"finetune.data": str(learning_data["data"]), "finetune.val_frames": 0})
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params.model_dump(mode="json")))
    runner = CliRunner()
    base = ["finetune", "--init", "scratch", "--budget", "2", "--params", str(params_file), "--no-progress"]
    for extra in ([], ["--seed", "3"]):
        result = runner.invoke(app, [*base, *extra])
        assert result.exit_code == 0, result.output
    out = tmp_path / "models" / "finetune"
    assert sorted(p.name for p in out.iterdir()) == ["scratch-2", "scratch-2-seed3"]
    first, repeat = (DepthPredictor.load(out / n).meta for n in ("scratch-2", "scratch-2-seed3"))
    assert (first["seed"], repeat["seed"]) == (params.finetune.seed, 3)
    assert first["train_items"] != repeat["train_items"]  # another label draw
    info = model_info(out / "scratch-2-seed3", repeat)
    assert (info.name, info.init, info.budget) == ("finetune-scratch-2-seed3", "scratch", 2)
    bad = runner.invoke(app, [*base, "--seed", "-1"])
    assert bad.exit_code == 2
