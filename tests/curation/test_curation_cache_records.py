"""Issue 12, item 1: a file in a curate output folder never runs code. The per-clip cache is plain JSON records
read into a strict model; a pickled, corrupt or wrong record is recomputed with a one-line warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.curation.table import ClipRow
from tests.helpers.curation import copy_data

KEY = "curate-good_a-" + "0" * 32


class Payload:
    """Unpickling this creates ``marker``: what an attacker's record would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def prefect_pickle_record(marker: Path, storage_key: str) -> bytes:
    """A Prefect result record that names the pickle serializer and carries ``Payload(marker)``."""
    from prefect._internal.result_records import ResultRecord, ResultRecordMetadata
    from prefect.serializers import PickleSerializer

    meta = ResultRecordMetadata(storage_key=storage_key, serializer=PickleSerializer())
    return ResultRecord(metadata=meta, result=Payload(marker)).serialize()


def test_a_record_round_trips_and_refused_records_are_misses_with_one_line(tmp_path):
    from mannequin.curation.clip_cache import ClipCache

    warnings: list[str] = []
    cache = ClipCache(tmp_path, warn=warnings.append)
    row = ClipRow("good_a", "labeled", True, num_frames=6, frames_used=5, scores={"coverage": 0.5, "motion": None})
    assert cache.get(KEY) is None and warnings == []  # no record: a plain miss
    cache.put(KEY, row, 1.25)
    got = cache.get(KEY)
    assert got is not None and got.row.row() == row and got.seconds == 1.25

    marker = tmp_path / "pwned"
    bad = {
        "pickle": prefect_pickle_record(marker, str(cache.path(KEY))),
        "corrupt": b'{"version": 1, "key": "curate-good_a-',
        "fields": json.dumps({"version": 1, "key": KEY, "row": {"clip_id": "good_a"}, "seconds": 1}).encode(),
        "types": cache.path(KEY).read_bytes().replace(b'"accepted": true', b'"accepted": "yes"'),
        "extra": cache.path(KEY).read_bytes().replace(b'"seconds"', b'"serializer": {"type": "pickle"}, "seconds"'),
        "other key": cache.path(KEY).read_bytes().replace(b"0" * 32, b"1" * 32),
    }
    for name, content in bad.items():
        cache.path(KEY).write_bytes(content)
        assert cache.get(KEY) is None, name
        assert len(warnings) == 1 and "\n" not in warnings[0], (name, warnings)
        assert warnings.pop().startswith(f"{cache.path(KEY)}: cache record refused ("), name
    assert not marker.exists()
    with pytest.raises(ValueError, match="not a cache key"):
        cache.path("../../escape")


@pytest.mark.slow
def test_a_pickled_prefect_record_in_the_output_folder_does_not_run(clean_data, tmp_path, tiny_params, capsys):
    """The attack: every record of a curated folder replaced (a pickle payload, corrupt JSON, wrong fields)."""
    from mannequin.stages.curate import load_flow as load_curate_flow

    data = copy_data(clean_data, tmp_path / "data")
    out = tmp_path / "curated"
    flow = load_curate_flow()
    flow(data=str(data), out=str(out), params=tiny_params.model_dump(mode="json"))
    table = (out / "clips.csv").read_bytes()
    records = sorted(p for p in (out / ".cache").rglob("*") if p.is_file())
    assert len(records) == 3  # one per clip, whatever the format
    marker = tmp_path / "pwned"
    records[0].write_bytes(prefect_pickle_record(marker, str(records[0])))
    records[1].write_text('{"row": {"clip_id": "good_b", "accepted": tr')
    records[2].write_text(json.dumps({"metadata": {"serializer": {"type": "json"}}, "result": "[1, 2]"}))
    capsys.readouterr()

    flow(data=str(data), out=str(out), params=tiny_params.model_dump(mode="json"))
    assert not marker.exists(), "a record from the output folder ran code"
    timings = json.loads((out / "timings.json").read_text())
    assert (timings["executed"], timings["cached"], timings["failed"]) == (3, 0, 0)  # all three recomputed
    assert (out / "clips.csv").read_bytes() == table
    refused = [ln for ln in capsys.readouterr().err.splitlines() if "cache record refused" in ln]
    assert len(refused) == 3, refused

    flow(data=str(data), out=str(out), params=tiny_params.model_dump(mode="json"))
    assert json.loads((out / "timings.json").read_text())["cached"] == 3  # the recomputed records are good again
