"""Run DVC commands as subprocesses (argument lists, never a shell) and classify what they did."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from mannequin.env import dvc_site_cache_dir
from mannequin.errors import InputError
from mannequin.orchestration.dvc_graph import stage_up_to_date

StageStatus = Literal["ran", "skipped", "restored"]
TAIL_LINES = 25
LOG_DIR = Path(".dvc") / "tmp" / "pipeline-logs"


class DvcCommandFailed(RuntimeError):
    """A ``dvc`` command exited non-zero; the message ends with the tail of its output."""

    def __init__(self, what: str, returncode: int, tail: str, log_path: Path | None = None) -> None:
        self.what, self.returncode, self.tail, self.log_path = what, returncode, tail, log_path
        where = f" (full log: {log_path})" if log_path else ""
        super().__init__(f"{what} failed with exit code {returncode}{where}; last lines:\n{tail}")


class StageFailed(DvcCommandFailed):
    """``dvc repro`` of one stage failed."""

    def __init__(self, stage: str, returncode: int, tail: str, log_path: Path | None = None) -> None:
        self.stage = stage
        super().__init__(f"stage '{stage}'", returncode, tail, log_path)


@dataclass(frozen=True)
class StageResult:
    """What ``dvc repro --single-item`` did with one stage."""

    stage: str
    status: StageStatus
    seconds: float
    log_path: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dvc_env(repo: str | Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for DVC subprocesses: this interpreter's bin first on PATH, quiet, offline, state in repo."""
    env = dict(os.environ)
    if repo is not None:
        env.setdefault("DVC_SITE_CACHE_DIR", str(dvc_site_cache_dir(repo)))
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.setdefault("DVC_NO_ANALYTICS", "1")
    env.setdefault("DO_NOT_TRACK", "1")
    env.update(extra or {})
    return env


def _safe_name(stage: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", stage).strip("_") or "stage"


def dvc_command(
    repo: str | Path,
    args: Sequence[str],
    *,
    log_path: str | Path | None = None,
    what: str | None = None,
) -> str:
    """Run ``dvc ARGS`` in ``repo``; return its output (stdout and stderr merged).

    The output streams into ``log_path`` when given (so long stages can be followed with ``tail -f``);
    a non-zero exit raises :class:`DvcCommandFailed` with the last lines of output.
    """
    root = Path(repo).resolve()
    if not root.is_dir():
        raise InputError(root, "repository folder not found", "missing_repo")
    cmd = [sys.executable, "-m", "dvc", *args]
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    chunks: list[str] = []
    log = None
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    try:
        with subprocess.Popen(
            cmd,
            cwd=root,
            env=dvc_env(root),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                chunks.append(line)
                tail.append(line.rstrip("\n"))
                if log is not None:
                    log.write(line)
                    log.flush()
            returncode = proc.wait()
    finally:
        if log is not None:
            log.close()
    if returncode != 0:
        raise DvcCommandFailed(what or "dvc " + " ".join(args), returncode, "\n".join(tail), _opt(log_path))
    return "".join(chunks)


def _opt(path: str | Path | None) -> Path | None:
    return Path(path) if path is not None else None


def classify(stage: str, output: str) -> StageStatus:
    """Read DVC's own words: did it run the stage, skip it, or restore it from the run cache?"""
    quoted = re.escape(f"'{stage}'")
    if re.search(rf"Stage {quoted} is cached - skipping run", output):
        return "restored"
    if re.search(rf"Running stage {quoted}", output):
        return "ran"
    if re.search(rf"{quoted} didn't change, skipping", output):
        return "skipped"
    # DVC did not say: only "ran" is safe (it never claims a cache hit that did not happen).
    return "ran"


def run_stage(
    repo: str | Path,
    stage: str,
    *,
    force: bool = False,
    precheck: bool = True,
    log_dir: str | Path | None = None,
) -> StageResult:
    """``dvc repro --single-item STAGE`` (DVC decides whether to skip); :class:`StageFailed` on failure.

    With ``precheck``, DVC's status is asked first in process and a clean stage is reported
    ``skipped`` without starting ``dvc`` (saves about a second per cached stage). The full log goes
    to ``<repo>/.dvc/tmp/pipeline-logs/<stage>.log`` (DVC git-ignores ``.dvc/tmp``).
    """
    root = Path(repo).resolve()
    log_path = Path(log_dir or root / LOG_DIR) / f"{_safe_name(stage)}.log"
    start = time.perf_counter()
    if precheck and not force and stage_up_to_date(root, stage):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"Stage '{stage}' is up to date (dvc status), skipping\n", encoding="utf-8")
        return StageResult(stage, "skipped", round(time.perf_counter() - start, 3), str(log_path))
    args = ["repro", "--single-item", *(["--force"] if force else []), stage]
    try:
        output = dvc_command(root, args, log_path=log_path, what=f"stage '{stage}'")
    except DvcCommandFailed as exc:
        raise StageFailed(stage, exc.returncode, exc.tail, exc.log_path) from None
    return StageResult(stage, classify(stage, output), round(time.perf_counter() - start, 3), str(log_path))


def dvc_json(repo: str | Path, args: Sequence[str]) -> Any:
    """Run ``dvc ARGS`` (a ``--json`` command) and parse its stdout; DVC's warnings on stderr are left out."""
    root = Path(repo).resolve()
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=root,
        env=dvc_env(root),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-TAIL_LINES:])
        raise DvcCommandFailed("dvc " + " ".join(args), proc.returncode, tail)
    return json.loads(proc.stdout or "null")


def experiment_run(
    repo: str | Path,
    name: str,
    *,
    set_params: Iterable[str] = (),
    targets: Iterable[str] = (),
    force: bool = False,
) -> str:
    """``dvc exp run --name NAME [-S k=v ...] [targets]``: the whole DAG in one DVC process, as an experiment."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name):
        raise InputError(name, "experiment name must match [A-Za-z0-9][A-Za-z0-9_.-]*", "bad_exp_name")
    args = ["exp", "run", "--name", name, *(["--force"] if force else [])]
    for item in set_params:
        args += ["-S", item]
    args += list(targets)
    root = Path(repo).resolve()
    return dvc_command(root, args, log_path=root / LOG_DIR / f"exp-{name}.log", what=f"experiment '{name}'")
