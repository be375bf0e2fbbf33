"""predict.json says metres only where the model can know them: a fine-tune on frames shaped like its labels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.depth_png import sensor_depth_path, write_depth_png
from mannequin.inference.units import METRES, RELATIVE, UNKNOWN, depth_units
from mannequin.learning.data import label_aspects
from tests.inference.test_predict import H, W, _clip, _model


@pytest.mark.parametrize(
    ("meta", "size", "units"),
    [
        ({"kind": "pretrain"}, (160, 120), RELATIVE),
        ({"kind": "finetune"}, (1280, 720), METRES),  # a model from before label_aspects
        ({"kind": "finetune", "label_aspects": [1.3333]}, (160, 120), METRES),
        ({"kind": "finetune", "label_aspects": [1.3333]}, (640, 480), METRES),
        ({"kind": "finetune", "label_aspects": [1.3333]}, (1280, 720), UNKNOWN),  # bikes.mp4 against the sample
        ({"kind": "finetune", "label_aspects": [1.3333, 1.7778]}, (1280, 720), METRES),
        ({"kind": "finetune", "label_aspects": [1.3333]}, (120, 160), UNKNOWN),  # portrait
    ],
)
def test_depth_units(meta, size, units):
    got, why = depth_units(meta, *size)
    assert got == units
    assert (why is None) == (units == METRES)
    if units == UNKNOWN:
        assert f"{size[0]}x{size[1]}" in why and "1.33" in why


def test_label_aspects_are_the_sensor_depth_frames_shapes(tmp_path: Path):
    for clip_id, (w, h) in {"a": (160, 120), "b": (320, 240), "c": (128, 72)}.items():
        path = sensor_depth_path(tmp_path, clip_id, 3)
        path.parent.mkdir(parents=True)
        write_depth_png(path, np.full((h, w), 2.0, np.float32))
    assert label_aspects(tmp_path, [("a", 3), ("b", 3)]) == [1.3333]
    assert label_aspects(tmp_path, [("a", 3), ("c", 3)]) == [1.3333, 1.7778]


def _set_aspects(model: Path, aspects: list[float]) -> None:
    meta = json.loads((model / "model.json").read_text())
    (model / "model.json").write_text(json.dumps({**meta, "label_aspects": aspects}))


@pytest.mark.parametrize(("aspects", "units"), [([W / H], METRES), ([16 / 9], UNKNOWN)])
def test_predict_json_names_the_unit_and_why(tmp_path: Path, aspects, units):
    model, clip = _model(tmp_path), _clip(tmp_path)
    _set_aspects(model, aspects)
    res = CliRunner().invoke(app, ["predict", str(clip), "--model", str(model), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "o" / "predict.json").read_text())
    assert info["units"] == units
    assert ("units_note" in info) == (units != METRES)
    assert cv2.imread(str(tmp_path / "o" / "000000.png"), cv2.IMREAD_UNCHANGED).shape == (H, W)
