"""The GPU profile of the Makefile (``make demo-gpu``): every ``-S`` override is a real params key with a valid value,
and on a CUDA device it trains in bf16."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from mannequin.config.learning import TrainerParams
from mannequin.learning.fit import resolve_precision
from mannequin.stages.params import load_params

ROOT = Path(__file__).resolve().parents[2]


def gpu_profile() -> dict[str, object]:
    """The ``GPU_PROFILE`` overrides of the Makefile, as dvc exp run -S reads them (values as YAML)."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(r"^GPU_PROFILE := (.*?)(?<!\\)$", text, re.M | re.S)
    assert match, "no GPU_PROFILE in the Makefile"
    words = shlex.split(match.group(1).replace("\\\n", " "))
    pairs = [words[i + 1] for i, w in enumerate(words) if w == "-S"]
    assert len(pairs) == words.count("-S") and len(pairs) * 2 == len(words)
    return {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in pairs)}


def test_every_override_is_a_valid_params_key():
    profile = gpu_profile()
    params = load_params(ROOT / "params.yaml", profile)  # an unknown key or a bad value raises here
    curate = params.curate
    assert tuple(params.pretrain.image_size) == (curate.max_width, curate.max_width * 3 // 4)  # the curated frames
    assert params.pretrain.net.width == 2 * load_params(ROOT / "params.yaml").pretrain.net.width
    assert params.pretrain.trainer.max_steps == 8 * load_params(ROOT / "params.yaml").pretrain.trainer.max_steps


def test_the_profile_trains_in_bf16_on_a_gpu_and_32_bit_on_a_cpu(monkeypatch):
    profile = gpu_profile()
    tp = TrainerParams(precision=profile["pretrain.trainer.precision"])
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert resolve_precision(tp) == "bf16-mixed"
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert resolve_precision(tp) == "32-true"
