"""The curation audit: curation's decisions and MVS depth checked against the sample data's known truth.

Inputs: ``data/sample_truth.csv`` (``clip_id, defect`` and optionally ``pose_scale``, ``people``, ``reason``;
defect ``none`` or a defect type), ``curated/clips.csv`` (``clip_id, accepted, reason`` with reason ``code:
sentence``), the curated shards and ``data/truth/<clip_id>/depth.npz`` (exact depth in metres for every frame).

A clip's true defect is its ``defect``, except that a clip whose ``people`` walk (``moving``) is a moving scene
(:data:`PEOPLE_DEFECTS`): rejecting it as ``moving_scene`` is right, accepting it a miss.

Which reject code is the right reason for which defect is one table, :data:`DEFAULT_REASON_DEFECTS` (code to
defect; ``report.reason_defects`` replaces it). A dataset whose defects have other names extends it through the
optional ``reason`` column of its ``sample_truth.csv``: the code that should reject that clip's defect (e.g.
``rotonly`` with ``no_parallax``). Defect names no code maps to are listed (``unmapped``) and their right-reason
recall and precision are not judged (``None``), never read as 0.

Reject decisions: a clip is *positive* when it has a defect and *predicted positive* when curation rejected it.
Clips rejected as ``held_out_test`` or ``missing_split`` were never judged and are left out. Per defect type:
``recall`` = rejected / clips with that defect; ``recall_right_reason`` counts only rejections whose code maps to
that defect; ``precision`` = rejections whose code maps to the defect that truly have it / all rejections with
such a code (``None`` when no code maps to it).

MVS accuracy (accepted clips with truth): MVS depth is in pose units, so each clip gets one scale, the median of
``truth / mvs`` over its confident valid pixels (``abs_rel_median_scaled``); ``abs_rel_pose_scale`` divides by the
known ``pose_scale`` instead (pose translations are metres times ``pose_scale``). Both are pixel means over the
clip; ``coverage`` is the fraction of shard pixels with confident (finite) MVS depth.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.curation.decisions import HELD_OUT_TEST, MISSING_SPLIT
from mannequin.errors import InputError

NOT_JUDGED = (HELD_OUT_TEST, MISSING_SPLIT)
DEFAULT_REASON_DEFECTS = {
    "moving_scene": "moving",
    "no_parallax": "rotation_only",
    "static_camera": "static_camera",
    "blurry": "blur",
    "bad_video": "corrupt_video",
    "pose_frame_mismatch": "pose_mismatch",
    "pose_jump": "pose_mismatch",
    "pose_image_mismatch": "pose_mismatch",
}


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "file not found", "missing_table") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", "bad_table")
    return list(reader)


#: the defect a clip has because of its people (``sample_truth.csv``'s ``people`` column), when it has no other
PEOPLE_DEFECTS = {"moving": "moving"}


def read_sample_truth(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{clip_id: {"defect": str, "pose_scale": float | None, "reason": str}}`` from ``sample_truth.csv``; the
    defect is the true one (:data:`PEOPLE_DEFECTS` applied), ``reason`` the row's own reject code ("" without)."""
    path = Path(path)
    out = {}
    for lineno, row in enumerate(_read_csv(path, ("clip_id", "defect")), start=2):
        scale = (row.get("pose_scale") or "").strip()
        try:
            pose_scale = float(scale) if scale else None
        except ValueError:
            raise InputError(path, f"line {lineno}: pose_scale {scale!r} is not a number", "bad_table") from None
        defect = (row["defect"] or "").strip() or "none"
        if defect == "none":
            defect = PEOPLE_DEFECTS.get((row.get("people") or "").strip(), "none")
        reason = (row.get("reason") or "").strip()
        out[row["clip_id"].strip()] = {"defect": defect, "pose_scale": pose_scale, "reason": reason}
    return out


def reason_table(
    truth: dict[str, dict[str, Any]], base: dict[str, str] | None = None, path: str | Path = "sample_truth.csv"
) -> dict[str, str]:
    """The reject-code-to-defect table: ``base`` (default :data:`DEFAULT_REASON_DEFECTS`) extended by the truth's
    ``reason`` column; a code given for two defect names is an error naming both."""
    table = dict(DEFAULT_REASON_DEFECTS if base is None else base)
    given: dict[str, str] = {}
    for clip_id, info in truth.items():
        code, defect = info.get("reason", ""), info["defect"]
        if not code or defect == "none":
            continue
        if given.get(code, defect) != defect:
            problem = f"clip {clip_id}: reason {code!r} is given for defects {given[code]!r} and {defect!r}"
            raise InputError(path, problem, "bad_table")
        given[code] = defect
    return {**table, **given}


