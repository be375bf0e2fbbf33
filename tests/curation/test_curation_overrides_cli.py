"""Human overrides, and the ``mannequin curate`` command's exit codes (2 bad input, 1 failed gate)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.curation.curate import curate_dataset, plan_curation
from mannequin.curation.overrides import read_overrides
from mannequin.curation.table import read_clip_table
from mannequin.errors import InputError
from tests.helpers.curation import copy_data, write_splits


def overrides_file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_override_file_errors_are_one_line(tmp_path):
    cases = {
        "force_accept: [{clip_id: a}]\nforce_reject: [{clip_id: a}]\n": "listed twice",
        "force_accept: [{note: x}]\n": "clip_id",
        "force_maybe: []\n": "unknown key 'force_maybe'",
        "force_reject: [{clip_id: 'no/slash'}]\n": "not a valid clip id",
        "force_reject: [{clip_id: a, why: b}]\n": "unknown key 'why'",
        "force_accept: {clip_id: a}\n": "expected a list",
    }
    for k, (text, words) in enumerate(cases.items()):
        with pytest.raises(InputError, match=words) as err:
            read_overrides(overrides_file(tmp_path / f"o{k}.yaml", text))
        assert err.value.code == "bad_overrides" and "\n" not in str(err.value)
    ok = read_overrides(overrides_file(tmp_path / "ok.yaml", "force_reject: [{clip_id: b, note: mirror}, c]\n"))
    assert str(ok.get("b")) == "force_reject: mirror" and ok.get("c").note == "" and ok.unknown({"b"}) == ["c"]


def test_overrides_force_in_and_out_and_never_accept_a_test_clip(clean_data, tmp_path, tiny_params):
    data = copy_data(clean_data, tmp_path / "data")
    shutil.rmtree(data / "clips" / "good_b")
    write_splits(data, {"good_a": "unlabeled", "held_t": "test"})
    strict = tiny_params.model_copy(update={"quality": tiny_params.quality.model_copy(update={"min_coverage": 0.99})})

    params = strict.model_copy(
        update={"overrides": str(overrides_file(tmp_path / "o.yaml", "force_accept: [{clip_id: held_t, note: x}]\n"))}
    )
    with pytest.raises(InputError, match="test clips never reach training"):
        plan_curation(data, params)

    text = "force_accept:\n  - {clip_id: good_a, note: checked by hand}\n"
    text += "force_reject:\n  - {clip_id: gone, note: removed}\n"
    params = strict.model_copy(update={"overrides": str(overrides_file(tmp_path / "o.yaml", text))})
    out = tmp_path / "out"
    outcome = curate_dataset(data, out, params, run_gates=False)
    row = read_clip_table(out / "clips.csv").set_index("clip_id").loc["good_a"]
    assert row["accepted"] and row["reason"] == "" and row["override"] == "force_accept: checked by hand"
    assert row["auto_reason"].startswith("low_coverage:")  # the automatic decision stays on record
    assert (out / "shards" / "good_a" / "meta.json").is_file()
    assert outcome.summary["unknown_override_ids"] == ["gone"] and outcome.summary["overrides"] == 1

    text = "force_reject:\n  - {clip_id: good_a, note: mirror wall}\n"
    params = tiny_params.model_copy(update={"overrides": str(overrides_file(tmp_path / "o.yaml", text))})
    curate_dataset(data, out, params, run_gates=False)
    row = read_clip_table(out / "clips.csv").set_index("clip_id").loc["good_a"]
    assert not row["accepted"] and row["reason"] == "override_reject: mirror wall" and row["auto_reason"] == ""
    assert not (out / "shards" / "good_a").exists()  # the shard of a clip no longer accepted is removed


def test_cli_exit_codes(tmp_path, clean_data, tiny_params, monkeypatch):
    runner = CliRunner()
    res = runner.invoke(app, ["curate", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "nope: data folder not found" in res.output and "Traceback" not in res.output

    data = tmp_path / "data"
    (data / "clips").mkdir(parents=True)
    bad_params = overrides_file(tmp_path / "params.yaml", "curate:\n  max_frames: many\n")
    res = runner.invoke(app, ["curate", "--data", str(data), "--params", str(bad_params)])
    assert res.exit_code == 2 and "curate.max_frames" in res.output

    # a gate catches broken data: here a frames stage that reports a sharpness outside [0, 1] fails the stage
    import yaml

    from mannequin.curation import stages

    real = stages.STAGE_FUNCTIONS["frames"]
    monkeypatch.setitem(stages.STAGE_FUNCTIONS, "frames", lambda state: {**real(state), "sharpness": 2.0})
    params = tmp_path / "tiny.yaml"
    params.write_text(yaml.safe_dump({"curate": tiny_params.model_dump(mode="json")}))
    res = runner.invoke(app, ["curate", "--data", str(clean_data), "--out", str(tmp_path / "o"), "--params",
                              str(params), "--runner", "serial", "--no-progress"])  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "gate clip_table: FAILED" in res.output
    assert "expect_column_values_to_be_between(sharpness, min_value=0.0, max_value=1.0" in res.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["candidates"] == 2  # outputs stay for inspection
    assert (tmp_path / "o" / "validation" / "clip_table.json").is_file()


def test_accept_all_keeps_rejected_clips_but_never_test_clips(clean_data, tmp_path, tiny_params):
    """The curation ablation: every readable non-test clip gets a shard; the automatic reason stays on record."""
    strict = tiny_params.model_copy(update={"quality": tiny_params.quality.model_copy(update={"min_coverage": 0.99})})
    out = tmp_path / "strict"
    curate_dataset(clean_data, out, strict, run_gates=False)
    assert not read_clip_table(out / "clips.csv")["accepted"].any()

    out = tmp_path / "all"
    curate_dataset(clean_data, out, strict.model_copy(update={"accept_all": True}), run_gates=False)
    rows = read_clip_table(out / "clips.csv").set_index("clip_id")
    assert rows.loc["good_a", "accepted"] and rows.loc["good_b", "accepted"]
    assert rows.loc["good_a", "auto_reason"].startswith("low_coverage:")
    assert not rows.loc["held_t", "accepted"] and rows.loc["held_t", "reason"].startswith("held_out_test")
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["good_a", "good_b"]


def test_prefect_does_not_print_a_traceback_for_a_failed_gate():
    """The CLI reports a failed gate in a few lines; Prefect's engine log of the same exception is dropped."""
    import logging
    import sys

    from mannequin.curation.gates import GateFailure
    from mannequin.stages.curate import drop_gate_failure_tracebacks

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            info = sys.exc_info()
        return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, "Encountered exception", (), info)

    assert not drop_gate_failure_tracebacks(record(GateFailure([])))
    assert drop_gate_failure_tracebacks(record(RuntimeError("a real crash keeps its traceback")))
    plain = logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, "gate clip_table: FAILED", (), None)
    assert drop_gate_failure_tracebacks(plain)
