"""A battery of bad inputs and faults, tried as a new user and as an attacker would (issue 26).

Every case runs one real command on a fresh copy of a small real workspace (a rendered sample, a real video, an
exported model, a params file) after breaking one thing, and must end the same way: exit code 2, one line on stderr
``mannequin: error: <the file>: <the problem>``, no traceback, and every file that was there before the command
unchanged, with nothing half-written left beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.video import write_video
from mannequin.learning.export import export_model
from mannequin.learning.nets import build_net
from mannequin.sample.dataset import write_sample_data

W, H = 64, 48


@dataclass(frozen=True)
class Case:
    """Break something in the workspace ``ws`` (``setup``), run ``args`` (``{ws}`` is the workspace), expect
    ``names`` (a path, relative to ``ws``) and ``problem`` in the one error line."""

    setup: Callable[[Path], None]
    args: tuple[str, ...]
    names: str
    problem: str


def _nothing(ws: Path) -> None:
    pass


class Payload:
    """What a hostile pickle would run on load: weights-only loading must refuse it without running it."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real workspace: data/ (rendered sample), street.mp4, models/m (an exported net), params.yaml."""
    ws = tmp_path_factory.mktemp("battery-base")
    write_sample_data(ws / "data", 8, seed=4, width=W, height=H, frames=(4, 5), progress=False, people="frozen")
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, (96, 400, 3), dtype=np.uint8)
    write_video(ws / "street.mp4", [texture[:, 6 * i : 6 * i + 128] for i in range(30)], fps=25)
    meta = {"kind": "finetune", "init": "scratch", "budget": 2, "image_size": [W, H], "net": {"width": 4, "depth": 2}}
    export_model(ws / "models" / "m", build_net({"width": 4, "depth": 2}), meta, {})
    (ws / "params.yaml").write_text("curate:\n  max_width: 64\n  device: cpu\n")
    return ws


