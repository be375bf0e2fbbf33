"""Stage outputs: ``model.pt``, ``backbone.pt``, ``model.json``, ``metrics.json`` in one model folder.

These are DVC outputs, so they hold no timings and no absolute paths: the same inputs give
byte-identical files. Weights are plain ``state_dict``s that load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch

from mannequin.atomic import atomic_dir
from mannequin.clips.ids import is_valid_clip_id, is_valid_name
from mannequin.errors import InputError
from mannequin.learning.nets import DepthNet, backbone_state, build_net

FORMAT_VERSION = 1
MODEL_NAME = "model.pt"
BACKBONE_NAME = "backbone.pt"
META_NAME = "model.json"
METRICS_NAME = "metrics.json"
#: ``model.json`` fields that name things (evaluation builds file names from them), and clip-id lists.
NAME_FIELDS = ("kind", "init", "objective")
NAME_LIST_FIELDS = ("objectives",)
CLIP_LIST_FIELDS = ("train_clips", "val_clips")
_RULE = "1-128 characters from A-Z a-z 0-9 _ . -, not starting with '.'"


def _state_bytes(state: dict[str, torch.Tensor]) -> bytes:
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous().clone() for k, v in state.items()}, buf)
    return buf.getvalue()


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _round(value: Any) -> Any:
    """Round floats to 6 significant digits so that JSON outputs are stable and readable."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


def export_model(out_dir: str | Path, net: DepthNet, meta: dict[str, Any], metrics: dict[str, Any]) -> Path:
    """Write the four files of a model folder atomically (the folder is replaced whole).

    ``model.json`` gets ``inputs`` (``rgb`` or ``rgb+parallax``: what the net reads), taken from the net itself.
    """
    out_dir = Path(out_dir)
    net_meta = {"format_version": FORMAT_VERSION, "output": "log_depth", **meta, "inputs": net.inputs,
                "final": _round(metrics)}  # fmt: skip
    with atomic_dir(out_dir) as tmp:
        (tmp / MODEL_NAME).write_bytes(_state_bytes(net.state_dict()))
        (tmp / BACKBONE_NAME).write_bytes(_state_bytes(backbone_state(net)))
        (tmp / META_NAME).write_text(_json(_round(net_meta)), encoding="utf-8")
        (tmp / METRICS_NAME).write_text(_json(_round(metrics)), encoding="utf-8")
    return out_dir


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    """``model.json`` of a model folder; a missing or unreadable one is an InputError."""
    path = Path(model_dir) / META_NAME
    if not path.is_file():
        raise InputError(path, "no trained model here (model.json not found)", "missing_model")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not readable JSON ({exc})", "bad_model") from None
    if not isinstance(meta, dict) or "net" not in meta:
        raise InputError(path, "not a mannequin model.json (no 'net' entry)", "bad_model")
    check_values(meta, path)
    check_names(meta, path)
    return meta


def check_values(meta: dict[str, Any], path: str | Path) -> None:
    """Refuse a ``model.json`` whose ``net`` or ``image_size`` the params models would refuse (InputError), before
    any tensor is built: a width of 1e9 or a depth of 1e6 would otherwise be tried."""
    from pydantic import BaseModel, ConfigDict, ValidationError

    from mannequin.config import describe_error
    from mannequin.config.learning import ImageSize, NetParams

    class ModelJson(BaseModel):
        model_config = ConfigDict(extra="allow")
        net: NetParams
        image_size: ImageSize = (128, 96)

    try:
        ModelJson.model_validate(meta)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(path, describe_error(errors[0]) + more, "bad_model") from None


def check_names(meta: dict[str, Any], path: str | Path) -> None:
    """Refuse a ``model.json`` whose names could leave a folder when used as file names (InputError)."""
    named = [(k, meta.get(k)) for k in NAME_FIELDS if meta.get(k) is not None]
    named += [(k, v) for k in NAME_LIST_FIELDS for v in _listed(meta, k, path)]
    for key, value in named:
        if not is_valid_name(value):
            problem = f"{key} {_shown(value)} is not a safe name ({_RULE}, '+' between parts)"
            raise InputError(path, problem, "bad_model")
    for key in CLIP_LIST_FIELDS:
        for value in _listed(meta, key, path):
            if not is_valid_clip_id(value):
                raise InputError(path, f"{key} holds {_shown(value)}, not a clip id ({_RULE})", "bad_model")


def _listed(meta: dict[str, Any], key: str, path: str | Path) -> list[Any]:
    values = meta.get(key) or []
    if not isinstance(values, list):
        raise InputError(path, f"{key} must be a list, got {type(values).__name__}", "bad_model")
    return values


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """A weights-only ``state_dict`` from ``path`` (``torch.load(weights_only=True)``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "missing_model")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(path, f"not a weights-only torch state_dict ({type(exc).__name__})", "bad_model") from None


def model_inputs(meta: dict[str, Any], path: str | Path = META_NAME) -> str:
    """What a model reads (``rgb`` or ``rgb+parallax``): ``model.json``'s ``inputs``, ``rgb`` where it has none
    (models from before the parallax input). An unknown value, or one its ``net`` block contradicts, is an
    InputError naming ``path``."""
    from typing import get_args

    from mannequin.config.learning import NetInputs

    net = meta.get("net") if isinstance(meta.get("net"), dict) else {}
    top, inner = meta.get("inputs"), net.get("inputs")
    if top is not None and inner is not None and top != inner:
        raise InputError(path, f"inputs {top!r} but net.inputs {inner!r}", "bad_model")
    inputs = top if top is not None else inner if inner is not None else "rgb"
    if inputs not in get_args(NetInputs):
        known = ", ".join(get_args(NetInputs))
        raise InputError(path, f"inputs {_shown(inputs)} is not one this mannequin reads ({known})", "bad_model")
    return inputs


def load_net(model_dir: str | Path) -> tuple[DepthNet, dict[str, Any]]:
    """The full network of a model folder and its ``model.json`` (whose ``inputs`` decide the net's channels)."""
    meta = read_meta(model_dir)
    net = build_net({**meta["net"], "inputs": model_inputs(meta, Path(model_dir) / META_NAME)})
    path = Path(model_dir) / MODEL_NAME
    try:
        net.load_state_dict(load_state(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"the weights do not fit model.json's net ({first[:160]})", "bad_model") from None
    return net, meta
