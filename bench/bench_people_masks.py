"""The person segmenter on real people and on the sample's rendered figures.

- vtest.avi (Debian ``opencv-doc``): recall of the people boxed by hand in 5 frames
  (``tests/people/vtest_people.json``; found = at least 30% of the box masked), the share of masked pixels in no
  box, and the seconds per 768x576 frame (the tiles of every scale);
- skimage's astronaut.png and its mirror image: the share of her face and suit masked, and of the flag and the
  shuttle behind her;
- the default sample (``data/``, every clip that has ``masks/``): IoU of the segmenter's masks with the rendered
  figures' masks, per frame where the rendered mask is not empty, and how often the segmenter masks nothing there.

    .venv/bin/python bench/bench_people_masks.py [--data data] [--clips N]

Prints a table and writes bench/results/people_masks.json. Needs the segmenter's model (``make install``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from machine import cpu_model, write_result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "people_masks.json"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
BOXES = ROOT / "tests" / "people" / "vtest_people.json"
REGIONS = {
    "face": (170, 70, 250, 150),
    "suit": (60, 300, 270, 500),
    "flag": (0, 0, 40, 250),
    "shuttle": (360, 0, 460, 260),
}


def vtest(segmenter) -> dict | None:
    from mannequin.clips.video import iter_video_frames
    from mannequin.evaluation.mask_scores import box_recall

    if not VTEST.is_file():
        print(f"{VTEST}: not found (apt-get install opencv-doc): vtest skipped")
        return None
    from mannequin.curation.segmenter import dilated

    boxes = {int(f): b for f, b in json.loads(BOXES.read_text())["frames"].items()}
    people, seconds = {}, []
    for i, image in iter_video_frames(VTEST, sorted(boxes)):
        start = time.perf_counter()
        people[i] = segmenter.people(image)
        seconds.append(time.perf_counter() - start)
    masks = {i: dilated(m, segmenter.params.dilate) for i, m in people.items()}
    return {
        **box_recall(masks, boxes),
        "undilated": box_recall(people, boxes),
        "frames": sorted(boxes),
        "seconds_per_frame": float(np.mean(seconds)),
    }


def astronaut(segmenter) -> dict:
    from skimage.data import astronaut as photo

    from mannequin.evaluation.mask_scores import box_cover

    image = photo()
    out = {}
    for name, frame in (("original", image), ("mirror", np.ascontiguousarray(image[:, ::-1]))):
        mask = segmenter.mask(frame)
        mask = mask if name == "original" else mask[:, ::-1]  # the regions are the original's
        out[name] = {region: box_cover(mask, box) for region, box in REGIONS.items()}
    return out


def sample_iou(segmenter, data: Path, limit: int | None) -> dict | None:
    from mannequin.clips.clip import open_clip
    from mannequin.clips.masks import has_masks, read_masks
    from mannequin.errors import InputError
    from mannequin.evaluation.mask_scores import iou

    clips = sorted(p for p in (data / "clips").iterdir() if has_masks(p)) if (data / "clips").is_dir() else []
    if not clips:
        print(f"{data}/clips: no clip with masks/: the sample's IoU skipped")
        return None
    ious, empty, frames, width, unreadable = [], 0, 0, 0, 0
    for clip_dir in clips[:limit]:
        try:  # the sample holds broken clips on purpose (curation's rejects)
            clip = open_clip(clip_dir)
            images, _ = clip.read_frames()
            truth = read_masks(clip)
        except InputError:
            unreadable += 1
            continue
        width = clip.width
        for image, rendered in zip(images, truth, strict=True):
            if not rendered.any():
                continue
            found = segmenter.mask(image)
            frames += 1
            empty += not found.any()
            ious.append(iou(found, rendered))
    return {
        "clips": min(len(clips), limit or len(clips)) - unreadable,
        "clips_unreadable": unreadable,
        "frames_with_figures": frames,
        "frame_width": width,
        "iou_mean": float(np.mean(ious)) if ious else None,
        "iou_median": float(np.median(ious)) if ious else None,
        "frames_with_nothing_found": empty,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--clips", type=int, default=None, help="at most this many sample clips")
    args = parser.parse_args()
    from mannequin.curation.segmenter import PersonSegmenter
    from mannequin.curation.segmenter_model import checked_model

    segmenter = PersonSegmenter()
    result = {
        "machine": cpu_model(),
        "model": checked_model().name,
        "params": segmenter.params.model_dump(),
        "vtest": vtest(segmenter),
        "astronaut": astronaut(segmenter),
        "sample": sample_iou(segmenter, args.data, args.clips),
    }
    print("| figure | value |")
    print("|---|---|")
    if result["vtest"]:
        v = result["vtest"]
        print(f"| vtest.avi recall (5 hand-boxed frames) | {v['recall']:.1%} ({v['found']}/{v['people']}) |")
        outside = f"{v['outside']:.1%} ({v['undilated']['outside']:.1%})"
        print(f"| vtest.avi masked pixels in no box (before dilation) | {outside} |")
        print(f"| vtest.avi seconds per 768x576 frame | {v['seconds_per_frame']:.2f} |")
    for name, regions in result["astronaut"].items():
        print(f"| astronaut ({name}) covered: " + ", ".join(f"{r} {c:.0%}" for r, c in regions.items()) + " | |")
    if result["sample"]:
        s = result["sample"]
        print(f"| sample IoU with the rendered figures, mean (median) | {s['iou_mean']:.3f} ({s['iou_median']:.3f}) |")
        found = f"{s['frames_with_figures']} / {s['frames_with_nothing_found']}"
        print(f"| sample frames with figures / with nothing found | {found} |")
    write_result(RESULTS, result)


if __name__ == "__main__":
    main()
