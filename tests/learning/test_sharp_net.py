"""The full-resolution decoder, its side outputs, and the edge-aware smoothness term."""

from __future__ import annotations

import torch

from mannequin.learning.losses import edge_aware_smoothness_loss, scale_invariant_loss
from mannequin.learning.nets import DepthNet, build_net


def test_full_resolution_decoder_outputs_every_stage_finest_first() -> None:
    x = torch.rand(2, 3, 48, 64)
    plain = DepthNet(width=8, depth=4)
    assert [tuple(o.shape) for o in plain.decode_all(x)] == [(2, 1, 48, 64)]
    sharp = DepthNet(width=8, depth=4, full_res=True, side_outputs=True)
    shapes = [tuple(o.shape[-2:]) for o in sharp.decode_all(x)]
    assert shapes == [(48, 64), (24, 32), (12, 16), (6, 8)]  # stride 1, then the stride 2, 4, 8 stages
    half = DepthNet(width=8, depth=4, side_outputs=True)
    assert [tuple(o.shape[-2:]) for o in half.decode_all(x)] == [(48, 64), (12, 16), (6, 8)]
    assert torch.equal(sharp.decode(x), sharp.decode_all(x)[0])
    # the parallax input reaches the full-resolution stage too
    six = DepthNet(width=8, depth=3, inputs="rgb+parallax", full_res=True)
    assert six.decoder.stem[0].in_channels == 6
    assert tuple(six(torch.rand(1, 6, 16, 24)).shape) == (1, 1, 16, 24)


def test_build_net_reads_the_new_fields_and_old_dumps_build_the_old_net() -> None:
    net = build_net({"width": 8, "depth": 3, "full_res": True, "side_outputs": True})
    assert net.decoder.full_res and net.decoder.sides is not None
    old = build_net({"width": 8, "depth": 3})  # a model.json from before the fields
    assert not old.decoder.full_res and old.decoder.sides is None
    assert set(old.state_dict()) < set(net.state_dict())


def _fit(net: DepthNet, image: torch.Tensor, target: torch.Tensor, steps: int) -> torch.Tensor:
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(steps):
        opt.zero_grad()
        scale_invariant_loss(net(image), target).backward()
        opt.step()
    with torch.no_grad():
        return net(image)


def test_the_full_resolution_net_draws_a_one_pixel_edge_the_half_resolution_net_smears() -> None:
    """A depth step at an odd column, where the image has its edge: after the same fit, the stride-1 decoder's
    jump across the edge is within one pixel; the stride-2 net (bilinear upsampling) spreads it over more."""
    h, w, col = 16, 24, 11
    image = torch.full((1, 3, h, w), 0.2)
    image[..., col:] = 0.8
    target = torch.ones(1, 1, h, w)
    target[..., col:] = 3.0
    jumps = {}
    for full in (False, True):
        torch.manual_seed(0)
        pred = _fit(DepthNet(width=8, depth=3, full_res=full), image, target, 100)[0, 0, h // 2]
        d = (pred[1:] - pred[:-1]).abs()
        jumps[full] = float(d[col - 1] / d.sum())  # the share of the whole rise taken in the one true step
    assert jumps[True] > 0.7
    assert jumps[True] > jumps[False] + 0.3


def test_edge_aware_smoothness_prefers_the_depth_edge_on_the_image_edge() -> None:
    h, w, col = 8, 20, 10
    image = torch.zeros(1, 3, h, w)
    image[..., col:] = 1.0
    step = torch.zeros(1, 1, h, w)
    step[..., col:] = 1.0
    ramp = torch.clamp((torch.arange(w, dtype=torch.float32) - (col - 3)) / 6, 0, 1).expand(1, 1, h, w)
    on_edge = edge_aware_smoothness_loss(step, image)
    smeared = edge_aware_smoothness_loss(ramp, image)
    assert smeared > 10 * on_edge  # the same rise: across flat image it is dear, on the image edge cheap
    assert edge_aware_smoothness_loss(step + 5.0, image) == on_edge  # log depth: a global scale changes nothing
    flat = torch.zeros(1, 1, h, w)
    assert float(edge_aware_smoothness_loss(flat, image)) == 0.0
    # where the weight is zero (a confident target speaks) the term is silent
    assert float(edge_aware_smoothness_loss(ramp, image, torch.zeros(1, 1, h, w))) == 0.0
    # known value: one unit rise over 6 flat-image columns, in every row: 1 per row over all differences
    n_diff = h * (w - 1) + (h - 1) * w
    gamma0 = edge_aware_smoothness_loss(ramp, image, edge_gamma=0.0)
    assert abs(float(gamma0) - h * 1.0 / n_diff) < 1e-6


def _mvs_loss(weight: float, net: DepthNet, batch: dict) -> tuple[torch.Tensor, dict]:
    from mannequin.config.objectives import ObjectiveParams
    from mannequin.learning.objectives import build_objective

    params = ObjectiveParams.model_validate({"mvs": {"smoothness_weight": weight}})
    return build_objective("mvs", net, params)(net, batch)


def test_mvs_smoothness_term_costs_its_weight_times_the_edge_aware_term_off_the_targets() -> None:
    torch.manual_seed(0)
    net = DepthNet(width=8, depth=3)
    image = torch.rand(2, 3, 16, 24)
    depth = torch.rand(2, 1, 16, 24) + 1.0
    depth[:, :, :, 12:] = float("nan")  # MVS knows the left half only
    confidence = torch.where(torch.isfinite(depth), 1.0, 0.0)
    batch = {"image": image, "depth": depth, "confidence": confidence}
    off, logs_off = _mvs_loss(0.0, net, batch)
    on, logs_on = _mvs_loss(0.5, net, batch)
    assert "mvs_smooth" not in logs_off and "mvs_smooth" in logs_on
    free = torch.zeros(2, 1, 16, 24)
    free[..., 12:] = 1.0
    expected = 0.5 * edge_aware_smoothness_loss(net(image), image, free)
    assert expected > 0
    assert torch.allclose(on - off, expected, rtol=1e-5)
    # where every pixel has a confident target the term has nothing to act on
    full = {"image": image, "depth": depth.nan_to_num(2.0), "confidence": torch.ones(2, 1, 16, 24)}
    assert torch.allclose(_mvs_loss(0.5, net, full)[0], _mvs_loss(0.0, net, full)[0])
