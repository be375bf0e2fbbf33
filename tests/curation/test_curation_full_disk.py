"""Issue 12, item 6: a full output disk is one line naming the shard, exit code 2, no retry, the run stops there;
finished shards stay whole and no partial one is left."""

from __future__ import annotations

import contextlib
import errno
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.curation import curate, shards
from tests.helpers.curation import copy_data


def fill_disk_on_write(monkeypatch, failing: int, error: OSError) -> list[str]:
    """Shard writes after the ``failing``-th raise ``error`` half-way (a file half written); returns the clips tried."""
    tried: list[str] = []
    real = shards.shard_writer

    @contextlib.contextmanager
    def writer(root, clip_id):
        tried.append(clip_id)
        with real(root, clip_id) as tmp:
            yield tmp
            if len(tried) >= failing:
                (tmp / "images.npy").write_bytes(b"\x93NUMPY half")
                raise error

    monkeypatch.setattr(shards, "shard_writer", writer)
    return tried


def clips_started(monkeypatch, module) -> list[str]:
    started: list[str] = []
    real = module.curate_clip

    def counting(job, *args, **kwargs):
        started.append(job.clip_id)
        return real(job, *args, **kwargs)

    monkeypatch.setattr(module, "curate_clip", counting)
    return started


def assert_stopped_cleanly(out: Path) -> None:
    assert [p.name for p in (out / "shards").iterdir()] == ["good_a"]  # the finished shard, whole
    assert (out / "shards" / "good_a" / "meta.json").is_file()
    assert not any((out / shards.TMP_DIR).iterdir()) if (out / shards.TMP_DIR).exists() else True
    assert not (out / "clips.csv").exists()  # the run stopped: no table claims a complete curation


def test_full_disk_is_one_line_and_stops_the_serial_run(clean_data, tmp_path, tiny_params, monkeypatch):
    data = copy_data(clean_data, tmp_path / "data")
    (data / "clips" / "good_c").symlink_to(data / "clips" / "good_a", target_is_directory=True)
    (data / "splits.csv").write_text((data / "splits.csv").read_text() + "good_c,unlabeled\n")
    tried = fill_disk_on_write(monkeypatch, 2, OSError("172800 requested and 35808 written"))  # numpy's short write
    started = clips_started(monkeypatch, curate)
    out = tmp_path / "curated"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"curate": tiny_params.model_dump(mode="json")}))
    res = CliRunner().invoke(app, ["curate", "--data", str(data), "--out", str(out), "--params", str(params),
                                   "--runner", "serial", "--no-progress"])  # fmt: skip
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        f"mannequin: error: {out / 'shards' / 'good_b'}: no space left on device"
    ]
    assert tried == ["good_a", "good_b"] and started == ["good_a", "good_b"]  # good_c and held_t never started
    assert_stopped_cleanly(out)


def test_out_of_space_is_recognised_by_errno_and_by_numpys_message():
    assert shards.is_out_of_space(OSError(errno.ENOSPC, "No space left on device"))
    assert shards.is_out_of_space(OSError(errno.EFBIG, "File too large"))  # RLIMIT_FSIZE under Python
    assert shards.is_out_of_space(OSError("172800 requested and 35808 written"))
    assert not shards.is_out_of_space(OSError(errno.EACCES, "Permission denied"))
    assert not shards.is_out_of_space(ValueError("172800 requested and 35808 written"))


@pytest.mark.slow
def test_full_disk_under_prefect_is_not_retried_and_stops_the_run(clean_data, tmp_path, tiny_params, monkeypatch):
    import mannequin.stages.curate_flow as flow_module

    data = copy_data(clean_data, tmp_path / "data")
    tried = fill_disk_on_write(monkeypatch, 2, OSError(errno.ENOSPC, "No space left on device"))
    started = clips_started(monkeypatch, flow_module)
    params = tiny_params.model_copy(update={"workers": 1, "retries": 2, "retry_delay_s": 0.0})
    out = tmp_path / "curated"
    with pytest.raises(shards.OutOfSpace) as err:
        flow_module.run_curate(data=str(data), out=str(out), params=params.model_dump(mode="json"))
    assert str(err.value) == f"{out / 'shards' / 'good_b'}: no space left on device"
    assert tried == ["good_a", "good_b"]  # retries: 2, and not one retry of the full disk
    assert started == ["good_a", "good_b"]  # held_t, queued behind them, never started
    assert_stopped_cleanly(out)
    assert (
        json.loads((out / ".cache" / next((out / ".cache").iterdir()).name).read_text())["row"]["clip_id"] == "good_a"
    )


def test_a_real_file_size_limit_is_named_as_a_full_disk(clean_data, tmp_path, tiny_params):
    """No monkeypatching: ``RLIMIT_FSIZE`` in a real ``mannequin curate`` process makes the shard write fail
    (Python ignores SIGXFSZ, so the write gets EFBIG) once a file passes the limit: ``images.npy`` of a 64x48 clip
    fits, ``depth.npy`` does not."""
    import subprocess
    import sys

    data = copy_data(clean_data, tmp_path / "data")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"curate": tiny_params.model_dump(mode="json")}))
    out = tmp_path / "curated"
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))\n"
        "from mannequin.cli import main\n"
        "sys.argv = ['mannequin', *sys.argv[1:]]\n"
        "main()\n"
    )
    cmd = [sys.executable, "-c", script, "curate", "--data", str(data), "--out", str(out),
           "--params", str(tmp_path / "params.yaml"), "--runner", "serial", "--no-progress"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    assert res.stderr.splitlines() == [f"mannequin: error: {out / 'shards' / 'good_a'}: no space left on device"]
    assert not (out / "shards").exists() or not any((out / "shards").iterdir())  # nothing half written
    assert not (out / shards.TMP_DIR).exists() or not any((out / shards.TMP_DIR).iterdir())
