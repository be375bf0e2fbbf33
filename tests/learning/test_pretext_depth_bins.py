"""Known answers for depth as a distribution over relative log-depth bins."""

from __future__ import annotations

import math

import pytest
import torch

from mannequin.errors import InputError
from mannequin.learning.pretext.depth_bins import (
    DepthHead,
    aligned_log_error,
    bin_centres,
    bin_width,
    confident_half_error,
    depth_bins_loss,
    expected_log_depth,
    log_depth_spread,
    relative_log_depth,
    soft_targets,
)


def test_expectation_of_soft_targets_recovers_the_value_within_a_small_fraction_of_a_bin() -> None:
    centres = bin_centres(16, 2.0)
    values = torch.tensor([-1.3, -0.41, 0.0, 0.27, 0.9, 1.2]).view(-1, 1, 1, 1)
    logits = torch.log(soft_targets(values, centres))
    got = expected_log_depth(logits, centres)
    assert torch.allclose(got, values, atol=0.01 * bin_width(centres))


@pytest.mark.parametrize("depth_value", [0.37, 4.0, 250.0])
def test_bins_head_expectation_recovers_a_constant_depth_at_any_scale(depth_value: float) -> None:
    """A constant depth is its own median: relative log 0; decoding and rescaling by the median gives it back."""
    depth = torch.full((2, 1, 6, 8), depth_value)
    centres = bin_centres(9, 2.0)
    rel = relative_log_depth(depth)
    assert torch.allclose(rel, torch.zeros_like(rel))
    logits = torch.log(soft_targets(rel, centres))
    decoded = torch.exp(expected_log_depth(logits, centres)) * depth.flatten(1).median(dim=1).values.view(-1, 1, 1, 1)
    assert torch.allclose(decoded, depth, rtol=1e-5)


def test_trained_bins_head_recovers_a_constant_relative_depth_and_becomes_confident() -> None:
    """A bins head on constant features learns a depth map whose median-relative value is a known constant."""
    torch.manual_seed(0)
    head = DepthHead(4, "bins", n_bins=12, log_range=1.5)
    feats = torch.ones(2, 4, 6, 6)
    depth = torch.full((2, 1, 6, 6), 3.0)
    depth[..., :3, :] = 3.0 * math.exp(0.6)  # top half 0.6 deeper in log, bottom at the median
    depth[..., 3:, :3] = 3.0 * math.exp(-0.6)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    losses = []
    for _ in range(50):
        out = head(feats + torch.linspace(0, 1, 6).view(1, 1, 6, 1))  # row position as a feature
        loss = depth_bins_loss(out, depth, head.centres)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    with torch.no_grad():
        out = head(feats + torch.linspace(0, 1, 6).view(1, 1, 6, 1))
    got = head.log_depth(out)
    assert abs(float(got[..., 0, :].mean()) - 0.6) < 0.25  # rel. log of the top rows: the median is log 3
    spread = head.spread(out).mean()
    assert float(spread) < float(log_depth_spread(torch.zeros(1, 12, 1, 1), head.centres))


def test_loss_is_scale_invariant_and_ignores_invalid_pixels() -> None:
    torch.manual_seed(1)
    logits = torch.randn(2, 8, 5, 5)
    depth = torch.rand(2, 1, 5, 5) + 0.5
    depth[0, 0, 0, 0] = float("nan")
    depth[1, 0, 1, 1] = -1.0
    centres = bin_centres(8)
    a = depth_bins_loss(logits, depth, centres)
    b = depth_bins_loss(logits, depth * 37.0, centres)
    assert torch.isfinite(a)
    assert torch.allclose(a, b, atol=1e-5)


def test_spread_is_zero_for_a_certain_pixel_and_large_for_a_flat_one() -> None:
    centres = bin_centres(10)
    sure = torch.full((1, 10, 1, 1), -30.0)
    sure[0, 4] = 30.0
    flat = torch.zeros(1, 10, 1, 1)
    assert float(log_depth_spread(sure, centres)) < 1e-4
    uniform_std = float(centres.std(unbiased=False))
    assert float(log_depth_spread(flat, centres)) == pytest.approx(uniform_std, rel=1e-4)


def test_confident_half_error_rewards_a_spread_that_ranks_errors() -> None:
    torch.manual_seed(2)
    error = torch.rand(1000)
    good = confident_half_error(error, error + 0.01 * torch.rand(1000))  # spread follows the error
    blind = confident_half_error(error, torch.rand(1000))
    assert good["ratio"] < 0.6
    assert 0.85 < blind["ratio"] < 1.15
    assert good["error_all"] == pytest.approx(float(error.mean()))


def test_aligned_log_error_is_zero_for_a_scaled_copy() -> None:
    depth = torch.rand(1, 1, 4, 4) + 0.5
    err = aligned_log_error(torch.log(depth * 5.0), depth)
    assert float(err.abs().max()) < 1e-5


def test_value_head_is_plain_log_depth() -> None:
    head = DepthHead(3, "value")
    out = head(torch.randn(1, 3, 4, 4))
    assert out.shape == (1, 1, 4, 4)
    assert head.log_depth(out) is out


@pytest.mark.parametrize("bad", [1, 0, -3])
def test_bins_count_below_two_is_a_one_line_error(bad: int) -> None:
    with pytest.raises(InputError, match="bins count must be an integer of at least 2") as err:
        DepthHead(4, "bins", n_bins=bad)
    assert "\n" not in str(err.value)


def test_unknown_head_is_a_one_line_error() -> None:
    with pytest.raises(InputError, match=r"net.head: unknown head 'cone' \(known: value, bins\)"):
        DepthHead(4, "cone")
