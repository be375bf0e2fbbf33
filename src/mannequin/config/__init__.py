"""``params.yaml`` read through pydantic models, one block per stage.

Errors are one line naming the key path, e.g.
``params.yaml: curate.mvs.planes: expected int, got 'many'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mannequin.config.ablation import AblationParams
from mannequin.config.base import Block
from mannequin.config.curate import CurateParams
from mannequin.config.evaluation import EvaluateParams, ReportParams
from mannequin.config.learning import FinetuneParams, PretrainParams
from mannequin.config.pipeline import PipelineParams
from mannequin.errors import InputError

__all__ = ["Block", "Params", "load_params", "parse_params"]


class Params(Block):
    """The whole of ``params.yaml``."""

    curate: CurateParams = CurateParams()
    pretrain: PretrainParams = PretrainParams()
    finetune: FinetuneParams = FinetuneParams()
    evaluate: EvaluateParams = EvaluateParams()
    report: ReportParams = ReportParams()
    pipeline: PipelineParams = PipelineParams()
    ablation: AblationParams = AblationParams()


_TYPE_WORDS = {
    "int_parsing": "expected int",
    "int_type": "expected int",
    "int_from_float": "expected int",
    "float_parsing": "expected float",
    "float_type": "expected float",
    "bool_parsing": "expected bool",
    "bool_type": "expected bool",
    "string_type": "expected str",
    "list_type": "expected list",
    "dict_type": "expected mapping",
    "model_type": "expected mapping",
    "extra_forbidden": "unknown key",
}


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key"
    words = _TYPE_WORDS.get(kind)
    if words:
        return f"{loc}: {words}, got {err.get('input')!r}"
    msg = err["msg"]
    if "input" in err and not isinstance(err["input"], (dict, list)):
        msg = f"{msg}, got {err['input']!r}"
    return f"{loc}: {msg}"


def parse_params(raw: Any, source: str | Path = "params.yaml") -> Params:
    """Validate a loaded mapping; a problem is an :class:`InputError` naming the key path."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(source, f"expected a mapping at the top level, got {type(raw).__name__}", "bad_params")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = _describe(errors[0])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(source, first + more, "bad_params") from None


def load_params(path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None) -> Params:
    """Read ``params.yaml`` (``yaml.safe_load``) and validate it; a missing file means defaults."""
    path = Path(path)
    raw: Any = {}
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark else ""
            raise InputError(path, f"{where}not valid YAML", "bad_params") from None
    for dotted, value in (overrides or {}).items():
        raw = _set_dotted(raw or {}, dotted, value)
    return parse_params(raw, path)


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    node = raw
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return raw
