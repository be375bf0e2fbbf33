"""Data-quality gates: Great Expectations 1.x suites on the clip table and on the curated frames.

Both run in an ephemeral GX context on pandas DataFrames. A failed gate fails the curate stage
with one line per failed expectation; the full validation results are written as JSON to
``curated/validation/<suite>.json``. GX's HTML Data Docs load Bootstrap and jQuery from a CDN,
so they do not render offline and are not written.

The validation JSON holds run times and random ids, so it differs between identical runs:
keep it out of byte-identical comparisons (``cache: false`` in dvc.yaml).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.clips.ids import CLIP_ID_PATTERN
from mannequin.config.curate import GateParams
from mannequin.curation.rules import DEFAULT, Registry
from mannequin.curation.shards import list_shards
from mannequin.curation.table import ClipRow, columns

VALIDATION_DIR = "validation"
#: GX logs at INFO, on every ephemeral context, the temporary folder of a docs site we never build.
_QUIET_GX_LOGGERS = ("great_expectations.data_context.types.base",)
SPLITS = ["unlabeled", "labeled", "test", ""]


@dataclass(frozen=True)
class GateResult:
    """One suite's outcome: success, one line per failed expectation, and the full GX result."""

    suite: str
    success: bool
    failures: list[str] = field(default_factory=list)
    evaluated: int = 0

    def summary(self) -> str:
        head = f"gate {self.suite}: {'passed' if self.success else 'FAILED'} ({self.evaluated} expectations)"
        return "\n".join([head, *[f"  {line}" for line in self.failures]])


class GateFailure(Exception):
    """A data-quality gate failed; ``str()`` is the readable summary, one line per failed expectation.

    ``summary`` and ``timings`` are the run's (``summary.json``, ``timings.json``), for the closing lines.
    """

    def __init__(self, gates: list[GateResult], summary: dict | None = None, timings: dict | None = None) -> None:
        self.gates = gates
        self.summary = summary
        self.timings = timings
        failed = [g for g in gates if not g.success]
        super().__init__("\n".join(g.summary() for g in failed))


def clip_table_frame(rows: list[ClipRow], registry: Registry = DEFAULT):
    """The clip table as a DataFrame with typed columns (scores float, ``None`` as NaN)."""
    import pandas as pd

    df = pd.DataFrame([r.to_dict() for r in rows], columns=list(columns(registry)))
    for col in registry.columns:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    df["accepted"] = df["accepted"].astype(bool)
    return df


def frame_table(out_dir: str | Path):
    """One row per curated frame: coverage, invalid depth count, confidence range."""
    import pandas as pd

    records = []
    for shard in list_shards(out_dir):
        depth, conf = np.asarray(shard.depth), np.asarray(shard.confidence)
        for i in range(len(shard)):
            d, c = depth[i], conf[i]
            valid = ~np.isnan(d)
            records.append(
                {
                    "clip_id": shard.clip_id,
                    "frame": i,
                    "coverage": float(valid.mean()),
                    "bad_depth": int(np.count_nonzero(valid & ~(np.isfinite(d) & (d > 0)))),
                    "confidence_min": float(np.nanmin(c)) if np.isfinite(c).any() else float("nan"),
                    "confidence_max": float(np.nanmax(c)) if np.isfinite(c).any() else float("nan"),
                    "confidence_nan": int(np.count_nonzero(~np.isfinite(c))),
                }
            )
    cols = ["clip_id", "frame", "coverage", "bad_depth", "confidence_min", "confidence_max", "confidence_nan"]
    return pd.DataFrame.from_records(records, columns=cols)


def clip_table_suite(gates: GateParams, registry: Registry = DEFAULT) -> list:
    """Expectations on ``clips.csv``: its columns, ids, splits, score ranges and nulls, and no test clip accepted."""
    import great_expectations as gx

    E = gx.expectations
    accepted = {"row_condition": "accepted==True", "condition_parser": "pandas"}
    suite: list = []
    suite.append(E.ExpectTableColumnsToMatchOrderedList(column_list=list(columns(registry))))
    suite.append(E.ExpectColumnValuesToNotBeNull(column="clip_id"))
    suite.append(E.ExpectColumnValuesToBeUnique(column="clip_id"))
    suite.append(E.ExpectColumnValuesToMatchRegex(column="clip_id", regex=f"^{CLIP_ID_PATTERN.pattern}$", **accepted))
    suite.append(E.ExpectColumnValuesToBeInSet(column="split", value_set=SPLITS))
    for col, (lo, hi) in registry.ranges.items():
        suite.append(E.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi))
    for col in registry.required_when_accepted:
        suite.append(E.ExpectColumnValuesToNotBeNull(column=col, **accepted))
    suite.append(E.ExpectColumnValuesToBeInSet(column="reason", value_set=[""], **accepted))
    suite.append(
        E.ExpectColumnValuesToBeInSet(
            column="accepted", value_set=[False], row_condition='split=="test"', condition_parser="pandas"
        )
    )
    return suite


