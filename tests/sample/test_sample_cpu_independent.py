"""The sample's bytes do not depend on the CPU's SIMD level (issue 26, item 16).

Each run renders the same small sample in a fresh process with one library held to other code paths than this
CPU's best: numpy's dispatch narrowed to its baseline (``NPY_DISABLE_CPU_FEATURES``), OpenBLAS on its generic
kernels (``OPENBLAS_CORETYPE``), OpenCV without its AVX paths (``OPENCV_CPU_DISABLE``) or without any
optimisation (``cv2.setUseOptimized(False)``), and x264 without its assembly (``asm=0``). Every file must come
out byte for byte as in the plain run, and as the committed digest. Under QEMU (slow, where ``qemu-x86_64`` is
installed) the whole process runs on emulated CPUs without AVX (Nehalem) and without FMA (Sandy Bridge).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# the small sample every run renders: every storage form, defect, mask and sensor-depth PNG of the full one
SAMPLE = {"n_clips": 8, "seed": 26, "width": 64, "height": 48, "frames": (4, 6), "people": "paper"}

RENDER = """
import hashlib, json, os, sys
from pathlib import Path
if os.environ.get("MANNEQUIN_TEST_CV_UNOPTIMISED"):
    import cv2
    cv2.setUseOptimized(False)
if os.environ.get("MANNEQUIN_TEST_X264_EXTRA"):
    import mannequin.clips.video as video
    video.X264_PARAMS += ":" + os.environ["MANNEQUIN_TEST_X264_EXTRA"]
from mannequin.sample.dataset import write_sample_data
from mannequin.sample.textures import texture_bank
options = json.loads(sys.argv[2])
options["frames"] = tuple(options["frames"])
out = Path(sys.argv[1])
write_sample_data(out, progress=False, **options)
digests = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
           if p.is_file()}
bank = hashlib.sha256()
for texture in texture_bank():  # every texture, used by these clips or not
    for level in texture.levels:
        bank.update(level.tobytes())
digests["(texture bank)"] = bank.hexdigest()
print(json.dumps(digests))
"""


def _dispatched_numpy_features() -> str:
    return " ".join(np._core._multiarray_umath.__cpu_dispatch__)


VARIANTS = {
    "numpy baseline": {"NPY_DISABLE_CPU_FEATURES": _dispatched_numpy_features()},
    "OpenBLAS generic kernels": {"OPENBLAS_CORETYPE": "Prescott"},
    "OpenCV without AVX": {"OPENCV_CPU_DISABLE": "AVX,FP16,AVX2"},
    "OpenCV unoptimised": {"MANNEQUIN_TEST_CV_UNOPTIMISED": "1"},
    "x264 without assembly": {"MANNEQUIN_TEST_X264_EXTRA": "asm=0"},
}

#: sha256 over the sorted ``path digest`` lines of the sample above, rendered on the machine that made data.dvc
COMMITTED = "ba103901f0a91b88301215685ba69d5fe8c3be125aa582242ae24c5ac42c8954"


def render_digests(out: Path, env: dict[str, str], prefix: tuple[str, ...] = ()) -> dict[str, str]:
    """Render the small sample into ``out`` in a fresh process (``env`` added); the sha256 of every file."""
    import os

    proc = subprocess.run(
        [*prefix, sys.executable, "-c", RENDER, str(out), json.dumps(SAMPLE)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def combined(digests: dict[str, str]) -> str:
    import hashlib

    return hashlib.sha256("".join(f"{k} {v}\n" for k, v in sorted(digests.items())).encode()).hexdigest()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return render_digests(tmp_path_factory.mktemp("plain") / "data", {})


@pytest.mark.parametrize("name", list(VARIANTS))
def test_same_bytes_on_other_code_paths(plain: dict[str, str], name: str, tmp_path: Path) -> None:
    other = render_digests(tmp_path / "data", VARIANTS[name])
    assert other.keys() == plain.keys()
    differ = sorted(k for k in plain if plain[k] != other[k])
    assert not differ, f"{name}: {len(differ)} of {len(plain)} files differ, e.g. {differ[:6]}"


def test_committed_digest(plain: dict[str, str]) -> None:
    """The sample rendered here has the bytes it had where this digest was recorded."""
    assert combined(plain) == COMMITTED


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="needs qemu-user (apt-get install qemu-user)")
@pytest.mark.parametrize("cpu", ["Nehalem", "SandyBridge"])
def test_same_bytes_on_an_emulated_older_cpu(plain: dict[str, str], cpu: str, tmp_path: Path) -> None:
    other = render_digests(tmp_path / "data", {}, prefix=("qemu-x86_64", "-cpu", cpu))
    differ = sorted(k for k in plain if plain[k] != other.get(k))
    assert not differ, f"{cpu}: {len(differ)} of {len(plain)} files differ, e.g. {differ[:6]}"


@pytest.mark.slow
def test_the_default_sample_reproduces_the_committed_data_dvc(tmp_path: Path) -> None:
    """The acceptance check of item 16: `mannequin sample-data data` here hashes to the committed data.dvc."""
    import os

    import yaml

    repo = Path(__file__).resolve().parents[2]
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 3000, "check": True}
    subprocess.run([str(bin_dir / "mannequin"), "sample-data", "data", "--workers", "2", "--no-progress"], **run)
    subprocess.run([str(bin_dir / "dvc"), "init", "--no-scm", "-q"], **run)
    subprocess.run([str(bin_dir / "dvc"), "add", "-q", "data"], **run)
    (ours,) = yaml.safe_load((tmp_path / "data.dvc").read_text())["outs"]
    (committed,) = yaml.safe_load((repo / "data.dvc").read_text())["outs"]
    keys = ("md5", "size", "nfiles")
    assert {k: ours[k] for k in keys} == {k: committed[k] for k in keys}
