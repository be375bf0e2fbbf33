"""Known-answer tests of the pure losses."""

from __future__ import annotations

import math

import pytest
import torch

from mannequin.learning.losses import (
    gradient_matching_loss,
    info_nce_loss,
    masked_reconstruction_loss,
    metric_log_l1_loss,
    random_patch_mask,
    scale_invariant_loss,
)


def _depth(seed: int = 0, shape: tuple[int, ...] = (2, 1, 16, 20)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.5 + 4 * torch.rand(shape, generator=g)


def test_scale_invariant_loss_unchanged_when_prediction_scaled() -> None:
    target, pred = _depth(0), _depth(1)
    base = scale_invariant_loss(pred.log(), target)
    assert base > 0.01
    for scale in (0.01, 3.0, 250.0):
        assert torch.allclose(scale_invariant_loss((pred * scale).log(), target), base, atol=1e-5)


def test_scale_invariant_loss_is_zero_for_scaled_target_and_known_value() -> None:
    target = _depth(2)
    assert scale_invariant_loss((target * 7.5).log(), target) < 1e-10
    # residual of +a on half the pixels and -a on the other half: variance a^2
    t = torch.ones(1, 1, 2, 2)
    pred = torch.tensor([[[[0.3, -0.3], [0.3, -0.3]]]])
    assert scale_invariant_loss(pred, t).item() == pytest.approx(0.09, abs=1e-6)


def test_gradient_matching_zero_for_scaled_copy_and_positive_otherwise() -> None:
    target = _depth(3)
    assert gradient_matching_loss((target * 0.2).log(), target).item() == pytest.approx(0.0, abs=1e-6)
    assert gradient_matching_loss(_depth(4).log(), target).item() > 0.05


def test_gradient_matching_known_value_single_scale() -> None:
    t = torch.ones(1, 1, 1, 3)
    pred = torch.tensor([[[[0.0, 1.0, 1.0]]]])  # horizontal residual steps |1|, |0| -> mean 0.5
    assert gradient_matching_loss(pred, t, scales=1).item() == pytest.approx(0.5)


def test_nan_targets_are_ignored() -> None:
    target, pred = _depth(5), _depth(6).log()
    holed = target.clone()
    holed[..., :4, :] = float("nan")
    weight = torch.ones_like(target)
    weight[..., :4, :] = 0
    # NaN pixels count exactly like zero-weight pixels
    assert torch.allclose(scale_invariant_loss(pred, holed), scale_invariant_loss(pred, target, weight))
    assert torch.allclose(gradient_matching_loss(pred, holed), gradient_matching_loss(pred, target, weight))
    assert torch.allclose(metric_log_l1_loss(pred, holed), metric_log_l1_loss(pred, target, weight))
    # a NaN target never produces a NaN loss, and its gradient is finite
    pred.requires_grad_(True)
    loss = scale_invariant_loss(pred, holed) + gradient_matching_loss(pred, holed) + metric_log_l1_loss(pred, holed)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()


def test_confidence_weights_are_honoured() -> None:
    target = torch.ones(1, 1, 1, 4)
    pred = torch.tensor([[[[0.0, 0.0, 0.0, 2.0]]]])  # one bad pixel, residual 2
    weight = torch.tensor([[[[1.0, 1.0, 1.0, 0.0]]]])
    assert metric_log_l1_loss(pred, target, weight).item() == pytest.approx(0.0)
    assert metric_log_l1_loss(pred, target).item() == pytest.approx(0.5)
    assert scale_invariant_loss(pred, target, weight).item() == pytest.approx(0.0, abs=1e-7)
    heavy = torch.tensor([[[[1.0, 1.0, 1.0, 3.0]]]])  # weighted mean r = 6/6 = 1, E[r^2] = 12/6 = 2 -> var 1
    assert scale_invariant_loss(pred, target, heavy).item() == pytest.approx(1.0, abs=1e-6)
    assert scale_invariant_loss(pred, target).item() == pytest.approx(1.0 - 0.25, abs=1e-6)  # unweighted: 1 - 0.5^2


def test_all_invalid_gives_zero_not_nan() -> None:
    target = torch.full((1, 1, 4, 4), float("nan"))
    pred = torch.zeros(1, 1, 4, 4, requires_grad=True)
    for fn in (scale_invariant_loss, gradient_matching_loss, metric_log_l1_loss):
        value = fn(pred, target)
        assert value.item() == 0.0


def test_info_nce_low_for_aligned_pairs_high_for_shuffled() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, 32, generator=g)
    labels = torch.arange(16)
    aligned = info_nce_loss(z, z + 0.01 * torch.randn(16, 32, generator=g), labels, labels)
    shuffled = info_nce_loss(z, z[torch.randperm(16, generator=g)], labels, labels)
    assert aligned.item() < 0.05
    assert shuffled.item() > math.log(16) * 0.8
    # identical embeddings for everything: chance level, log(N)
    flat = info_nce_loss(torch.ones(8, 4), torch.ones(8, 4), torch.arange(8), torch.arange(8))
    assert flat.item() == pytest.approx(math.log(8), rel=1e-5)


def test_info_nce_counts_same_clip_frames_as_positives() -> None:
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    both_same_clip = info_nce_loss(z, z, torch.tensor([0, 0]), torch.tensor([0, 0]))
    assert both_same_clip.item() == pytest.approx(0.0, abs=1e-6)


def test_masked_loss_ignores_visible_pixels() -> None:
    target = torch.rand(2, 3, 8, 8)
    hidden = torch.zeros(2, 1, 8, 8)
    hidden[..., :4, :] = 1
    pred = target.clone()
    pred[..., 4:, :] = 99.0  # garbage only where visible
    assert masked_reconstruction_loss(pred, target, hidden).item() == pytest.approx(0.0)
    pred[..., :4, :] += 0.5  # error 0.5 on hidden pixels -> MSE 0.25
    assert masked_reconstruction_loss(pred, target, hidden).item() == pytest.approx(0.25, rel=1e-5)


def test_random_patch_mask_ratio_and_patches() -> None:
    mask = random_patch_mask(3, 32, 48, patch=8, ratio=0.5, generator=torch.Generator().manual_seed(0))
    assert mask.shape == (3, 1, 32, 48)
    assert mask.mean().item() == pytest.approx(0.5)
    blocks = mask.unfold(2, 8, 8).unfold(3, 8, 8)  # every 8x8 patch is all hidden or all visible
    assert torch.all(blocks.amin(dim=(-1, -2)) == blocks.amax(dim=(-1, -2)))
