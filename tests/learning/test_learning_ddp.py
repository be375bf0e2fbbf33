"""Pretraining under DDP on 2 CPU processes (gloo), run through the CLI so Lightning can re-launch it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml


@pytest.mark.slow
def test_pretrain_ddp_two_cpu_processes(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    params = {
        "pretrain": {
            "net": {"width": 4, "depth": 3},
            "batch_size": 2,
            "image_size": [32, 24],
            "trainer": {"accelerator": "cpu", "devices": 2, "strategy": "ddp", "max_steps": 4,
                        "val_every_n_epochs": 1, "log_every_n_steps": 1},
        }
    }  # fmt: skip
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    exe = Path(sys.executable).parent / "mannequin"
    cmd = [str(exe), "pretrain", "--objective", "mvs+contrastive", "--params", "params.yaml", "--no-progress",
           "--curated", str(learning_data["curated"]), "--data", str(learning_data["data"]),
           "--out", "models/pretrain", "--runs", "runs"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PL_DISABLE_FORK": "1"}
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "models" / "pretrain" / "mvs+contrastive"
    meta = json.loads((out / "model.json").read_text())
    assert meta["steps"] == 4 and meta["world_size"] == 2 and meta["objectives"] == ["mvs", "contrastive"]
    assert "mvs+contrastive: 4 steps" in proc.stdout
    # the checkpoint was written by a 2-process run
    ckpt = torch.load(tmp_path / "runs" / "pretrain-mvs+contrastive" / "last.ckpt", weights_only=False)
    assert ckpt["global_step"] == 4
    torch.load(out / "backbone.pt", weights_only=True)
