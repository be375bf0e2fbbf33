"""Known answers for the Selfie pretext, and its shortcut tests (fill value, borders)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mannequin.errors import InputError
from mannequin.learning.nets import Encoder
from mannequin.learning.pretext.selfie import (
    SelfieHead,
    cell_mask,
    cell_positions,
    cells_of,
    crop_candidates,
    fill_cells,
    sample_cells,
    selfie_accuracy,
    selfie_batch,
    selfie_logits,
    selfie_loss,
)

K = 8
ALPHAS = [0.0, *torch.logspace(-2, 3, 26).tolist()]  # a trivial model's only knob: how sharply it trusts its cue


def fine_texture(n: int, h: int = 48, w: int = 64, seed: int = 0) -> torch.Tensor:
    """Noise blurred by a 3x3 box: neighbouring pixels correlate, pixels 3 or more apart do not."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, 3, h + 2, w + 2, generator=g)
    return F.avg_pool2d(noise, 3, stride=1)


def patchy(n: int, seed: int = 0) -> torch.Tensor:
    """Fine texture over a colour that changes from cell to cell (as content does in a real image)."""
    g = torch.Generator().manual_seed(seed + 100)
    colour = F.interpolate(torch.rand(n, 3, 6, 8, generator=g), scale_factor=8, mode="nearest")
    return 0.4 * fine_texture(n, seed=seed) + 0.6 * colour


def flat(x: torch.Tensor) -> torch.Tensor:
    """Per-patch standardised, flattened codes: an identity 'patch network'."""
    x = x.flatten(2)
    return (x - x.mean(dim=-1, keepdim=True)) / x.std(dim=-1, keepdim=True)


def best_trivial_loss(score: torch.Tensor) -> tuple[float, float]:
    """Lowest loss over the scale of a fixed cue ``score`` (B, K, K), and that cue's argmax accuracy."""
    losses = [float(selfie_loss(a * score)) for a in ALPHAS]
    return min(losses), float(selfie_accuracy(score + 1e-6 * torch.randn_like(score)))