def accepted_share_warning(summary: dict, gates: GateParams) -> str | None:
    """The warning when fewer than ``gates.warn_accepted_below`` of the candidate clips were accepted, else None.

    Not a gate: a batch of real footage is mostly rejected for good reasons, and its reasons are in clips.csv."""
    share, candidates = summary["accepted_fraction"], summary["candidates"]
    if not candidates or share >= gates.warn_accepted_below:
        return None
    return (
        f"{summary['accepted']} of {candidates} candidate clips accepted ({share:.0%}), below "
        f"curate.gates.warn_accepted_below ({gates.warn_accepted_below:.0%}): see the reasons in clips.csv"
    )


def frames_suite(gates: GateParams, accepted_ids: list[str]) -> list:
    """Expectations on the curated frames (one row per frame of every shard)."""
    import great_expectations as gx

    E = gx.expectations
    suite: list = []
    suite.append(E.ExpectColumnDistinctValuesToEqualSet(column="clip_id", value_set=sorted(accepted_ids)))
    suite.append(E.ExpectColumnValuesToBeBetween(column="coverage", min_value=gates.min_frame_coverage, max_value=1.0))
    suite.append(E.ExpectColumnValuesToBeBetween(column="bad_depth", min_value=0, max_value=0))
    suite.append(E.ExpectColumnValuesToBeBetween(column="confidence_min", min_value=0.0, max_value=1.0))
    suite.append(E.ExpectColumnValuesToBeBetween(column="confidence_max", min_value=0.0, max_value=1.0))
    suite.append(E.ExpectColumnValuesToBeBetween(column="confidence_nan", min_value=0, max_value=0))
    return suite


def _describe(res) -> str:
    cfg = res.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id", "condition_parser")}
    where = ""
    if "row_condition" in kwargs:
        cond = kwargs.pop("row_condition")
        where = f" where {cond.get('pass_through_filter', cond) if isinstance(cond, dict) else cond}"
    column = kwargs.pop("column", None)
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "column_list")
    head = f"{cfg.type}({column + (', ' if args else '') if column else ''}{args}){where}"
    result = res.result or {}
    if res.exception_info and res.exception_info.get("raised_exception"):
        return f"{head}: error {str(res.exception_info.get('exception_message'))[:160]}"
    if result.get("unexpected_count"):
        examples = ", ".join(str(v) for v in (result.get("partial_unexpected_list") or [])[:3])
        return f"{head}: {result['unexpected_count']} unexpected values (e.g. {examples})"
    if "observed_value" in result:
        return f"{head}: observed {result['observed_value']}"
    return head


def validate(expectations: list, df, name: str, out_dir: Path) -> GateResult:
    """Run the suite ``name`` of ``expectations`` on ``df`` in an ephemeral GX context; write its JSON result."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for logger_name in _QUIET_GX_LOGGERS:
        logging.getLogger(logger_name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_def = (
        context.data_sources.add_pandas(name).add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    result = batch_def.get_batch(batch_parameters={"dataframe": df}).validate(suite)
    document = json.dumps(result.to_json_dict(), indent=1, sort_keys=True, default=str)
    atomic_write_text(out_dir / VALIDATION_DIR / f"{suite.name}.json", document + "\n")
    failures = [_describe(r) for r in result.results if not r.success]
    return GateResult(suite.name, bool(result.success), failures, len(result.results))


def run_gates(
    out_dir: str | Path, rows: list[ClipRow], gates: GateParams, registry: Registry = DEFAULT
) -> list[GateResult]:
    """Run both suites; results land in ``out_dir/validation``."""
    out_dir = Path(out_dir)
    accepted_ids = [r.clip_id for r in rows if r.accepted]
    return [
        validate(clip_table_suite(gates, registry), clip_table_frame(rows, registry), "clip_table", out_dir),
        validate(frames_suite(gates, accepted_ids), frame_table(out_dir), "curated_frames", out_dir),
    ]
