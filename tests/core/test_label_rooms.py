"""bench/bench_label_rooms.py: the comparison of two samples' fine-tuning scores, against hand-computed answers."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def rooms(bench_module) -> object:
    return bench_module("bench_label_rooms")


def test_slopes_and_ratios_per_init_in_budget_order(rooms) -> None:
    fewer = {"mvs-32": {"abs_rel": 0.18}, "mvs-2": {"abs_rel": 0.20}, "scratch-2": {"abs_rel": 0.30},
             "scratch-32": {"abs_rel": 0.27}}  # fmt: skip
    more = {"mvs-2": {"abs_rel": 0.25}, "mvs-32": {"abs_rel": 0.15}, "scratch-2": {"abs_rel": 0.30},
            "scratch-32": {"abs_rel": 0.24}}  # fmt: skip
    rows = rooms.compare(fewer, more)
    assert list(rows) == ["mvs", "scratch"]
    assert rows["mvs"]["budgets"] == [2, 32]  # numeric order, not the keys' order
    assert rows["mvs"]["fewer_rooms"] == [0.20, 0.18] and rows["mvs"]["more_rooms"] == [0.25, 0.15]
    assert rows["mvs"]["slope_fewer"] == pytest.approx(-0.1) and rows["mvs"]["slope_more"] == pytest.approx(-0.4)
    assert rows["mvs"]["ratio"] == pytest.approx([1.25, 0.15 / 0.18], abs=1e-4)
    assert rows["scratch"]["slope_more"] == pytest.approx(-0.2) and rows["scratch"]["ratio"][0] == 1.0


def test_a_budget_missing_from_the_second_sample_is_an_error(rooms) -> None:
    with pytest.raises(KeyError):
        rooms.compare({"mvs-2": {"abs_rel": 0.2}, "mvs-8": {"abs_rel": 0.2}}, {"mvs-2": {"abs_rel": 0.2}})
