"""The rgb+parallax net: 6 channels in, an rgb backbone loaded into its rgb path, and the predictor's contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mannequin.config import load_params
from mannequin.errors import InputError
from mannequin.learning.export import META_NAME, export_model, load_net
from mannequin.learning.nets import DepthNet, build_net, load_rgb_backbone
from mannequin.learning.predict import DepthPredictor


def test_rgb_backbone_loads_into_the_rgb_path() -> None:
    torch.manual_seed(0)
    rgb = DepthNet(width=8, depth=3)
    six = DepthNet(width=8, depth=3, inputs="rgb+parallax")
    assert six.encoder.blocks[0][0].weight.shape == (8, 6, 3, 3)
    sliced = load_rgb_backbone(six, rgb.encoder.state_dict())
    assert sliced == ["blocks.0.0.weight"]
    first, rgb_first = six.encoder.blocks[0][0].weight, rgb.encoder.blocks[0][0].weight
    assert torch.equal(first[:, :3], rgb_first)  # the rgb slice is the rgb backbone's
    assert not first[:, 3:].any()  # the parallax slice starts at zero
    for (name, a), (_, b) in zip(
        list(six.encoder.state_dict().items())[1:], list(rgb.encoder.state_dict().items())[1:]
    ):
        assert torch.equal(a, b), name
    # so the loaded encoder computes what the rgb one computes, whatever the parallax input holds
    image = torch.rand(2, 3, 32, 48)
    parallax = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        for f6, f3 in zip(six.encoder(torch.cat([image, parallax], 1)), rgb.encoder(image), strict=True):
            torch.testing.assert_close(f6, f3, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match=re.escape("is (16, 3, 3, 3)")):
        load_rgb_backbone(six, DepthNet(width=16, depth=3).encoder.state_dict())


def test_inputs_param_is_validated() -> None:
    assert load_params(None).pretrain.net.inputs == "rgb"
    assert load_params(None, {"pretrain.net.inputs": "rgb+parallax"}).pretrain.net.inputs == "rgb+parallax"
    with pytest.raises(InputError, match=re.escape("pretrain.net.inputs: Input should be 'rgb' or 'rgb+parallax'")):
        load_params(None, {"pretrain.net.inputs": "depth"})
    with pytest.raises(InputError, match=re.escape("net.inputs: unknown inputs 'depth'")):
        build_net({"inputs": "depth"})


def _export(tmp_path: Path, inputs: str) -> Path:
    torch.manual_seed(1)
    net = DepthNet(width=8, depth=3, inputs=inputs)
    meta = {"kind": "finetune", "init": "scratch", "net": {"width": 8, "depth": 3, "inputs": inputs},
            "image_size": [32, 24]}  # fmt: skip
    return export_model(tmp_path / inputs.replace("+", "_"), net, meta, {"train": {"loss": 1.0}})


def test_predictor_reads_inputs_and_requires_parallax(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 255, (3, 30, 40, 3), dtype=np.uint8)
    parallax = np.random.default_rng(1).normal(size=(3, 30, 40, 3)).astype(np.float32)

    rgb = DepthPredictor.load(_export(tmp_path, "rgb"))
    assert rgb.inputs == "rgb" and not rgb.needs_parallax
    assert rgb.predict(images).shape == (3, 30, 40)
    with pytest.raises(ValueError, match=re.escape("reads rgb only")):
        rgb.predict(images, parallax=parallax)

    model_dir = _export(tmp_path, "rgb+parallax")
    assert json.loads((model_dir / META_NAME).read_text())["inputs"] == "rgb+parallax"
    six = DepthPredictor.load(model_dir)
    assert six.inputs == "rgb+parallax" and six.net.encoder.blocks[0][0].in_channels == 6
    with pytest.raises(ValueError, match=re.escape("reads rgb+parallax: pass parallax")):
        six.predict(images)
    with pytest.raises(ValueError, match=re.escape("parallax must be (3, 30, 40, 3)")):
        six.predict(images, parallax=parallax[:, :20])
    out = six.predict(images, parallax=parallax)
    assert out.shape == (3, 30, 40) and np.isfinite(out).all() and (out > 0).all()
    # the parallax input changes the prediction (the net reads it)
    assert not np.allclose(out, six.predict(images, parallax=np.zeros_like(parallax)))


def test_models_from_before_inputs_are_rgb_and_contradictions_are_refused(tmp_path: Path) -> None:
    model_dir = _export(tmp_path, "rgb")
    meta_path = model_dir / META_NAME
    meta = json.loads(meta_path.read_text())
    del meta["inputs"], meta["net"]["inputs"]
    meta_path.write_text(json.dumps(meta))
    net, _ = load_net(model_dir)
    assert net.inputs == "rgb" and DepthPredictor.load(model_dir).inputs == "rgb"
    meta["inputs"] = "rgb+parallax"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError, match=re.escape("model.pt: the weights do not fit model.json's net")):
        load_net(model_dir)
    meta["net"]["inputs"] = "rgb"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError, match=re.escape("inputs 'rgb+parallax' but net.inputs 'rgb'")):
        load_net(model_dir)
    meta["inputs"] = meta["net"]["inputs"] = "stereo"
    meta_path.write_text(json.dumps(meta))
    expected = "net.inputs: Input should be 'rgb' or 'rgb+parallax', got 'stereo'"
    with pytest.raises(InputError, match=re.escape(expected)):
        load_net(model_dir)
