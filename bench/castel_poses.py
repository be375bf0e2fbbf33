"""How good are the SfM poses the real-depth evaluation gives castel's parallax input? Checked against the sensor.

Reference poses come from the sensor, not from SfM: SIFT features of frame 0, lifted to 3-D with frame 0's
registered depth (metres), are matched in frame k and its pose solved by PnP with RANSAC (OpenCV). Each reference
is checked independently: the castle's CAD model moved by it must meet frame k's own sensor depth (median relative
difference). The SfM poses (``curate.sfm``, as ``mannequin real-depth`` resolves them, cached in real/poses) are
then compared frame by frame: the rotation of frame k relative to frame 0, in degrees, and the angle between the
translation directions.

    .venv/bin/python bench/castel_poses.py [--data real/data] [--poses real/poses]

``make real-depth`` runs it after the evaluation (the SfM poses are cached by then). Without castel (Debian's
visp-images-data not installed) it says so in one line and writes nothing. Prints a table and writes
bench/results/castel_poses.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from machine import cpu_model, write_result
from mannequin.config import load_params
from mannequin.curation.sfm_store import PoseSource
from mannequin.evaluation.testset import load_held_out_clip
from mannequin.ingest.castel import DEFAULT_CASTEL, open_castel, transform
from mannequin.ingest.depth_registration import render_faces

RESULTS = Path(__file__).parent / "results" / "castel_poses.json"


def angle_deg(R: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1.0, 1.0))))


def reference_poses(images: np.ndarray, depth0: np.ndarray, K: np.ndarray) -> dict[int, tuple[np.ndarray, int]]:
    """``{k: (4x4 frame-0-to-frame-k transform in metres, PnP inliers)}`` from frame 0's sensor depth."""
    sift = cv2.SIFT_create(4000)
    grey = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in images]
    k0, d0 = sift.detectAndCompute(grey[0], None)
    matcher = cv2.BFMatcher()
    K_inv = np.linalg.inv(K)
    out = {}
    for k in range(1, len(images)):
        kk, dk = sift.detectAndCompute(grey[k], None)
        pairs = [m for m, n in matcher.knnMatch(d0, dk, k=2) if m.distance < 0.75 * n.distance]
        points, pixels = [], []
        for m in pairs:
            u, v = k0[m.queryIdx].pt
            z = depth0[round(v), round(u)]
            if np.isfinite(z):
                points.append(z * K_inv @ [u, v, 1.0])
                pixels.append(kk[m.trainIdx].pt)
        if len(points) < 12:
            continue
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(np.array(points), np.array(pixels), K, None,
                                                     reprojectionError=2.0)  # fmt: skip
        if ok and inliers is not None:
            T = np.eye(4)
            T[:3, :3], T[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
            out[k] = (T, len(inliers))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("real/data"))
    ap.add_argument("--poses", type=Path, default=Path("real/poses"))
    args = ap.parse_args()
    if not (args.data / "clips" / "castel").is_dir() or not (DEFAULT_CASTEL / "castel").is_dir():
        print(f"castel_poses: skipped: no castel clip in {args.data} or no {DEFAULT_CASTEL} (make visp-data)")
        return
    params = load_params(None, {})
    source = PoseSource("auto", params.curate.sfm, args.poses)
    resolved = source.resolve(args.data / "clips" / "castel")
    held = load_held_out_clip(args.data, "castel", source)
    assert held is not None
    seq = open_castel(DEFAULT_CASTEL)
    size = (held.images.shape[2], held.images.shape[1])
    refs = reference_poses(held.images, held.depth[0], seq.K_colour)
    cams = resolved.clip.cameras
    rows = []
    for k, (T, inliers) in sorted(refs.items()):
        model = render_faces([transform(f, T @ seq.colour_T_object) for f in seq.faces], seq.K_colour, size)
        both = np.isfinite(model) & np.isfinite(held.depth[k])
        cad = float(np.median(np.abs(held.depth[k][both] - model[both]) / model[both]))
        R_sfm = cams[k].R @ cams[0].R.T
        t_sfm = cams[k].t - R_sfm @ cams[0].t
        t_ref = T[:3, 3]
        cos = float(t_sfm @ t_ref / (np.linalg.norm(t_sfm) * np.linalg.norm(t_ref) + 1e-12))
        direction = float(np.degrees(np.arccos(np.clip(cos, -1, 1))))
        rows.append({"frame": k, "pnp_inliers": inliers, "reference_vs_cad": cad,
                     "reference_rotation_deg": angle_deg(T[:3, :3]),
                     "sfm_rotation_error_deg": angle_deg(T[:3, :3].T @ R_sfm),
                     "sfm_translation_direction_error_deg": direction})  # fmt: skip
    print(f"{'frame':>5} {'inliers':>7} {'ref vs CAD':>10} {'ref rot':>8} {'SfM rot err':>11} {'SfM t dir err':>13}")
    for r in rows:
        print(f"{r['frame']:>5} {r['pnp_inliers']:>7} {r['reference_vs_cad']:>10.4f}"
              f" {r['reference_rotation_deg']:>8.2f} {r['sfm_rotation_error_deg']:>11.2f}"
              f" {r['sfm_translation_direction_error_deg']:>13.2f}")  # fmt: skip
    stats = resolved.stats.as_dict() if resolved.stats else {}
    keep = ("method", "registered", "frames", "points", "reprojection_error_px")
    result = {
        "machine": {"cpu": cpu_model()},
        "sfm": {"mapper": params.curate.sfm.mapper, **{k: stats.get(k) for k in keep}},
        "rows": rows,
        "reference_vs_cad_max": max(r["reference_vs_cad"] for r in rows),
        "sfm_rotation_error_deg_max": max(r["sfm_rotation_error_deg"] for r in rows),
        "sfm_rotation_error_deg_median": float(np.median([r["sfm_rotation_error_deg"] for r in rows])),
    }
    write_result(RESULTS, result)


if __name__ == "__main__":
    main()
