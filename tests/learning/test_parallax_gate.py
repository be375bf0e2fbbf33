"""The parallax gate: a learned full-resolution weight that moves the net's log depth towards the parallax input."""

from __future__ import annotations

import pytest
import torch

from mannequin.errors import InputError
from mannequin.learning.nets import DepthNet, ParallaxGate, build_net


def _parallax(depth: torch.Tensor, confidence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.stack([depth, confidence, mask], dim=1)


def _gate_with_weight(logit: float) -> ParallaxGate:
    """A gate whose weight is sigmoid(logit) everywhere it may trust the input."""
    gate = ParallaxGate(feat_channels=4)
    with torch.no_grad():
        for p in gate.weight.parameters():
            p.zero_()
        gate.weight[-1].bias.fill_(logit)
    return gate


def test_a_fully_open_gate_copies_the_input_shifted_to_the_nets_level_and_only_where_it_has_a_reading() -> None:
    h, w = 6, 8
    own = torch.full((1, 1, h, w), 2.0)
    depth = torch.zeros(h, w)
    depth[:, 4:] = 0.5  # a sharp step the net's flat map does not have
    confidence = torch.ones(h, w)
    confidence[0] = 0.0  # no reading on the first row
    mask = torch.zeros(h, w)
    mask[5, :2] = 1.0  # a masked person
    confidence[5, :2] = 0.0
    parallax = _parallax(depth[None], confidence[None], mask[None])
    out = _gate_with_weight(40.0)(own, parallax, torch.zeros(1, 4, 3, 4), torch.zeros(1, 3, h, w))
    trusted = (confidence > 0) & (mask == 0)
    level = float((2.0 - depth[trusted]).mean())  # the input shifted to the net's mean over trusted pixels
    expected = torch.where(trusted, depth + level, torch.full_like(depth, 2.0))
    assert torch.allclose(out[0, 0], expected, atol=1e-5)
    step = out[0, 0, 3, 4].detach() - out[0, 0, 3, 3].detach()
    assert float(step) == pytest.approx(0.5, abs=1e-5)  # the input's step, in one pixel


def test_a_closed_gate_or_an_input_without_readings_leaves_the_nets_map() -> None:
    own = torch.randn(2, 1, 5, 7)
    depth = torch.randn(2, 5, 7)
    sure = _parallax(depth, torch.ones(2, 5, 7), torch.zeros(2, 5, 7))
    rgb = torch.rand(2, 3, 5, 7)
    assert torch.allclose(_gate_with_weight(-40.0)(own, sure, torch.zeros(2, 4, 5, 7), rgb), own, atol=1e-6)
    empty = _parallax(depth, torch.zeros(2, 5, 7), torch.zeros(2, 5, 7))
    assert torch.equal(_gate_with_weight(40.0)(own, empty, torch.zeros(2, 4, 5, 7), rgb), own)


def test_an_input_that_agrees_with_the_net_up_to_a_shift_changes_nothing_whatever_the_weight() -> None:
    own = torch.randn(1, 1, 5, 7)
    agreeing = _parallax(own[:, 0] - 3.0, torch.rand(1, 5, 7) + 0.1, torch.zeros(1, 5, 7))
    gate = ParallaxGate(feat_channels=4)  # random weights
    assert torch.allclose(gate(own, agreeing, torch.randn(1, 4, 3, 4), torch.rand(1, 3, 5, 7)), own, atol=1e-5)


def test_the_gate_is_built_for_rgb_parallax_value_nets_only_and_survives_a_dump() -> None:
    gated = DepthNet(width=8, depth=3, inputs="rgb+parallax", parallax_gate=True)
    assert gated.decoder.gate is not None
    assert tuple(gated(torch.rand(2, 6, 16, 24)).shape) == (2, 1, 16, 24)
    assert DepthNet(width=8, depth=3, parallax_gate=True).decoder.gate is None  # rgb: nothing to gate
    start = torch.sigmoid(gated.decoder.gate.weight[-1].bias.detach())  # a new gate leans towards the input
    assert float(start) == pytest.approx(0.881, abs=1e-3)
    with pytest.raises(InputError, match="parallax_gate"):
        DepthNet(width=8, depth=3, inputs="rgb+parallax", head="bins", parallax_gate=True)
    rebuilt = build_net({"width": 8, "depth": 3, "inputs": "rgb+parallax", "parallax_gate": True})
    rebuilt.load_state_dict(gated.state_dict())  # strict: the same weights
    x = torch.rand(1, 6, 16, 24)
    assert torch.equal(rebuilt(x), gated(x))
    old = build_net({"width": 8, "depth": 3, "inputs": "rgb+parallax"})  # a model.json from before the field
    assert old.decoder.gate is None


def test_a_trained_gate_draws_the_inputs_edge_the_half_resolution_net_smears() -> None:
    """One frame, a depth step at an odd column that the (sure) parallax input has exactly: after the same fit,
    the gated net's jump across the edge sits in one pixel, the plain rgb+parallax net spreads it."""
    from mannequin.learning.losses import scale_invariant_loss

    h, w, col = 16, 24, 11
    target = torch.ones(1, 1, h, w)
    target[..., col:] = 3.0
    log_target = target.log()
    parallax = _parallax(log_target[:, 0] - log_target.median(), torch.ones(1, h, w), torch.zeros(1, h, w))
    x = torch.cat([torch.full((1, 3, h, w), 0.5), parallax], dim=1)
    share = {}
    for gate in (False, True):
        torch.manual_seed(0)
        net = DepthNet(width=8, depth=3, inputs="rgb+parallax", parallax_gate=gate)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        for _ in range(100):
            opt.zero_grad()
            scale_invariant_loss(net(x), target).backward()
            opt.step()
        with torch.no_grad():
            row = net(x)[0, 0, h // 2]
        d = (row[1:] - row[:-1]).abs()
        share[gate] = float(d[col - 1] / d.sum())
    assert share[True] > 0.9 > share[False]
