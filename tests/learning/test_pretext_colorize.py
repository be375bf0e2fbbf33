"""Known answers for the colorize pretext: ab bins from data, soft encoding, rebalancing, annealed mean."""

from __future__ import annotations

import kornia.color
import pytest
import torch
import torch.nn.functional as F

from mannequin.errors import InputError
from mannequin.learning.nets import Encoder
from mannequin.learning.pretext.colorize import (
    AB_GRID,
    ColorizeHead,
    annealed_mean,
    build_ab_bins,
    colorize_input,
    l_as_rgb,
    lab_to_rgb,
    nearest_bin,
    rebalanced_cross_entropy,
    rebalancing_weights,
    rgb_to_l_ab,
    soft_encode,
)


def colour_fields(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth random colour images: a coarse random RGB grid upsampled bilinearly, (n, 3, size, size)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=g)
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=True)


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    return colour_fields(8)


@pytest.fixture(scope="module")
def bins(frames: torch.Tensor):
    return build_ab_bins(frames.split(3))  # an iterable of batches


def test_bins_are_the_occupied_cells_of_the_10_unit_grid(frames: torch.Tensor, bins) -> None:
    assert bins.grid == AB_GRID
    assert 20 < bins.size < 313  # random colour fields occupy a good part of the gamut, not more than it
    assert torch.equal(bins.centres, torch.round(bins.centres / AB_GRID) * AB_GRID)
    assert int(bins.counts.sum()) == frames.shape[0] * 32 * 32
    assert len(bins.centres.unique(dim=0)) == bins.size


def test_quantisation_and_soft_encoding_round_trip_within_the_bin_size(frames: torch.Tensor, bins) -> None:
    _, ab = rgb_to_l_ab(frames)
    hard = bins.centres[nearest_bin(ab, bins.centres)].permute(0, 3, 1, 2)
    assert float((hard - ab).abs().max()) <= AB_GRID / 2 + 1e-3  # nearest centre: within half a cell per axis
    target = soft_encode(ab, bins.centres)
    assert torch.allclose(target.sum(dim=1), torch.ones(1))
    assert int((target > 0).sum(dim=1).max()) == 5
    soft_mean = torch.einsum("bqhw,qc->bchw", target, bins.centres)
    assert float((soft_mean - ab).abs().max()) < AB_GRID
    decoded = annealed_mean(torch.log(target.clamp_min(1e-12)), bins.centres)
    assert float((decoded - ab).abs().max()) < AB_GRID


def test_rebalancing_weights_average_to_one_under_the_empirical_distribution(frames: torch.Tensor, bins) -> None:
    w = rebalancing_weights(bins, lam=0.5, sigma=5.0)
    assert float((bins.frequency.float() * w).sum()) == pytest.approx(1.0, abs=1e-5)
    per_pixel = w[nearest_bin(rgb_to_l_ab(frames)[1], bins.centres)]
    assert float(per_pixel.mean()) == pytest.approx(1.0, abs=1e-4)
    common, rare = bins.counts.argmax(), bins.counts.argmin()
    assert w[rare] > w[common]
    # w is inversely proportional to the smoothed frequency mixed half-and-half with uniform
    c = bins.centres.double()
    smooth = torch.exp(-(torch.cdist(c, c) ** 2) / 50.0) @ bins.frequency
    product = w.double() * (0.5 * smooth / smooth.sum() + 0.5 / bins.size)
    assert torch.allclose(product, product[0].expand_as(product), rtol=1e-5)


def test_uniform_mix_of_one_gives_flat_weights(bins) -> None:
    w = rebalancing_weights(bins, lam=1.0)
    assert torch.allclose(w, torch.ones_like(w), atol=1e-5)


def test_annealed_mean_moves_from_the_mean_to_the_mode_as_t_falls() -> None:
    centres = torch.tensor([[0.0, 0.0], [30.0, 0.0], [0.0, 40.0]])
    logits = torch.log(torch.tensor([0.5, 0.3, 0.2])).view(1, 3, 1, 1)
    mean = annealed_mean(logits, centres, temperature=1.0).flatten()
    assert torch.allclose(mean, torch.tensor([9.0, 8.0]), atol=1e-4)
    mode = annealed_mean(logits, centres, temperature=0.01).flatten()
    assert torch.allclose(mode, torch.zeros(2), atol=1e-3)
    between = annealed_mean(logits, centres).flatten()
    assert 0 < float(between[0]) < 9.0