def unmapped_defects(truth: dict[str, dict[str, Any]], table: dict[str, str]) -> dict[str, int]:
    """Defect names of the truth (other than ``none``) that no reject code maps to, with their clip counts."""
    counts = Counter(info["defect"] for info in truth.values() if info["defect"] != "none")
    return {d: n for d, n in sorted(counts.items()) if d not in set(table.values())}


def read_decisions(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{clip_id: {"accepted": bool, "code": str}}`` from ``curated/clips.csv`` (code ``""`` when accepted)."""
    path = Path(path)
    out = {}
    for lineno, row in enumerate(_read_csv(path, ("clip_id", "accepted", "reason")), start=2):
        flag = row["accepted"].strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise InputError(path, f"line {lineno}: accepted must be true or false, got {flag!r}", "bad_table")
        accepted = flag in ("true", "1")
        code = "" if accepted else (row["reason"] or "").split(":", 1)[0].strip()
        out[row["clip_id"].strip()] = {"accepted": accepted, "code": code}
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def reject_audit(
    truth: dict[str, dict[str, Any]], decisions: dict[str, dict[str, Any]], reason_defects: dict[str, str]
) -> dict[str, Any]:
    """Precision and recall of curation's reject decisions, overall and per defect type."""
    judged = {c: d for c, d in decisions.items() if c in truth and d["code"] not in NOT_JUDGED}
    not_judged = Counter(d["code"] for c, d in decisions.items() if c in truth and d["code"] in NOT_JUDGED)
    tp = sum(1 for c, d in judged.items() if not d["accepted"] and truth[c]["defect"] != "none")
    fp = sum(1 for c, d in judged.items() if not d["accepted"] and truth[c]["defect"] == "none")
    fn = sum(1 for c, d in judged.items() if d["accepted"] and truth[c]["defect"] != "none")
    tn = sum(1 for c, d in judged.items() if d["accepted"] and truth[c]["defect"] == "none")
    per_defect = {}
    for defect in sorted({truth[c]["defect"] for c in judged} - {"none"}):
        clips = [c for c in judged if truth[c]["defect"] == defect]
        rejected = [c for c in clips if not judged[c]["accepted"]]
        right = [c for c in rejected if reason_defects.get(judged[c]["code"]) == defect]
        flagged = [c for c, d in judged.items() if not d["accepted"] and reason_defects.get(d["code"]) == defect]
        codes = [code for code, target in reason_defects.items() if target == defect]
        per_defect[defect] = {
            "clips": len(clips),
            "rejected": len(rejected),
            "recall": _ratio(len(rejected), len(clips)),
            "recall_right_reason": _ratio(len(right), len(clips)) if codes else None,
            "flagged": len(flagged),
            "precision": _ratio(sum(1 for c in flagged if truth[c]["defect"] == defect), len(flagged))
            if codes
            else None,
        }
    confusion: dict[str, dict[str, int]] = {}
    for c, d in sorted(judged.items()):
        code = d["code"] or "accepted"
        row = confusion.setdefault(truth[c]["defect"], {})
        row[code] = row.get(code, 0) + 1
    return {
        "judged_clips": len(judged),
        "not_judged": dict(sorted(not_judged.items())),
        "unmapped": unmapped_defects({c: truth[c] for c in judged}, reason_defects),
        "overall": {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
        },
        "per_defect": per_defect,
        "confusion": confusion,
    }


def load_truth_depth(path: str | Path) -> np.ndarray:
    """The exact depth ``(N,H,W)`` in metres from ``truth/<clip_id>/depth.npz`` (key ``depth``)."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as data:
        if "depth" not in data.files:
            raise InputError(path, f"no 'depth' array (has {', '.join(data.files) or 'none'})", "bad_truth")
        depth = np.asarray(data["depth"], dtype=np.float32)
    if depth.ndim != 3:
        raise InputError(path, f"depth must be (N,H,W), got shape {depth.shape}", "bad_truth")
    return depth


def mvs_clip_accuracy(
    mvs: np.ndarray, truth: np.ndarray, pose_scale: float | None, min_depth: float, max_depth: float
) -> dict[str, Any]:
    """MVS accuracy of one clip: ``mvs`` (n,h,w) in pose units against ``truth`` (n,h,w) in metres."""
    import cv2

    h, w = mvs.shape[1:]
    if truth.shape[1:] != (h, w):
        truth = np.stack([cv2.resize(t, (w, h), interpolation=cv2.INTER_NEAREST) for t in truth])
    confident = np.isfinite(mvs) & (mvs > 0)
    with np.errstate(invalid="ignore"):
        valid = confident & np.isfinite(truth) & (truth > min_depth) & (truth < max_depth)
    out: dict[str, Any] = {"frames": int(mvs.shape[0]), "coverage": float(confident.mean()), "pixels": int(valid.sum())}
    if not valid.any():
        return {**out, "abs_rel_median_scaled": None, "a1_median_scaled": None, "metres_per_unit": None}
    m, t = mvs[valid].astype(np.float64), truth[valid].astype(np.float64)
    scale = float(np.median(t / m))
    aligned = m * scale
    out["metres_per_unit"] = scale
    out["abs_rel_median_scaled"] = float(np.mean(np.abs(aligned - t) / t))
    out["a1_median_scaled"] = float(np.mean(np.maximum(aligned / t, t / aligned) < 1.25))
    if pose_scale:
        out["abs_rel_pose_scale"] = float(np.mean(np.abs(m / pose_scale - t) / t))
    return out


def mvs_audit(
    truth: dict[str, dict[str, Any]],
    decisions: dict[str, dict[str, Any]],
    curated_dir: str | Path,
    data_dir: str | Path,
    min_depth: float,
    max_depth: float,
) -> dict[str, Any]:
    """MVS accuracy of every accepted clip that has a shard and a truth file; per clip and the mean over clips."""
    from mannequin.curation.shards import list_shards

    accepted = sorted(c for c, d in decisions.items() if d["accepted"] and c in truth)
    clips = {}
    for shard in list_shards(curated_dir, accepted):
        truth_path = Path(data_dir) / "truth" / shard.clip_id / "depth.npz"
        if not truth_path.is_file():
            continue
        exact = load_truth_depth(truth_path)
        indices = [int(i) for i in shard.meta["frame_indices"]]
        if indices and max(indices) >= len(exact):
            raise InputError(truth_path, f"has {len(exact)} frames, the shard uses frame {max(indices)}", "bad_truth")
        info = truth[shard.clip_id]
        result = mvs_clip_accuracy(np.asarray(shard.depth), exact[indices], info["pose_scale"], min_depth, max_depth)
        clips[shard.clip_id] = {"defect": info["defect"], **result}
    summary: dict[str, Any] = {"clips": len(clips)}
    for key in ("abs_rel_median_scaled", "a1_median_scaled", "abs_rel_pose_scale", "coverage"):
        values = [c[key] for c in clips.values() if c.get(key) is not None]
        summary[key] = float(np.mean(values)) if values else None
    return {"mean": summary, "per_clip": clips}


def curation_audit(
    data_dir: str | Path,
    curated_dir: str | Path,
    reason_defects: dict[str, str] | None = None,
    min_depth: float = 1e-3,
    max_depth: float = 100.0,
) -> dict[str, Any] | None:
    """The whole audit, or ``None`` when ``data_dir/sample_truth.csv`` or ``curated_dir/clips.csv`` is absent."""
    truth_csv = Path(data_dir) / "sample_truth.csv"
    clips_csv = Path(curated_dir) / "clips.csv"
    if not truth_csv.is_file() or not clips_csv.is_file():
        return None
    truth = read_sample_truth(truth_csv)
    decisions = read_decisions(clips_csv)
    mapping = reason_table(truth, reason_defects, truth_csv)
    return {
        "reasons_to_defects": dict(sorted(mapping.items())),
        "rejects": reject_audit(truth, decisions, mapping),
        "mvs": mvs_audit(truth, decisions, curated_dir, data_dir, min_depth, max_depth),
    }
