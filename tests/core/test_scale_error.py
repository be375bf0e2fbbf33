"""bench/scale_error.py: a frame's scale error, both abs_rels and the tally's summary, against hand-computed answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def scale(bench_module) -> object:
    return bench_module("scale_error")


def test_a_prediction_scaled_by_a_constant_is_all_scale_and_no_shape(scale) -> None:
    gt = np.array([[1.0, 2.0], [4.0, 8.0]])
    valid = np.array([[True, True], [True, False]])  # the 8 m pixel is not scored
    pred = gt / 1.25  # too near by 25% everywhere
    assert scale.frame_scale_error(pred, gt, valid) == pytest.approx(np.log(1.25))
    assert scale.abs_rel(pred, gt, valid, aligned=False) == pytest.approx(0.2)
    assert scale.abs_rel(pred, gt, valid, aligned=True) == pytest.approx(0.0)


def test_a_wrong_shape_at_the_right_median_is_no_scale(scale) -> None:
    gt = np.array([2.0, 2.0, 2.0])
    pred = np.array([1.0, 2.0, 4.0])  # median 2, as the truth's
    valid = np.ones(3, bool)
    assert scale.frame_scale_error(pred, gt, valid) == pytest.approx(0.0)
    assert scale.abs_rel(pred, gt, valid, aligned=False) == pytest.approx((0.5 + 0 + 1) / 3)
    assert scale.abs_rel(pred, gt, valid, aligned=True) == pytest.approx((0.5 + 0 + 1) / 3)


def test_the_summary_gives_bias_spread_share_and_focal_correlation(scale) -> None:
    tally = scale.ScaleTally()
    gt = np.full((2, 2), 3.0)
    valid = np.ones((2, 2), bool)
    for factor, focal in ((1.1, 0.6), (0.9, 0.9)):  # one frame 10% too far, one 10% too near
        tally.add(gt * factor, gt, valid, focal)
    s = tally.summary()
    logs = [np.log(1 / 1.1), np.log(1 / 0.9)]
    assert s["bias"] == pytest.approx(np.mean(logs), abs=1e-4)
    assert s["spread"] == pytest.approx(np.std(logs), abs=1e-4)
    assert s["rms"] == pytest.approx(np.sqrt(np.mean(np.square(logs))), abs=1e-4)
    assert s["abs_rel"] == pytest.approx(0.1, abs=1e-4) and s["abs_rel_aligned"] == pytest.approx(0.0, abs=1e-4)
    assert s["scale_share"] == pytest.approx(1.0)
    assert s["focal_corr"] == pytest.approx(1.0)  # the wider view (smaller focal) was put too far
    assert s["frames"] == 2


def test_room_depths_per_split_from_the_sensor_depth(scale, tmp_path: Path) -> None:
    from mannequin.clips.depth_png import sensor_depth_path, write_depth_png

    rooms = {"a": ("labeled", [2.0, 2.0]), "b": ("labeled", [4.0]), "c": ("test", [3.0, 3.0]), "d": ("unlabeled", [])}
    (tmp_path / "splits.csv").write_text("clip_id,split\n" + "".join(f"{c},{s}\n" for c, (s, _) in rooms.items()))
    for clip, (_, depths) in rooms.items():
        for i, d in enumerate(depths):
            path = sensor_depth_path(tmp_path, clip, i)
            path.parent.mkdir(parents=True, exist_ok=True)
            frame = np.full((4, 6), d, np.float32)
            frame[:2] = 0.0  # no reading on more than half of the frame: not counted (else the median is 0)
            frame[2, 0] = 0.0
            frame[3, 5] = 5.0 * d  # one far pixel does not move the median
            write_depth_png(path, frame)
    got = scale.room_depths(tmp_path)
    assert set(got) == {"labeled", "test"}  # a split without sensor depth is not listed
    assert got["labeled"]["clips"] == 2 and got["test"]["clips"] == 1
    assert got["labeled"]["mean_log_depth"] == pytest.approx((np.log(2) + np.log(4)) / 2, abs=1e-3)
    assert got["labeled"]["spread"] == pytest.approx((np.log(4) - np.log(2)) / 2, abs=1e-3)
    assert got["test"]["mean_log_depth"] == pytest.approx(np.log(3), abs=1e-3) and got["test"]["spread"] == 0.0
