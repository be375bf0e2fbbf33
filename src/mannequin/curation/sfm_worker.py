"""The pycolmap side of structure from motion, run in its own process: ``python -m mannequin.curation.sfm_worker JOB``.

pycolmap links its own zlib: importing it before cv2 or Python's zlib in the same process aborts the
interpreter on the next compression ("free(): invalid pointer"). A child process keeps it apart, keeps
COLMAP's log off the user's terminal, and turns a crash inside COLMAP into one rejected clip.

The job (JSON) names the image folder, the frame order and the phase; the result (JSON) holds plain COLMAP numbers:
features per frame, the verified neighbouring pairs with their feature motion and the feature motion of every
matched pair of frames (``match``), or every model found (``map``).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

MIN_SUPPORT = 0.7  # a rival model keeping under 70% of the most 3-D points fits only the easy tracks


def _configure(pycolmap: Any, params: dict) -> None:
    pycolmap.logging.minloglevel = 2  # warnings and errors only; the parent keeps them for a failure
    pycolmap.set_random_seed(int(params["seed"]))


def _extract(pycolmap: Any, db: Path, image_dir: Path, names: list[str], params: dict, camera: dict) -> None:
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = camera["model"]
    reader.default_focal_length_factor = float(params["focal_prior"])
    if camera.get("params"):
        reader.camera_params = ",".join(repr(float(v)) for v in camera["params"])
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = int(params["threads"])
    extraction.sift.max_num_features = int(params["max_features"])
    extraction.sift.peak_threshold = float(params["sift_peak_threshold"])
    pycolmap.extract_features(
        db, image_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE, reader_options=reader,
        extraction_options=extraction, device=pycolmap.Device.cpu,
    )  # fmt: skip


def _image_ids(pycolmap: Any, db: Path, names: list[str]) -> list[int]:
    """Database image ids in frame order; sequential matching pairs neighbours by id, so they must increase."""
    with pycolmap.Database.open(db) as database:
        by_name = {im.name: im.image_id for im in database.read_all_images()}
    ids = [by_name[n] for n in names]
    if any(b <= a for a, b in itertools.pairwise(ids)):
        raise RuntimeError("database image ids do not follow the frame order")
    return ids


def _match(pycolmap: Any, db: Path, params: dict) -> None:
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = int(params["threads"])
    pairing = pycolmap.SequentialPairingOptions(overlap=int(params["overlap"]), quadratic_overlap=True)
    pairing.num_threads = int(params["threads"])
    pycolmap.match_sequential(db, matching_options=matching, pairing_options=pairing, device=pycolmap.Device.cpu)


def _pair(pycolmap: Any, database: Any, a: int, b: int) -> tuple[int, str, float | None]:
    """Verified inliers, geometry and median feature motion (px) of one frame pair (0, UNDEFINED, None if unmatched)."""
    if not database.exists_two_view_geometry(a, b):
        return 0, "UNDEFINED", None
    geometry = database.read_two_view_geometry(a, b)
    matches = np.asarray(geometry.inlier_matches)
    config = pycolmap.TwoViewGeometryConfiguration(geometry.config).name
    if not len(matches):
        return 0, config, None
    xy_a = np.asarray(database.read_keypoints(a))[matches[:, 0], :2]
    xy_b = np.asarray(database.read_keypoints(b))[matches[:, 1], :2]
    return len(matches), config, float(np.median(np.linalg.norm(xy_a - xy_b, axis=1)))


def _pair_report(pycolmap: Any, db: Path, ids: list[int]) -> tuple[list[int], list[dict], list[list[float]]]:
    """Features per frame; each neighbouring pair's verified inliers, geometry and median feature motion (px);
    and ``[i, j, motion]`` of every matched pair of frames (sequential matching pairs each frame with the next
    ``overlap`` and those 2, 4, 8, ... frames on): a slow camera moves features under a pixel between neighbours
    and many pixels over the clip."""
    pairs = []
    shifts: list[list[float]] = []
    with pycolmap.Database.open(db) as database:
        keypoints = [int(database.num_keypoints_for_image(i)) for i in ids]
        for k, (a, b) in enumerate(itertools.pairwise(ids)):
            inliers, config, flow = _pair(pycolmap, database, a, b)
            pairs.append({"i": k, "j": k + 1, "inliers": inliers, "config": config, "flow_px": flow})
        for (i, a), (j, b) in itertools.combinations(enumerate(ids), 2):
            flow = _pair(pycolmap, database, a, b)[2]
            if flow is not None:
                shifts.append([i, j, flow])
    return keypoints, pairs, shifts


def _map(pycolmap: Any, db: Path, image_dir: Path, out: Path, params: dict, fixed_camera: bool) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    if params["mapper"] == "global":
        options = pycolmap.GlobalPipelineOptions()
        options.min_model_size = int(params["min_model_size"])
        options.min_num_matches = int(params["min_num_matches"])
        options.num_threads = int(params["threads"])
        options.random_seed = int(params["seed"])
        if fixed_camera:
            options.mapper.bundle_adjustment.refine_focal_length = False
            options.mapper.bundle_adjustment.refine_extra_params = False
        return pycolmap.global_mapping(db, image_dir, out, options=options)
    options = pycolmap.IncrementalPipelineOptions()
    options.min_model_size = int(params["min_model_size"])
    options.min_num_matches = int(params["min_num_matches"])
    options.num_threads = int(params["threads"])
    options.random_seed = int(params["seed"])
    options.extract_colors = False
    options.mapper.init_min_tri_angle = float(params["init_min_tri_angle"])
    options.mapper.init_min_num_inliers = int(params["init_min_num_inliers"])
    options.mapper.abs_pose_min_num_inliers = int(params["abs_pose_min_num_inliers"])
    options.mapper.num_threads = int(params["threads"])
    options.mapper.random_seed = int(params["seed"])
    options.mapper.abs_pose_refine_focal_length = False  # a new frame's pose alone cannot pin the focal length
    if fixed_camera:
        options.ba_refine_focal_length = False
        options.ba_refine_extra_params = False
        options.mapper.abs_pose_refine_focal_length = False
        options.mapper.abs_pose_refine_extra_params = False
    return pycolmap.incremental_mapping(db, image_dir, out, options=options)


def _model_report(reconstruction: Any) -> dict:
    images = {}
    for image in reconstruction.images.values():
        if not image.has_pose:
            continue
        pose = image.cam_from_world()
        images[image.name] = {
            "R": np.asarray(pose.rotation.matrix(), dtype=float).tolist(),
            "t": np.asarray(pose.translation, dtype=float).tolist(),
        }
    camera = next(iter(reconstruction.cameras.values()))
    return {
        "images": images,
        "camera": {
            "model": camera.model.name,
            "width": int(camera.width),
            "height": int(camera.height),
            "params": np.asarray(camera.params, dtype=float).tolist(),
        },
        "points": int(reconstruction.num_points3D()),
        "observations": int(reconstruction.compute_num_observations()),
        "reprojection_error_px": float(reconstruction.compute_mean_reprojection_error()),
    }


def _models(found: dict) -> list[dict]:
    return sorted((_model_report(r) for r in found.values()), key=lambda m: -len(m["images"]))


def _usable(models: list[dict], frames: int, params: dict) -> bool:
    """Whether the largest model passes the parent's checks on points and registered frames."""
    if not models:
        return False
    best = models[0]
    return best["points"] >= params["min_points"] and len(best["images"]) >= params["min_registered_fraction"] * frames


