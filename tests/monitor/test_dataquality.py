"""Data-quality baseline and check on Abalone-layout data: the issue's acceptance cases."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from batchops.monitor.dataquality import check_dataset, profile_dataset, suggest_baseline
from batchops.monitor.reader import DatasetFormat

from .conftest import BASELINE_ROWS, Abalone, inference_batch, resample


def _check(abalone: Abalone, batch: Path, out: Path) -> list[dict[str, str]]:
    check_dataset(batch, out, abalone.constraints, abalone.statistics)
    return json.loads((out / "constraint_violations.json").read_text())["violations"]


def test_baseline_counts_rows_and_names_eight_headerless_features(abalone: Abalone) -> None:
    stats = json.loads(abalone.statistics.read_text())
    constraints = json.loads(abalone.constraints.read_text())
    assert stats["dataset"]["item_count"] == BASELINE_ROWS
    assert [f["name"] for f in stats["features"]] == [f"_c{i}" for i in range(8)]
    assert [f["inferred_type"] for f in stats["features"]] == ["String"] + ["Fractional"] * 7
    sex = constraints["features"][0]
    assert sex["string_constraints"]["domains"] == ["F", "I", "M"]
    assert all(f["num_constraints"]["is_non_negative"] for f in constraints["features"][1:])
    length = stats["features"][1]["numerical_statistics"]
    assert length["common"] == {"num_present": BASELINE_ROWS, "num_missing": 0}
    assert sum(b["count"] for b in length["distribution"]["kll"]["buckets"]) == pytest.approx(
        BASELINE_ROWS
    )


def test_numeric_statistics_match_a_plain_polars_computation(abalone: Abalone) -> None:
    frame = pl.read_csv(abalone.data, has_header=False)
    stats = json.loads(abalone.statistics.read_text())
    for feature, name in zip(stats["features"][1:], frame.columns[1:], strict=True):
        column = frame.get_column(name)
        numbers = feature["numerical_statistics"]
        assert numbers["mean"] == pytest.approx(column.mean(), rel=1e-9)
        assert numbers["sum"] == pytest.approx(column.sum(), rel=1e-9)
        assert numbers["std_dev"] == pytest.approx(column.std(ddof=0), rel=1e-9)
        assert (numbers["min"], numbers["max"]) == (column.min(), column.max())


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_resample_of_the_baseline_raises_no_violation(
    abalone: Abalone, tmp_path: Path, seed: int
) -> None:
    batch = resample(abalone.data, tmp_path / "resample.csv", rows=1000, seed=seed)
    assert _check(abalone, batch, tmp_path / "out") == []


def test_independent_batch_from_the_same_population_raises_no_violation(
    abalone: Abalone, tmp_path: Path
) -> None:
    batch = inference_batch(tmp_path / "batch", seed=99)
    assert _check(abalone, batch, tmp_path / "out") == []


def test_height_scaled_by_1_6_is_a_baseline_drift_on_c3_only(
    abalone: Abalone, tmp_path: Path
) -> None:
    batch = inference_batch(tmp_path / "batch", seed=7, drift="height*1.6")
    violations = _check(abalone, batch, tmp_path / "out")
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("_c3", "baseline_drift_check")
    ]
    assert "exceeds threshold: 0.1" in violations[0]["description"]


def test_twenty_percent_text_in_c5_is_a_data_type_violation(
    abalone: Abalone, tmp_path: Path
) -> None:
    batch = inference_batch(tmp_path / "batch", seed=8, drift="shucked_weight:invalid=0.2")
    violations = _check(abalone, batch, tmp_path / "out")
    found = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("_c5", "data_type_check") in found
    description = next(v["description"] for v in violations if v["feature_name"] == "_c5")
    assert "expected Fractional for at least 100%" in description
    assert "observed 8" in description  # ~80% numbers


def test_blanked_values_are_a_completeness_violation(abalone: Abalone, tmp_path: Path) -> None:
    batch = inference_batch(tmp_path / "batch", seed=9, drift="diameter:missing=0.2")
    violations = _check(abalone, batch, tmp_path / "out")
    completeness = [v for v in violations if v["constraint_check_type"] == "completeness_check"]
    assert [v["feature_name"] for v in completeness] == ["_c2"]
    assert "expected at least 100%" in completeness[0]["description"]


def test_missing_column_is_named(abalone: Abalone, tmp_path: Path) -> None:
    frame = pl.read_csv(abalone.data, has_header=False).head(500)
    frame = frame.drop(frame.columns[-1])
    frame.write_csv(tmp_path / "seven.csv", include_header=False)
    violations = _check(abalone, tmp_path / "seven.csv", tmp_path / "out")
    assert {"feature_name": "_c7", "constraint_check_type": "missing_column_check"} in [
        {k: v[k] for k in ("feature_name", "constraint_check_type")} for v in violations
    ]
    assert "_c7" in next(
        v["description"] for v in violations if v["constraint_check_type"] == "missing_column_check"
    )


def test_extra_column_is_named_not_a_crash(abalone: Abalone, tmp_path: Path) -> None:
    frame = pl.read_csv(abalone.data, has_header=False).head(500)
    frame.with_columns(pl.lit(1).alias("extra")).write_csv(
        tmp_path / "nine.csv", include_header=False
    )
    violations = _check(abalone, tmp_path / "nine.csv", tmp_path / "out")
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("_c8", "extra_column_check")
    ]


def test_unseen_category_and_negative_numbers_are_reported(
    abalone: Abalone, tmp_path: Path
) -> None:
    frame = pl.read_csv(abalone.data, has_header=False).head(300)
    sex, length = frame.columns[:2]
    row = pl.int_range(pl.len())
    frame = frame.with_columns(
        pl.when(row < 30).then(pl.lit("X")).otherwise(pl.col(sex)).alias(sex),
        pl.when(row < 3).then(-0.5).otherwise(pl.col(length)).alias(length),
    )
    frame.write_csv(tmp_path / "bad.csv", include_header=False)
    violations = _check(abalone, tmp_path / "bad.csv", tmp_path / "out")
    by_type = {v["constraint_check_type"]: v for v in violations}
    assert by_type["categorical_values_check"]["feature_name"] == "_c0"
    assert "'X' (30)" in by_type["categorical_values_check"]["description"]
    assert by_type["non_negative_check"]["feature_name"] == "_c1"
    assert "3 negative value(s)" in by_type["non_negative_check"]["description"]


def test_check_writes_the_batch_statistics_and_an_empty_list_when_clean(
    abalone: Abalone, tmp_path: Path
) -> None:
    batch = resample(abalone.data, tmp_path / "r.csv", rows=200, seed=0)
    result = check_dataset(batch, tmp_path / "out", abalone.constraints, abalone.statistics)
    assert set(result.files) == {"statistics", "constraint_violations"}
    stats = json.loads((tmp_path / "out/statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 200
    assert json.loads((tmp_path / "out/constraint_violations.json").read_text()) == {
        "violations": []
    }


def test_profile_in_small_batches_equals_profile_in_one_batch(abalone: Abalone) -> None:
    whole = profile_dataset(abalone.data)
    pieces = profile_dataset(abalone.data, batch_rows=500)
    assert pieces.item_count == whole.item_count
    for name, column in whole.columns.items():
        other = pieces.columns[name]
        assert (other.count, other.missing, other.minimum, other.maximum) == (
            column.count,
            column.missing,
            column.minimum,
            column.maximum,
        )
        assert other.mean == pytest.approx(column.mean, rel=1e-12)
        assert other.std_dev == pytest.approx(column.std_dev, rel=1e-9)
        assert other.categories == column.categories


def test_directory_of_parts_is_profiled_as_one_dataset(abalone: Abalone, tmp_path: Path) -> None:
    frame = pl.read_csv(abalone.data, has_header=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    frame.head(2000).write_csv(parts / "part-0.csv", include_header=False)
    frame.tail(frame.height - 2000).write_csv(parts / "part-1.csv", include_header=False)
    (parts / "_SUCCESS").write_text("")
    result = suggest_baseline(parts, tmp_path / "out")
    assert result.item_count == BASELINE_ROWS
    ours = json.loads((tmp_path / "out/statistics.json").read_text())["features"][1]
    theirs = json.loads(abalone.statistics.read_text())["features"][1]
    assert ours["numerical_statistics"]["mean"] == pytest.approx(
        theirs["numerical_statistics"]["mean"], rel=1e-12
    )


def test_header_csv_and_parquet_give_the_same_statistics(tmp_path: Path) -> None:
    frame = pl.DataFrame({"sex": ["M", "F", None, "I"], "rings": [3, 7, 9, None]})
    frame.write_csv(tmp_path / "h.csv")
    frame.write_parquet(tmp_path / "d.parquet")
    suggest_baseline(tmp_path / "h.csv", tmp_path / "a", DatasetFormat(kind="csv", header=True))
    suggest_baseline(tmp_path / "d.parquet", tmp_path / "b", DatasetFormat.parse('{"parquet": {}}'))
    a = json.loads((tmp_path / "a/statistics.json").read_text())
    b = json.loads((tmp_path / "b/statistics.json").read_text())
    assert a == b
    assert [(f["name"], f["inferred_type"]) for f in a["features"]] == [
        ("sex", "String"),
        ("rings", "Integral"),
    ]
    assert a["features"][1]["numerical_statistics"]["common"] == {
        "num_present": 3,
        "num_missing": 1,
    }


def test_all_null_column_is_unknown_and_not_checked(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("1,,a\n2,,b\n3,,a\n")
    result = suggest_baseline(tmp_path / "d.csv", tmp_path / "base")
    assert any("_c1" in note and "Unknown" in note for note in result.notes)
    constraints = json.loads((tmp_path / "base/constraints.json").read_text())
    assert constraints["features"][1] == {
        "name": "_c1",
        "inferred_type": "Unknown",
        "completeness": 0.0,
    }
    (tmp_path / "batch.csv").write_text("4,x,a\n5,,b\n")
    check = check_dataset(
        tmp_path / "batch.csv",
        tmp_path / "out",
        tmp_path / "base/constraints.json",
        tmp_path / "base/statistics.json",
    )
    assert [v.feature_name for v in check.violations] == []


def test_mixed_integer_and_text_column_is_string_with_type_counts(tmp_path: Path) -> None:
    lines = [f"{i},{i % 7}" for i in range(20_000)] + ["20000,abc"]
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    profile = profile_dataset(tmp_path / "m.csv")
    column = profile.columns["_c1"]
    assert column.inferred_type == "String"
    assert (column.integral, column.text) == (20_000, 1)
    assert profile.columns["_c0"].inferred_type == "Integral"
