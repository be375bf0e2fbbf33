"""Issue 12, item 11: a corrupt or pickled ``last.ckpt`` is one line naming the file and saying to delete it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from mannequin.errors import InputError
from mannequin.stages.pretrain import run as run_pretrain
from tests.helpers.learning import H, W, tiny_params


class Payload:
    """What a hostile pickle would run on load; weights-only loading must refuse it."""

    def __reduce__(self):
        return (print, ("payload ran",))


def _params(tmp: Path, data: dict[str, Path]):
    return tiny_params(tmp, **{"pretrain.curated": str(data["curated"]), "pretrain.data": str(data["data"]),
                               "pretrain.trainer.max_steps": 2})  # fmt: skip


@pytest.mark.parametrize("content", ["corrupt", "pickled"])
def test_a_bad_last_ckpt_names_the_file_and_says_to_delete_it(
    tmp_path: Path, learning_data: dict[str, Path], content: str, capsys
) -> None:
    params = _params(tmp_path, learning_data)
    run_pretrain(params, "mvs")
    last = tmp_path / "runs" / "pretrain-mvs" / "last.ckpt"
    assert last.is_file()  # the digest beside it matches, so a re-run resumes from it
    if content == "corrupt":
        last.write_bytes(last.read_bytes()[: len(last.read_bytes()) // 3])
    else:
        last.write_bytes(pickle.dumps({"state_dict": Payload()}))
    with pytest.raises(InputError) as err:
        run_pretrain(params, "mvs")
    assert str(err.value).startswith(f"{last}: not a loadable weights-only checkpoint (")
    assert str(err.value).endswith("delete it to train this run afresh") and err.value.code == "bad_checkpoint"
    assert "weights_only=False" not in str(err.value) and "payload ran" not in capsys.readouterr().out
    last.unlink()  # what the message says to do: the run then trains afresh
    assert not run_pretrain(params, "mvs").resumed


def test_the_cli_prints_one_line_and_exits_2(tmp_path: Path, learning_data: dict[str, Path], monkeypatch) -> None:
    from mannequin.cli import app

    monkeypatch.chdir(tmp_path)
    pretrain = {"curated": str(learning_data["curated"]), "data": str(learning_data["data"]), "out": "models",
                "runs": "runs", "image_size": [W, H], "batch_size": 4, "num_workers": 0,
                "net": {"width": 4, "depth": 3}, "trainer": {"max_steps": 2, "accelerator": "cpu"}}  # fmt: skip
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"pretrain": pretrain}))
    runner = CliRunner()
    first = runner.invoke(app, ["pretrain", "--objective", "mvs", "--no-progress", "--params", "params.yaml"])
    assert first.exit_code == 0, first.output
    last = tmp_path / "runs" / "pretrain-mvs" / "last.ckpt"
    torch.save({"state_dict": Payload()}, last)  # a pickled object: not loadable weights-only
    res = runner.invoke(app, ["pretrain", "--objective", "mvs", "--no-progress", "--params", "params.yaml"])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        "mannequin: error: runs/pretrain-mvs/last.ckpt: not a loadable weights-only checkpoint (UnpicklingError); "
        "delete it to train this run afresh"
    ]
