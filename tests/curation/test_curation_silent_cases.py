"""Where curation used to be silent (issue 26, item 13): an override naming no clip, a clip folder that is a link
out of the data folder."""

from __future__ import annotations

from mannequin.curation.curate import curate_dataset
from mannequin.curation.table import read_clip_table
from tests.helpers.curation import copy_data, write_splits


def test_an_override_for_a_clip_that_does_not_exist_is_a_warning(clean_data, tiny_params, tmp_path, capsys):
    data = copy_data(clean_data, tmp_path / "data")
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("force_reject:\n  - {clip_id: gone, note: removed}\n")
    params = tiny_params.model_copy(update={"overrides": str(overrides)})
    outcome = curate_dataset(data, tmp_path / "out", params, run_gates=False)
    assert outcome.summary["unknown_override_ids"] == ["gone"]
    err = capsys.readouterr().err
    assert f"mannequin: warning: {overrides}: gone matches no clip folder in {data / 'clips'}" in err, err


def test_a_clip_folder_linking_out_of_the_data_folder_is_rejected(clean_data, tiny_params, tmp_path):
    data = copy_data(clean_data, tmp_path / "data")
    elsewhere = copy_data(clean_data / "clips" / "good_a", tmp_path / "elsewhere" / "good_c")
    (data / "clips" / "good_c").symlink_to(elsewhere, target_is_directory=True)
    (data / "clips" / "inside").symlink_to(data / "clips" / "good_a", target_is_directory=True)
    write_splits(data, {"good_a": "unlabeled", "good_b": "labeled", "held_t": "test", "good_c": "unlabeled",
                        "inside": "unlabeled"})  # fmt: skip
    out = tmp_path / "out"
    curate_dataset(data, out, tiny_params, run_gates=False)
    rows = read_clip_table(out / "clips.csv").set_index("clip_id")
    assert not rows.loc["good_c", "accepted"]
    assert rows.loc["good_c", "reason"].startswith("outside_data: good_c: is a symbolic link to "), rows.loc["good_c"]
    assert "outside the data folder" in rows.loc["good_c", "reason"]
    assert rows.loc["inside", "accepted"] and rows.loc["good_a", "accepted"]  # a link within data/ is read
    assert not (out / "shards" / "good_c").exists()
