"""Curation rules are one declaration each: the clips.csv columns, the gate ranges and the decisions follow.

The acceptance test adds a throwaway score and rule through :meth:`Registry.extend` alone and runs real
curation on tiny rendered clips.
"""

from __future__ import annotations

import pytest

from mannequin.config.curate import QualityParams
from mannequin.curation.curate import curate_dataset
from mannequin.curation.gates import clip_table_suite
from mannequin.curation.rules import DEFAULT, STAGES, Registry, Rule, Score
from mannequin.curation.stages import STAGE_FUNCTIONS
from mannequin.curation.table import COLUMNS, read_clip_table
from tests.helpers.curation import copy_data

# The clips.csv contract (fixed; docs/data.md): these columns in this order, whatever the registry says.
HISTORIC_COLUMNS = (
    "clip_id", "split", "accepted", "reason", "override", "auto_reason", "num_frames", "frames_used",
    "pose_jump", "translation", "rotation_deg", "sharpness", "parallax_deg", "inconsistent_fraction",
    "disagreement_fraction", "motion_fraction", "coverage",
)  # fmt: skip
HISTORIC_RANGES = {
    "pose_jump": (1.0, None),
    "translation": (0.0, 1.0),
    "rotation_deg": (0.0, 180.0),
    "sharpness": (0.0, 1.0),
    "parallax_deg": (0.0, 180.0),
    "inconsistent_fraction": (0.0, 1.0),
    "disagreement_fraction": (0.0, 1.0),
    "motion_fraction": (0.0, 1.0),
    "coverage": (0.0, 1.0),
}
# issue 13: the registration statistics of SfM poses, appended after the historic columns
SFM_RANGES = {
    "sfm_registered": (0.0, 1.0),
    "sfm_points": (0.0, None),
    "sfm_reprojection_px": (0.0, 4.0),
    "sfm_focal": (0.05, 20.0),
    "sfm_focal_vs_prior": (0.0, None),
}


def test_default_registry_gives_the_historic_columns_ranges_and_decision_order():
    expected = (*HISTORIC_COLUMNS, *SFM_RANGES)
    assert expected == COLUMNS
    assert DEFAULT.ranges == {**HISTORIC_RANGES, **SFM_RANGES}
    assert DEFAULT.required_when_accepted == ("sharpness", "parallax_deg", "inconsistent_fraction", "coverage")
    assert [r.code for r in DEFAULT.rules] == [
        "too_few_frames", "pose_jump", "static_camera", "no_parallax", "blurry", "no_parallax",
        "pose_image_mismatch", "moving_scene", "moving_scene", "moving_scene", "low_coverage", "low_coverage",
    ]  # fmt: skip
    assert tuple(STAGE_FUNCTIONS) == STAGES
    for rule in DEFAULT.rules:
        assert rule.thresholds and all(t in QualityParams.model_fields for t in rule.thresholds), rule.code


def test_registry_refuses_unknown_stages_repeated_scores_and_rules_out_of_stage_order():
    never = Rule("x", "frames", (), lambda v, q: None)
    with pytest.raises(ValueError, match="stage 'sfm'"):
        Registry(DEFAULT.scores, (Rule("x", "sfm", (), lambda v, q: None),))
    with pytest.raises(ValueError, match="repeat"):
        Registry(DEFAULT.scores + DEFAULT.scores[:1], ())
    with pytest.raises(ValueError, match="stage order"):
        Registry(DEFAULT.scores, (DEFAULT.rules[-1], never))
    extended = DEFAULT.extend(rules=(never,))
    codes = [r.code for r in extended.rules]
    assert codes.index("x") == codes.index("blurry") + 1  # after the last rule of its stage, before the MVS rules


class BrightnessQuality(QualityParams):
    """The config model of the throwaway rule: QualityParams and its one new threshold."""

    max_brightness: float = 1.0


BRIGHTNESS = Score(
    "mean_brightness",
    "frames",
    (0.0, 1.0),
    "mean intensity of the frames read, 0..1",
    compute=lambda state: float(state.images.mean() / 255.0),
)
TOO_BRIGHT = Rule(
    "too_bright",
    "frames",
    ("max_brightness",),
    lambda v, q: (
        f"mean brightness {v['mean_brightness']:.2f} is above {q.max_brightness:.2f}"
        if v["mean_brightness"] > q.max_brightness
        else None
    ),
)


def _with_quality(params, **thresholds):
    quality = BrightnessQuality(**params.quality.model_dump(), **thresholds)
    return params.model_copy(update={"quality": quality})


def test_a_throwaway_rule_gets_its_column_gate_range_and_reject_code(clean_data, tmp_path, tiny_params):
    registry = DEFAULT.extend(scores=(BRIGHTNESS,), rules=(TOO_BRIGHT,))
    data = copy_data(clean_data, tmp_path / "data")

    # a permissive threshold: the clips are accepted as before, the new score is recorded and gated
    out = tmp_path / "pass"
    outcome = curate_dataset(data, out, _with_quality(tiny_params, max_brightness=1.0), registry=registry)
    header = (out / "clips.csv").read_text().splitlines()[0].split(",")
    assert header == [*HISTORIC_COLUMNS, *SFM_RANGES, "mean_brightness"]
    table = read_clip_table(out / "clips.csv").set_index("clip_id")
    assert table.loc[["good_a", "good_b"], "accepted"].all()
    brightness = table.loc[["good_a", "good_b"], "mean_brightness"]
    assert ((brightness > 0.05) & (brightness < 0.95)).all()
    assert table.loc["held_t", "mean_brightness"] != table.loc["held_t", "mean_brightness"]  # NaN: never read
    assert outcome.passed
    expectations = [
        e for e in clip_table_suite(tiny_params.gates, registry) if getattr(e, "column", "") == "mean_brightness"
    ]
    assert [(e.min_value, e.max_value) for e in expectations] == [(0.0, 1.0)]

    # a strict threshold: the new reason code and sentence, before any MVS runs (it is a frames-stage rule)
    out = tmp_path / "reject"
    strict = _with_quality(tiny_params, max_brightness=0.01)
    outcome = curate_dataset(data, out, strict, run_gates=False, registry=registry)
    rows = {r.clip_id: r for r in outcome.rows}
    for clip_id in ("good_a", "good_b"):
        row = rows[clip_id]
        assert row.code == "too_bright" and not row.accepted
        assert row.reason == f"too_bright: mean brightness {row.scores['mean_brightness']:.2f} is above 0.01"
        assert row.scores["sharpness"] is not None and row.scores.get("coverage") is None
    assert outcome.summary["by_reason"]["too_bright"] == 2

    # the gate reads the registry's range: a range the real values leave fails the clip-table suite
    narrow = DEFAULT.extend(scores=(Score("mean_brightness", "frames", (0.0, 0.01), "x", compute=BRIGHTNESS.compute),))
    outcome = curate_dataset(data, tmp_path / "gated", tiny_params, registry=narrow)
    (clip_gate,) = [g for g in outcome.gates if g.suite == "clip_table"]
    assert not clip_gate.success
    assert any("mean_brightness" in line and "unexpected" in line for line in clip_gate.failures)
