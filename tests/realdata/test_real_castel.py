"""The real castel sequence (Debian visp-images-data, GPL-2, read where apt installs it; CI installs it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.depth_png import read_depth_png
from mannequin.clips.splits import read_splits
from mannequin.ingest.castel import open_castel, transform
from mannequin.ingest.depth_registration import render_faces
from mannequin.ingest.real_data import read_manifest
from mannequin.ingest.visp import read_depth_bin


def test_castel_converts_with_its_unit_from_the_castle_and_depth_on_the_grey_camera(
    real_castel: Path, tmp_path: Path
) -> None:
    out = tmp_path / "real"
    result = CliRunner().invoke(app, ["real-data", str(out), "--only", "castel"])
    assert result.exit_code == 0, result.output
    assert read_splits(out) == {"castel": "test"}
    assert len(list((out / "clips" / "castel" / "frames").glob("*.png"))) == 30
    assert len(list((out / "depth" / "castel").glob("*.png"))) == 30
    unit = read_manifest(out)["clips"]["castel"]["depth_unit"]
    # found from the CAD model alone: about 1/8 mm per count (the nominal unit of an Intel SR300, 0.125 mm),
    # tightly (the model's pixels agree within a few per cent)
    assert 1.20e-4 < unit["metres_per_count"] < 1.27e-4 and unit["pixels"] > 20_000
    assert unit["ratio_p75"] / unit["ratio_p25"] < 1.03
    # the registered depth of frame 0 is the castle as the grey camera sees it (its CAD model at its pose) ...
    seq = open_castel(real_castel)
    seen = render_faces([transform(f, seq.colour_T_object) for f in seq.faces], seq.K_colour, (640, 480))
    registered = read_depth_png(out / "depth" / "castel" / "000000.png")
    raw = read_depth_bin(seq.depths[0]) * unit["metres_per_count"]
    unregistered = np.where(raw > 0, raw, np.nan)  # ... which the depth camera's own image is not

    def median_error(depth: np.ndarray) -> float:
        both = np.isfinite(seen) & np.isfinite(depth)
        return float(np.median(np.abs(depth[both] - seen[both]) / seen[both]))

    assert median_error(registered) < 0.015 and median_error(unregistered) > 5 * median_error(registered)
