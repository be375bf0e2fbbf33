"""Shared fixtures. Tests run with one torch thread so that parallel helpers stay predictable."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from mannequin.env import configure_offline

configure_offline()
