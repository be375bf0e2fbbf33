"""The sample dataset's plan: every defect in the default set, split sizes, storage forms, scaling."""

from __future__ import annotations

from collections import Counter

import pytest

from mannequin.sample.plan import DEFECTS, make_plan, split_counts


def test_default_plan_has_every_defect_about_equally_in_unlabeled() -> None:
    plans = make_plan()
    assert len(plans) == 128
    defects = Counter(p.defect for p in plans if p.defect != "none")
    assert set(defects) == set(DEFECTS)
    assert sum(defects.values()) == 32
    assert max(defects.values()) - min(defects.values()) <= 1
    assert {p.split for p in plans if p.defect != "none"} == {"unlabeled"}


def test_default_plan_counts_and_forms() -> None:
    plans = make_plan()
    assert Counter(p.split for p in plans) == {"unlabeled": 108, "labeled": 10, "test": 10}
    forms = Counter(p.form for p in plans)
    assert forms["video"] > forms["frames"] > 0
    assert {p.form for p in plans if p.split == "labeled"} == {"video", "frames"}
    assert next(p for p in plans if p.defect == "corrupt_video").form == "video"
    assert all(p.clip_id == f"clip_{i:04d}" for i, p in enumerate(plans))
    assert all(8 <= p.n_frames <= 12 and 10 <= p.fps <= 30 and 50 <= p.hfov_deg <= 80 for p in plans)
    assert all(0.2 <= p.pose_scale <= 5.0 for p in plans)
    assert {(p.width, p.height) for p in plans} == {(160, 120)}


def test_plan_is_a_function_of_the_seed() -> None:
    assert make_plan(seed=3) == make_plan(seed=3)
    assert make_plan(seed=3) != make_plan(seed=4)
    assert len({p.seed for p in make_plan(seed=3)}) == 128


@pytest.mark.parametrize("n", [1, 2, 3, 7, 24, 96])
def test_counts_scale_with_clips(n: int) -> None:
    counts = split_counts(n)
    assert sum(counts.values()) == n
    assert min(counts.values()) >= 0
    if n >= 24:
        assert counts["defect"] == round(n / 4)
        assert counts["labeled"] == counts["test"] == max(1, round(n * 5 / 64))
        assert set(Counter(p.defect for p in make_plan(n))) >= set(DEFECTS)


def test_bad_frame_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="frames"):
        make_plan(4, frames=(5, 3))


def test_extra_unlabeled_clips_follow_the_plan_and_leave_it_unchanged() -> None:
    plain = make_plan(48, seed=2)
    grown = make_plan(48, seed=2, extra_unlabeled=20)
    assert grown[:48] == plain  # the labeled and test clips (and every other planned one) are the same
    extra = grown[48:]
    assert [p.clip_id for p in extra] == [f"clip_{i:04d}" for i in range(48, 68)]
    assert {p.split for p in extra} == {"unlabeled"}
    assert sum(p.defect != "none" for p in extra) == 5
    assert len({p.seed for p in grown}) == 68  # their own random stream: no clip repeats a planned one
    assert make_plan(48, seed=2, people="paper", extra_unlabeled=20)[:48] == make_plan(48, seed=2, people="paper")
    with pytest.raises(ValueError, match="extra_unlabeled"):
        make_plan(4, extra_unlabeled=-1)


def test_extra_labeled_clips_are_more_rooms_after_every_planned_clip() -> None:
    plain = make_plan(48, seed=2, extra_unlabeled=4)
    grown = make_plan(48, seed=2, extra_unlabeled=4, extra_labeled=6)
    assert grown[:52] == plain  # every clip before them, the extra unlabeled ones included, is unchanged
    extra = grown[52:]
    assert [p.clip_id for p in extra] == [f"clip_{i:04d}" for i in range(52, 58)]
    assert {p.split for p in extra} == {"labeled"} and {p.defect for p in extra} == {"none"}
    assert len({p.seed for p in grown}) == 58  # their own random stream
    paper = make_plan(48, seed=2, people="paper", extra_labeled=6)
    assert all(p.walking and p.write_masks for p in paper[48:])  # like every labeled clip of the paper's data
    with pytest.raises(ValueError, match="extra_labeled"):
        make_plan(4, extra_labeled=-1)
