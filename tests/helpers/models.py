"""Real, untrained model folders (``model.json``, weights) with a known nearly flat output, for evaluation tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def export(models: Path, kind: str, tag: str, meta: dict, offset: float) -> None:
    torch = pytest.importorskip("torch")
    from mannequin.learning.export import export_model
    from mannequin.learning.nets import DepthNet

    torch.manual_seed(0)
    net = DepthNet(4, 2)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(0.01)  # nearly flat output: depth ~ exp(log offset)
        if hasattr(net, "log_offset"):
            net.log_offset.fill_(offset)
    export_model(models / kind / tag, net, {"kind": kind, "net": {"width": 4, "depth": 2}, "image_size": [32, 24],
                                             **meta}, {})  # fmt: skip
