"""The plan of a sample dataset: which clip gets which split, defect, storage form, size and pose scale.

Planning draws every per-clip choice from the seed without rendering anything, so tests and audits can
ask what a dataset contains in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mannequin.sample import portable_math as pm
from mannequin.sample.trajectory import MOVING_KINDS

DEFECTS = ("moving", "rotation_only", "static_camera", "blur", "corrupt_video", "pose_mismatch")
SPLITS = ("unlabeled", "labeled", "test")
FPS_CHOICES = (10, 12, 15, 20, 24, 25, 30)
DEFAULT_CLIPS = 128
DEFAULT_SIZE = (160, 120)
DEFAULT_FRAMES = (8, 12)
#: ``paper`` (the default): like the Mannequin Challenge paper's data: every clip writes masks of its figures (frozen
#: ones included); labeled clips and every other test clip have walking people. ``frozen``: every figure stands
#: still and no clip writes masks (the sample data before the Mannequin Challenge model).
PEOPLE_MODES = ("paper", "frozen")
DEFAULT_PEOPLE = "paper"


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to render and write one clip, drawn from the dataset seed."""

    clip_id: str
    split: str
    defect: str  # "none" or one of DEFECTS
    form: str  # "video" (video.mp4) or "frames" (frames/000000.png ...)
    trajectory: str
    seed: int  # seeds this clip's room, trajectory and objects
    n_frames: int
    fps: int
    width: int
    height: int
    hfov_deg: float
    pose_scale: float  # pose translations are metres times this (SLAM's unknown scale)
    walking: bool = False  # people walk during the clip (paper-like test and labeled clips; no object slides)
    write_masks: bool = False  # write masks/<i:06d>.png of the figures and moving things

    @property
    def people(self) -> str:
        """``moving`` when figures walk (the ``moving`` defect or ``walking``), else ``frozen``."""
        return "moving" if self.walking or self.defect == "moving" else "frozen"


def split_counts(n_clips: int) -> dict[str, int]:
    """How many clips of each role: ``defect`` and ``clean`` (both unlabeled), ``labeled`` and ``test``.

    128 clips give 32 defective + 76 clean unlabeled, 10 labeled, 10 test; other sizes keep the same fractions.
    Most clips are unlabeled on purpose: many cheap scenes without labels is the premise being tested.
    """
    if n_clips < 1:
        raise ValueError("the dataset needs at least one clip")
    labeled = test = max(1, round(n_clips * 5 / 64)) if n_clips >= 3 else 0
    defect = round(n_clips / 4)
    clean = n_clips - labeled - test - defect
    return {"defect": defect, "clean": clean, "labeled": labeled, "test": test}


def make_plan(
    n_clips: int = DEFAULT_CLIPS,
    seed: int = 0,
    width: int = DEFAULT_SIZE[0],
    height: int = DEFAULT_SIZE[1],
    frames: tuple[int, int] = DEFAULT_FRAMES,
    people: str = DEFAULT_PEOPLE,
    extra_unlabeled: int = 0,
    extra_labeled: int = 0,
) -> list[ClipPlan]:
    """The clips of a sample dataset, sorted by clip id. Defect types cycle so that 6+ defects cover them all.

    ``people="paper"`` draws the same clips (no extra random draw) and then marks every clip to write masks,
    every labeled clip and the 1st, 3rd, ... test clip (by id) as ``walking``: a mix of test clips with moving
    and with frozen people, like the paper's test videos.

    ``extra_unlabeled`` more unlabeled clips follow the ``n_clips`` planned ones (ids continuing after them, a
    quarter of them defective, drawn from their own random stream): the first ``n_clips`` are the very clips of the
    plan without them, so the labeled and test clips stay the same while the unlabeled ones grow.
    ``extra_labeled`` more labeled clips (other rooms, their own random stream) follow those, numbered after them:
    more rooms to spend a label budget on, with every planned clip unchanged.
    """
    if people not in PEOPLE_MODES:
        raise ValueError(f"people must be one of {', '.join(PEOPLE_MODES)}, got {people!r}")
    if frames[0] < 2 or frames[1] < frames[0]:
        raise ValueError(f"frames must be a range with at least 2 frames, got {frames}")
    if extra_unlabeled < 0:
        raise ValueError(f"extra_unlabeled must be at least 0, got {extra_unlabeled}")
    if extra_labeled < 0:
        raise ValueError(f"extra_labeled must be at least 0, got {extra_labeled}")
    counts = split_counts(n_clips)
    plans = _plan_roles(
        np.random.default_rng(np.random.SeedSequence([seed, 0x5A3D1E])), counts, 0, width, height, frames
    )
    extras = {  # random stream -> the roles of the clips it adds after those before it
        1: {"defect": round(extra_unlabeled / 4), "clean": extra_unlabeled - round(extra_unlabeled / 4)},
        2: {"labeled": extra_labeled},
    }
    for stream, more in extras.items():
        if sum(more.values()):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5A3D1E, stream]))
            plans += _plan_roles(rng, more, len(plans), width, height, frames)
    return paper_people(plans) if people == "paper" else plans


def _plan_roles(
    rng: np.random.Generator,
    counts: dict[str, int],
    first_number: int,
    width: int,
    height: int,
    frames: tuple[int, int],
) -> list[ClipPlan]:
    """Plans for ``counts`` clips of each role (``defect``, ``clean``, ``labeled``, ``test``) in random order, numbered
    from ``first_number``; every per-clip choice drawn from ``rng``."""
    roles: list[tuple[str, str, str]] = []  # (split, defect, form)
    for group in ("defect", "clean", "labeled", "test"):
        for pos in range(counts.get(group, 0)):
            defect = DEFECTS[pos % len(DEFECTS)] if group == "defect" else "none"
            split = "unlabeled" if group in ("defect", "clean") else group
            form = "frames" if pos % 4 == 1 and defect != "corrupt_video" else "video"
            roles.append((split, defect, form))
    order = rng.permutation(len(roles))
    plans = []
    for position, role_index in enumerate(order):
        clip_number = first_number + position
        split, defect, form = roles[role_index]
        kind = {"rotation_only": "rotation", "static_camera": "static", "blur": "fast"}.get(
            defect, str(rng.choice(MOVING_KINDS))
        )
        scale = float(pm.exp(rng.uniform(float(pm.log(0.2)), float(pm.log(5.0)))))
        plans.append(
            ClipPlan(
                clip_id=f"clip_{clip_number:04d}",
                split=split,
                defect=defect,
                form=form,
                trajectory=kind,
                seed=int(rng.integers(0, 2**31 - 1)),
                n_frames=int(rng.integers(frames[0], frames[1] + 1)),
                fps=int(rng.choice(FPS_CHOICES)),
                width=width,
                height=height,
                hfov_deg=round(float(rng.uniform(50.0, 80.0)), 2),
                pose_scale=float(f"{scale:.4g}"),
            )
        )
    return plans


def paper_people(plans: list[ClipPlan]) -> list[ClipPlan]:
    """The plans with masks written everywhere, walking people in labeled clips and every other test clip."""
    tests = [p.clip_id for p in plans if p.split == "test"]
    walking = {p.clip_id for p in plans if p.split == "labeled"} | set(tests[::2])
    return [replace(p, walking=p.clip_id in walking, write_masks=True) for p in plans]
