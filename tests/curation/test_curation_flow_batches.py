"""The Prefect curate flow runs clips in batches (issue 16): the same table as the library loop, and a clip that
raises inside its batch is retried alone (``1 + curate.retries`` attempts in all) while its batch goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.curation.curate import curate_dataset
from tests.helpers.curation import copy_data


def test_batches_share_tasks_but_keep_enough_for_every_worker() -> None:
    from mannequin.orchestration.task_batches import MAX_BATCH, batch_size

    assert batch_size(3, 1) == 1 and batch_size(3, 2) == 1  # few clips: one per task, as before
    assert batch_size(8, 1) == 2 and batch_size(16, 2) == 2
    assert batch_size(256, 2) == MAX_BATCH == 8  # 32 tasks for 256 clips
    assert batch_size(10_000, 4) == MAX_BATCH


def _data(clean_data: Path, tmp_path: Path) -> Path:
    """The two clean clips and the test clip, plus three more clips that are copies of good_a under other ids."""
    data = copy_data(clean_data, tmp_path / "data")
    extra = ["good_c", "good_d", "good_e"]
    for clip_id in extra:
        (data / "clips" / clip_id).symlink_to(data / "clips" / "good_a", target_is_directory=True)
    (data / "splits.csv").write_text((data / "splits.csv").read_text() + "".join(f"{c},unlabeled\n" for c in extra))
    return data


def _failing(monkeypatch, module, real, clip_id: str, times: int) -> list[str]:
    """``module.curate_clip`` raises for ``clip_id`` its first ``times`` calls, else is ``real``; returns every
    clip started, in order."""
    started: list[str] = []

    def flaky(job, *args, **kwargs):
        started.append(job.clip_id)
        if job.clip_id == clip_id and started.count(clip_id) <= times:
            raise RuntimeError(f"injected failure {started.count(clip_id)}")
        return real(job, *args, **kwargs)

    monkeypatch.setattr(module, "curate_clip", flaky)
    return started


def _run(flow_module, data: Path, out: Path, params) -> tuple[dict, str]:
    flow_module.run_curate(data=str(data), out=str(out), params=params.model_dump(mode="json"))
    return json.loads((out / "timings.json").read_text()), (out / "clips.csv").read_text()


@pytest.mark.slow
def test_a_clip_failing_in_its_batch_is_retried_alone(clean_data, tmp_path, tiny_params, monkeypatch):
    import mannequin.stages.curate_flow as flow_module

    data = _data(clean_data, tmp_path)
    plain = tmp_path / "plain"
    curate_dataset(data, plain, tiny_params)
    table = (plain / "clips.csv").read_text()
    real = flow_module.curate_clip
    monkeypatch.setattr(flow_module, "batch_size", lambda clips, workers: 3)  # 6 clips: two batches of 3
    params = tiny_params.model_copy(update={"workers": 1, "retries": 2, "retry_delay_s": 0.0})

    started = _failing(monkeypatch, flow_module, real, "good_b", times=2)
    timings, got = _run(flow_module, data, tmp_path / "retried", params)
    assert (timings["executed"], timings["failed"]) == (6, 0)
    assert started.count("good_b") == 3  # failed in its batch, failed alone once, then passed (retries: 2)
    assert started[:3] == ["good_a", "good_b", "good_c"]  # its batch went on after good_b failed
    assert got == table

    started = _failing(monkeypatch, flow_module, real, "good_b", times=99)
    params = params.model_copy(update={"retries": 1})
    timings, got = _run(flow_module, data, tmp_path / "failed", params)
    assert (timings["executed"], timings["failed"]) == (5, 1)
    assert started.count("good_b") == 2  # 1 + retries attempts
    rows = {line.split(",")[0]: line for line in got.splitlines()[1:]}
    assert "curation_error: RuntimeError: injected failure 2" in rows["good_b"]
    others = {k: v for k, v in rows.items() if k != "good_b"}
    assert others == {line.split(",")[0]: line for line in table.splitlines()[1:] if not line.startswith("good_b")}