def fill_cue(masked: torch.Tensor, mask: torch.Tensor, candidates: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """A model that looks only at the fill: -|mean colour in the hidden cell - mean colour of the candidate|."""
    seen = cells_of(masked, 8)
    seen = torch.gather(seen, 1, cells.view(*cells.shape, 1, 1, 1).expand(-1, -1, *seen.shape[2:]))
    f_i = seen.mean(dim=(-1, -2))  # (B, K, C)
    m_j = candidates.mean(dim=(-1, -2))
    return -(f_i.unsqueeze(2) - m_j.unsqueeze(1)).abs().sum(dim=-1)


def border_cue(masked: torch.Tensor, candidates: torch.Tensor, cells: torch.Tensor, margin: int) -> torch.Tensor:
    """A model that looks only at borders: correlation of the visible ring round cell i with candidate j's edge."""
    patch, gw = 8, masked.shape[-1] // 8
    padded = F.pad(masked, (1, 1, 1, 1), mode="replicate")
    s = patch - 2 * margin
    rings = []
    for b in range(cells.shape[0]):
        row = []
        for c in cells[b].tolist():
            y, x = (c // gw) * patch + 1, (c % gw) * patch + 1  # cell origin in the padded image
            y0, x0 = y + margin, x + margin  # the ring pixels facing the candidate's interior
            row.append(
                torch.cat(
                    [
                        padded[b, :, y - 1, x0 : x0 + s],
                        padded[b, :, y + patch, x0 : x0 + s],
                        padded[b, :, y0 : y0 + s, x - 1],
                        padded[b, :, y0 : y0 + s, x + patch],
                    ],
                    dim=-1,
                )
            )
        rings.append(torch.stack(row))
    ring = torch.stack(rings)  # (B, K, C, 4s)
    edge = torch.cat(
        [candidates[..., 0, :], candidates[..., -1, :], candidates[..., :, 0], candidates[..., :, -1]], dim=-1
    )
    return selfie_logits(flat(ring), flat(edge), temperature=1.0)


def test_loss_is_low_for_the_obvious_match_and_near_log_k_for_shuffled_candidates() -> None:
    torch.manual_seed(0)
    a = selfie_batch(torch.rand(16, 3, 64, 64), patch=16, k=K, margin=2)["candidates"]
    b = selfie_batch(torch.rand(16, 3, 64, 64), patch=16, k=K, margin=2)["candidates"]  # another image's patches
    query = flat(a) + 0.1 * torch.randn(flat(a).shape)
    obvious = selfie_loss(selfie_logits(query, flat(a), temperature=0.2))
    shuffled = selfie_loss(selfie_logits(query, flat(b), temperature=0.2))
    assert float(obvious) < 0.1
    assert float(shuffled) == pytest.approx(math.log(K), abs=0.1)


@pytest.mark.parametrize("fill", ["mean", "noise"])
def test_a_model_that_reads_the_fill_value_stays_at_chance(fill: str) -> None:
    torch.manual_seed(0)
    image = patchy(32)
    p = selfie_batch(image, patch=8, k=K, margin=2, fill=fill, generator=torch.Generator().manual_seed(3))
    loss, acc = best_trivial_loss(fill_cue(p["masked"], p["mask"], p["candidates"], p["cells"]))
    assert loss > math.log(K) - 0.05
    assert acc < 1 / K + 0.1


def test_the_fill_shortcut_opens_when_each_cell_is_filled_with_its_own_colour() -> None:
    """The contrast: fill each hidden cell with the mean of what it hides, and the same cue solves the task."""
    image = patchy(32)
    p = selfie_batch(image, patch=8, k=K, margin=2, generator=torch.Generator().manual_seed(3))
    own = F.interpolate(F.avg_pool2d(image[..., :48, :64], 8), scale_factor=8, mode="nearest")
    leaky = torch.where(p["mask"] > 0, own, image)
    loss, acc = best_trivial_loss(fill_cue(leaky, p["mask"], p["candidates"], p["cells"]))
    assert loss < 0.3 * math.log(K)
    assert acc > 0.8


@pytest.mark.parametrize(("margin", "leaks"), [(2, False), (0, True)])
def test_borders_give_the_answer_only_without_the_margin(margin: int, leaks: bool) -> None:
    """With a 2px gap the visible ring is 3px from the candidate's edge, beyond the texture's reach."""
    image = fine_texture(24, seed=4)
    p = selfie_batch(image, patch=8, k=K, margin=margin, generator=torch.Generator().manual_seed(5))
    loss, acc = best_trivial_loss(border_cue(p["masked"], p["candidates"], p["cells"], margin))
    if leaks:
        assert acc > 0.6
        assert loss < 0.7 * math.log(K)
    else:
        assert acc < 1 / K + 0.1
        assert loss > math.log(K) - 0.05


def test_candidates_are_the_hidden_cells_interiors_cut_identically() -> None:
    image = torch.arange(2 * 1 * 16 * 24, dtype=torch.float32).view(2, 1, 16, 24)
    idx = torch.tensor([[0, 5], [3, 2]])  # grid 2 x 3
    crops = crop_candidates(image, idx, patch=8, margin=2)
    assert crops.shape == (2, 2, 1, 4, 4)
    assert torch.equal(crops[0, 1, 0], image[0, 0, 10:14, 18:22])  # cell 5: row 1, col 2
    assert torch.equal(crops[1, 0, 0], image[1, 0, 10:14, 2:6])  # cell 3: row 1, col 0
    mask = cell_mask(idx, 16, 24, 8)
    assert float(mask[0].sum()) == 2 * 64
    filled = fill_cells(image, mask)
    assert torch.equal(filled[0, 0, :8, :8], image[0].mean().expand(8, 8))
    assert torch.equal(filled[0, 0, :8, 8:16], image[0, 0, :8, 8:16])
    centre = F.grid_sample(image, cell_positions(idx, 16, 24, 8).unsqueeze(2), align_corners=False)
    assert torch.allclose(centre[0, 0, 1, 0], image[0, 0, 11:13, 19:21].mean())  # cell 5's centre


def test_sample_cells_are_distinct_per_image() -> None:
    idx = sample_cells(5, 12, 7, torch.Generator().manual_seed(0))
    assert all(len(set(row)) == 7 for row in idx.tolist())
    with pytest.raises(InputError, match=r"^selfie.k: needs 2 <= k <= cells, got k=5 for 4 cells$"):
        sample_cells(1, 4, 5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: selfie_batch(torch.rand(1, 3, 16, 16), patch=16), r"^selfie.patch: needs at least 2 cells"),
        (lambda: selfie_batch(torch.rand(1, 3, 32, 32), patch=8, margin=4), r"^selfie.margin: 4 leaves no interior"),
        (lambda: selfie_batch(torch.rand(1, 3, 32, 32), patch=8, fill="zero"), r"^selfie.fill: unknown fill 'zero'"),
    ],
)
def test_bad_selfie_settings_are_one_line_errors(call, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        call()
    assert "\n" not in str(err.value)


def test_a_tiny_optimisation_loop_lowers_the_selfie_loss() -> None:
    """Images whose colour encodes position (plus texture): the head must tie queries to patches."""
    torch.manual_seed(0)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    ramp = torch.stack([xs, ys, 1 - xs]).unsqueeze(0)
    images = (0.7 * ramp + 0.3 * fine_texture(6, 32, 32)).clamp(0, 1)
    encoder, head = Encoder(width=8, depth=2), SelfieHead(16, dim=32)
    opt = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(40):
        p = selfie_batch(images, patch=8, k=6, margin=1, generator=g)
        loss = selfie_loss(head(encoder(p["masked"])[-1], p["positions"], p["candidates"]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(math.log(6), abs=0.3)
    assert sum(losses[-5:]) / 5 < 0.6 * math.log(6), losses[::5]