def test_all_grey_frames_are_a_one_line_error() -> None:
    grey = torch.rand(4, 1, 16, 16).expand(-1, 3, -1, -1)
    with pytest.raises(
        InputError, match=r"^curated/shards: colorize needs colour frames: all 1024 pixels are grey"
    ) as e:
        build_ab_bins([grey], source="curated/shards")
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match="no frames"):
        build_ab_bins([])


def test_colour_cannot_leak_into_the_input(frames: torch.Tensor) -> None:
    """Two frames with one L and different ab give the same encoder input, and it is grey."""
    lightness, ab = rgb_to_l_ab(frames * 0.4 + 0.3)  # mid tones: room to move ab inside the gamut
    shifted = kornia.color.lab_to_rgb(torch.cat([lightness, 0.4 * ab], dim=1), clip=False)
    assert float(shifted.min()) >= 0.0 and float(shifted.max()) <= 1.0  # in gamut: no clipping moved L
    x_a, _, ab_a = colorize_input(frames * 0.4 + 0.3)
    x_b, _, ab_b = colorize_input(shifted)
    assert float((ab_a - ab_b).abs().max()) > 5.0
    assert float((x_a - x_b).abs().max()) < 1e-3
    assert torch.equal(x_a[:, 0], x_a[:, 1]) and torch.equal(x_a[:, 0], x_a[:, 2])


def test_replicated_l_equals_summed_first_conv_weights() -> None:
    """Feeding L to three channels is the same network as one channel with the conv weights summed."""
    conv = torch.nn.Conv2d(3, 5, 3, padding=1)
    lightness = torch.rand(2, 1, 8, 8) * 100
    summed = F.conv2d(lightness / 100, conv.weight.sum(dim=1, keepdim=True), conv.bias, padding=1)
    assert torch.allclose(conv(l_as_rgb(lightness)), summed, atol=1e-5)
    before = conv.weight.detach().clone()
    opt = torch.optim.Adam(conv.parameters(), lr=0.1)
    conv(l_as_rgb(lightness)).square().mean().backward()
    opt.step()
    moved = conv.weight.detach() - before
    assert float(moved.abs().max()) > 0.01
    assert torch.allclose(moved[:, 0], moved[:, 1]) and torch.allclose(moved[:, 0], moved[:, 2])  # sum learns only


def test_rebalanced_cross_entropy_weights_pixels_by_their_bin() -> None:
    target = torch.zeros(1, 2, 1, 2)
    target[0, 0, 0, 0] = 1.0
    target[0, 1, 0, 1] = 1.0
    logits = torch.zeros(1, 2, 1, 2)
    flat = rebalanced_cross_entropy(logits, target, torch.ones(2))
    assert float(flat) == pytest.approx(float(torch.log(torch.tensor(2.0))))
    skew = rebalanced_cross_entropy(logits, target, torch.tensor([3.0, 1.0]))
    assert float(skew) == pytest.approx(2.0 * float(flat))


def test_a_tiny_optimisation_loop_lowers_the_colorize_loss(frames: torch.Tensor, bins) -> None:
    torch.manual_seed(0)
    encoder = Encoder(width=8, depth=2)
    head = ColorizeHead(encoder.channels[0], bins)
    x, lightness, ab = colorize_input(frames)
    opt = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-2)
    losses = []
    for _ in range(50):
        loss = head.loss(head(encoder(x)[0]), ab)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.75 * losses[0], losses[::10]
    rgb = head.colourise(head(encoder(x)[0]).detach(), lightness)
    assert rgb.shape == frames.shape and float(rgb.min()) >= 0 and float(rgb.max()) <= 1
    assert torch.allclose(lab_to_rgb(*rgb_to_l_ab(frames)), frames, atol=1e-3)
    panel = head.panel(head(encoder(x)[0]), frames)
    assert panel.shape == (3, 32, 96)
    assert torch.equal(panel[..., 64:], frames[0])  # the truth on the right, the grey input on the left
    assert torch.equal(panel[0, :, :32], panel[1, :, :32])
    trained_error = (panel[..., 32:64] - frames[0]).abs().mean()
    achromatic = lab_to_rgb(lightness[:1], torch.zeros(1, 2, 32, 32))[0]  # same L, no colour
    grey_error = (achromatic - frames[0]).abs().mean()
    assert trained_error < grey_error  # after 50 steps the colourisation beats decoding to grey
