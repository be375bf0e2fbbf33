"""The kernel threads of a clip's curation (OpenCV's and torch's own thread pools) when clips run in parallel."""

from __future__ import annotations


def single_threaded_kernels() -> None:
    """Run OpenCV and torch on one thread in this process (numba's sweep already does off the main thread).

    The runners that curate clips in parallel (threads, Dask) give each clip a core; a clip's own kernel threads
    would only compete with the other workers' for the same cores (two Dask workers on two cores ran four).
    """
    import cv2
    import torch

    cv2.setNumThreads(1)
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