def _focal_ratio(model: dict) -> float:
    return float(model["camera"]["params"][0]) / model["camera"]["width"]


def _in_range(models: list[dict], params: dict) -> bool:
    low, high = params["focal_range"]
    return bool(models) and low <= _focal_ratio(models[0]) <= high


def _set_focal(pycolmap: Any, db: Path, focal: float) -> None:
    """Set the shared camera's focal length to ``focal`` x the larger side (the mapper starts from the database)."""
    with pycolmap.Database.open(db) as database:
        for camera in database.read_all_cameras():
            values = np.asarray(camera.params, dtype=float)
            for k in camera.focal_length_idxs():
                values[k] = focal * max(camera.width, camera.height)
            camera.params = values
            camera.has_prior_focal_length = True
            database.update_camera(camera)


def _pick(rivals: list[tuple[float, list[dict]]]) -> tuple[float, list[dict]]:
    """The best fit of rival reconstructions ``(start, models)`` of one clip, all usable and in range.

    Most frames registered first; then, among the models keeping at least ``MIN_SUPPORT`` of the most
    3-D points (dropping the hard tracks lowers the error of a wrong model too), the lowest mean
    reprojection error. With the focal length far off, or the mapper caught in the rotation-translation
    ambiguity of a short sideways path, bundle adjustment cannot fit every track and the error rises
    well above the feature noise; near the right one it falls to it.
    """
    most = max(len(m[0]["images"]) for _, m in rivals)
    rivals = [r for r in rivals if len(r[1][0]["images"]) == most]
    points = max(m[0]["points"] for _, m in rivals)
    rivals = [r for r in rivals if r[1][0]["points"] >= MIN_SUPPORT * points]
    return min(rivals, key=lambda r: float(r[1][0]["reprojection_error_px"]))


