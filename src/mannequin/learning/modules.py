"""Thin LightningModules: the network, the objectives, the optimiser. Logic lives in the objectives."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from mannequin.config.learning import AugmentParams, FinetuneParams, NetParams, PretrainParams
from mannequin.learning.augment import GeometryHonestAugment
from mannequin.learning.losses import gradient_matching_loss, log_residual, metric_log_l1_loss
from mannequin.learning.nets import DepthNet, build_net, net_input
from mannequin.learning.objectives import build_objective
from mannequin.learning.seeding import derive_seed, seeded

#: a stream tag in step seeds, so that validation never draws what a training step draws.
_TRAIN, _VAL = 0, 1


def _warmup_cosine(total_steps: int, warmup_fraction: float = 0.05, floor: float = 0.05) -> Callable[[int], float]:
    warmup = max(1, int(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class _DepthModule(pl.LightningModule):
    """Shared optimiser, augmentation (in the training step) and logging.

    Each step's random draws (augmentation, masks) come from torch's RNG seeded from ``(seed, step,
    rank)`` for that step alone, so a run resumed from a checkpoint draws what the uninterrupted one drew.
    """

    net: DepthNet

    def __init__(self, lr: float, weight_decay: float, augment: AugmentParams, seed: int = 0) -> None:
        super().__init__()
        self.lr, self.weight_decay, self.seed = lr, weight_decay, seed
        self.augment = GeometryHonestAugment(augment)

    def param_groups(self) -> list[dict]:
        """The optimiser's parameter groups; subclasses may give groups their own learning rate."""
        return [{"params": list(self.parameters())}]

    def configure_optimizers(self) -> dict:
        """AdamW over :meth:`param_groups` with a warm-up + cosine schedule stepped per batch."""
        opt = torch.optim.AdamW(self.param_groups(), lr=self.lr, weight_decay=self.weight_decay)
        total = self.trainer.estimated_stepping_batches if self.trainer is not None else 1000
        total = int(total) if math.isfinite(total) else 1000
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _warmup_cosine(total))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def compute_losses(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The total loss and the scalars to log; each module defines it."""
        raise NotImplementedError

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        # Augmentation runs here, on the batch's device, as part of the step: it is compute, not data loading,
        # so the throughput monitor's data-wait share measures the loader alone.
        with seeded(derive_seed(self.seed, _TRAIN, self.global_step, self.global_rank), self.device):
            with torch.no_grad():
                batch = self.augment(batch)
            loss, logs = self.compute_losses(batch)
        bs = batch["image"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=bs)
        self.log_dict({f"train/{k}": v for k, v in logs.items()}, batch_size=bs)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        with seeded(derive_seed(self.seed, _VAL, self.current_epoch, batch_idx, self.global_rank), self.device):
            loss, logs = self.compute_losses(batch)
        bs = batch["image"].shape[0]
        self.log("val/loss", loss, prog_bar=True, batch_size=bs, sync_dist=True)
        self.log_dict({f"val/{k}": v for k, v in logs.items()}, batch_size=bs, sync_dist=True)


class PretrainModule(_DepthModule):
    """Pretraining with any weighted mix of registered objectives, configured by the ``pretrain`` block.

    ``params`` may be the block or its ``model_dump()`` (how a checkpoint stores it: plain values only, so that
    it reloads with ``weights_only=True``).
    """

    def __init__(self, params: PretrainParams | dict[str, Any], objectives: list[str]) -> None:
        p = PretrainParams.model_validate(params)
        super().__init__(p.lr, p.weight_decay, p.augment, p.seed)
        self.save_hyperparameters({"params": p.model_dump(mode="json"), "objectives": list(objectives)})
        self.net = build_net(p.net)
        self.objectives = nn.ModuleDict({n: build_objective(n, self.net, p.objective) for n in objectives})
        self.weights = {n: float(p.weights.get(n, 1.0)) for n in objectives}

    def setup(self, stage: str) -> None:
        """Let objectives build what depends on the training data (before a checkpoint is restored)."""
        self.prepare_objectives(getattr(self.trainer, "datamodule", None))

    def prepare_objectives(self, datamodule: object | None) -> None:
        for objective in self.objectives.values():
            objective.prepare(self.net, datamodule)

    @property
    def needs_pairs(self) -> bool:
        return any(o.needs_pairs for o in self.objectives.values())

    @property
    def trains_decoder(self) -> bool:
        return any(o.trains_decoder for o in self.objectives.values())

    def _gather(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate ``x`` over all processes (gradients flow to the local part); identity alone."""
        if self.trainer is None or self.trainer.world_size <= 1:
            return x
        return self.all_gather(x, sync_grads=True).reshape(-1, *x.shape[1:])

    def compute_losses(self, batch: dict, gather: bool = True) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        total = None
        logs: dict[str, torch.Tensor] = {}
        for name, objective in self.objectives.items():
            loss, extra = objective(self.net, batch, self._gather if gather else None)
            logs[name] = loss.detach()
            logs.update({k: v for k, v in extra.items() if v.ndim == 0})
            term = self.weights[name] * loss
            total = term if total is None else total + term
        assert total is not None
        return total, logs


def metric_depth_loss(
    pred_log: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, gradient_weight: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Fine-tuning loss for sensor depth: L1 on log depth (metric) + gradient matching of the log residual."""
    l1 = metric_log_l1_loss(pred_log, target, weight)
    grad = gradient_matching_loss(pred_log, target, weight)
    return l1 + gradient_weight * grad, {"log_l1": l1.detach(), "grad": grad.detach()}


def abs_rel(pred_log: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |pred - gt| / gt over valid pixels."""
    _resid, w = log_residual(pred_log, target)
    valid = w > 0
    if not valid.any():
        return pred_log.sum() * 0.0
    gt = target.float()[valid]
    return ((pred_log.float().exp()[valid] - gt).abs() / gt).mean()


class FinetuneModule(_DepthModule):
    """Supervised metric-depth fine-tuning from scratch or from pretrained weights.

    ``params`` is the ``finetune`` block, ``net`` the architecture (``pretrain.net`` from scratch, the pretraining
    run's from a pretrained model); either may be a ``model_dump()``, as a checkpoint stores them.
    """

    def __init__(self, params: FinetuneParams | dict[str, Any], net: NetParams | dict[str, Any]) -> None:
        f, arch = FinetuneParams.model_validate(params), NetParams.model_validate(net)
        super().__init__(f.lr, f.weight_decay, f.augment, f.seed)
        self.save_hyperparameters({"params": f.model_dump(mode="json"), "net": arch.model_dump(mode="json")})
        self.net = build_net(arch)
        self.gradient_weight = f.gradient_weight
        self.pretrained_prefixes: tuple[str, ...] = ()
        self.pretrained_lr_scale = f.pretrained_lr_scale

    def param_groups(self) -> list[dict]:
        """Weights loaded from pretraining (``pretrained_prefixes``) learn at ``lr * pretrained_lr_scale``."""
        loaded = [p for n, p in self.named_parameters() if n.startswith(self.pretrained_prefixes)]
        fresh = [p for n, p in self.named_parameters() if not n.startswith(self.pretrained_prefixes)]
        groups = [{"params": fresh, "lr": self.lr}]
        if loaded:
            groups.append({"params": loaded, "lr": self.lr * self.pretrained_lr_scale})
        return groups

    def compute_losses(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = self.net.decode(net_input(self.net, batch))
        pred = self.net.log_depth(out)
        loss, logs = metric_depth_loss(pred, batch["depth"], batch.get("confidence"), self.gradient_weight)
        if self.net.head == "bins":  # the distribution is trained too (its spread is the uncertainty)
            logs["bins_ce"] = self.net.bins_loss(out, batch["depth"], batch.get("confidence"))
            loss = loss + logs["bins_ce"]
            logs["bins_ce"] = logs["bins_ce"].detach()
        logs["abs_rel"] = abs_rel(pred.detach(), batch["depth"])
        return loss, logs

    @torch.no_grad()
    def calibrate_offset(self, images: torch.Tensor, depths: torch.Tensor, batch_size: int = 16) -> float:
        """Shift the global log-depth offset so the median log residual on the labelled frames is 0.

        ``images`` is what the net reads: RGB, then the parallax input for an ``rgb+parallax`` net.
        """
        was_training = self.net.training
        self.net.eval()
        resids = []
        for i in range(0, len(images), batch_size):
            pred = self.net(images[i : i + batch_size])
            r, w = log_residual(pred, depths[i : i + batch_size])
            resids.append(r[w > 0])
        self.net.train(was_training)
        allr = torch.cat(resids) if resids else torch.zeros(0)
        if allr.numel() == 0:
            return 0.0
        shift = -float(allr.median())
        self.net.log_offset.add_(shift)
        return shift
