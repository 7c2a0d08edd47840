"""Data: the seeded generator and the streaming validator of the article's layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from batchops.cli.main import main
from batchops.data.generate import generate, parse_drift
from batchops.data.schema import Layout
from batchops.data.spec import current_spec
from batchops.data.synthetic import sample_abalone
from batchops.data.validate import validate_dataset, validate_file
from batchops.errors import DataError


def test_generate_writes_three_headerless_files_with_right_column_counts(tmp_path: Path) -> None:
    result = generate(tmp_path, rows=300, seed=4)
    assert {p.name for p in result.files.values()} == {
        "training-data.csv",
        "inference-data.csv",
        "ground-truth.csv",
    }
    for layout, path in result.files.items():
        lines = path.read_text().splitlines()
        assert len(lines) == result.rows[layout]
        assert {len(line.split(",")) for line in lines} == {len(layout.columns(current_spec()))}
        assert lines[0].split(",")[0] in {"M", "F", "I"} or layout is Layout.GROUND_TRUTH


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", rows=200, seed=9).files[Layout.TRAINING].read_bytes()
    b = generate(tmp_path / "b", rows=200, seed=9).files[Layout.TRAINING].read_bytes()
    c = generate(tmp_path / "c", rows=200, seed=10).files[Layout.TRAINING].read_bytes()
    assert a == b != c


def test_generated_measurements_are_realistic_and_correlated() -> None:
    cols = sample_abalone(20_000, np.random.default_rng(0))
    assert 0.48 < cols["length"].mean() < 0.57  # real data: 0.524
    assert 9.0 < cols["rings"].mean() < 11.0  # real data: 9.93
    assert np.corrcoef(cols["length"], cols["diameter"])[0, 1] > 0.95
    assert 0.45 < np.corrcoef(cols["shell_weight"], cols["rings"])[0, 1] < 0.8
    infants = cols["sex"] == "I"
    assert cols["rings"][infants].mean() < cols["rings"][~infants].mean()


def test_a_model_learns_rings_like_on_real_abalone() -> None:
    """Least squares on the features reaches RMSE ~2.0-2.5 (real data: ~2.2)."""
    cols = sample_abalone(6000, np.random.default_rng(1))
    names = [
        "length",
        "diameter",
        "height",
        "whole_weight",
        "shucked_weight",
        "viscera_weight",
        "shell_weight",
    ]
    x = np.column_stack([cols[n] for n in names] + [(cols["sex"] == s) * 1.0 for s in "MFI"])
    y = cols["rings"]
    coef, *_ = np.linalg.lstsq(x[:4000], y[:4000], rcond=None)
    rmse = float(np.sqrt(np.mean((x[4000:] @ coef - y[4000:]) ** 2)))
    assert 1.8 < rmse < 2.6, rmse


def test_drift_scales_a_column_of_the_inference_batch_only(tmp_path: Path) -> None:
    clean = generate(tmp_path / "clean", rows=3000, seed=2)
    drifted = generate(tmp_path / "drift", rows=3000, seed=2, drift="height*1.6")

    def mean_height(path: Path) -> float:
        return float(np.mean([float(line.split(",")[3]) for line in path.read_text().splitlines()]))

    assert mean_height(drifted.files[Layout.TRAINING]) == mean_height(clean.files[Layout.TRAINING])
    ratio = mean_height(drifted.files[Layout.INFERENCE]) / mean_height(
        clean.files[Layout.INFERENCE]
    )
    assert ratio == pytest.approx(1.6, rel=0.01)


def test_drift_injects_invalid_and_missing_values(tmp_path: Path) -> None:
    result = generate(tmp_path, rows=3000, seed=3, drift="_c5:invalid=0.2,diameter:missing=0.1")
    lines = result.files[Layout.INFERENCE].read_text().splitlines()
    invalid = sum(line.split(",")[5] == "n/a" for line in lines) / len(lines)
    missing = sum(line.split(",")[2] == "" for line in lines) / len(lines)
    assert 0.15 < invalid < 0.25 and 0.06 < missing < 0.14


@pytest.mark.parametrize(
    "spec, message",
    [
        ("height/2", "expected COLUMN"),
        ("weight*2", "unknown column"),
        ("sex*2", "categorical"),
        ("height:missing=2", "fraction"),
    ],
)
def test_bad_drift_spec_is_one_clear_error(spec: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_drift(spec)


def test_valid_generated_files_pass(tmp_path: Path) -> None:
    generate(tmp_path, rows=500, seed=5)
    reports = validate_dataset(tmp_path)
    assert [r.ok for r in reports] == [True, True, True]


@pytest.mark.parametrize(
    "content, line, column, fragment",
    [
        ("M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\nF,0.4,0.3,0.1,0.5,0.2,0.1,9\n", 2, None, "ragged line"),
        (
            "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\nF,0.4,abc,0.1,0.5,0.2,0.1,0.15,9\n",
            2,
            3,
            "non-numeric value 'abc'",
        ),
        ("Q,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\n", 1, 1, "unknown category 'Q' in column 'sex'"),
        ("sex,length,diameter,height,a,b,c,d,rings\n", 1, 1, "remove the header line"),
        ("", 1, None, "empty file"),
        ("M,0.4,0.3\n", 1, None, "wrong column count"),
        ("M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9.5\n", 1, 9, "whole number"),
    ],
)
def test_bad_training_file_names_file_line_and_column(
    tmp_path: Path, content: str, line: int, column: int | None, fragment: str
) -> None:
    path = tmp_path / "training-data.csv"
    path.write_text(content)
    report = validate_file(path)
    problem = report.problems[0]
    assert (problem.line, problem.column) == (line, column)
    assert fragment in problem.message
    assert str(problem).startswith(f"{path}:{line}")


def test_non_utf8_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "inference-data.csv"
    path.write_bytes(b"M,0.4,0.3,0.1,0.5,0.2,0.1,\xff\xfe\n")
    with pytest.raises(DataError, match="not UTF-8"):
        validate_file(path)


def test_ground_truth_row_count_must_match_batch(tmp_path: Path) -> None:
    generate(tmp_path, rows=300, seed=1)
    truth = tmp_path / "ground-truth.csv"
    truth.write_text("\n".join(truth.read_text().splitlines()[:-5]) + "\n")
    reports = validate_dataset(tmp_path)
    assert "ground truth has" in reports[-1].problems[0].message


def test_cli_generate_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["data", "generate", "--rows", "120", "--seed", "1", "--out", str(tmp_path), "--json"])
        == 0
    )
    files = json.loads(capsys.readouterr().out)["files"]
    assert [f["columns"] for f in files] == [9, 8, 1]
    assert main(["data", "validate", str(tmp_path)]) == 0
    (tmp_path / "training-data.csv").write_text("M,1,2,3\n")
    assert main(["data", "validate", str(tmp_path / "training-data.csv")]) == 1
    out = capsys.readouterr().out
    assert "training-data.csv:1: wrong column count" in out


def test_cli_validate_missing_file_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["data", "validate", str(tmp_path / "training-data.csv")]) == 3
    assert capsys.readouterr().err.strip().endswith("file not found")
