"""The report's figures, drawn with matplotlib's Agg backend into reproducible PNGs (no timestamp, no version tag)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_path
from mannequin.evaluation.metrics import METRIC

_PNG_METADATA = {"Software": None}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata=_PNG_METADATA)


def label_efficiency_plot(
    curves: Mapping[str, Sequence[tuple[int, float, float]]],
    path: str | Path,
    title: str = "Label efficiency on the held-out test clips",
) -> None:
    """abs_rel and δ<1.25 against the label budget (log x), one line per init.

    ``curves`` maps an init to ``(budget, abs_rel, a1)`` points.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    budgets = sorted({b for pts in curves.values() for b, _, _ in pts})
    for init in sorted(curves, key=lambda name: (name != "scratch", name)):
        pts = sorted(curves[init])
        x = [b for b, _, _ in pts]
        style = {"linestyle": "--", "color": "0.3"} if init == "scratch" else {}
        axes[0].plot(x, [a for _, a, _ in pts], marker="o", label=init, **style)
        axes[1].plot(x, [d for _, _, d in pts], marker="o", label=init, **style)
    panel_titles = (f"abs_rel ({METRIC['abs_rel'].better})", f"δ < 1.25 ({METRIC['a1'].better})")
    for ax, panel_title in zip(axes, panel_titles, strict=True):
        ax.set_xscale("log")
        if budgets:
            ax.set_xticks(budgets)
            ax.set_xticklabels([str(b) for b in budgets])
            ax.minorticks_off()
        ax.set_xlabel("label budget (fine-tuning frames with sensor depth)")
        ax.set_title(panel_title)
        ax.grid(True, alpha=0.3)
    if curves:
        axes[0].legend(title="init")
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def examples_plot(
    images: np.ndarray,
    ground_truth: np.ndarray,
    panels: Sequence[tuple[str, np.ndarray]],
    row_titles: Sequence[str],
    path: str | Path,
) -> None:
    """One row per example frame: the input, the ground truth, then each ``(title, depth (K,H,W))`` panel.

    Depth panels of a row share the colour range of that row's ground truth (2nd to 98th percentile); NaN is grey.
    """
    plt = _pyplot()
    rows, cols = len(images), 2 + len(panels)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.0 * rows + 0.4), squeeze=False)
    cmap = plt.get_cmap("magma_r").with_extremes(bad="0.75")
    for r in range(rows):
        gt = ground_truth[r]
        finite = gt[np.isfinite(gt)]
        lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
        axes[r, 0].imshow(images[r])
        axes[r, 0].set_ylabel(row_titles[r], fontsize=7)
        depth_panels = [("ground truth", gt)] + [(title, stack[r]) for title, stack in panels]
        for c, (title, depth) in enumerate(depth_panels, start=1):
            axes[r, c].imshow(np.ma.masked_invalid(depth), cmap=cmap, vmin=lo, vmax=hi)
            if r == 0:
                axes[r, c].set_title(title, fontsize=8)
        if r == 0:
            axes[r, 0].set_title("input", fontsize=8)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Test frames: depth (near = bright), predictions aligned as in their metrics", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def placeholder_plot(message: str, path: str | Path) -> None:
    """A small PNG that says why a figure is empty (so the declared plot file always exists)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    _save(fig, path)
    plt.close(fig)
