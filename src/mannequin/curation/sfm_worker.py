"""The pycolmap side of structure from motion, run in its own process: ``python -m mannequin.curation.sfm_worker JOB``.

pycolmap links its own zlib: importing it before cv2 or Python's zlib in the same process aborts the
interpreter on the next compression ("free(): invalid pointer"). A child process keeps it apart, keeps
COLMAP's log off the user's terminal, and turns a crash inside COLMAP into one rejected clip.

The job (JSON) names the image folder and the frame order; the result (JSON) holds plain COLMAP numbers:
features per frame, the verified neighbouring pairs with their feature motion, and every model found.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REFINED_SLACK = 1.02  # a refined focal length is kept when its reprojection error is at most 2% higher
MIN_SUPPORT = 0.5  # a focal length hypothesis whose model keeps under half the most points is not a rival
FIT_TIE = 0.05  # focal length hypotheses whose reprojection errors are within 5% of the best fit equally well


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


def _pair_report(pycolmap: Any, db: Path, ids: list[int]) -> tuple[list[int], list[dict]]:
    """Features per frame, and each neighbouring pair's verified inliers, geometry and median feature motion (px)."""
    pairs = []
    with pycolmap.Database.open(db) as database:
        keypoints = [int(database.num_keypoints_for_image(i)) for i in ids]
        for k, (a, b) in enumerate(itertools.pairwise(ids)):
            entry: dict[str, Any] = {"i": k, "j": k + 1, "inliers": 0, "config": "UNDEFINED", "flow_px": None}
            if database.exists_two_view_geometry(a, b):
                geometry = database.read_two_view_geometry(a, b)
                matches = np.asarray(geometry.inlier_matches)
                entry["config"] = pycolmap.TwoViewGeometryConfiguration(geometry.config).name
                entry["inliers"] = len(matches)
                if len(matches):
                    xy_a = np.asarray(database.read_keypoints(a))[matches[:, 0], :2]
                    xy_b = np.asarray(database.read_keypoints(b))[matches[:, 1], :2]
                    entry["flow_px"] = float(np.median(np.linalg.norm(xy_a - xy_b, axis=1)))
            pairs.append(entry)
    return keypoints, pairs


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


def _score(model: dict) -> tuple[int, float]:
    """Ranking of rival models of one clip, best first: more frames registered, then a lower reprojection error.

    With the focal length far off (or the mapper caught in the rotation-translation ambiguity of a short
    sideways path) bundle adjustment cannot fit every track, and the mean reprojection error rises well above
    the feature noise; near the right one it falls to it.
    """
    return -len(model["images"]), float(model["reprojection_error_px"])


def _pick(rivals: list[tuple[float, list[dict]]], frames: int, params: dict) -> tuple[float, list[dict]]:
    """The winning ``(focal, models)``: the best :func:`_score`, and among fits as good (within ``FIT_TIE``), the
    focal length nearest ``focal_prior``.

    A short clip's reprojection error often barely changes over a wide range of focal lengths (translation
    alone does not observe it); there the fit cannot choose, and the prior does.
    """
    usable = [r for r in rivals if _usable(r[1], frames, params)] or rivals
    most = max(len(r[1][0]["images"]) for r in usable)
    usable = [r for r in usable if len(r[1][0]["images"]) == most]
    points = max(r[1][0]["points"] for r in usable)  # a model keeping few points fits only the easy ones
    usable = [r for r in usable if r[1][0]["points"] >= MIN_SUPPORT * points]
    best = min(float(r[1][0]["reprojection_error_px"]) for r in usable)
    ties = [r for r in usable if float(r[1][0]["reprojection_error_px"]) <= best * (1 + FIT_TIE)]
    prior = float(params["focal_prior"])
    return min(ties, key=lambda r: abs(np.log(r[0] / prior)))


def _refined(pycolmap: Any, db: Path, image_dir: Path, out: Path, params: dict, focal: float) -> list[dict]:
    """Models mapped with the focal length free, starting from ``focal``."""
    _set_focal(pycolmap, db, focal)
    return _models(_map(pycolmap, db, image_dir, out, params, fixed_camera=False))


def _in_range(models: list[dict], params: dict) -> bool:
    low, high = params["focal_range"]
    return bool(models) and low <= _focal_ratio(models[0]) <= high


