"""The two stage entry points: :func:`run_pretrain` and :func:`run_finetune`.

Each builds data, module and Trainer from params, resumes from ``runs/<stage>/last.ckpt`` when
the params/data digest stored beside it matches (else starts fresh), trains, scores the final
weights deterministically, and exports the model folder (see :mod:`mannequin.learning.export`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
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
from mannequin.clips.ids import is_valid_clip_id, validate_clip_id
from mannequin.config import Params
from mannequin.config.base import PARALLAX_SUFFIX, split_parallax
from mannequin.config.learning import NetParams, TrainerParams
from mannequin.curation.shards import PARALLAX_NAME
from mannequin.errors import InputError
from mannequin.learning.callbacks import ImageGridLogger, ThroughputMonitor
from mannequin.learning.data import FinetuneDataModule, PretrainDataModule, ShardFrames
from mannequin.learning.export import BACKBONE_NAME, MODEL_NAME, export_model, load_state, model_inputs, read_meta
from mannequin.learning.modules import FinetuneModule, PretrainModule
from mannequin.learning.nets import load_rgb_backbone
from mannequin.learning.objectives import objective_names, parse_objectives

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


def _digest(*parts: Any, files: list[Path] = (), arrays: list[np.ndarray] = ()) -> str:  # type: ignore[assignment]
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


# --------------------------------------------------------------------------- pretraining


def run_pretrain(
    params: Params,
    objective: str,
    progress: bool = False,
    callbacks: list[pl.Callback] | None = None,
    name: str | None = None,
) -> TrainResult:
    """Pretrain on curated shards with ``objective`` (a name or a ``+``-joined mix) and export the model.

    Folders come from ``params.pretrain`` (the CLI sets its options there as overrides). The model goes to
    ``out/<name>`` (default: the objective), its checkpoints to ``runs/pretrain-<name>``.
    """
    p = params.pretrain
    spec, reads_parallax = split_parallax(objective)
    names = parse_objectives(spec)
    tag = "+".join(names) + (PARALLAX_SUFFIX if reads_parallax else "")
    if reads_parallax:  # ``mvs-parallax``: the same objective, the rgb+parallax net
        p = p.model_copy(update={"net": p.net.model_copy(update={"inputs": "rgb+parallax"})})
    curated, data = Path(p.curated), Path(p.data)
    if name is not None:
        validate_clip_id(name, "--name")  # the same safe-name rule as clip ids: one path component
    out_dir = Path(p.out) / (name or tag)
    run_dir = Path(p.runs) / f"pretrain-{name or tag}"
    parallax_masks = params.curate.masks.random_masks if p.net.inputs == "rgb+parallax" else None

    pl.seed_everything(p.seed, workers=True, verbose=False)
    module = PretrainModule(p, names)
    backbone_bytes = b""
    if p.backbone is not None:
        backbone_path = Path(p.backbone) / BACKBONE_NAME
        load_rgb_backbone(module.net, load_state(backbone_path))
        backbone_bytes = backbone_path.read_bytes()
    dm = PretrainDataModule(
        curated, data, p.image_size, p.batch_size, p.val_fraction, p.seed, module.needs_pairs, p.num_workers,
        parallax_masks,
    )  # fmt: skip
    arrays = ("meta.json", "images.npy", "depth.npy", "confidence.npy")
    arrays += (PARALLAX_NAME,) if parallax_masks is not None else ()
    shard_files = [s.path / f for s in dm.shards for f in arrays]
    extra = [] if parallax_masks is None else [parallax_masks, hashlib.sha256(backbone_bytes).hexdigest()]
    digest = _digest("pretrain", tag, p.model_dump(mode="json", exclude={"curated", "data", "out", "runs"}), *extra,
                     files=shard_files)  # fmt: skip
    ckpt = prepare_run_dir(run_dir, digest)
    monitor = "val/loss" if len(dm.val_set) else "train/loss"
    trainer = build_trainer(p.trainer, run_dir, monitor, progress, callbacks, validate=len(dm.val_set) > 0)
    trainer.fit(module, datamodule=dm, ckpt_path=str(ckpt) if ckpt else None, weights_only=True)
    throughput = next(c for c in trainer.callbacks if isinstance(c, ThroughputMonitor)).summary()
    result = TrainResult(None, run_dir, trainer.global_step, ckpt is not None, {}, throughput, dm.loaded_clip_ids)
    if not trainer.is_global_zero:
        return result

    train_eval = ShardFrames(dm.train_set.paths, dm.clip_labels, dm.image_size, dm.pairs, False, parallax_masks)
    metrics = {"train": score(module, train_eval, SCORE_BATCH, p.seed)}
    if len(dm.val_set):
        metrics["val"] = score(module, dm.val_set, SCORE_BATCH, p.seed)
    meta = {
        "kind": "pretrain",
        "objective": tag,
        "objectives": names,
        "weights": module.weights,
        "trains_decoder": module.trains_decoder,
        "net": p.net.model_dump(),
        "image_size": list(p.image_size),
        "seed": p.seed,
        "steps": trainer.global_step,
        "world_size": trainer.world_size,
        "train_clips": dm.train_ids,
        "val_clips": dm.val_ids,
        "train_frames": len(dm.train_set),
        "val_frames": len(dm.val_set),
    }
    if parallax_masks is not None:  # which masks the parallax input had: per clip source, + random ones
        meta.update(mask_sources=dm.mask_sources(), random_masks=parallax_masks)
    if p.backbone is not None:
        meta["backbone"] = Path(p.backbone).name
    result.out_dir = export_model(out_dir, module.net.cpu(), meta, metrics)
    result.metrics = metrics
    return result


# --------------------------------------------------------------------------- fine-tuning


def init_finetune_module(params: Params, init: str, pretrained: Path) -> tuple[FinetuneModule, dict[str, Any], bytes]:
    """A fine-tuning module from scratch or from a pretraining run (backbone, + decoder when it was trained)."""
    f = params.finetune
    if init == "scratch":
        net = params.pretrain.net
        return FinetuneModule(f, net), {"net": net.model_dump(), "loaded": "none"}, b""
    # a named pretraining run (``mannequin pretrain --name``, e.g. the curation ablation) or an objective mix
    model_dir = pretrained / init if is_valid_clip_id(init) else pretrained / "-"
    if not (model_dir / "model.json").is_file():
        try:
            model_dir = pretrained / "+".join(parse_objectives(init, "--init"))
        except InputError:
            raise InputError(
                "--init",
                f"{init!r} is neither 'scratch', a pretraining run in {pretrained}, "
                f"nor an objective or mix of {', '.join(objective_names())}",
                "unknown_init",
            ) from None
    if not (model_dir / "model.json").is_file():
        raise InputError(
            model_dir,
            f"no pretrained model (run `mannequin pretrain --objective {model_dir.name}` first)",
            "missing_pretrained",
        )
    meta = read_meta(model_dir)
    arch = NetParams.model_validate({**meta["net"], "inputs": model_inputs(meta, model_dir / "model.json")})
    module = FinetuneModule(f, arch)
    if f.init_decoder and meta.get("trains_decoder"):
        module.net.load_state_dict(load_state(model_dir / MODEL_NAME))
        loaded, source = "encoder+decoder", model_dir / MODEL_NAME
        module.pretrained_prefixes = ("net.encoder.", "net.decoder.")
    else:
        module.net.encoder.load_state_dict(load_state(model_dir / BACKBONE_NAME))
        loaded, source = "encoder", model_dir / BACKBONE_NAME
        module.pretrained_prefixes = ("net.encoder.",)
    return module, {"net": arch.model_dump(), "loaded": loaded}, source.read_bytes()


def run_finetune(
    params: Params,
    init: str,
    budget: int,
    progress: bool = False,
    callbacks: list[pl.Callback] | None = None,
) -> TrainResult:
    """Fine-tune on ``budget`` labelled frames from ``init`` (``scratch`` or a pretraining objective or run name).

    Folders come from ``params.finetune`` (the CLI sets its options there as overrides).
    """
    f = params.finetune
    data, pretrained = Path(f.data), Path(f.pretrained)
    tag = f"{init}-{budget}"
    out_dir = Path(f.out) / tag
    run_dir = Path(f.runs) / f"finetune-{tag}"

    pl.seed_everything(f.seed, workers=True, verbose=False)
    module, init_meta, init_bytes = init_finetune_module(params, init, pretrained)
    steps_per_epoch = 20
    reads_parallax = module.net.inputs == "rgb+parallax"
    random_masks = params.curate.masks.random_masks if reads_parallax else 0
    dm = FinetuneDataModule(
        data, budget, f.image_size, f.batch_size, f.seed, f.val_frames, steps_per_epoch, f.num_workers, f.budgets,
        f.parallax if reads_parallax else None, random_masks,
    )  # fmt: skip
    arrays = [dm.train_set.images, dm.train_set.depths]
    extra: list[Any] = []
    if reads_parallax:
        assert dm.train_set.parallax is not None
        arrays.append(dm.train_set.parallax)
        extra = [random_masks]
    digest = _digest("finetune", tag, f.model_dump(mode="json", exclude={"data", "pretrained", "out", "runs",
                     "parallax"}), init_meta, hashlib.sha256(init_bytes).hexdigest(), *extra,
                     arrays=arrays)  # fmt: skip
    offset = 0.0
    if f.calibrate_offset:
        images = torch.from_numpy(dm.train_set.images).permute(0, 3, 1, 2).float() / 255.0
        if reads_parallax:  # the stored parallax input, without random masks
            assert dm.train_set.parallax is not None
            images = torch.cat([images, torch.from_numpy(dm.train_set.parallax).permute(0, 3, 1, 2)], dim=1)
        offset = module.calibrate_offset(images, torch.from_numpy(dm.train_set.depths)[:, None])
    ckpt = prepare_run_dir(run_dir, digest)
    monitor = "val/loss" if dm.val_set is not None else "train/loss"
    trainer = build_trainer(f.trainer, run_dir, monitor, progress, callbacks, validate=dm.val_set is not None)
    trainer.fit(module, datamodule=dm, ckpt_path=str(ckpt) if ckpt else None, weights_only=True)
    throughput = next(c for c in trainer.callbacks if isinstance(c, ThroughputMonitor)).summary()
    result = TrainResult(None, run_dir, trainer.global_step, ckpt is not None, {}, throughput, dm.loaded_clip_ids)
    if not trainer.is_global_zero:
        return result

    from mannequin.learning.data import LabelledFrames

    ts = dm.train_set
    budget_set = LabelledFrames(ts.images, ts.depths, ts.clip_index, None, ts.parallax, ts.masked, ts.random_masks)
    metrics = {"train": score(module, budget_set, f.batch_size, f.seed)}
    if dm.val_set is not None:
        metrics["val"] = score(module, dm.val_set, f.batch_size, f.seed)
    meta = {
        "kind": "finetune",
        "init": init,
        "loaded": init_meta["loaded"],
        "budget": budget,
        "net": init_meta["net"],
        "image_size": list(f.image_size),
        "seed": f.seed,
        "steps": trainer.global_step,
        "world_size": trainer.world_size,
        "offset_calibration": offset,
        "train_items": [[c, i] for c, i in dm.train_items],
        "val_items": [[c, i] for c, i in dm.val_items],
    }
    if reads_parallax:  # which masks the labelled frames' parallax input had, + random ones
        meta.update(mask_sources=dm.mask_sources, random_masks=random_masks)
    result.out_dir = export_model(out_dir, module.net.cpu(), meta, metrics)
    result.metrics = metrics
    return result
