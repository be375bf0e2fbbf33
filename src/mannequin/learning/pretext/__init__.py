"""Numerical cores of the pretext objectives of issue 15: pure functions and small heads on plain tensors.

- :mod:`.colorize`: Lab colourisation as classification over quantised ab bins (Zhang et al. 2016).
- :mod:`.selfie`: choose the true patch among distractors of the same image (Trinh et al. 2019).
- :mod:`.correspondence`: do two frames show one clip? A similarity map max-pooled to a logit
  (after Arandjelović and Zisserman 2018).
- :mod:`.depth_bins`: depth as a distribution over log-depth bins relative to the image median.

Nothing here knows the config or the registry; :mod:`mannequin.learning.objectives` wires them in.
"""
