"""Why the photometric pretext scores as it does: its loss and auto-masking on the held-out curated frames for
several depth maps, and how far each map is from the curated MVS depth.

Usage: python bench/photometric_diagnosis.py --compare compare --seeds 0 1 [--params params.yaml]
Reads the pretrained models of a ``bench/compare_pretexts.py`` run (``<compare>/seed-<s>/models/pretrain/*``) and
the curated shards of ``--params`` (``pretrain.curated``, the same validation split as pretraining: ``val_fraction``
and the seed). For each seed and each depth map (a flat one, the curated MVS depth itself, and every pretrained
model's prediction), on the validation frames: the photometric objective's error (the loss without smoothness, at
the input's size), the share of counted pixels auto-masked, and the scale-invariant log RMSE to the curated MVS
depth on its confident pixels. Prints a table and writes ``bench/results/photometric_diagnosis.json``.
``--figure PATH`` draws, instead of the table, ``--rows`` validation frames of the first seed (spread over the
set): the input, the curated MVS depth (black: unconfident) and each pretrained model's inverse depth, each normalised
by its median (``docs/photometric_depth.png``: ``--compare compare --seeds 0 --figure docs/photometric_depth.png``).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from machine import write_result
from mannequin.config.objectives import ObjectiveParams
from mannequin.learning.data import PretrainDataModule
from mannequin.learning.export import load_net
from mannequin.learning.nets import DepthNet, net_input
from mannequin.learning.objectives import build_objective
from mannequin.learning.objectives.photometric import PhotometricObjective
from mannequin.stages.params import load_params

RESULTS = Path(__file__).parent / "results" / "photometric_diagnosis.json"


def si_log_rmse(log_pred: torch.Tensor, reference: torch.Tensor) -> tuple[float, int]:
    """Sum of squared scale-free log errors to ``reference`` (NaN where unknown) per image, and the pixel count."""
    total, count = 0.0, 0
    for p, r in zip(log_pred, reference, strict=True):
        known = torch.isfinite(r) & (r > 0)
        if known.sum() < 10:
            continue
        d = p[known] - torch.log(r[known])
        total += float(((d - d.mean()) ** 2).sum())
        count += int(known.sum())
    return total, count


def diagnose(seed_dir: Path, params_path: Path, seed: int) -> dict[str, dict[str, float]]:
    params = load_params(params_path, {"pretrain.seed": seed})
    p = params.pretrain
    objective = build_objective("photometric", DepthNet(width=4, depth=2), ObjectiveParams())
    assert isinstance(objective, PhotometricObjective)
    dm = PretrainDataModule(p.curated, p.data, p.image_size, p.batch_size, p.val_fraction, p.seed,
                            views=objective.views())  # fmt: skip
    dm.setup("fit")
    models = {d.name: load_net(d)[0].eval() for d in sorted((seed_dir / "models" / "pretrain").iterdir())}
    sums: dict[str, dict[str, float]] = {}
    for batch in DataLoader(dm.val_set, batch_size=p.batch_size, shuffle=False):
        mvs = batch["depth"]
        filled = torch.where(torch.isfinite(mvs), mvs, torch.nanmedian(mvs))
        maps = {"flat": torch.zeros_like(mvs), "curated MVS depth": torch.log(filled.clamp_min(1e-6))}
        with torch.no_grad():
            for name, net in models.items():
                maps[f"{name} model"] = net(net_input(net, batch))
            for name, log_depth in maps.items():
                terms = objective.terms(log_depth, batch)
                counted = terms.counted.float().sum().clamp_min(1)
                s = sums.setdefault(name, {"error": 0.0, "automasked": 0.0, "images": 0, "si_sq": 0.0, "si_n": 0})
                n = int(mvs.shape[0])
                s["error"] += float(terms.loss) * n
                s["automasked"] += float((terms.automasked & terms.counted).float().sum() / counted) * n
                s["images"] += n
                sq, k = si_log_rmse(log_depth, mvs)
                s["si_sq"] += sq
                s["si_n"] += k
    return {
        name: {
            "photometric_error": round(s["error"] / s["images"], 5),
            "automasked_share": round(s["automasked"] / s["images"], 4),
            "si_log_rmse_to_mvs": round(math.sqrt(s["si_sq"] / max(s["si_n"], 1)), 4),
            "frames": int(s["images"]),
        }
        for name, s in sums.items()
    }


def _inverse_panel(depth: torch.Tensor) -> np.ndarray:
    """A depth map as an RGB magma image of inverse depth over its median (near = bright), black where unknown."""
    from matplotlib import colormaps

    inv = 1.0 / depth.clamp_min(1e-6)
    known = torch.isfinite(depth) & (depth > 0)
    scaled = (inv / inv[known].median()).clamp(0, 2) / 2 if known.any() else torch.zeros_like(inv)
    rgb = colormaps["magma"](scaled.numpy())[..., :3]
    rgb[~known.numpy()] = 0.0
    return (rgb * 255).astype(np.uint8)


def draw_figure(seed_dir: Path, params_path: Path, seed: int, out: Path, rows: int) -> None:
    """Input, MVS depth and every pretrained model's depth for ``rows`` held-out frames, as one PNG."""
    import cv2

    params = load_params(params_path, {"pretrain.seed": seed})
    p = params.pretrain
    dm = PretrainDataModule(p.curated, p.data, p.image_size, p.batch_size, p.val_fraction, p.seed)
    dm.setup("fit")
    picks = np.linspace(0, len(dm.val_set) - 1, rows).round().astype(int).tolist()  # frames spread over the clips
    batch = next(iter(DataLoader(Subset(dm.val_set, picks), batch_size=rows, shuffle=False)))
    folders = sorted((seed_dir / "models" / "pretrain").iterdir(), key=lambda d: ("+" in d.name, d.name))
    models = {d.name: load_net(d)[0].eval() for d in folders}  # single objectives first, then the mixes
    with torch.no_grad():
        depths = {name: torch.exp(net(net_input(net, batch)))[:, 0] for name, net in models.items()}
    lines = []
    for i in range(batch["image"].shape[0]):
        image = (batch["image"][i].permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
        panels = [image, _inverse_panel(batch["depth"][i, 0]), *(_inverse_panel(d[i]) for d in depths.values())]
        lines.append(np.concatenate(panels, axis=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(lines, axis=0), cv2.COLOR_RGB2BGR))
    print(f"figure: input, curated MVS depth, then {', '.join(depths)} -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", type=Path, default=Path("compare"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--figure", type=Path, default=None, help="draw the depth maps of a few held-out frames (no table)")
    ap.add_argument("--rows", type=int, default=3, help="frames in the figure")
    args = ap.parse_args()
    if args.figure is not None:
        draw_figure(args.compare / f"seed-{args.seeds[0]}", args.params, args.seeds[0], args.figure, args.rows)
        return
    torch.manual_seed(0)
    per_seed = {s: diagnose(args.compare / f"seed-{s}", args.params, s) for s in args.seeds}
    print(f"{'seed':>4} {'depth map':>28} {'photometric error':>17} {'auto-masked':>11} {'si log RMSE to MVS':>18}")
    for s, rows in per_seed.items():
        for name, r in rows.items():
            print(f"{s:>4} {name:>28} {r['photometric_error']:>17.4f} {100 * r['automasked_share']:>10.1f}% "
                  f"{r['si_log_rmse_to_mvs']:>18.4f}")  # fmt: skip
    write_result(args.out, {
        "benchmark": "photometric_diagnosis",
        "what": "photometric error, auto-masked share and scale-free distance to the curated MVS depth on the "
        "held-out curated frames, for a flat depth, the MVS depth and each pretrained model",
        "command": f"python bench/photometric_diagnosis.py --compare {args.compare} --seeds "
        + " ".join(map(str, args.seeds)),
        "seeds": {str(s): rows for s, rows in per_seed.items()},
    })  # fmt: skip


if __name__ == "__main__":
    main()
