"""The baselines scored beside the models, by the names of their rows (declared once: the evaluations write these
rows, the reports read them)."""

from __future__ import annotations

#: the same depth everywhere (after median alignment: the truth's median)
CONSTANT = "constant"
#: the parallax input's own depth (its sweep, unmasked), median-aligned, scored where it has depth
PARALLAX = "parallax-raw"
