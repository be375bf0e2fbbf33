"""Known answers for the correspondence pretext, and its colour-statistics shortcut test."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mannequin.learning.nets import Encoder
from mannequin.learning.pretext.correspondence import (
    CorrespondenceHead,
    build_pairs,
    correspondence_loss,
    decorrelate_colour,
    max_pooled_logit,
    negative_partners,
    similarity,
    similarity_map,
    write_similarity_png,
)


def palette_clips(n: int, seed: int, size: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` clips of two frames: each clip has its own tint and brightness, each frame its own layout."""
    g = torch.Generator().manual_seed(seed)
    tint = 0.3 + 0.7 * torch.rand(n, 3, 1, 1, generator=g)
    level = 0.5 + 0.5 * torch.rand(n, 1, 1, 1, generator=g)

    def frame() -> torch.Tensor:
        layout = F.interpolate(torch.rand(n, 1, 8, 8, generator=g), size=(size, size), mode="bilinear")
        return (layout * tint * level).clamp(0, 1)

    return frame(), frame(), torch.arange(n)


def colour_histograms(x: torch.Tensor, bins: int = 8) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 3 * bins) per-channel histograms (shares of pixels)."""
    n, c = x.shape[:2]
    idx = (x.clamp(0, 1) * bins).long().clamp_max(bins - 1).flatten(2)
    idx = idx + bins * torch.arange(n * c).view(n, c, 1)  # one run of bins per image and channel
    counts = torch.bincount(idx.flatten(), minlength=n * c * bins).float()
    return counts.view(n, c * bins) / x[0, 0].numel()


def pair_features(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """What a linear probe may combine: both histograms, their difference and their product."""
    ha, hb = colour_histograms(a), colour_histograms(b)
    return torch.cat([ha, hb, (ha - hb).abs(), ha * hb], dim=1)


def probe_accuracy(recolour: bool) -> float:
    """Held-out accuracy of logistic regression on colour histograms of the pairs ``build_pairs`` makes."""
    a, b, same = build_pairs(*palette_clips(400, 1), generator=torch.Generator().manual_seed(2), recolour=recolour)
    ta, tb, tsame = build_pairs(*palette_clips(400, 3), generator=torch.Generator().manual_seed(4), recolour=recolour)
    x, xt = pair_features(a, b), pair_features(ta, tb)
    mean, std = x.mean(dim=0), x.std(dim=0) + 1e-6
    x, xt = (x - mean) / std, (xt - mean) / std
    w = torch.zeros(x.shape[1], requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([w, c], max_iter=60)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ w + c, same) + 1e-3 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((xt @ w + c > 0).float() == tsame).float().mean())


@pytest.mark.parametrize(("recolour", "solved"), [(True, False), (False, True)])
def test_a_linear_probe_on_colour_histograms_stays_near_chance_only_with_recolouring(
    recolour: bool, solved: bool
) -> None:
    """Clips that differ by palette: histograms give the answer away unless every frame is recoloured."""
    accuracy = probe_accuracy(recolour)
    if solved:
        assert accuracy > 0.85
    else:
        assert accuracy < 0.62


def test_pairs_are_half_positive_and_negatives_come_from_other_clips() -> None:
    clip = torch.tensor([0, 0, 1, 2, 2, 3])
    partner = negative_partners(clip, torch.Generator().manual_seed(0))
    assert all(clip[j] != clip[i] for i, j in enumerate(partner.tolist()))
    a, b, same = build_pairs(torch.rand(6, 3, 8, 8), torch.rand(6, 3, 8, 8), clip, recolour=False)
    assert same.tolist() == [1.0] * 6 + [0.0] * 6
    assert len(a) == len(b) == 12
    lone = build_pairs(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), torch.tensor([5, 5]))[2]
    assert lone.tolist() == [1.0, 1.0]  # no other clip in the batch: no negatives, never a false one


def test_recolouring_is_independent_per_frame_and_keeps_the_range() -> None:
    x = torch.rand(1, 3, 8, 8).expand(64, -1, -1, -1)
    y = decorrelate_colour(x, torch.Generator().manual_seed(0))
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    means = y.mean(dim=(2, 3))
    assert float(means.std(dim=0).min()) > 0.05  # 64 copies of one frame come out in many colourings


def random_linear_features(x: torch.Tensor) -> torch.Tensor:
    """A fixed random extractor: 4x4 patches of the standardised frame, rotated by a random orthogonal matrix
    (no bias, no ReLU), so cosines between features are those between the patches themselves."""
    g = torch.Generator().manual_seed(7)
    weight = torch.linalg.qr(torch.randn(48, 48, generator=g))[0].view(48, 3, 4, 4)
    x = (x - x.mean(dim=(1, 2, 3), keepdim=True)) / x.std(dim=(1, 2, 3), keepdim=True)
    return F.conv2d(x, weight, stride=4)


def test_logit_is_high_for_identical_frames_and_low_for_frames_of_different_clips() -> None:
    """By construction: identical frames contain every position's own match (cosine exactly 1), while frames of
    independent textures through a linear zero-mean extractor have unrelated features (cosines near 0)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(6, 3, 32, 32, generator=g), torch.rand(6, 3, 32, 32, generator=g)
    fa, fb = random_linear_features(a), random_linear_features(b)
    same, other = similarity(fa, fa), similarity(fa, fb)
    assert torch.allclose(similarity_map(same, 8, 8), torch.ones(6, 1, 8, 8), atol=1e-5)
    assert float(other.amax()) < 0.7  # the best of 4096 cosines of independent 48-d vectors: about 0.5
    high, low = max_pooled_logit(same, 10.0, -8.0), max_pooled_logit(other, 10.0, -8.0)
    assert bool((high > 1.5).all()) and bool((low < -1.0).all())
    loss_right = correspondence_loss(torch.cat([high, low]), torch.cat([torch.ones(6), torch.zeros(6)]))
    loss_wrong = correspondence_loss(torch.cat([high, low]), torch.cat([torch.zeros(6), torch.ones(6)]))
    assert float(loss_right) < 0.2 < 1.5 < float(loss_wrong)


