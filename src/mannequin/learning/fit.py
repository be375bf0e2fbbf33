"""The training skeleton every stage shares: a Trainer from its params, resume, fit, deterministic final scores, export.

:func:`fit_and_export` resumes from ``<run_dir>/last.ckpt`` when the digest stored beside it matches (else starts
fresh), trains, scores the final weights deterministically, and exports the model folder
(:mod:`mannequin.learning.export`). What to build (module, data, digest, metadata) and where it goes (the run and
model folders) is the caller's: the stage modules :mod:`mannequin.stages.pretrain` and
:mod:`mannequin.stages.finetune`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.plugins.io import TorchCheckpointIO
from torch.utils.data import DataLoader, Dataset

from mannequin.atomic import atomic_write_bytes, atomic_write_text
from mannequin.config.learning import TrainerParams
from mannequin.errors import InputError
from mannequin.learning.callbacks import ImageGridLogger, ThroughputMonitor
from mannequin.learning.export import export_model
from mannequin.learning.modules import PretrainModule

DIGEST_NAME = "digest.txt"
LAST_NAME = "last.ckpt"
#: final scores use one fixed batch size (InfoNCE depends on how many clips share a batch).
SCORE_BATCH = 64


@dataclass
class TrainResult:
    """What a stage run produced (``out_dir`` is None on non-zero DDP ranks)."""

    out_dir: Path | None
    run_dir: Path
    steps: int
    resumed: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)
    loaded_clip_ids: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- trainer and resume


def _is_launcher_rank_zero() -> bool:
    return os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"


def resolve_precision(tp: TrainerParams) -> str:
    """``auto``: bf16-mixed when training on a CUDA GPU, else full 32-bit."""
    if tp.precision != "auto":
        return tp.precision
    gpu = torch.cuda.is_available() and tp.accelerator in ("auto", "gpu", "cuda")
    return "bf16-mixed" if gpu else "32-true"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written whole or not at all: a kill while ``last.ckpt`` is refreshed keeps the previous one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        buf = io.BytesIO()
        torch.save(checkpoint, buf)
        atomic_write_bytes(Path(path), buf.getvalue())


def build_trainer(
    tp: TrainerParams,
    run_dir: Path,
    monitor: str,
    progress: bool,
    extra_callbacks: list[pl.Callback] | None = None,
    validate: bool = True,
) -> pl.Trainer:
    """A Trainer from params: logs to ``run_dir/tb``, checkpoints ``last.ckpt`` and ``best.ckpt`` in ``run_dir``.

    The training loaders shard each epoch over the processes themselves (so that their place in the epoch
    can be saved and resumed exactly), hence no distributed sampler from Lightning.
    """
    if tp.threads:
        torch.set_num_threads(tp.threads)
    deterministic: bool | str = tp.deterministic
    if tp.deterministic and torch.cuda.is_available() and tp.accelerator in ("auto", "gpu", "cuda"):
        deterministic = "warn"  # bilinear upsampling has no deterministic CUDA backward
    best = ModelCheckpoint(
        dirpath=run_dir, filename="best", monitor=monitor, mode="min", save_top_k=1, enable_version_counter=False
    )
    last = ModelCheckpoint(
        dirpath=run_dir, save_top_k=0, save_last=True, every_n_train_steps=tp.checkpoint_every_n_steps
    )
    callbacks: list[pl.Callback] = [best, last, LearningRateMonitor(logging_interval="step"), ThroughputMonitor()]
    callbacks.append(FinalCheckpoint(run_dir / LAST_NAME))
    callbacks.append(ImageGridLogger(tp.image_every_n_steps))
    callbacks += extra_callbacks or []
    return pl.Trainer(
        accelerator=tp.accelerator,
        devices=tp.devices,
        num_nodes=tp.num_nodes,
        strategy=tp.strategy,
        precision=resolve_precision(tp),  # type: ignore[arg-type]
        max_epochs=tp.max_epochs,
        max_steps=tp.max_steps,
        deterministic=deterministic,
        logger=TensorBoardLogger(save_dir=str(run_dir), name="", version="tb", default_hp_metric=False),
        callbacks=callbacks,
        log_every_n_steps=tp.log_every_n_steps,
        check_val_every_n_epoch=tp.val_every_n_epochs,
        limit_val_batches=None if validate else 0,
        num_sanity_val_steps=0,
        enable_progress_bar=progress,
        enable_model_summary=False,
        use_distributed_sampler=False,
        plugins=[AtomicCheckpointIO()],
    )


class FinalCheckpoint(pl.Callback):
    """Save ``last.ckpt`` when training ends, so re-running a finished run resumes at its end and changes nothing.

    Without it the last periodic checkpoint may sit a few steps before the end, and a re-run would redo those
    steps from a different random state.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)  # the full state: resuming needs the optimiser


def readable_checkpoint(path: Path) -> Path:
    """``path`` when it loads weights-only; else an InputError naming it (a corrupt or pickled checkpoint)."""
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(
            path,
            f"not a loadable weights-only checkpoint ({type(exc).__name__}); delete it to train this run afresh",
            "bad_checkpoint",
        ) from None
    return path


def prepare_run_dir(run_dir: Path, digest: str) -> Path | None:
    """``last.ckpt`` to resume from when the stored digest matches; otherwise clear old state and store it."""
    last = run_dir / LAST_NAME
    stamp = run_dir / DIGEST_NAME
    if last.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
        return readable_checkpoint(last)
    if _is_launcher_rank_zero():
        run_dir.mkdir(parents=True, exist_ok=True)
        for old in run_dir.glob("*.ckpt"):
            old.unlink()
        shutil.rmtree(run_dir / "tb", ignore_errors=True)
        atomic_write_text(stamp, digest + "\n")
    return None


