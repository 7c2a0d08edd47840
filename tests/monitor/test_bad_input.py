"""Bad input: one clear line (what, where, expected), and nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchops.errors import DataError
from batchops.monitor.dataquality import check_dataset, suggest_baseline
from batchops.monitor.reader import DatasetFormat

from .conftest import Abalone


def _fails(path: Path, out: Path, pattern: str, fmt: DatasetFormat | None = None) -> str:
    with pytest.raises(DataError, match=pattern) as error:
        suggest_baseline(path, out, fmt)
    assert "\n" not in str(error.value)
    assert not out.exists(), "nothing may be written on bad input"
    return str(error.value)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    _fails(tmp_path / "e.csv", tmp_path / "out", r"e\.csv: file is empty")


def test_header_only_file(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("sex,length\n")
    _fails(
        tmp_path / "h.csv", tmp_path / "out", r"h\.csv: no data rows", DatasetFormat("csv", True)
    )


def test_missing_dataset_and_empty_directory(tmp_path: Path) -> None:
    _fails(tmp_path / "nope.csv", tmp_path / "out", "dataset not found")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir/_SUCCESS").write_text("")
    _fails(tmp_path / "dir", tmp_path / "out", "holds no data files")


def test_non_utf8_bytes_name_the_file_line_and_byte(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_bytes(b"M,0.5\nF,0.4\nI,caf\xe9\n")
    message = _fails(tmp_path / "l.csv", tmp_path / "out", "not valid UTF-8")
    assert "l.csv" in message and "line 3" in message and "0xe9" in message


def test_malformed_csv_record_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text('M,0.5\nF,"0.4"x\nI,0.3\n')
    message = _fails(tmp_path / "q.csv", tmp_path / "out", "malformed CSV record")
    assert "q.csv" in message and "line 2" in message


def test_parts_with_different_columns_are_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d/a.csv").write_text("1,2\n")
    (tmp_path / "d/b.csv").write_text("1,2,3\n")
    message = _fails(tmp_path / "d", tmp_path / "out", "differ from a.csv")
    assert "b.csv" in message


def test_corrupt_baseline_json_names_file_line_and_column(abalone: Abalone, tmp_path: Path) -> None:
    (tmp_path / "constraints.json").write_text('{"features": [\n  {"name": "_c0",}\n]}')
    with pytest.raises(
        DataError,
        match=r"constraints\.json: baseline constraints is not valid JSON \(line 2, column",
    ):
        check_dataset(
            abalone.data, tmp_path / "out", tmp_path / "constraints.json", abalone.statistics
        )
    assert not (tmp_path / "out").exists()


def test_baseline_with_bad_field_names_the_json_path(abalone: Abalone, tmp_path: Path) -> None:
    constraints = json.loads(abalone.constraints.read_text())
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Fuzzy"
    (tmp_path / "c.json").write_text(json.dumps(constraints))
    with pytest.raises(
        DataError,
        match=r"distribution_constraints\.comparison_method: expected one of Simple, Robust, "
        r"got Fuzzy",
    ):
        check_dataset(abalone.data, tmp_path / "out", tmp_path / "c.json", abalone.statistics)


def test_constraints_for_other_columns_give_column_violations(
    abalone: Abalone, tmp_path: Path
) -> None:
    (tmp_path / "d.csv").write_text("sex,age\nM,3\nF,4\n")
    result = check_dataset(
        tmp_path / "d.csv",
        tmp_path / "out",
        abalone.constraints,
        abalone.statistics,
        DatasetFormat("csv", header=True),
    )
    kinds = [v.constraint_check_type for v in result.violations]
    assert kinds.count("missing_column_check") == 8 and kinds.count("extra_column_check") == 2
