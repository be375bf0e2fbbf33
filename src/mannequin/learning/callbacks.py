"""Callbacks: throughput (samples/s and the share of step time spent waiting for data) and image grids."""

from __future__ import annotations

import time

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger

from mannequin.learning.nets import net_input


class ThroughputMonitor(pl.Callback):
    """Logs ``perf/samples_per_s`` and ``perf/data_wait_share`` and keeps totals in ``self.totals``.

    Data wait is the time from the end of one training batch to the start of the next (the
    loader fetching and collating); step time is from the end of one batch to the end of the
    next. The first ``warmup`` batches of each epoch are left out of the totals.
    """

    def __init__(self, warmup: int = 2) -> None:
        self.warmup = warmup
        self.totals = {"samples": 0, "step_s": 0.0, "wait_s": 0.0, "steps": 0}
        self._last_end: float | None = None
        self._start = 0.0

    @staticmethod
    def _sync(pl_module: pl.LightningModule) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last_end = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self._sync(pl_module)
        now = time.perf_counter()
        if self._last_end is not None and batch_idx >= self.warmup:
            step = now - self._last_end
            wait = max(0.0, self._start - self._last_end)
            n = int(batch["image"].shape[0]) * trainer.world_size
            self.totals["samples"] += n
            self.totals["step_s"] += step
            self.totals["wait_s"] += wait
            self.totals["steps"] += 1
            pl_module.log("perf/samples_per_s", n / max(step, 1e-9), batch_size=n, rank_zero_only=True)
            pl_module.log("perf/data_wait_share", wait / max(step, 1e-9), batch_size=n, rank_zero_only=True)
        self._last_end = now

    def summary(self) -> dict[str, float]:
        t = self.totals
        return {
            "steps": t["steps"],
            "samples_per_s": t["samples"] / t["step_s"] if t["step_s"] else 0.0,
            "data_wait_share": t["wait_s"] / t["step_s"] if t["step_s"] else 0.0,
            "step_ms": 1000 * t["step_s"] / t["steps"] if t["steps"] else 0.0,
        }


def _colorize(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """(H, W) values -> (3, H, W) magma colours in [0, 1]; NaN is black."""
    from matplotlib import colormaps

    lut = torch.tensor(colormaps["magma"](np.linspace(0, 1, 256))[:, :3], dtype=torch.float32)
    v = ((x.float() - lo) / max(hi - lo, 1e-6)).clamp(0, 1).nan_to_num(0.0)
    out = lut[(v * 255).long()].permute(2, 0, 1)
    return torch.where(torch.isfinite(x)[None], out, torch.zeros_like(out))


def depth_grid(
    image: torch.Tensor, target: torch.Tensor, pred_log: torch.Tensor, confidence: torch.Tensor, rows: int = 4
) -> torch.Tensor:
    """A (3, rows*H, 4*W) grid: input | target | prediction | confidence, depths shown as inverse depth.

    Target and prediction are each normalised by their own 2-98 percentiles (MVS depth is scale-free).
    """
    tiles = []
    for i in range(min(rows, image.shape[0])):
        tgt = 1.0 / target[i, 0].float()
        pred = torch.exp(-pred_log[i, 0].float())
        row = [image[i].float().clamp(0, 1).cpu()]
        for disp in (tgt, pred):
            valid = disp[torch.isfinite(disp) & (disp > 0)]
            lo, hi = (valid.quantile(0.02).item(), valid.quantile(0.98).item()) if valid.numel() else (0.0, 1.0)
            row.append(_colorize(disp.cpu(), lo, hi))
        row.append(_colorize(confidence[i, 0].cpu(), 0.0, 1.0))
        tiles.append(torch.cat(row, dim=2))
    return torch.cat(tiles, dim=1)


class ImageGridLogger(pl.Callback):
    """Every ``every_n_steps`` training steps, log an input/target/prediction/confidence grid to TensorBoard."""

    def __init__(self, every_n_steps: int = 100, rows: int = 4) -> None:
        self.every_n_steps = every_n_steps
        self.rows = rows

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        step = trainer.global_step
        if not trainer.is_global_zero or step % self.every_n_steps != 0:
            return
        loggers = [lg for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)]
        if not loggers:
            return
        n = min(self.rows, batch["image"].shape[0])
        was_training = pl_module.training
        pl_module.eval()
        with torch.no_grad():
            pred = pl_module.net(net_input(pl_module.net, {k: v[:n] for k, v in batch.items()}))
        pl_module.train(was_training)
        grid = depth_grid(batch["image"][:n], batch["depth"][:n], pred, batch["confidence"][:n], n)
        for lg in loggers:
            lg.experiment.add_image("depth/input_target_prediction_confidence", grid, step)
        for name, objective in getattr(pl_module, "objectives", {}).items():  # an objective's own panel, if any
            panel = objective.panel(pl_module.net, batch)
            for lg in loggers if panel is not None else []:
                lg.experiment.add_image(f"{name}/panel", panel.clamp(0, 1).cpu(), step)
