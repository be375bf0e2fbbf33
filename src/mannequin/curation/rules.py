"""Curation rules, one declaration each: the scores of ``clips.csv`` and the accept/reject rules that read them.

A clip goes through the *stages* of :data:`STAGES` (``open`` the clip, its ``poses``, the ``frames`` read at the
curation width, the ``mvs`` depth; :mod:`mannequin.curation.stages`). Each stage yields named values; a
:class:`Score` is one of them that ``clips.csv`` records (its column, in declaration order) and that the
Great Expectations gate checks against its valid range. A :class:`Rule` runs right after its stage, reads the
values seen so far against thresholds of ``curate.quality`` and returns the sentence of its rejection. The rules
run in declaration order (which keeps to stage order, cheapest first); the first that fails is the clip's reason.

Everything else is derived from :data:`DEFAULT`: the ``clips.csv`` columns (:mod:`mannequin.curation.table`),
the gate ranges (:mod:`mannequin.curation.gates`) and the decision (:mod:`mannequin.curation.curate`).
A new filter is one :class:`Rule` here (and a :class:`Score` when it reads a new value), its threshold in
``QualityParams`` and ``params.yaml``, and its test; see docs/extending.md, "Adding a curation rule".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mannequin.config.curate import QualityParams

STAGES = ("open", "poses", "frames", "mvs")
STATIC_ROTATION_DEG = 0.5

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Reason:
    """Why a clip is rejected: a machine code and a human sentence."""

    code: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.code}: {self.sentence}"


@dataclass(frozen=True)
class Score:
    """One ``clips.csv`` score column.

    ``stage`` produces it: under the same name in the stage's values, or by ``compute`` from the stage's state
    (a :class:`mannequin.curation.stages.ClipState`) once the stage has run. ``valid`` is the range the gate
    expects (``None``: unbounded on that side); ``required`` means every accepted clip must have it.
    """

    name: str
    stage: str
    valid: tuple[float | None, float | None]
    doc: str
    required: bool = False
    compute: Callable[[Any], float | None] | None = None


@dataclass(frozen=True)
class Rule:
    """One way to reject a clip: ``check`` returns the sentence of the rejection, or ``None`` when the clip passes.

    ``check(values, quality)`` reads the values of ``stage`` and the earlier stages, and the ``thresholds``
    (field names of ``QualityParams``) of ``quality``. ``binds_forced`` says when a human ``force_accept`` cannot
    carry the clip past this rule (curation cannot go on), e.g. fewer than two frames.
    """

    code: str
    stage: str
    thresholds: tuple[str, ...]
    check: Callable[[Values, QualityParams], str | None]
    binds_forced: Callable[[Values], bool] | None = None

    def reason(self, values: Values, quality: QualityParams) -> Reason | None:
        sentence = self.check(values, quality)
        return None if sentence is None else Reason(self.code, sentence)


@dataclass(frozen=True)
class Registry:
    """The scores and rules of a curation run, in order; validated on construction."""

    scores: tuple[Score, ...]
    rules: tuple[Rule, ...]
    stages: tuple[str, ...] = field(default=STAGES)

    def __post_init__(self) -> None:
        names = [s.name for s in self.scores]
        if len(set(names)) != len(names):
            raise ValueError(f"score names repeat: {names}")
        for item in (*self.scores, *self.rules):
            if item.stage not in self.stages:
                raise ValueError(f"{item}: stage {item.stage!r} is not one of {self.stages}")
        order = [self.stages.index(r.stage) for r in self.rules]
        if order != sorted(order):
            raise ValueError("rules must keep to stage order (a rule runs right after its stage)")

    @property
    def columns(self) -> tuple[str, ...]:
        """The score columns of ``clips.csv``, in order."""
        return tuple(s.name for s in self.scores)

    @property
    def ranges(self) -> dict[str, tuple[float | None, float | None]]:
        """Valid range of every score (the clip-table gate)."""
        return {s.name: s.valid for s in self.scores}

    @property
    def required_when_accepted(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scores if s.required)

    def stage_scores(self, stage: str) -> tuple[Score, ...]:
        return tuple(s for s in self.scores if s.stage == stage)

    def first_failure(self, stage: str, values: Values, quality: QualityParams) -> tuple[Rule, Reason] | None:
        """The first rule of ``stage`` that rejects the clip, with its reason."""
        for rule in self.rules:
            if rule.stage == stage and (reason := rule.reason(values, quality)) is not None:
                return rule, reason
        return None

    def extend(self, scores: tuple[Score, ...] = (), rules: tuple[Rule, ...] = ()) -> Registry:
        """A copy with ``scores`` appended and each of ``rules`` placed after the last rule of its stage."""
        merged = list(self.rules)
        for rule in rules:
            at = self.stages.index(rule.stage)
            pos = sum(1 for r in merged if self.stages.index(r.stage) <= at)
            merged.insert(pos, rule)
        return replace(self, scores=self.scores + tuple(scores), rules=tuple(merged))


# --- the checks: each returns the rejection's sentence, or None ---------------------------------------------


def _too_few_frames(v: Values, q: QualityParams) -> str | None:
    n = v["num_frames"]
    return f"{n} frames, at least {q.min_frames} are needed for multi-view depth" if n < q.min_frames else None


def _pose_jump(v: Values, q: QualityParams) -> str | None:
    if v["pose_jump"] > q.max_pose_jump:
        times = "an isolated" if v["pose_jump"] == float("inf") else f"{v['pose_jump']:.1f}x its median"
        return f"the camera makes {times} step before pose line {v['jump_at'] + 1}"
    return None


def _static_camera(v: Values, q: QualityParams) -> str | None:
    if v["translation"] <= q.min_translation_ratio and v["rotation_deg"] < STATIC_ROTATION_DEG:
        return "the camera neither moves nor turns: no parallax for depth"
    return None


def _rotation_only(v: Values, q: QualityParams) -> str | None:
    if v["translation"] <= q.min_translation_ratio:
        return f"the camera turns {v['rotation_deg']:.1f}° without moving: rotation gives no parallax"
    return None


def _blurry(v: Values, q: QualityParams) -> str | None:
    if v["sharpness"] < q.min_sharpness:
        return f"median sharpness {v['sharpness']:.2f} is below {q.min_sharpness:.2f}"
    return None


def _small_parallax(v: Values, q: QualityParams) -> str | None:
    if v["parallax_deg"] is not None and v["parallax_deg"] < q.min_parallax_deg:
        return f"median triangulation angle {v['parallax_deg']:.2f}° is below {q.min_parallax_deg:.2f}°"
    return None


def _pose_image_mismatch(v: Values, q: QualityParams) -> str | None:
    if v["inconsistent_fraction"] > q.max_inconsistent_fraction and v["coverage"] < q.min_coverage:
        return (
            f"the images disagree with the poses: {v['inconsistent_fraction']:.0%} of confident pixels are "
            f"inconsistent across views and confident depth covers only {v['coverage']:.0%} of pixels"
        )
    return None


def _inconsistent(v: Values, q: QualityParams) -> str | None:
    if v["inconsistent_fraction"] > q.max_inconsistent_fraction:
        return (
            f"{v['inconsistent_fraction']:.0%} of confident pixels are geometrically inconsistent across views "
            f"(at most {q.max_inconsistent_fraction:.0%}): something moves"
        )
    return None


def _disagreement(v: Values, q: QualityParams) -> str | None:
    if (v.get("disagreement_fraction") or 0.0) > q.max_disagreement_fraction:
        return (
            f"at {v['disagreement_fraction']:.0%} of confident pixels a source view does not match the image "
            f"(at most {q.max_disagreement_fraction:.0%}): something moves"
        )
    return None


def _motion(v: Values, q: QualityParams) -> str | None:
    if (v.get("motion_fraction") or 0.0) > q.max_motion_fraction:
        return (
            f"frames far apart in time see through or see other texture at {v['motion_fraction']:.1%} of "
            f"each other's confident pixels (at most {q.max_motion_fraction:.1%}): something moves"
        )
    return None


def _low_coverage(v: Values, q: QualityParams) -> str | None:
    if v["coverage"] < q.min_coverage:
        return f"confident depth covers {v['coverage']:.0%} of pixels, below {q.min_coverage:.0%}"
    return None


def _frames_kept(v: Values, q: QualityParams) -> str | None:
    kept, total = v["frames_kept"], v["frames_total"]
    if kept < min(q.min_frames, total):
        return (
            f"only {kept} of {total} frames have confident depth on at least {v['frame_coverage_floor']:.0%} of pixels"
        )
    return None


SCORES = (
    Score("pose_jump", "poses", (1.0, None), "largest step between camera centres over the median step"),
    Score("translation", "poses", (0.0, 1.0), "camera-centre spread over the largest translation norm"),
    Score("rotation_deg", "poses", (0.0, 180.0), "largest rotation between any frame and the first"),
    Score("sharpness", "frames", (0.0, 1.0), "median 1 - blur effect of the frames read", required=True),
    Score("parallax_deg", "mvs", (0.0, 180.0), "median triangulation angle of confident pixels", required=True),
    Score("inconsistent_fraction", "mvs", (0.0, 1.0), "confident pixels failing the geometric check", required=True),
    Score("disagreement_fraction", "mvs", (0.0, 1.0), "confident pixels a source view does not match"),
    Score("motion_fraction", "mvs", (0.0, 1.0), "motion evidence between frames far apart in time"),
    Score("coverage", "mvs", (0.0, 1.0), "mean fraction of pixels with confident depth", required=True),
    # registration statistics of poses from SfM (curate.poses); empty for a clip whose poses.txt was read
    Score("sfm_registered", "open", (0.0, 1.0), "share of the frames given to SfM that registered"),
    Score("sfm_points", "open", (0.0, None), "3-D points of the SfM model"),
    Score("sfm_reprojection_px", "open", (0.0, 4.0), "mean reprojection error, px (the mapper drops over 4 px)"),
    Score("sfm_focal", "open", (0.05, 20.0), "estimated (or given) focal length / image width"),
    Score(
        "sfm_focal_vs_prior",
        "open",
        (0.0, None),
        "refined focal length / curate.sfm.focal_prior (empty when given or fixed); the pose summary notes values "
        "beyond curate.sfm.focal_note_ratio",
    ),
)

RULES = (
    Rule("too_few_frames", "open", ("min_frames",), _too_few_frames, binds_forced=lambda v: v["num_frames"] < 2),
    Rule("pose_jump", "poses", ("max_pose_jump",), _pose_jump),
    Rule("static_camera", "poses", ("min_translation_ratio",), _static_camera),
    Rule("no_parallax", "poses", ("min_translation_ratio",), _rotation_only),
    Rule("blurry", "frames", ("min_sharpness",), _blurry),
    Rule("no_parallax", "mvs", ("min_parallax_deg",), _small_parallax),
    Rule("pose_image_mismatch", "mvs", ("max_inconsistent_fraction", "min_coverage"), _pose_image_mismatch),
    Rule("moving_scene", "mvs", ("max_inconsistent_fraction",), _inconsistent),
    Rule("moving_scene", "mvs", ("max_disagreement_fraction",), _disagreement),
    Rule("moving_scene", "mvs", ("max_motion_fraction",), _motion),
    Rule("low_coverage", "mvs", ("min_coverage",), _low_coverage),
    Rule("low_coverage", "mvs", ("min_frames",), _frames_kept),
)

DEFAULT = Registry(SCORES, RULES)
