"""params.yaml validation: unknown keys and wrong types are one-line errors naming the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.config import Params, load_params
from mannequin.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_repo_params_yaml_is_valid() -> None:
    params = load_params(REPO / "params.yaml")
    assert isinstance(params, Params)


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_params(tmp_path / "nope.yaml") == Params()


def test_wrong_type_names_key_path(tmp_path: Path) -> None:
    p = write(tmp_path, "curate:\n  mvs:\n    planes: many\n")
    with pytest.raises(InputError) as err:
        load_params(p)
    assert str(err.value) == f"{p}: curate.mvs.planes: expected int, got 'many'"


def test_unknown_key_names_key_path(tmp_path: Path) -> None:
    p = write(tmp_path, "pretrain:\n  lr: 0.1\n  learning_rate: 0.2\n")
    with pytest.raises(InputError, match=r"pretrain\.learning_rate: unknown key"):
        load_params(p)


def test_unknown_top_level_block(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"trian: unknown key"):
        load_params(write(tmp_path, "trian: {}\n"))


def test_invalid_yaml_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_params(write(tmp_path, "curate: [\n"))
    assert "\n" not in str(err.value) and "not valid YAML" in str(err.value)


def test_overrides_apply_dotted_keys(tmp_path: Path) -> None:
    params = load_params(write(tmp_path, "curate:\n  max_frames: 9\n"), {"curate.mvs.planes": 12})
    assert params.curate.max_frames == 9 and params.curate.mvs.planes == 12


def test_out_of_range_value_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"curate\.mvs\.confidence_threshold"):
        load_params(write(tmp_path, "curate:\n  mvs:\n    confidence_threshold: 3\n"))