def digest(*parts: Any, files: list[Path] = (), arrays: list[np.ndarray] = ()) -> str:  # type: ignore[assignment]
    """The sha256 of ``parts`` (as JSON), the bytes of ``files`` and of ``arrays``: what a resume point must match."""
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    for f in files:
        h.update(f.name.encode() + b"\0")
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- deterministic final scores


@torch.no_grad()
def score(module: pl.LightningModule, dataset: Dataset | None, batch_size: int, seed: int) -> dict[str, float]:
    """Mean losses of the final weights over ``dataset`` (eval mode, no augmentation, fixed RNG)."""
    if dataset is None or len(dataset) == 0:
        return {}
    was_training = module.training
    module.eval()
    sums: dict[str, float] = {}
    count = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            batch = {k: v.to(module.device) for k, v in batch.items()}
            loss, logs = module.compute_losses(batch, gather=False) if isinstance(module, PretrainModule) else (
                module.compute_losses(batch)
            )  # fmt: skip
            n = int(batch["image"].shape[0])
            for k, v in {"loss": loss, **logs}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            count += n
    module.train(was_training)
    return {k: v / count for k, v in sorted(sums.items())}


# --------------------------------------------------------------------------- the shared skeleton


def fit_and_export(
    module: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    trainer_params: TrainerParams,
    run_dir: Path,
    out_dir: Path,
    run_digest: str,
    *,
    has_val: bool,
    score_sets: Callable[[], dict[str, Dataset]],
    score_batch: int,
    seed: int,
    meta: Callable[[pl.Trainer], dict[str, Any]],
    progress: bool = False,
    callbacks: list[pl.Callback] | None = None,
    select_on_val: bool = False,
    start_is_candidate: bool = True,
) -> TrainResult:
    """Train ``module`` on ``datamodule`` in ``run_dir`` (resumed when its stored digest is ``run_digest``), then, on
    the global-zero process, score the final weights on ``score_sets()`` and export the model with ``meta(trainer)``
    to ``out_dir``.

    ``has_val``: whether there is validation data (the checkpoint then monitors ``val/loss``, else ``train/loss``).
    ``score_sets()`` names the datasets of the final scores (``train``, and ``val`` when there is one).
    ``select_on_val`` (fine-tuning): the checkpoint monitors ``val/abs_rel``, the exported weights are the best on the
    ``val`` set of the start (unless ``start_is_candidate`` is False: random weights are no model), the best
    checkpoint and the end (:mod:`mannequin.learning.selection`), and the model's ``selection`` records the step
    chosen, each candidate's score and how far the weights moved from the start.
    """
    from mannequin.learning.selection import SELECT_METRIC, state_copy

    ckpt = prepare_run_dir(run_dir, run_digest)
    select = select_on_val and has_val
    monitor = f"val/{SELECT_METRIC}" if select else "val/loss" if has_val else "train/loss"
    start = state_copy(module.net) if select_on_val else None  # the init: a fresh module, before any resume
    trainer = build_trainer(trainer_params, run_dir, monitor, progress, callbacks, validate=has_val)
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(ckpt) if ckpt else None, weights_only=True)
    throughput = next(c for c in trainer.callbacks if isinstance(c, ThroughputMonitor)).summary()
    loaded = datamodule.loaded_clip_ids  # type: ignore[attr-defined]
    result = TrainResult(None, run_dir, trainer.global_step, ckpt is not None, {}, throughput, loaded)
    if not trainer.is_global_zero:
        return result
    sets = score_sets()
    info = meta(trainer)
    if start is not None:
        info["selection"] = _select(module, start, run_dir / "best.ckpt", trainer.global_step, sets.get("val"),
                                    score_batch, seed, start_is_candidate)  # fmt: skip
    metrics = {split: score(module, dataset, score_batch, seed) for split, dataset in sets.items()}
    result.out_dir = export_model(out_dir, module.net.cpu(), info, metrics)
    result.metrics = metrics
    return result


def _select(
    module: pl.LightningModule,
    start: dict[str, torch.Tensor],
    best_path: Path,
    final_step: int,
    val_set: Dataset | None,
    batch_size: int,
    seed: int,
    start_is_candidate: bool = True,
) -> dict[str, Any]:
    """Leave the chosen weights in ``module.net`` (with a ``val_set``: the best of start, best checkpoint and end;
    without: the end) and describe the choice: step chosen, candidates' scores, movement from the start."""
    from mannequin.learning.selection import SELECT_METRIC, choose_weights, state_copy, weights_moved

    final = state_copy(module.net)
    chosen, scores = final_step, {}
    if val_set is not None:
        candidates = [(0, start)] if start_is_candidate else []
        if best_path.is_file():
            ckpt = torch.load(best_path, map_location="cpu", weights_only=True)
            prefix = "net."
            best = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
            candidates.append((int(ckpt["global_step"]), best))
        candidates.append((final_step, final))
        candidates = list(dict(candidates).items())  # a best checkpoint at the end is the end

        def val_score() -> float:
            return score(module, val_set, batch_size, seed)[SELECT_METRIC]

        chosen, scores = choose_weights(module.net, candidates, val_score)
    return {
        "chosen_step": chosen,
        "final_step": final_step,
        "val_scores": {str(k): round(v, 6) for k, v in scores.items()},
        "moved": {k: round(v, 6) for k, v in weights_moved(start, state_copy(module.net)).items()},
        "moved_final": {k: round(v, 6) for k, v in weights_moved(start, final).items()},
    }
