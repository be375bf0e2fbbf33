"""The fine-tuning stages of ``dvc.yaml`` (``finetune*``): ``mannequin finetune``.

One run fine-tunes on a label budget of sensor-depth frames from ``scratch`` (the ``pretrain.net`` architecture) or
from a pretraining run of ``finetune.pretrained`` (its architecture, its backbone, and its depth decoder when it
trained one), and exports the model to ``finetune.out/<init>-<budget>`` (a seeded repeat:
``<init>-<budget>-seed<seed>``), its checkpoints and logs in ``finetune.runs/finetune-<name>``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from mannequin.clips.ids import is_valid_clip_id
from mannequin.config import Params
from mannequin.config.learning import NetParams
from mannequin.errors import InputError
from mannequin.learning.data import FinetuneDataModule, LabelledFrames, label_aspects
from mannequin.learning.export import BACKBONE_NAME, MODEL_NAME, load_state, model_inputs, read_meta
from mannequin.learning.fit import TrainResult, digest, fit_and_export
from mannequin.learning.modules import FinetuneModule
from mannequin.learning.objectives import objective_names, parse_objectives

SCRATCH = "scratch"


def init_module(params: Params, init: str, pretrained: Path) -> tuple[FinetuneModule, dict[str, Any], bytes]:
    """A fine-tuning module from scratch or from a pretraining run (backbone, + decoder when it was trained)."""
    f = params.finetune
    if init == SCRATCH:
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


def run(
    params: Params,
    init: str,
    budget: int,
    progress: bool = False,
    callbacks: list[pl.Callback] | None = None,
    name: str | None = None,
) -> TrainResult:
    """Fine-tune on ``budget`` labelled frames from ``init`` (``scratch`` or a pretraining objective or run name).

    Folders come from ``params.finetune`` (the CLI sets its options there as overrides). The model goes to
    ``out/<name>`` (default ``<init>-<budget>``), its checkpoints to ``runs/finetune-<name>``.
    """
    f = params.finetune
    data, pretrained = Path(f.data), Path(f.pretrained)
    tag = name or f"{init}-{budget}"
    out_dir = Path(f.out) / tag
    run_dir = Path(f.runs) / f"finetune-{tag}"

    pl.seed_everything(f.seed, workers=True, verbose=False)
    module, init_meta, init_bytes = init_module(params, init, pretrained)
    if Path(tag).name != tag or tag in (".", ".."):  # a name (a seeded repeat's) stays one folder inside out/
        raise InputError("--name", f"{tag!r} is not one folder name", "bad_name")
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
    run_digest = digest("finetune", tag, f.model_dump(mode="json", exclude={"data", "pretrained", "out", "runs",
                        "parallax"}), init_meta, hashlib.sha256(init_bytes).hexdigest(), *extra,
                        arrays=arrays)  # fmt: skip
    offset = 0.0
    if f.calibrate_offset:
        images = torch.from_numpy(dm.train_set.images).permute(0, 3, 1, 2).float() / 255.0
        if reads_parallax:  # the stored parallax input, without random masks
            assert dm.train_set.parallax is not None
            images = torch.cat([images, torch.from_numpy(dm.train_set.parallax).permute(0, 3, 1, 2)], dim=1)
        offset = module.calibrate_offset(images, torch.from_numpy(dm.train_set.depths)[:, None])

    def score_sets() -> dict[str, Any]:
        ts = dm.train_set
        budget_set = LabelledFrames(ts.images, ts.depths, ts.clip_index, None, ts.parallax, ts.masked, ts.random_masks)
        return {"train": budget_set, **({"val": dm.val_set} if dm.val_set is not None else {})}

    def meta(trainer: pl.Trainer) -> dict[str, Any]:
        info = {
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
            "label_aspects": label_aspects(data, [*dm.train_items, *dm.val_items]),
            "train_items": [[c, i] for c, i in dm.train_items],
            "val_items": [[c, i] for c, i in dm.val_items],
        }
        if reads_parallax:  # which masks the labelled frames' parallax input had, + random ones
            info.update(mask_sources=dm.mask_sources, random_masks=random_masks)
        return info

    trainer_params = f.trainer.model_copy(update={"max_steps": f.steps_for(budget)})
    return fit_and_export(
        module, dm, trainer_params, run_dir, out_dir, run_digest, has_val=dm.val_set is not None, score_sets=score_sets,
        score_batch=f.batch_size, seed=f.seed, meta=meta, progress=progress, callbacks=callbacks,
        select_on_val=f.select == "val", start_is_candidate=init != SCRATCH,
    )  # fmt: skip