def _focal_hypotheses(
    pycolmap: Any, db: Path, image_dir: Path, work: Path, params: dict, frames: int, incumbent: list[dict]
) -> list[dict]:
    """The model of the best fixed focal length of ``focal_candidates``, refined from there if that fits no worse.

    Used when the focal length refined from ``focal_prior`` is suspect (it left ``focal_range``, or the model
    is unusable), or always (``focal_hypotheses: always``, where that ``incumbent`` model is one more rival):
    a short clip hardly constrains the focal length, and from a far start bundle adjustment drifts or settles
    in a wrong basin. Each candidate is mapped with the camera fixed, :func:`_pick` chooses, and a winning
    candidate is mapped once more with the focal length free from there.
    """
    rivals = []
    for k, focal in enumerate(params["focal_candidates"]):
        _set_focal(pycolmap, db, float(focal))
        models = _models(_map(pycolmap, db, image_dir, work / f"sparse-f{k}", params, fixed_camera=True))
        if models:
            rivals.append((float(focal), models))
    if not rivals:
        return incumbent
    if incumbent:
        camera = incumbent[0]["camera"]
        rivals.append((float(camera["params"][0]) / max(camera["width"], camera["height"]), incumbent))
    focal, best = _pick(rivals, frames, params)
    if best is incumbent:
        return incumbent
    for m in best:
        m["refit"] = f"focal length fixed at {focal:g} (best of {len(rivals)} hypotheses)"
    if params["refine_focal"] and _usable(best, frames, params):
        refined = _refined(pycolmap, db, image_dir, work / "sparse-refined", params, focal)
        no_worse = (_score(best[0])[0], _score(best[0])[1] * REFINED_SLACK)
        if _usable(refined, frames, params) and _in_range(refined, params) and _score(refined[0]) <= no_worse:
            for m in refined:
                m["refit"] = f"focal length refined from {focal:g} (best of {len(rivals)} hypotheses)"
            return refined
    return best


def _estimated_camera(pycolmap: Any, db: Path, image_dir: Path, work: Path, params: dict, frames: int) -> list[dict]:
    """Models with the shared camera estimated: refined from ``focal_prior``, and/or from focal length hypotheses.

    A clip where mapping from the prior finds no usable model (a camera that only turns gives no initial pair)
    gets no hypotheses: a short fixed focal length would widen its triangulation angles into false parallax.
    """
    prior = float(params["focal_prior"])
    hypotheses = bool(params["focal_candidates"])
    if params["refine_focal"]:
        models = _refined(pycolmap, db, image_dir, work / "sparse", params, prior)
        if not _usable(models, frames, params):
            return models  # the caller's global fallback, then its checks, say what failed
        if _in_range(models, params):
            if params["focal_hypotheses"] == "suspect" or not hypotheses:
                return models
            return _focal_hypotheses(pycolmap, db, image_dir, work, params, frames, models)
        if hypotheses:
            return _focal_hypotheses(pycolmap, db, image_dir, work, params, frames, [])
    elif hypotheses:
        return _focal_hypotheses(pycolmap, db, image_dir, work, params, frames, [])
    _set_focal(pycolmap, db, prior)
    models = _models(_map(pycolmap, db, image_dir, work / "sparse-fixed", params, fixed_camera=True))
    for m in models:
        m["refit"] = f"focal length fixed at focal_prior {prior:g}"
    return models


def run_job(job: dict) -> dict:
    """Extract, match in frame order, map; every model of the chosen reconstruction is reported, largest first."""
    import pycolmap

    params, camera = job["params"], job["camera"]
    work, image_dir, names = Path(job["work_dir"]), Path(job["image_dir"]), list(job["names"])
    _configure(pycolmap, params)
    db = work / "database.db"
    _extract(pycolmap, db, image_dir, names, params, camera)
    ids = _image_ids(pycolmap, db, names)
    _match(pycolmap, db, params)
    keypoints, pairs = _pair_report(pycolmap, db, ids)
    models = []
    if sum(p["inliers"] > 0 for p in pairs) > 0:
        fixed = bool(camera.get("params"))
        if fixed:
            models = _models(_map(pycolmap, db, image_dir, work / "sparse", params, fixed_camera=True))
        else:
            models = _estimated_camera(pycolmap, db, image_dir, work, params, len(names))
        if not _usable(models, len(names), params) and params["mapper"] == "incremental" and params["global_fallback"]:
            if not fixed:
                _set_focal(pycolmap, db, float(params["focal_prior"]))
            models = _models(
                _map(pycolmap, db, image_dir, work / "sparse-global", {**params, "mapper": "global"}, fixed)
            )
            for m in models:
                m["refit"] = "global mapping (incremental mapping found no usable model)"
    return {"keypoints": keypoints, "pairs": pairs, "models": models}


def main(argv: list[str]) -> int:
    job_path = Path(argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    result = run_job(job)
    Path(job["result_path"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
