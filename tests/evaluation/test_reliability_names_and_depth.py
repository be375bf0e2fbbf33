"""Issue 12, items 2 and 10: names read from ``model.json`` never leave ``--out``; wrong-size depth PNGs are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.depth_png import write_depth_png
from mannequin.errors import InputError


def export_real_model(model_dir: Path, meta: dict) -> None:
    from mannequin.learning.export import export_model
    from mannequin.learning.nets import DepthNet

    base = {"kind": "pretrain", "net": {"width": 4, "depth": 2}, "image_size": [32, 24]}
    export_model(model_dir, DepthNet(4, 2), {**base, **meta}, {})


def params_file(tmp_path: Path) -> str:
    path = tmp_path / "params.yaml"
    path.write_text("evaluate:\n  examples: 1\n  example_mvs: false\n")
    return str(path)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("field", "hostile"),
    [
        ("kind", "../../ESCAPED"),
        ("kind", "ABSOLUTE"),  # replaced by an absolute path below
        ("kind", ".hidden"),
        ("init", "../x"),
        ("objective", "a/b"),
    ],
)
def test_evaluate_refuses_a_model_whose_names_leave_out(eval_data, tmp_path, field, hostile):
    root = tmp_path / "area"  # everything the command could reach lies under here
    models, out = root / "work" / "models", root / "work" / "metrics"
    model_dir = models / "pretrain" / "mvs"
    if hostile == "ABSOLUTE":
        hostile = str(root / "abs" / "ESCAPED")
    export_real_model(model_dir, {field: hostile})
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta[field] == hostile  # the attack is in place: the file names the hostile value
    params = params_file(tmp_path)
    before = files_under(tmp_path)
    res = CliRunner().invoke(
        app,
        ["evaluate", "--models", str(models), "--data", str(eval_data), "--out", str(out),
         "--params", params],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and str(model_dir / "model.json") in lines[0] and "not a safe name" in lines[0], lines
    assert files_under(tmp_path) == before  # nothing written anywhere, inside --out or outside it
    assert not list(tmp_path.rglob("*ESCAPED*"))


def test_model_info_refuses_an_unsafe_kind_from_any_loader(tmp_path):
    """The file-naming step checks the name itself, whichever loader produced the ``meta``."""
    from mannequin.evaluation.evaluate import model_info

    with pytest.raises(InputError, match="not a safe file name") as err:
        model_info(tmp_path / "pretrain" / "mvs", {"kind": "../../ESCAPED"})
    assert err.value.code == "bad_model"
    assert model_info(tmp_path / "finetune" / "mvs+masked-8", {"kind": "finetune"}).name == "finetune-mvs+masked-8"


def test_safe_model_json_still_loads(tmp_path):
    from mannequin.learning.export import read_meta

    export_real_model(tmp_path / "m", {"objective": "mvs+masked", "objectives": ["mvs", "masked"],
                                       "train_clips": ["clip_0001", "a.b"], "val_clips": []})  # fmt: skip
    assert read_meta(tmp_path / "m")["objective"] == "mvs+masked"
    export_real_model(tmp_path / "bad", {"train_clips": ["../up"]})
    with pytest.raises(InputError, match=r"train_clips holds '\.\./up', not a clip id"):
        read_meta(tmp_path / "bad")


WRONG = (200, 37)  # width, height of a depth map that does not fit the 32x24 frames


def test_evaluation_refuses_a_wrong_size_depth_png(eval_data):
    from mannequin.evaluation.testset import load_held_out_clip

    png = eval_data / "depth" / "clip_b" / "000001.png"
    write_depth_png(png, np.full(WRONG[::-1], 2.0, np.float32))
    with pytest.raises(InputError) as err:
        load_held_out_clip(eval_data, "clip_b")
    assert str(err.value) == f"{png}: depth is 200x37 but its frame is 32x24 (sensor depth must be the frame's size)"
    assert err.value.code == "bad_depth"


def test_finetuning_refuses_a_wrong_size_depth_png(eval_data):
    from mannequin.learning.data import load_labelled

    png = eval_data / "depth" / "clip_l" / "000000.png"
    _, depths, _ = load_labelled(eval_data, [("clip_l", 0)], (32, 24))  # the right size loads
    assert np.nanmax(depths) == pytest.approx(9.0)
    write_depth_png(png, np.full(WRONG[::-1], 9.0, np.float32))
    with pytest.raises(InputError, match=r"000000\.png: depth is 200x37 but its frame is 32x24"):
        load_labelled(eval_data, [("clip_l", 0)], (16, 12))


def test_evaluate_cli_names_the_wrong_size_png(eval_data, tmp_path):
    from tests.helpers.models import export

    export(tmp_path / "models", "pretrain", "mvs", {"objective": "mvs"}, 0.0)
    png = eval_data / "depth" / "clip_a" / "000002.png"
    write_depth_png(png, np.full((37, 200), 4.0, np.float32))
    res = CliRunner().invoke(app, ["evaluate", "--models", str(tmp_path / "models"), "--data", str(eval_data),
                                   "--out", str(tmp_path / "metrics"), "--params", params_file(tmp_path)])  # fmt: skip
    assert res.exit_code == 2 and f"{png}: depth is 200x37 but its frame is 32x24" in res.output, res.output
    # one error line (the progress bar, closed before it, may sit on the lines above)
    assert [ln for ln in res.output.splitlines() if "mannequin:" in ln] == [res.output.splitlines()[-1]]
    assert res.output.splitlines()[-1].startswith("mannequin: error: "), repr(res.output)
