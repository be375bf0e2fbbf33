"""BENCHMARKS.md's sections of issue 22's benchmarks render the numbers of their committed JSON."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def summarize():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        yield importlib.import_module("summarize")
    finally:
        sys.path.remove(str(ROOT / "bench"))


def load(name: str) -> dict:
    return json.loads((ROOT / "bench" / "results" / f"{name}.json").read_text())


def test_the_scaling_section_has_every_point_and_the_slope(summarize):
    data = load("learning_scale")
    text = summarize.learning_scale(data)
    for point in data["data_curve"] + data["compute_curve"]:
        for m in point["models"].values():
            assert f"{m['pretrained']['abs_rel']:.4g}" in text
    slope = data["slope_per_doubling"]["mvs"]["pretrained"]
    assert f"{slope:+.4f}" in text and slope < 0  # more unlabelled clips, lower error


def test_the_recipe_section_has_both_recipes_of_both_samples(summarize):
    data = load("finetune_recipe")
    text = summarize.finetune_recipe(data)
    for name, entry in data.items():
        assert f"**{name}**" in text
        for recipe, rows in entry["recipes"].items():
            assert f"{rows['mvs-parallax-32']['abs_rel']:.4g}" in text
            assert f"{100 * entry['slope'][recipe]['mvs-parallax']:+.1f}%" in text


def test_the_threads_section_gives_each_ratio(summarize):
    data = load("training_threads")
    text = summarize.training_threads(data)
    assert data["rows"][0]["samples_per_s_vs_default"] == 1.0  # the peer is the first row
    for r in data["rows"]:
        assert f"{r['samples_per_s_vs_default']:.2f}x" in text


def test_the_install_section_gives_both_medians_and_their_ratio(summarize):
    data = load("install")
    text = summarize.install(data)
    for way in ("uv", "pip"):
        assert f"| {way} | {data['median_s'][way]:.4g} | {len(data['seconds'][way])} |" in text
    assert data["pip_over_uv"] == data["median_s"]["pip"] / data["median_s"]["uv"]  # the peer is in the same run
    assert f"{data['pip_over_uv']:.2f}x" in text
