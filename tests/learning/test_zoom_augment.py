"""The random zoom keeps image, targets and the parallax input on the same pixels."""

from __future__ import annotations

import torch

from mannequin.config.learning import AugmentParams
from mannequin.learning.augment import GeometryHonestAugment, zoom_grid

PLAIN = {"flip_p": 0.0, "jitter": 0.0, "channel_shuffle": False, "grayscale_p": 0.0}


def coordinate_batch(b: int = 16, h: int = 24, w: int = 32) -> dict[str, torch.Tensor]:
    """Items whose image, depth and parallax all encode the pixel's own column and row, so any misalignment
    between them shows."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    col, row = (xs + 0.5) / w, (ys + 0.5) / h
    image = torch.stack([col, row, torch.zeros_like(col)])[None].repeat(b, 1, 1, 1)
    depth = (1.0 + 4.0 * col)[None, None].repeat(b, 1, 1, 1)
    depth[:, :, :, :3] = float("nan")  # a hole stays a hole
    parallax = torch.stack([row, col, torch.ones_like(col)])[None].repeat(b, 1, 1, 1)
    return {"image": image, "depth": depth, "confidence": torch.ones(b, 1, h, w), "parallax": parallax}


def test_zoom_moves_targets_and_parallax_with_the_image() -> None:
    batch = coordinate_batch()
    torch.manual_seed(0)
    out = GeometryHonestAugment(AugmentParams(**PLAIN, scale_max=2.0))(batch)
    w = batch["image"].shape[-1]
    col_image = out["image"][:, 0:1]
    col_depth = (out["depth"] - 1.0) / 4.0
    ok = torch.isfinite(col_depth)
    # nearest (targets) against bilinear (image): at most half a source pixel apart
    assert ((col_image - col_depth).abs()[ok] <= 0.5 / w + 1e-6).all()
    assert ((out["parallax"][:, 1:2] - col_image).abs() <= 0.5 / w + 1e-6).all()
    assert ((out["parallax"][:, 0:1] - out["image"][:, 1:2]).abs() <= 0.5 / batch["image"].shape[-2] + 1e-6).all()
    # a zoom shows a smaller part of the frame: the columns seen span less than the whole width
    spans = col_image.flatten(1).amax(1) - col_image.flatten(1).amin(1)
    assert (spans < 0.99).any() and (spans > 0.45).all()
    # depth values are not rescaled: every zoomed value is one the item had (or NaN)
    src = set(batch["depth"][0].flatten().nan_to_num(-1).tolist())
    assert set(out["depth"].flatten().nan_to_num(-1).tolist()) <= src
    assert torch.equal(out["confidence"], torch.ones_like(out["confidence"]))


def test_no_zoom_is_the_identity() -> None:
    batch = coordinate_batch()
    out = GeometryHonestAugment(AugmentParams(**PLAIN, scale_max=1.0))(batch)
    for key, value in batch.items():
        assert torch.equal(out[key].nan_to_num(-1), value.nan_to_num(-1)), key
    assert zoom_grid(4, 8, 8, 1.0, torch.device("cpu")) is None


def test_zoom_grid_stays_inside_the_frame_and_spans_its_scale_range() -> None:
    torch.manual_seed(1)
    grid = zoom_grid(512, 12, 16, 3.0, torch.device("cpu"))
    assert grid.shape == (512, 12, 16, 2)
    assert grid.abs().max() <= 1.0
    share = (grid[:, 0, -1, 0] - grid[:, 0, 0, 0]) / (2 * 15 / 16)  # the crop's share of the width
    assert share.min() >= 1 / 3 - 1e-4 and share.max() <= 1.0 + 1e-4
    assert share.min() < 0.4 and share.max() > 0.9
