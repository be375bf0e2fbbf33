"""``params.yaml`` read through pydantic models, one block per stage.

Errors are one line naming the key path, e.g.
``params.yaml: curate.mvs.planes: expected int, got 'many'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError, model_validator

from mannequin.config.ablation import AblationParams
from mannequin.config.base import Block
from mannequin.config.curate import CurateParams
from mannequin.config.evaluation import EvaluateParams, ReportParams
from mannequin.config.learning import FinetuneParams, PretrainParams
from mannequin.config.masks import ParallaxParams
from mannequin.config.objectives import RENAMED
from mannequin.config.pipeline import PipelineParams
from mannequin.config.real_depth import RealDepthParams
from mannequin.config.spread import SpreadParams
from mannequin.errors import InputError, read_user_text

__all__ = [
    "DEFAULT_PARAMS",
    "Block",
    "Params",
    "cli_overrides",
    "describe_error",
    "load_params",
    "parse_params",
    "read_params_yaml",
]

#: the params file every command reads by default; it alone may be absent (then every value is its default)
DEFAULT_PARAMS = Path("params.yaml")


class Params(Block):
    """The whole of ``params.yaml``."""

    curate: CurateParams = CurateParams()
    parallax: ParallaxParams = ParallaxParams()
    pretrain: PretrainParams = PretrainParams()
    finetune: FinetuneParams = FinetuneParams()
    evaluate: EvaluateParams = EvaluateParams()
    report: ReportParams = ReportParams()
    pipeline: PipelineParams = PipelineParams()
    ablation: AblationParams = AblationParams()
    spread: SpreadParams = SpreadParams()
    real_depth: RealDepthParams = RealDepthParams()

    @model_validator(mode="after")
    def _inits_are_pretrained(self) -> Params:
        """Each fine-tuning init is the model of one pretraining stage (``dvc.yaml`` depends on its folder)."""
        for init in self.finetune.inits:
            if init not in self.pretrain.objectives:
                raise ValueError(
                    f"finetune.inits: {init!r} is not pretrained: list it in pretrain.objectives "
                    f"({', '.join(self.pretrain.objectives)}); scratch always runs"
                )
        return self


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


def describe_error(err: dict[str, Any]) -> str:
    """One pydantic error as ``key.path: problem, got value``."""
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key"
    words = _TYPE_WORDS.get(kind)
    if words:
        return f"{loc}: {words}, got {err.get('input')!r}"
    msg = err["msg"].removeprefix("Value error, ")
    if not err["loc"] and kind == "value_error":
        return msg  # a check across blocks names its keys itself
    if "input" in err and not isinstance(err["input"], (dict, list)):
        msg = f"{msg}, got {err['input']!r}"
    return f"{loc}: {msg}"


def parse_params(raw: Any, source: str | Path = "params.yaml", context: dict[str, Any] | None = None) -> Params:
    """Validate a loaded mapping; a problem is an :class:`InputError` naming the key path.

    ``context`` is pydantic's validation context: with the registered objectives under
    :data:`mannequin.config.base.OBJECTIVES_CONTEXT`, objective names are checked against them too (else their syntax
    only). A key that was renamed is an error naming its new key.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(source, f"expected a mapping at the top level, got {type(raw).__name__}", "bad_params")
    _refuse_renamed(raw, source)
    try:
        return Params.model_validate(raw, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        first = describe_error(errors[0])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(source, first + more, "bad_params") from None


def _refuse_renamed(raw: dict[str, Any], source: str | Path) -> None:
    """A key of an earlier params layout (:data:`mannequin.config.objectives.RENAMED`) is one error naming its
    replacement."""
    found = []
    for old, new in RENAMED.items():
        node: Any = raw
        for key in old.split("."):
            node = node.get(key, _ABSENT) if isinstance(node, dict) else _ABSENT
        if node is not _ABSENT:
            found.append(f"{old}: renamed to {' and '.join(new)}")
    if found:
        more = f" (and {len(found) - 1} more renamed keys)" if len(found) > 1 else ""
        raise InputError(source, found[0] + more, "renamed_key")


_ABSENT = object()


def read_params_yaml(path: str | Path, missing_ok: bool = False) -> dict[str, Any]:
    """The raw mapping of a params file (``yaml.safe_load``); the one place params YAML is read.

    A missing file is ``{}`` when ``missing_ok`` and otherwise an error, as is a file that is not YAML or not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        if missing_ok and not path.exists():
            return {}
        raise InputError(path, "file not found" if not path.exists() else "not a file", "missing_params")
    try:
        raw = yaml.safe_load(read_user_text(path, "params"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise InputError(path, f"{where}not valid YAML", "bad_params") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(path, f"expected a mapping at the top level, got {type(raw).__name__}", "bad_params")
    return raw


def load_params(
    path: str | Path | None = DEFAULT_PARAMS,
    overrides: dict[str, Any] | None = None,
    *,
    missing_ok: bool | None = None,
    context: dict[str, Any] | None = None,
) -> Params:
    """Read a params file, apply dotted ``overrides`` (``{"pretrain.lr": 0.1}``) and validate the result.

    Every command turns its options into such overrides. ``path`` must exist, except the default ``params.yaml``,
    whose absence means defaults (``missing_ok`` decides instead when given); ``None`` reads no file at all.
    ``context``: as for :func:`parse_params` (``mannequin.stages.params.load_params`` gives the objective registry).
    """
    raw: dict[str, Any] = {}
    source: str | Path = "params"
    if path is not None:
        path = Path(path)
        raw = read_params_yaml(path, path == DEFAULT_PARAMS if missing_ok is None else missing_ok)
        source = path
    for dotted, value in (overrides or {}).items():
        raw = _set_dotted(raw, dotted, value)
    return parse_params(raw, source, context)


def cli_overrides(block: str, **options: Any) -> dict[str, Any]:
    """Dotted overrides of ``block`` from the command-line options that were given (``None``: not given).

    ``cli_overrides("pretrain", out=Path("m"), runs=None)`` is ``{"pretrain.out": "m"}``: paths become strings.
    """
    return {
        f"{block}.{key}": str(value) if isinstance(value, Path) else value
        for key, value in options.items()
        if value is not None
    }


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    node = raw
    keys = dotted.split(".")
    for key in keys[:-1]:
        if node.get(key) is None:  # absent, or an empty block (``pretrain:`` alone)
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return raw
