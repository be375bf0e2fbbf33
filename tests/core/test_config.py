"""params.yaml validation: unknown keys and wrong types are one-line errors naming the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.config import Params, cli_overrides
from mannequin.errors import InputError
from mannequin.stages.params import load_params

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_repo_params_yaml_is_valid() -> None:
    params = load_params(REPO / "params.yaml")
    assert isinstance(params, Params)


def test_missing_default_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no params.yaml here: the default file may be absent
    assert load_params() == Params()
    assert load_params("params.yaml") == Params()
    assert load_params(None) == Params()  # no file at all


def test_missing_given_file_is_an_error(tmp_path: Path) -> None:
    """A mistyped --params path must not silently start a default run (issue 12, item 9)."""
    with pytest.raises(InputError) as err:
        load_params(tmp_path / "typo.yaml")
    assert str(err.value) == f"{tmp_path / 'typo.yaml'}: file not found" and err.value.code == "missing_params"
    assert load_params(tmp_path / "typo.yaml", missing_ok=True) == Params()


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


def test_cli_options_become_dotted_overrides(tmp_path: Path) -> None:
    overrides = cli_overrides("pretrain", out=tmp_path / "m", runs=None, seed=3)
    assert overrides == {"pretrain.out": str(tmp_path / "m"), "pretrain.seed": 3}
    params = load_params(write(tmp_path, "pretrain:\n"), overrides)  # an empty block takes overrides too
    assert (params.pretrain.out, params.pretrain.seed, params.pretrain.runs) == (str(tmp_path / "m"), 3, "runs")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pretrain.objectives": ["mvs; touch pwned #"]}, "pretrain.objectives.0: not an objective name"),
        ({"pretrain.objectives": ["mvs+$(id)"]}, "pretrain.objectives.0: not an objective name '$(id)'"),
        (
            {"pretrain.objectives": ["jigsaw"]},
            "pretrain.objectives.0: unknown objective (known: colorize, contrastive, correspondence, masked",
        ),
        ({"pretrain.objectives": ["mvs", "mvs"]}, "pretrain.objectives: 'mvs' is listed twice"),
        ({"pretrain.objectives": []}, "pretrain.objectives: List should have at least 1 item"),
        ({"pretrain.weights": {"jigsaw": 1.0}}, "pretrain.weights.jigsaw.[key]: unknown objective"),
        ({"pretrain.step_factors": {"mvs_parallax": 2}}, "pretrain.step_factors.mvs_parallax.[key]: unknown objective"),
        ({"pretrain.step_factors": {"mvs-parallax": 0}}, "pretrain.step_factors.mvs-parallax: Input should be greater"),
        ({"finetune.budgets": [-3]}, "finetune.budgets.0: Input should be greater than 0, got -3"),
        ({"finetune.budgets": ["2 && id"]}, "finetune.budgets.0: expected int, got '2 && id'"),
        ({"finetune.budgets": [2, 2]}, "finetune.budgets: 2 is listed twice"),
        ({"finetune.inits": ["masked"]}, "finetune.inits: 'masked' is not pretrained: list it in pretrain.objectives"),
        ({"finetune.inits": ["scratch"]}, "finetune.inits.0: scratch is always fine-tuned"),
        ({"finetune.inits": ["mvs`id`"]}, "finetune.inits.0: not an objective name"),
        ({"ablation.objective": "mvs; rm -rf ~"}, "ablation.objective: not an objective name"),
        ({"ablation.budgets": [0]}, "ablation.budgets.0: Input should be greater than 0"),
    ],
)
def test_values_dvc_puts_in_commands_are_validated(overrides: dict, message: str) -> None:
    """Every value dvc.yaml interpolates into a command line is a registered name or a positive int (issue 12.3)."""
    with pytest.raises(InputError) as err:
        load_params(None, overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("max_steps", "factors", "run", "steps"),
    [
        (1000, {"mvs-parallax": 2.0}, "mvs-parallax", 2000),
        (1000, {"mvs-parallax": 2.0}, "mvs", 1000),  # a run without a factor: trainer.max_steps
        (7, {"mvs": 1.5}, "mvs", 10),  # rounded: 10.5 -> 10
        (3, {"mvs": 0.1}, "mvs", 1),  # at least one step
        (-1, {"mvs": 2.0}, "mvs", -1),  # no step limit stays none
    ],
)
def test_a_step_factor_multiplies_one_runs_steps(max_steps: int, factors: dict, run: str, steps: int) -> None:
    params = load_params(None, {"pretrain.trainer.max_steps": max_steps, "pretrain.step_factors": factors})
    assert params.pretrain.steps_for(run) == steps


def test_inits_are_the_pretrained_objectives() -> None:
    both = {"pretrain.objectives": ["mvs", "mvs+masked"], "finetune.inits": ["mvs+masked", "mvs"]}
    assert load_params(None, both).finetune.inits == ["mvs+masked", "mvs"]


@pytest.mark.parametrize(
    "args",
    [
        ["pretrain", "--objective", "mvs"],
        ["finetune", "--init", "scratch", "--budget", "2"],
        ["curate", "--runner", "serial"],
        ["evaluate"],
        ["report"],
        ["mvs", ".", "--frame", "0", "--out", "x.npz"],
    ],
)
def test_a_mistyped_params_path_is_an_error(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--params typo.yaml`` used to start a default run (issue 12, item 9): one line, exit 2, nothing written."""
    from typer.testing import CliRunner

    from mannequin.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    result = CliRunner().invoke(app, [*args, "--params", "typo.yaml"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == "mannequin: error: typo.yaml: file not found"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_only_the_default_params_file_may_be_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without params.yaml in the working folder the defaults apply: pretraining goes on to read data/splits.csv."""
    from typer.testing import CliRunner

    from mannequin.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["pretrain", "--objective", "mvs", "--no-progress"])
    assert result.output.strip() == "mannequin: error: data/splits.csv: file not found"  # pretrain.data's default


def test_an_old_objective_key_names_its_new_key(tmp_path: Path) -> None:
    """The flat knobs of ``pretrain.objective`` became one block per objective: the old key is one line naming it."""
    from typer.testing import CliRunner

    from mannequin.cli import app

    old = write(tmp_path, "pretrain:\n  objective:\n    colorize_k: 7\n")
    result = CliRunner().invoke(app, ["check-params", str(old)])
    assert result.exit_code == 2, result.output
    want = f"mannequin: error: {old}: pretrain.objective.colorize_k: renamed to pretrain.objective.colorize.k"
    assert result.output.strip() == want
    with pytest.raises(InputError, match=r"temperature: renamed to pretrain\.objective\.contrastive\.temperature and "):
        load_params(None, {"pretrain.objective.temperature": 0.2})
    new = write(tmp_path, "pretrain:\n  objective:\n    colorize:\n      k: 7\n")
    assert load_params(new).pretrain.objective.colorize.k == 7


def test_config_checks_the_name_syntax_and_the_stages_the_registry() -> None:
    """``mannequin.config`` alone knows no objective registry (it imports nothing of learning): it checks a name's
    syntax; :func:`mannequin.stages.params.load_params` gives it the registered names."""
    from mannequin.config import load_params as load_config

    jigsaw = {"pretrain.objectives": ["jigsaw"], "finetune.inits": ["jigsaw"]}
    assert load_config(None, jigsaw).pretrain.objectives == ["jigsaw"]
    with pytest.raises(InputError, match="not an objective name"):
        load_config(None, {**jigsaw, "pretrain.objectives": ["jig saw"]})
    with pytest.raises(InputError, match="unknown objective"):
        load_params(None, jigsaw)


def test_every_registered_objective_has_its_params_block() -> None:
    from mannequin.config.objectives import ObjectiveParams
    from mannequin.learning.objectives import OBJECTIVES

    assert set(OBJECTIVES) == set(ObjectiveParams.model_fields)
    assert all(cls.name == name for name, cls in OBJECTIVES.items())


@pytest.mark.parametrize(
    "data, problem",
    [
        ("pretrain:\n  runs: caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at line 2)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8 text (byte 0x89 at line 1)"),
    ],
    ids=["latin-1", "binary"],
)
def test_a_params_file_that_is_not_utf8_is_one_line(tmp_path: Path, data: bytes, problem: str) -> None:
    """Issue 26, item 9: a Latin-1 or binary params file names the file, the byte and its line."""
    path = tmp_path / "params.yaml"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value) == f"{path}: {problem}" and err.value.code == "bad_params"