def _write(rel: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    return setup


def _remove(rel: str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / rel
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()

    return setup


def _json_edit(rel: str, **changes) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / rel
        doc = json.loads(path.read_text())
        for dotted, value in changes.items():
            node = doc
            *parents, last = dotted.split("__")
            for key in parents:
                node = node[key]
            node[last] = value
        path.write_text(json.dumps(doc))

    return setup


def _symlink(rel: str, target: str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        (ws / rel).symlink_to(target if target.startswith("/") else ws / target)

    return setup


def _fifo(rel: str) -> Callable[[Path], None]:
    return lambda ws: os.mkfifo(ws / rel)


def _both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        for step in steps:
            step(ws)

    return setup


def _pickled_weights(ws: Path) -> None:
    (ws / "models" / "m" / "model.pt").write_bytes(pickle.dumps({"w": Payload()}))


def _ingested_twice(ws: Path) -> None:
    other = ws / "elsewhere"
    other.mkdir()
    rng = np.random.default_rng(9)
    frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(30)]
    write_video(other / "street.mp4", frames, fps=25)
    res = CliRunner().invoke(app, ["ingest", str(ws / "street.mp4"), "--out", str(ws / "data"), "--no-progress"])
    assert res.exit_code == 0, res.output


LATIN1 = "curate:\n  out: caf\xe9\n".encode("latin-1")
CLIP = "data/clips/clip_0000"
INGEST = ("ingest", "{ws}/street.mp4", "--out", "{ws}/data", "--no-progress")
CURATE = ("curate", "--data", "{ws}/data", "--out", "{ws}/curated", "--params", "{ws}/params.yaml", "--runner",
          "serial", "--no-progress")  # fmt: skip
PREDICT = ("predict", "{ws}/" + CLIP, "--model", "{ws}/models/m", "--out", "{ws}/depth_out")
PRETRAIN = ("pretrain", "--objective", "mvs", "--params", "{ws}/params.yaml", "--curated", "{ws}/curated", "--data",
            "{ws}/data", "--out", "{ws}/models/pre", "--runs", "{ws}/runs", "--no-progress")  # fmt: skip
EVALUATE = ("evaluate", "--model-dir", "{ws}/models/m", "--data", "{ws}/data", "--out", "{ws}/metrics",
            "--params", "{ws}/params.yaml", "--no-progress")  # fmt: skip

# fmt: off
CASES: dict[str, Case] = {
    # ---------------------------------------------------------------------------------------------- ingest
    "ingest: no such video": Case(_nothing, ("ingest", "{ws}/nope.mp4", "--out", "{ws}/data"), "nope.mp4",
                                  "file not found"),
    "ingest: a directory": Case(lambda ws: (ws / "dir.mp4").mkdir(), ("ingest", "{ws}/dir.mp4", "--out", "{ws}/d"),
                                "dir.mp4", "is a directory, not a file"),
    "ingest: a symlink loop": Case(_symlink("loop.mp4", "loop.mp4"), ("ingest", "{ws}/loop.mp4", "--out", "{ws}/d"),
                                   "loop.mp4", "symbolic link loop"),
    "ingest: a dangling link": Case(_symlink("gone.mp4", "missing.mp4"),
                                    ("ingest", "{ws}/gone.mp4", "--out", "{ws}/d"), "gone.mp4", "does not exist"),
    "ingest: a named pipe": Case(_fifo("pipe.mp4"), ("ingest", "{ws}/pipe.mp4", "--out", "{ws}/d"), "pipe.mp4",
                                 "named pipe"),
    "ingest: not a video": Case(_write("fake.mp4", b"\x00not a video" * 50), ("ingest", "{ws}/fake.mp4", "--out",
                                "{ws}/d"), "fake.mp4", "video"),
    "ingest: an empty file": Case(_write("empty.mp4", b""), ("ingest", "{ws}/empty.mp4", "--out", "{ws}/d"),
                                  "empty.mp4", "video"),
    "ingest: --out is a file": Case(_write("afile", "x"), ("ingest", "{ws}/street.mp4", "--out", "{ws}/afile"),
                                    "afile", "not a directory"),
    "ingest: splits.csv malformed": Case(_write("data/splits.csv", "clip,split\nx,y\n"), INGEST, "data/splits.csv",
                                         ""),
    "ingest: splits.csv not UTF-8": Case(_write("data/splits.csv", b"clip_id,split\nx\xff,test\n"), INGEST,
                                         "data/splits.csv", "not UTF-8"),
    "ingest: another video of the same name": Case(_ingested_twice, ("ingest", "{ws}/elsewhere/street.mp4",
                                                   "--out", "{ws}/data", "--no-progress"),
                                                   "elsewhere/street.mp4", "another video"),
    "ingest: a clip folder it did not write": Case(_write("data/clips/street-s000/frames/000000.png", b"mine"),
                                                   INGEST, "street.mp4", "not written by ingest"),
    "ingest: --out/clips a file": Case(_both(_remove("data/clips"), _write("data/clips", "x")), INGEST,
                                       "data/clips", "not a directory"),
    "ingest: --out under a file": Case(_write("afile", "x"), ("ingest", "{ws}/street.mp4", "--out",
                                       "{ws}/afile/data"), "afile", "is a file"),
    "ingest: a bad --split": Case(_nothing, (*INGEST, "--split", "holdout"), "--split", "unlabeled"),
    "ingest: a bad --fps": Case(_nothing, (*INGEST, "--fps", "-3"), "--fps", "greater than"),
    # ---------------------------------------------------------------------------------------------- curate
    "curate: --data is a file": Case(_write("afile", "x"), ("curate", "--data", "{ws}/afile", "--out", "{ws}/c",
                                     "--runner", "serial"), "afile", "data folder"),
    "curate: no clips folder": Case(_remove("data/clips"), CURATE, "data/clips", "not found"),
    "curate: empty clips folder": Case(_both(_remove("data/clips"), lambda ws: (ws / "data/clips").mkdir()), CURATE,
                                       "data/clips", "no clip folders"),
    "curate: params not UTF-8": Case(_write("params.yaml", LATIN1), CURATE, "params.yaml", "not UTF-8 text"),
    "curate: params binary": Case(_write("params.yaml", b"\x89PNG\r\n\x1a\n\x00\xff"), CURATE, "params.yaml",
                                  "not UTF-8 text"),
    "curate: params not YAML": Case(_write("params.yaml", "curate: [\n"), CURATE, "params.yaml", "not valid YAML"),
    "curate: params unknown key": Case(_write("params.yaml", "curate:\n  max_widht: 3\n"), CURATE, "params.yaml",
                                       "curate.max_widht: unknown key"),
    "curate: params wrong type": Case(_write("params.yaml", "curate:\n  max_width: wide\n"), CURATE, "params.yaml",
                                      "curate.max_width: expected int"),
    "curate: params a directory": Case(_both(_remove("params.yaml"), lambda ws: (ws / "params.yaml").mkdir()),
                                       CURATE, "params.yaml", "not a file"),
    "curate: overrides missing": Case(_write("params.yaml", "curate:\n  overrides: {ws}/ov.yaml\n"), CURATE,
                                      "ov.yaml", "not found"),
    "curate: overrides malformed": Case(_both(_write("ov.yaml", "force_maybe: []\n"),
                                              _write("params.yaml", "curate:\n  overrides: {ws}/ov.yaml\n")),
                                        CURATE, "ov.yaml", "unknown key 'force_maybe'"),
    "curate: overrides forcing a test clip in": Case(
        _both(_write("ov.yaml", "force_accept: [{clip_id: clip_0000}]\n"),
              _write("params.yaml", "curate:\n  overrides: {ws}/ov.yaml\n")),
        CURATE, "ov.yaml", "test clips never reach training"),
    "curate: splits.csv malformed": Case(_write("data/splits.csv", "clip,split\n"), CURATE, "data/splits.csv", ""),
    "curate: splits.csv an unknown split": Case(_write("data/splits.csv", "clip_id,split\nclip_0000,holdout\n"),
                                                CURATE, "data/splits.csv", "holdout"),
    "curate: a bogus runner": Case(_nothing, ("curate", "--data", "{ws}/data", "--runner", "quantum"), "--runner",
                                   "quantum"),
    # the default (Prefect) runner: the output folder is checked before any runner starts (issue 26, item 10)
    "curate: --out a file": Case(_write("afile", "x"), ("curate", "--data", "{ws}/data", "--out", "{ws}/afile",
                                 "--params", "{ws}/params.yaml"), "afile", "exists and is not a directory"),
    "curate: --out under a file": Case(_write("afile", "x"), ("curate", "--data", "{ws}/data", "--out",
                                       "{ws}/afile/sub", "--params", "{ws}/params.yaml"), "afile", "is a file"),
    # ---------------------------------------------------------------------------------------------- masks
    "masks: no such clip": Case(_nothing, ("masks", "{ws}/data/clips/nope"), "nope", "clip folder not found"),
    "masks: the clip is a file": Case(_write("afile", "x"), ("masks", "{ws}/afile"), "afile", "clip folder not found"),
    "masks: a bogus --source": Case(_nothing, ("masks", "{ws}/data/clips/clip_0000", "--source", "paint"),
                                    "--source", "'paint'"),
    "masks: --out a file": Case(_write("afile", "x"), ("masks", "{ws}/data/clips/clip_0000", "--out",
                                "{ws}/afile"), "afile", "exists and is not a directory"),
    "masks: --out under a file": Case(_write("afile", "x"), ("masks", "{ws}/data/clips/clip_0000", "--out",
                                      "{ws}/afile/sub"), "afile", "is a file"),
    "masks: --out holds other files": Case(_write("look/notes.txt", "mine"), ("masks", "{ws}/data/clips/clip_0000",
                                           "--out", "{ws}/look"), "look", "not only mask PNGs"),
    # ---------------------------------------------------------------------------------------------- predict
    "predict: no such clip": Case(_nothing, ("predict", "{ws}/nope", "--model", "{ws}/models/m", "--out",
                                  "{ws}/o"), "nope", "not found"),
    "predict: no such model": Case(_nothing, ("predict", "{ws}/" + CLIP, "--model", "{ws}/models/none", "--out",
                                   "{ws}/o"), "models/none/model.json", "no trained model"),
    "predict: model.json not JSON": Case(_write("models/m/model.json", "{not json"), PREDICT, "models/m/model.json",
                                         "not readable JSON"),
    "predict: model.json net.width 1e9": Case(_json_edit("models/m/model.json", net__width=10**9), PREDICT,
                                              "models/m/model.json", "channels"),
    "predict: model.json net.depth 1e6": Case(_json_edit("models/m/model.json", net__depth=10**6), PREDICT,
                                              "models/m/model.json", "net.depth"),
    "predict: model.json net a list": Case(_json_edit("models/m/model.json", net=[1]), PREDICT,
                                           "models/m/model.json", "net: expected mapping"),
    "predict: model.json head evil": Case(_json_edit("models/m/model.json", net__head="evil"), PREDICT,
                                          "models/m/model.json", "net.head"),
    "predict: model.json bins 1e9": Case(_json_edit("models/m/model.json", net__bins=10**9), PREDICT,
                                         "models/m/model.json", "net.bins"),
    "predict: model.json image_size 1e6": Case(_json_edit("models/m/model.json", image_size=[10**6, 10**6]),
                                               PREDICT, "models/m/model.json", "image_size"),
    "predict: model.json a path in its name": Case(_json_edit("models/m/model.json", init="../../etc"), PREDICT,
                                                   "models/m/model.json", "not a safe name"),
    "predict: model.json from the future": Case(_json_edit("models/m/model.json", format_version=99), PREDICT,
                                                "models/m/model.json", "newer"),
    "predict: model.pt truncated": Case(_write("models/m/model.pt", b"PK\x03\x04broken"), PREDICT,
                                        "models/m/model.pt", "weights-only"),
    "predict: model.pt a hostile pickle": Case(_pickled_weights, PREDICT, "models/m/model.pt", "weights-only"),
    "predict: weights of another net": Case(_json_edit("models/m/model.json", net__width=8), PREDICT,
                                            "models/m/model.pt", "do not fit"),
    "predict: poses.txt garbage": Case(_write(CLIP + "/poses.txt", "note\n1 2 3\n"), PREDICT, CLIP + "/poses.txt",
                                       ""),
    "predict: a bad --batch-size": Case(_nothing, (*PREDICT, "--batch-size", "0"), "--batch-size", ""),
    "predict: --out the clip's frames": Case(_nothing, ("predict", "{ws}/data/clips/clip_0004", "--model",
                                             "{ws}/models/m", "--out", "{ws}/data/clips/clip_0004/frames"),
                                             "clip_0004/frames", "own folder"),
    "predict: --out inside the data": Case(_nothing, (*PREDICT[:-1], "{ws}/data/depth_maps"), "data/depth_maps",
                                           "inside the data folder"),
    "predict: --out under a file": Case(_write("afile", "x"), (*PREDICT[:-1], "{ws}/afile/sub"), "afile",
                                        "is a file"),
    "predict: --out someone's folder": Case(_write("photos/holiday.jpg", b"jpeg"), (*PREDICT[:-1], "{ws}/photos"),
                                            "photos", "not empty"),
    # ---------------------------------------------------------------------------------------------- pretrain
    "pretrain: no curated folder": Case(_nothing, PRETRAIN, "curated", "no curated shards"),
    "pretrain: an unknown objective": Case(_nothing, ("pretrain", "--objective", "telepathy", "--params",
                                           "{ws}/params.yaml"), "", "unknown objective"),
    "pretrain: an objective like a path": Case(_nothing, ("pretrain", "--objective", "../../x", "--params",
                                               "{ws}/params.yaml"), "", "objective"),
    "pretrain: params not UTF-8": Case(_write("params.yaml", LATIN1), PRETRAIN, "params.yaml", "not UTF-8 text"),
    "pretrain: a bad value": Case(_write("params.yaml", "pretrain:\n  batch_size: 0\n"), PRETRAIN, "params.yaml",
                                  "pretrain.batch_size"),
    "pretrain: image_size 1e6": Case(_write("params.yaml", "pretrain:\n  image_size: [1000000, 1000000]\n"),
                                     PRETRAIN, "params.yaml", "pretrain.image_size"),
    "pretrain: a net too wide": Case(_write("params.yaml", "pretrain:\n  net: {width: 100000}\n"), PRETRAIN,
                                     "params.yaml", "channels"),
    # ---------------------------------------------------------------------------------------------- evaluate
    "evaluate: no such model": Case(_nothing, ("evaluate", "--model-dir", "{ws}/models/none", "--data", "{ws}/data",
                                    "--out", "{ws}/metrics", "--no-progress"), "models/none", ""),
    "evaluate: model.json net.depth 1e6": Case(_json_edit("models/m/model.json", net__depth=10**6), EVALUATE,
                                               "models/m/model.json", "net.depth"),
    "evaluate: model.pt a hostile pickle": Case(_pickled_weights, EVALUATE, "models/m/model.pt", "weights-only"),
    "evaluate: no data folder": Case(_remove("data"), EVALUATE, "data", ""),
    "evaluate: depth PNG not a PNG": Case(_write("data/depth/clip_0000/000000.png", b"not a png"), EVALUATE,
                                          "data/depth/clip_0000/000000.png", "PNG"),
}
# fmt: on


def _digests(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and not p.is_fifo():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _fill(value: str, ws: Path) -> str:
    return value.replace("{ws}", str(ws))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2_and_nothing_lost(base: Path, tmp_path: Path, name: str, monkeypatch) -> None:
    case = CASES[name]
    ws = tmp_path / "ws"
    shutil.copytree(base, ws, symlinks=True)
    for text_file in ws.glob("*.yaml"):  # setups may name the workspace
        text_file.write_text(_fill(text_file.read_text(), ws))
    case.setup(ws)
    for text_file in [*ws.glob("*.yaml"), ws / "ov.yaml"]:
        if text_file.is_file() and "{ws}" in text_file.read_text(errors="replace"):
            text_file.write_text(_fill(text_file.read_text(), ws))
    monkeypatch.chdir(ws)
    before = _digests(ws)
    result = CliRunner().invoke(app, [_fill(a, ws) for a in case.args])
    stderr = result.stderr
    assert result.exit_code == 2, f"{name}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert "Traceback" not in result.output
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannequin: error: "), stderr
    if case.names:
        assert case.names in lines[0], lines[0]
    assert case.problem in lines[0], lines[0]
    after = _digests(ws)
    assert {k: v for k, v in after.items() if k in before} == before, "a file that was there changed"
    new = sorted(set(after) - set(before))
    assert not new, f"written by a failed command: {new[:5]}"
    assert not (ws / "PWNED").exists()
    torch.set_num_threads(1)


def test_the_battery_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert {n.split(":")[0] for n in CASES} >= {"ingest", "masks", "curate", "predict", "pretrain", "evaluate"}
