"""Known answers for the photometric objective (issue 23) on clips of the sample renderer: exact depth and cameras.

The loss must prefer the true depth to a scaled or blurred one, ignore the pose units, mask every pixel of a still
camera, close the shortcut of a depth that makes the warp a no-op, and leave moving people out.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mannequin.config.learning import AugmentParams
from mannequin.config.objectives import ObjectiveParams
from mannequin.learning.augment import GeometryHonestAugment
from mannequin.learning.data import ShardFrames
from mannequin.learning.nets import DepthNet
from mannequin.learning.objectives import build_objective
from mannequin.learning.objectives.photometric import PhotometricObjective
from mannequin.learning.pretext.photometric import PhotometricTerms, photometric_terms
from mannequin.learning.source_views import SourceViews
from mannequin.sample.dataset import RenderedClip
from tests.helpers.photometric import SIZE, rendered, rendered_translation, view_batch, write_rendered_shard

SOURCES = [0, 4]  # frames 0 and 4 warped into frame 2


@pytest.fixture(scope="module")
def sweep() -> RenderedClip:
    return rendered("sweep", seed=3)


@pytest.fixture(scope="module")
def walking() -> RenderedClip:
    return rendered("sweep", walking=True, seed=5)


def core_loss(batch: dict, depth: torch.Tensor, **kw: object) -> float:
    """The loss with metric depth and the true (metric) poses: no scale normalisation."""
    b = batch
    terms = photometric_terms(b["target"], b["sources"], depth, b["K"], b["source_K"], b["source_pose"], **kw)
    return float(terms.loss)


def blurred(depth: torch.Tensor, size: int = 9) -> torch.Tensor:
    pad = size // 2
    return F.avg_pool2d(F.pad(depth, (pad, pad, pad, pad), mode="replicate"), size, stride=1)


class FixedDepth(DepthNet):
    """A "net" that predicts a given log depth, so the objective's own path (scale anchor, scales, masks) runs."""

    def __init__(self, log_depth: torch.Tensor) -> None:
        super().__init__(width=4, depth=2)
        self.fixed = log_depth

    def decode_all(self, image: torch.Tensor, feats: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
        return [self.fixed]


def objective(**params: object) -> PhotometricObjective:
    net = DepthNet(width=4, depth=2)
    built = build_objective("photometric", net, ObjectiveParams.model_validate({"photometric": params}))
    return built.eval()  # type: ignore[return-value]


def objective_loss(batch: dict, log_depth: torch.Tensor, **params: object) -> float:
    with torch.no_grad():
        return float(objective(**params)(FixedDepth(log_depth), batch)[0])


def test_the_true_depth_beats_depth_x1_3_and_a_blurred_depth(sweep: RenderedClip) -> None:
    batch = view_batch(sweep, 2, SOURCES)
    depth = batch["depth"]
    true = core_loss(batch, depth)
    assert true < 0.6 * core_loss(batch, depth * 1.3)  # measured: 0.030 against 0.130
    assert true < 0.6 * core_loss(batch, depth / 1.3)
    assert true < 0.8 * core_loss(batch, blurred(depth))  # measured: 0.030 against 0.061
    # the objective itself (its scale is free, as the net's is): the true shape beats a distorted and a blurred one
    log = depth.log()
    assert objective_loss(batch, log) < 0.8 * objective_loss(batch, 1.3 * log)
    assert objective_loss(batch, log) < 0.8 * objective_loss(batch, blurred(depth).log())


def test_the_objective_sees_no_depth_scale(sweep: RenderedClip) -> None:
    """The net's scale is free (like the mvs objective's scale-invariant loss): depth x1.3 costs what depth costs."""
    batch = view_batch(sweep, 2, SOURCES)
    log = batch["depth"].log()
    assert objective_loss(batch, log + math.log(1.3)) == pytest.approx(objective_loss(batch, log), rel=1e-5)


def test_poses_scaled_by_37_give_the_same_loss(sweep: RenderedClip, tmp_path: Path) -> None:
    """Two shards of one clip in different pose units (cameras and curated depth x37): the same items and loss."""
    views = SourceViews(2, 1.0, 30.0)
    sets = []
    for name, scale in (("metres", 1.0), ("slam", 37.0)):
        write_rendered_shard(tmp_path / name, "clip", sweep, scale)
        sets.append(ShardFrames([tmp_path / name / "shards" / "clip"], {"clip": 0}, SIZE, views=views))
    assert sets[0].sources == sets[1].sources and len(sets[0]) >= 4
    torch.manual_seed(0)
    obj = objective()
    net = DepthNet(width=4, depth=3).eval()  # an untrained net: any prediction
    for i in range(len(sets[0])):
        a, b = (torch.utils.data.default_collate([s[i]]) for s in sets)
        assert torch.allclose(a["source_pose"][..., :3, 3] * 37, b["source_pose"][..., :3, 3], rtol=1e-5)
        with torch.no_grad():
            la, lb = obj(net, a)[0], obj(net, b)[0]
        assert float(lb) == pytest.approx(float(la), rel=1e-5, abs=1e-7)
        true_a = objective_loss(a, a["depth"].log())
        assert objective_loss(b, b["depth"].log()) == pytest.approx(true_a, rel=1e-5)


@pytest.mark.parametrize("walking", [False, True])
def test_automasking_masks_every_pixel_of_a_static_camera_pair(walking: bool) -> None:
    """A still camera (with people walking, or not): any depth warps each source onto itself, so every pixel is
    auto-masked and the depth gets no gradient."""
    clip = rendered("static", walking=walking, seed=3)
    batch = view_batch(clip, 2, SOURCES)
    assert walking == bool((batch["sources"][0] != batch["target"]).any())
    depth = (torch.rand_like(batch["depth"]) * 5 + 0.5).requires_grad_(True)
    terms = photometric_terms(batch["target"], batch["sources"], depth, batch["K"], batch["source_K"],
                              batch["source_pose"])  # fmt: skip
    assert bool(terms.automasked.all())
    terms.loss.backward()
    assert float(depth.grad.abs().max()) == 0.0


def test_a_depth_that_makes_the_warp_a_no_op_is_never_cheaper() -> None:
    """The shortcut of photometric losses: on a camera that translates without turning, a depth at infinity leaves
    the sources unwarped, and auto-masking then masks them. Each masked pixel costs its unwarped error, so that depth
    costs the most; averaging over the unmasked pixels alone (the naive form) would make it free. A depth that sends
    every pixel out of view is no escape either (the border's colours are sampled, nothing is excused)."""
    batch = view_batch(rendered_translation(seed=3), 2, SOURCES)
    b = batch
    assert torch.allclose(b["source_pose"][0, :, :3, :3], torch.eye(3).expand(2, 3, 3), atol=1e-6)
    far = torch.full_like(b["depth"], 1e6)
    true = photometric_terms(b["target"], b["sources"], b["depth"], b["K"], b["source_K"], b["source_pose"])
    none = photometric_terms(b["target"], b["sources"], far, b["K"], b["source_K"], b["source_pose"])
    assert float(none.automasked.float().mean()) > 0.99
    assert float(none.loss) == pytest.approx(float(none.identity_error.mean()), rel=1e-5)
    assert float(true.loss) < 0.3 * float(none.loss)

    def naive(t: PhotometricTerms) -> float:  # the average over the pixels the warp explains better
        kept = ~t.automasked
        return float((t.warped_error * kept).sum() / kept.sum().clamp_min(1))

    assert naive(none) < 0.5 * naive(true)  # the shortcut this form would open
    near = torch.full_like(b["depth"], 1e-3 * float(b["depth"].median()))
    assert float(true.loss) < 0.3 * core_loss(batch, near)


def test_masks_leave_moving_people_out(walking: RenderedClip) -> None:
    """People walking between frames break the warp at the true depth; the clip's masks take them out, and the loss
    then separates the true depth from a wrong one more clearly. Measured: error 0.167 inside the masks against 0.023
    outside; depth x1.3 costs 1.79x the true depth's loss without the masks, 2.44x with them."""
    batch = view_batch(walking, 2, SOURCES)
    mask = batch["mask"] > 0.5
    assert 0.05 < float(mask.float().mean()) < 0.5
    t = photometric_terms(batch["target"], batch["sources"], batch["depth"], batch["K"], batch["source_K"],
                          batch["source_pose"])  # fmt: skip
    assert float(t.per_pixel[mask].mean()) > 4 * float(t.per_pixel[~mask].mean())
    ratio = {}
    for masks in (False, True):
        counted = ~mask if masks else None
        ratio[masks] = core_loss(batch, batch["depth"] * 1.3, counted=counted) / core_loss(
            batch, batch["depth"], counted=counted
        )
    assert ratio[True] > 1.2 * ratio[False]
    # the objective leaves them out by its own switch
    log = batch["depth"].log()
    with_masks, without = objective_loss(batch, log, masks=True), objective_loss(batch, log, masks=False)
    assert with_masks < 0.6 * without


def test_a_flipped_batch_warps_exactly_as_the_original(sweep: RenderedClip) -> None:
    """Augmentation's flip mirrors the frames, the masks and the cameras together: the true depth, flipped, costs
    what it cost unflipped (a flip without the cameras' would not)."""
    batch = view_batch(sweep, 2, SOURCES)
    flip_all = GeometryHonestAugment(AugmentParams(flip_p=1.0, jitter=0.0, channel_shuffle=False, grayscale_p=0.0))
    flipped = flip_all(batch)
    assert torch.equal(flipped["target"], batch["target"].flip(-1))
    assert torch.equal(flipped["sources"], batch["sources"].flip(-1))
    assert torch.equal(flipped["depth"], batch["depth"].flip(-1))
    original = core_loss(batch, batch["depth"])
    assert core_loss(flipped, flipped["depth"]) == pytest.approx(original, rel=1e-3)
    cameras_unflipped = {**flipped, "K": batch["K"], "source_K": batch["source_K"], "source_pose": batch["source_pose"]}
    assert core_loss(cameras_unflipped, flipped["depth"]) > 2 * original


def test_a_zoomed_batch_still_warps_with_its_cameras(sweep: RenderedClip) -> None:
    """augment.scale_max's zoom crops the frames, the mask and the depth together and narrows the intrinsics with
    them: the true depth, zoomed, still explains the zoomed sources (a zoom without the cameras' would not)."""
    batch = view_batch(sweep, 2, SOURCES)
    zoom = GeometryHonestAugment(
        AugmentParams(flip_p=0.0, jitter=0.0, channel_shuffle=False, grayscale_p=0.0, scale_max=2.0)
    )
    torch.manual_seed(0)  # a crop of 2/3 of each side
    zoomed = zoom(batch)
    assert zoomed["sources"].shape == batch["sources"].shape and not torch.equal(zoomed["target"], batch["target"])
    assert float(zoomed["K"][0, 0, 0]) > 1.4 * float(batch["K"][0, 0, 0])  # a narrower field of view
    original, kept = core_loss(batch, batch["depth"]), core_loss(zoomed, zoomed["depth"])
    assert kept < 1.5 * original  # measured: 0.021 against 0.030 unzoomed
    cameras_unzoomed = {**zoomed, "K": batch["K"], "source_K": batch["source_K"]}
    assert core_loss(cameras_unzoomed, zoomed["depth"]) > 2 * kept  # measured: 0.068


def test_recolouring_never_touches_what_the_loss_compares(sweep: RenderedClip) -> None:
    batch = view_batch(sweep, 2, SOURCES)
    recolour = GeometryHonestAugment(AugmentParams(flip_p=0.0, jitter=0.4, channel_shuffle=True, grayscale_p=1.0))
    out = recolour(batch)
    assert not torch.equal(out["image"], batch["image"])
    assert torch.equal(out["target"], batch["target"]) and torch.equal(out["sources"], batch["sources"])


def test_the_panel_shows_target_warped_sources_error_and_automask(sweep: RenderedClip) -> None:
    batch = view_batch(sweep, 2, SOURCES)
    obj = objective()
    panel = obj.panel(FixedDepth(batch["depth"].log()), batch)
    w, h = SIZE
    assert panel.shape == (3, h, (1 + len(SOURCES) + 2) * w)
    assert torch.equal(panel[:, :, :w], batch["target"][0])
    warped = panel[:, :, w : 3 * w]
    assert (warped[:, :, :w] - batch["target"][0]).abs().mean() < 0.06  # the true depth warps source 0 onto it
    automask = panel[:, :, 4 * w :]
    assert set(automask.unique().tolist()) <= {0.0, 1.0}
