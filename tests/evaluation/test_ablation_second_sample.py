"""The second sample of the curation ablation (:mod:`mannequin.stages.ablation`): another seed, a milder defect mix."""

from __future__ import annotations

from collections import Counter

from mannequin.sample.plan import make_plan
from mannequin.sample.trajectory import MOVING_KINDS
from mannequin.stages.ablation import MILD_DEFECTS, milder_plan


def test_milder_plan_keeps_only_the_subtle_defects() -> None:
    plans, default = milder_plan(1), make_plan(seed=1)
    defects = Counter(p.defect for p in plans)
    assert set(defects) == {"none", *MILD_DEFECTS} and sum(n for d, n in defects.items() if d != "none") == 16
    assert Counter(p.split for p in plans) == Counter(p.split for p in default)  # same splits, clips, seeds
    for p, d in zip(plans, default, strict=True):
        assert (p.clip_id, p.seed, p.split) == (d.clip_id, d.seed, d.split)
        if d.defect in MILD_DEFECTS or d.defect == "none":
            assert p == d
        else:  # a dropped defect's clip is clean, with a moving camera instead of its defect's path
            assert p.defect == "none" and p.trajectory in MOVING_KINDS
    assert milder_plan(1) == plans and milder_plan(2) != plans
