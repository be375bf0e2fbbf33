"""``model.json`` is validated before any tensor is built (issue 26, item 8): one line naming the file, fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mannequin.errors import InputError
from mannequin.learning.export import META_NAME, export_model, load_net
from mannequin.learning.nets import build_net


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    net = build_net({"width": 4, "depth": 2})
    meta = {"kind": "pretrain", "objective": "mvs", "net": {"width": 4, "depth": 2}, "image_size": [32, 24]}
    return export_model(tmp_path / "model", net, meta, {})


def _tamper(model_dir: Path, **changes) -> Path:
    path = model_dir / META_NAME
    meta = json.loads(path.read_text())
    for dotted, value in changes.items():
        node = meta
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(json.dumps(meta))
    return path


CASES = {
    "width huge": ({"net__width": 10**9}, "net: width 1000000000 at depth 2 gives 2000000000 channels"),
    "width negative": ({"net__width": -5}, "net.width"),
    "width a word": ({"net__width": "wide"}, "net.width: expected int, got 'wide'"),
    "net a list": ({"net": [1, 2]}, "net: expected mapping"),
    "bins huge": ({"net__bins": 10**9}, "net.bins"),
    "head unknown": ({"net__head": "evil"}, "net.head"),
    "image size huge": ({"image_size": [10**6, 10**6]}, "image_size.0"),
    "image size a word": ({"image_size": "big"}, "image_size"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_model_json_is_one_line_naming_it(model_dir: Path, case: str) -> None:
    changes, problem = CASES[case]
    path = _tamper(model_dir, **changes)
    with pytest.raises(InputError) as err:
        load_net(model_dir)
    assert str(err.value).startswith(f"{path}: ") and problem in str(err.value), str(err.value)
    assert "\n" not in str(err.value) and err.value.code == "bad_model"


def test_a_deep_net_is_refused_before_it_is_built(model_dir: Path) -> None:
    """``net.depth`` 1e6 used to build layers until memory ran out; now it is refused at once."""
    path = _tamper(model_dir, net__depth=10**6)
    code = "from mannequin.learning.export import load_net; import sys; load_net(sys.argv[1])"
    proc = subprocess.run([sys.executable, "-c", code, str(model_dir)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and f"InputError: {path}: net.depth" in proc.stderr, proc.stderr[-500:]


def test_the_trained_model_still_loads(model_dir: Path) -> None:
    net, meta = load_net(model_dir)
    assert meta["image_size"] == [32, 24] and net.inputs == "rgb"