def test_the_map_localises_a_shared_region() -> None:
    """Frame B holds a copy of one corner of A: that corner's positions match exactly, the rest do not."""
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(1, 3, 32, 32, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    b[..., 16:, 16:] = a[..., :16, :16]
    fa = random_linear_features(a)
    fb = random_linear_features(b)
    # standardisation differs per frame, but cosine ignores the scale; the mean shift is small
    heat = similarity_map(similarity(fa, fb), 8, 8)[0, 0]
    assert float(heat[:4, :4].min()) > 0.9
    assert float(heat[4:, 4:].max()) < 0.8


def test_write_similarity_png(tmp_path) -> None:
    a, b = torch.rand(3, 32, 32), torch.rand(3, 32, 32)
    heat = torch.rand(8, 8) * 2 - 1
    out = write_similarity_png(tmp_path / "maps" / "pair.png", a, b, heat, logit=1.5)
    with Image.open(out) as png:
        assert png.format == "PNG" and png.width > png.height > 100
    assert [p.name for p in (tmp_path / "maps").iterdir()] == ["pair.png"]  # no temp file left behind


def test_a_tiny_optimisation_loop_lowers_the_correspondence_loss() -> None:
    """Clips are textures, frames shifted crops of them; pairs built and recoloured as in training.

    In 40 CPU steps most of the drop is the calibration (threshold) settling; discrimination
    itself is what the real fit measures."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    scenes = F.interpolate(torch.rand(8, 3, 12, 12, generator=g), size=(48, 48), mode="bilinear")
    clip = torch.arange(8)
    encoder, head = Encoder(width=8, depth=2), CorrespondenceHead(16, dim=32)
    opt = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    losses = []
    for _ in range(40):
        dy, dx = torch.randint(0, 16, (2,), generator=g).tolist()
        image, image2 = scenes[..., :32, :32], scenes[..., dy : dy + 32, dx : dx + 32]
        a, b, same = build_pairs(image, image2, clip, generator=g)
        logit, _ = head(encoder(a)[-1], encoder(b)[-1])
        loss = correspondence_loss(logit, same)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.75 * first, losses[::5]
