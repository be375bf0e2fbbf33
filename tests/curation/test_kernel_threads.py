"""Parallel curation gives each clip one core: OpenCV's and torch's own thread pools shrink to one thread."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import cv2, torch
cv2.setNumThreads(2); torch.set_num_threads(2)
before = (cv2.getNumThreads(), torch.get_num_threads())
from mannequin.curation.kernel_threads import single_threaded_kernels
single_threaded_kernels()
print(before, (cv2.getNumThreads(), torch.get_num_threads()))
"""


def test_single_threaded_kernels_leaves_one_thread_to_opencv_and_torch() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["(2,", "2)", "(1,", "1)"]
