"""Issue 12, item 5: a run killed mid-epoch and re-run exports the very bytes of an uninterrupted run.

Real processes run the real ``mannequin pretrain`` / ``finetune`` command. The interrupted one is
SIGKILLed by itself at the start of the step after a periodic ``last.ckpt`` (a driver adds one
callback to the trainer; nothing else changes), so the kill lands mid-epoch, after Lightning has
already fetched the next batch, with loader workers running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

EXPORTS = ("model.pt", "backbone.pt", "model.json", "metrics.json")

DRIVER = """
import os, signal, sys
import pytorch_lightning as pl
import mannequin.learning.fit as train

KILL_AT = int(os.environ["KILL_AT_STEP"])


class KillAfterCheckpoint(pl.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == KILL_AT:  # last.ckpt of step KILL_AT is on disk; the next batch is fetched
            os.kill(os.getpid(), signal.SIGKILL)


build = train.build_trainer


def build_with_kill(tp, run_dir, monitor, progress, extra_callbacks=None, validate=True):
    return build(tp, run_dir, monitor, progress, [*(extra_callbacks or []), KillAfterCheckpoint()], validate)


train.build_trainer = build_with_kill
from mannequin.cli import main

sys.argv = ["mannequin", *sys.argv[1:]]
main()
"""


def _params(tmp: Path, data: dict[str, Path]) -> Path:
    trainer = {"accelerator": "cpu", "checkpoint_every_n_steps": 5, "val_every_n_epochs": 1, "log_every_n_steps": 2,
               "image_every_n_steps": 7}  # fmt: skip
    params = {
        "pretrain": {
            "curated": str(data["curated"]),
            "data": str(data["data"]),
            "net": {"width": 4, "depth": 3},
            "batch_size": 4,  # 4 train clips x 6 frames: 6 batches an epoch, so step 15 is mid-epoch
            "num_workers": 1,
            "image_size": [32, 24],
            "trainer": {**trainer, "max_steps": 20},
        },
        "finetune": {
            "data": str(data["data"]),
            "batch_size": 4,  # 20 batches an epoch: step 25 is mid-epoch
            "image_size": [32, 24],
            "val_frames": 2,
            "trainer": {**trainer, "max_steps": 30},
        },
    }
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _cmd(tmp: Path, name: str, args: list[str], kill_at: int | None = None) -> subprocess.Popen:
    """Start ``mannequin <args>`` in ``tmp`` with its outputs under ``name/``; ``kill_at``: through the driver."""
    folders = ["--out", f"{name}/models", "--runs", f"{name}/runs"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if kill_at is None:
        cmd = [str(Path(sys.executable).parent / "mannequin"), *args, *folders]
    else:
        (tmp / "driver.py").write_text(DRIVER)
        cmd = [sys.executable, str(tmp / "driver.py"), *args, *folders]
        env["KILL_AT_STEP"] = str(kill_at)
    return subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out + err


def _kill_resume_compare(tmp: Path, args: list[str], tag: str, run: str, kill_at: int, per_epoch: int) -> None:
    whole = _cmd(tmp, "whole", args)
    killed = _cmd(tmp, "cut", args, kill_at)
    code, log = _finish(killed)
    assert code == -signal.SIGKILL, log[-3000:]
    ckpt = torch.load(tmp / "cut" / "runs" / run / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == kill_at and kill_at % per_epoch != 0  # a periodic checkpoint, mid-epoch
    assert ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"] == [
        {"epoch": kill_at // per_epoch, "batches": kill_at % per_epoch}
    ]
    assert not (tmp / "cut" / "models" / tag).exists()
    code, log = _finish(_cmd(tmp, "cut", args))  # the same command again: it resumes
    assert code == 0 and "(resumed)" in log, log[-3000:]
    code, log = _finish(whole)
    assert code == 0 and "(resumed)" not in log, log[-3000:]
    for name in EXPORTS:
        resumed, uninterrupted = tmp / "cut" / "models" / tag / name, tmp / "whole" / "models" / tag / name
        assert resumed.read_bytes() == uninterrupted.read_bytes(), name


@pytest.mark.slow
def test_pretraining_killed_mid_epoch_resumes_to_the_uninterrupted_bytes(
    tmp_path: Path, learning_data: dict[str, Path]
) -> None:
    params = _params(tmp_path, learning_data)
    objective = "mvs+masked+contrastive+correspondence"  # random pairs, masks, partners, augmentation all draw
    args = ["pretrain", "--objective", objective, "--params", str(params), "--no-progress"]
    _kill_resume_compare(tmp_path, args, objective, f"pretrain-{objective}", kill_at=15, per_epoch=6)


@pytest.mark.slow
def test_finetuning_killed_mid_epoch_resumes_to_the_uninterrupted_bytes(
    tmp_path: Path, learning_data: dict[str, Path]
) -> None:
    params = _params(tmp_path, learning_data)
    args = ["finetune", "--init", "scratch", "--budget", "4", "--params", str(params), "--no-progress"]
    _kill_resume_compare(tmp_path, args, "scratch-4", "finetune-scratch-4", kill_at=25, per_epoch=20)
