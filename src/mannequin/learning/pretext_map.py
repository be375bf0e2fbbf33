"""The correspondence objective's similarity map for one frame pair, drawn from a pretraining run's checkpoint.

The map is the head's: the exported model folder holds the backbone and depth decoder only, so the map
reads ``<run>/last.ckpt`` (weights-only), which also holds the correspondence head.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mannequin.clips.ids import validate_clip_id
from mannequin.curation.shards import ClipShard
from mannequin.errors import InputError
from mannequin.learning.data import resize_sample
from mannequin.learning.modules import PretrainModule
from mannequin.learning.pretext.correspondence import write_similarity_png


def load_pretrain_run(run_dir: str | Path) -> PretrainModule:
    """The pretraining module of ``run_dir/last.ckpt`` (weights-only), objectives and heads included."""
    path = Path(run_dir) / "last.ckpt"
    if not path.is_file():
        raise InputError(path, "file not found (not a pretraining run folder)", "missing_model")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        hp = ckpt["hyper_parameters"]
        module = PretrainModule(hp["params"], hp["objectives"])
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"not a pretraining checkpoint ({type(exc).__name__})", "bad_checkpoint") from None
    if "correspondence" not in module.objectives:
        raise InputError(path, f"run trained {'+'.join(module.objectives)}, not correspondence", "bad_model")
    module.load_state_dict(ckpt["state_dict"], strict=False)
    return module.eval()


def shard_frame(curated: str | Path, clip_id: str, frame: int, image_size: tuple[int, int]) -> torch.Tensor:
    """Frame ``frame`` of the curated shard of ``clip_id`` as (1, 3, H, W) RGB in [0, 1] at ``image_size``."""
    validate_clip_id(clip_id, "CLIP")  # one path component: no way out of the shards folder
    folder = Path(curated) / "shards" / clip_id
    if not (folder / "meta.json").is_file():
        raise InputError(folder, "no curated shard for this clip", "missing_shard")
    shard = ClipShard(folder)
    if not 0 <= frame < len(shard):
        raise InputError(folder, f"frame {frame} out of range (the shard has {len(shard)} frames)", "bad_frame")
    nan = np.full(shard.images.shape[1:3], np.nan, np.float32)
    image, _, _ = resize_sample(np.asarray(shard.images[frame]), nan, nan, image_size)
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0


@torch.no_grad()
def correspondence_map(
    run_dir: str | Path, curated: str | Path, a: tuple[str, int], b: tuple[str, int], out: str | Path
) -> float:
    """Write frame A, frame B and A's similarity map to ``out`` (PNG); returns the pair's logit."""
    module = load_pretrain_run(run_dir)
    size = tuple(module.hparams["params"]["image_size"])
    frame_a, frame_b = shard_frame(curated, *a, size), shard_frame(curated, *b, size)
    logit, sim_map = module.objectives["correspondence"].score_pair(module.net, frame_a, frame_b)
    write_similarity_png(out, frame_a[0], frame_b[0], sim_map[0, 0], float(logit[0]))
    return float(logit[0])