def _fixed_focal(
    pycolmap: Any, db: Path, image_dir: Path, out: Path, params: dict, focal: float, why: str
) -> list[dict]:
    _set_focal(pycolmap, db, focal)
    models = _models(_map(pycolmap, db, image_dir, out, params, fixed_camera=True))
    for m in models:
        m["refit"] = f"{params['mapper']} mapping, focal length fixed at {why} {focal:g}"
    return models


def _estimated_camera(pycolmap: Any, db: Path, image_dir: Path, work: Path, params: dict, frames: int) -> list[dict]:
    """Models with the shared camera estimated: mapped from each of ``focal_starts`` with the focal length
    refined, the best fit in ``focal_range`` kept (:func:`_pick`).

    When every usable model's focal length left the range, the camera is fixed at ``focal_prior``. When no
    start gives a usable model (a camera that only turns has no parallax to map), the largest model found is
    returned for the caller's checks to say what failed: mapping it with a short fixed focal length would widen
    its triangulation angles into false parallax.
    """
    mapper, prior = params["mapper"], float(params["focal_prior"])
    if params["refine_focal"]:
        found = []
        for k, focal in enumerate(params["focal_starts"]):
            _set_focal(pycolmap, db, float(focal))
            models = _models(_map(pycolmap, db, image_dir, work / f"{mapper}-{k}", params, fixed_camera=False))
            found.append((float(focal), models))
        usable = [r for r in found if _usable(r[1], frames, params)]
        rivals = [r for r in usable if _in_range(r[1], params)]
        if rivals:
            start, best = _pick(rivals)
            for m in best:
                m["refit"] = f"{mapper} mapping, focal length refined from {start:g} (best of {len(found)} starts)"
                m["focal_refined"] = True
            return best
        if not usable:
            return max((m for _, m in found), key=lambda m: len(m[0]["images"]) if m else 0)
    return _fixed_focal(pycolmap, db, image_dir, work / f"{mapper}-fixed", params, prior, "focal_prior")


def _reconstruct(pycolmap: Any, db: Path, image_dir: Path, work: Path, params: dict, camera: dict, frames: int):
    """The models of one mapper: the given camera fixed, or the camera estimated."""
    if camera.get("params"):
        models = _models(_map(pycolmap, db, image_dir, work / f"{params['mapper']}-given", params, fixed_camera=True))
        for m in models:
            m["refit"] = f"{params['mapper']} mapping, camera given (intrinsics.txt)"
        return models
    return _estimated_camera(pycolmap, db, image_dir, work, params, frames)


def run_job(job: dict) -> dict:
    """One phase of SfM (``job["phase"]``): ``match`` extracts and matches in frame order and reports features per
    frame and the verified neighbouring pairs; ``map`` maps the matched database and reports every model of the
    chosen reconstruction, largest first. The parent judges the matching report between the two, so a clip it
    rejects (no texture, no matches, a camera that does not move) is never mapped."""
    import pycolmap

    params, camera = job["params"], job["camera"]
    work, image_dir, names = Path(job["work_dir"]), Path(job["image_dir"]), list(job["names"])
    _configure(pycolmap, params)
    db = work / "database.db"
    if job["phase"] == "match":
        _extract(pycolmap, db, image_dir, names, params, camera)
        ids = _image_ids(pycolmap, db, names)
        _match(pycolmap, db, params)
        keypoints, pairs, shifts = _pair_report(pycolmap, db, ids)
        return {"keypoints": keypoints, "pairs": pairs, "pair_shifts": shifts}
    mapper = params["mapper"]
    models = _reconstruct(pycolmap, db, image_dir, work, params, camera, len(names))
    if not _usable(models, len(names), params) and params["fallback"]:
        other = "incremental" if mapper == "global" else "global"
        alt = _reconstruct(pycolmap, db, image_dir, work, {**params, "mapper": other}, camera, len(names))
        if _usable(alt, len(names), params) or not models:
            for m in alt:
                m["refit"] = f"{m.get('refit', other + ' mapping')} ({mapper} mapping found no usable model)"
            models = alt
    return {"models": models}


def main(argv: list[str]) -> int:
    job_path = Path(argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    result = run_job(job)
    Path(job["result_path"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
