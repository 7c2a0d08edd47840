"""The dataset spec: what it accepts, and one clear line for everything it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from batchops.cli.main import main
from batchops.data.examples import EXAMPLES, write_example
from batchops.data.generate import generate, parse_drift
from batchops.data.schema import Layout
from batchops.data.spec import METRICS, load_spec, parse_spec
from batchops.data.validate import validate_dataset, validate_file
from batchops.errors import ConfigError

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "datasets"

BINARY = {
    "name": "churn",
    "problem_type": "binary_classification",
    "features": [
        {"name": "plan", "type": "categorical", "categories": ["basic", "pro"]},
        {"name": "region", "type": "categorical"},
        {"name": "tenure", "type": "numeric", "min": 0, "integer": True},
        {"name": "spend", "type": "numeric", "min": 0},
    ],
    "target": {"name": "churned", "type": "categorical", "categories": ["no", "yes"]},
    "positive_label": "yes",
    "quality": {"metric": "f1", "threshold": 0.6},
}


def _spec(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _with(**changes: object) -> dict:
    document = yaml.safe_load(yaml.safe_dump(BINARY))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return document


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_shipped_example_spec_is_valid(name: str) -> None:
    spec = load_spec(EXAMPLES_DIR / name / "dataset.yaml")
    assert spec.name == name
    assert parse_drift(spec.drift, spec), "each example names the demo's drift"


def test_the_abalone_spec_is_the_articles_layout() -> None:
    spec = load_spec(EXAMPLES_DIR / "abalone" / "dataset.yaml")
    assert spec.problem_type == "regression" and not spec.header
    assert spec.columns[0] == "sex" and spec.columns[-1] == "rings" and len(spec.columns) == 9
    assert spec.quality.metric == "mse" and spec.threshold(10.0) == 10.0
    assert spec.monitor_names["_c3"] == "height"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"problem_type": "clustering"}, "problem_type: expected one of regression, "),
        ({"quality__metric": "logloss"}, "quality.metric: expected one of rmse, mse"),
        (
            {"features__1__type": "text"},
            "features[1].type: expected numeric or categorical, got 'text'",
        ),
        (
            {
                "problem_type": "regression",
                "target": {"name": "y", "type": "numeric"},
                "positive_label": None,
            },
            "quality.metric: f1 is a binary-classification metric; regression takes rmse, mse, mae",
        ),
        (
            {
                "problem_type": "regression",
                "quality": {"metric": "accuracy", "threshold": 1},
                "target": {"name": "y", "type": "numeric"},
                "positive_label": None,
            },
            "quality.metric: accuracy is a classification metric",
        ),
        (
            {
                "problem_type": "multiclass_classification",
                "positive_label": None,
                "quality": {"metric": "auc", "threshold": 0.8},
            },
            "quality.metric: auc is a binary-classification metric",
        ),
        (
            {"target__categories": ["yes"]},
            "target.categories: a classification target needs at least 2 classes",
        ),
        (
            {"target__categories": ["no", "yes", "maybe"]},
            "binary_classification has exactly 2 classes, got 3 (no, yes, maybe)",
        ),
        (
            {"positive_label": "perhaps"},
            "positive_label: 'perhaps' is not one of the target's categories",
        ),
        (
            {"positive_label": None},
            "positive_label: binary_classification names its positive class",
        ),
        ({"quality__threshold": None}, "quality.threshold: required for f1"),
        ({"quality__threshold": 1.5}, "quality.threshold: f1 is in [0, 1], got 1.5"),
        (
            {"target__type": "numeric", "target__categories": None},
            "target.type: a binary_classification target is categorical",
        ),
        ({"features__2__name": "plan"}, "features[2].name: 'plan' is also features[0].name"),
        ({"features__0__colour": "red"}, "features[0].colour: unknown key"),
        ({"features__2__name": "_c2"}, "Model Monitor's positional name"),
        ({"features": []}, "features: expected a non-empty list"),
        ({"quality": None}, "quality: required"),
        ({"header": "yes"}, "header: expected true or false"),
        ({"drift": "tenure/2"}, "drift: item 'tenure/2': expected COLUMN*FACTOR"),
        ({"drift": "plan*2"}, "drift: item 'plan*2': plan is categorical"),
        ({"features__3__max": -1}, "features[3].max: must be above min"),
    ],
)
def test_a_bad_spec_is_one_line_naming_file_and_key(
    tmp_path: Path, changes: dict, message: str
) -> None:
    path = _spec(tmp_path, _with(**changes))
    with pytest.raises(ConfigError) as error:
        load_spec(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert message in text, text


def test_a_missing_or_broken_spec_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dataset spec not found"):
        load_spec(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+:\d+: YAML syntax error"):
        load_spec(tmp_path / "bad.yaml")


def test_mse_without_threshold_takes_accuracy_mse_threshold(tmp_path: Path) -> None:
    document = {
        **BINARY,
        "problem_type": "regression",
        "target": {"name": "spend_next", "type": "numeric"},
        "positive_label": None,
        "quality": {"metric": "mse"},
    }
    spec = parse_spec(document, tmp_path / "s.yaml")
    assert spec.threshold(7.5) == 7.5
    assert not METRICS["mse"].passes(7.6, 7.5) and METRICS["r2"].passes(0.8, 0.7)


def test_the_generator_makes_realistic_classification_data_for_any_spec(tmp_path: Path) -> None:
    spec = parse_spec(BINARY, tmp_path / "s.yaml")
    made = generate(tmp_path / "gen", rows=2000, inference_rows=400, seed=3, spec=spec)
    reports = validate_dataset(tmp_path / "gen", spec=spec)
    assert all(r.ok for r in reports), [str(p) for r in reports for p in r.problems]
    lines = made.files[Layout.TRAINING].read_text().splitlines()
    labels = [line.rsplit(",", 1)[1] for line in lines]
    share = labels.count("yes") / len(labels)
    assert 0.2 < share < 0.6, share
    regions = {line.split(",")[1] for line in lines}
    assert regions == {"a", "b", "c"}
    tenure = np.array([float(line.split(",")[2]) for line in lines])
    assert (tenure >= 0).all() and (tenure == np.round(tenure)).all()
    again = generate(tmp_path / "again", rows=2000, inference_rows=400, seed=3, spec=spec)
    assert again.files[Layout.TRAINING].read_bytes() == made.files[Layout.TRAINING].read_bytes()


def test_label_flip_and_unseen_categories_drift(tmp_path: Path) -> None:
    spec = parse_spec(BINARY, tmp_path / "s.yaml")
    clean = generate(tmp_path / "clean", rows=50, inference_rows=600, seed=4, spec=spec)
    drifted = generate(
        tmp_path / "drift",
        rows=50,
        inference_rows=600,
        seed=4,
        spec=spec,
        drift="churned:flip=1,plan:unseen=0.25",
    )
    before = clean.files[Layout.GROUND_TRUTH].read_text().split()
    after = drifted.files[Layout.GROUND_TRUTH].read_text().split()
    assert all(a != b for a, b in zip(before, after, strict=True))
    plans = [
        line.split(",")[0] for line in drifted.files[Layout.INFERENCE].read_text().splitlines()
    ]
    assert 0.18 < plans.count("unseen") / len(plans) < 0.32
    report = validate_file(drifted.files[Layout.INFERENCE], spec=spec)
    assert report.ok, "an unseen category at inference is a note, not a problem"
    assert report.notes == {
        "column 'plan': category training never saw: 'unseen'": plans.count("unseen")
    }


@pytest.mark.parametrize(
    ("content", "line", "column", "fragment"),
    [
        (
            "pro,x,3,1.5,yes\nbasic,x,2,1.0,perhaps\n",
            2,
            5,
            "unknown label 'perhaps' in column 'churned'",
        ),
        ("pro,x,3,1.5,yes\ngold,x,2,1.0,no\n", 2, 1, "unknown category 'gold' in column 'plan'"),
        ("pro,x,3,1.5,yes\npro,x,2.5,1.0,no\n", 2, 3, "must be a whole number"),
        ("pro,x,3,1.5,yes\npro,x,2,-1,no\n", 2, 4, "is below its min 0"),
        ("pro,x,3,1.5,\n", 1, 5, "the target may not be missing"),
        ("pro,x,3,1.5,yes\npro,x,3\n", 2, None, "ragged line: 3 columns, expected 5"),
        (
            "pro,x,3,1.5,yes\npro,x,3,1.5,yes\n",
            1,
            None,
            "the target 'churned' has one class ('yes') in 2 rows",
        ),
    ],
)
def test_a_csv_that_does_not_match_the_spec_names_file_line_and_column(
    tmp_path: Path, content: str, line: int, column: int | None, fragment: str
) -> None:
    spec = parse_spec(BINARY, tmp_path / "s.yaml")
    path = tmp_path / "training-data.csv"
    path.write_text(content)
    problem = validate_file(path, spec=spec).problems[0]
    assert (problem.line, problem.column) == (line, column)
    assert fragment in problem.message and str(problem).startswith(f"{path}:{line}")


def test_a_binary_target_with_three_classes_is_named_where_the_third_appears(
    tmp_path: Path,
) -> None:
    document = _with(target__categories=None)
    spec = parse_spec(document, tmp_path / "s.yaml")
    path = tmp_path / "training-data.csv"
    path.write_text("pro,x,3,1.5,yes\npro,x,3,1.5,no\npro,x,3,1.5,no\npro,x,3,1.5,maybe\n")
    problem = validate_file(path, spec=spec).problems[0]
    assert (problem.line, problem.column) == (4, 5)
    assert "'maybe' is a third class in column 'churned'" in problem.message


def test_missing_feature_values_are_accepted_and_a_header_is_checked(tmp_path: Path) -> None:
    spec = parse_spec({**BINARY, "header": True}, tmp_path / "s.yaml")
    path = tmp_path / "training-data.csv"
    path.write_text("plan,region,tenure,spend,churned\npro,,3,,yes\n,x,,1.0,no\n")
    assert validate_file(path, spec=spec).ok
    path.write_text("plan,region,tenure,cost,churned\npro,,3,,yes\n")
    problem = validate_file(path, spec=spec).problems[0]
    assert (
        problem.line == 1
        and "expected the header line plan,region,tenure,spend,churned" in problem.message
    )


@pytest.mark.parametrize("name", ["breast-cancer", "wine"])
def test_example_csvs_are_real_data_that_validates(tmp_path: Path, name: str) -> None:
    written = write_example(name, tmp_path)
    spec = EXAMPLES[name].spec()
    reports = validate_dataset(tmp_path, spec=spec)
    assert all(r.ok for r in reports), [str(p) for r in reports for p in r.problems]
    rows = {layout: count for layout, (_path, count) in written.items()}
    assert rows[Layout.INFERENCE] == rows[Layout.GROUND_TRUTH]
    assert (
        rows[Layout.TRAINING] + rows[Layout.INFERENCE] == {"breast-cancer": 569, "wine": 178}[name]
    )
    assert set(reports[0].labels) == set(spec.labels or ())


def test_cli_example_then_validate_with_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["data", "example", "wine", "--out", str(tmp_path)]) == 0
    spec = str(EXAMPLES_DIR / "wine" / "dataset.yaml")
    assert f"--dataset {spec}" in capsys.readouterr().out
    assert main(["data", "validate", str(tmp_path), "--dataset", spec]) == 0
    monkeypatch.delenv("BATCHOPS_DATASET_SPEC")  # a new process: the default spec again
    assert main(["data", "validate", str(tmp_path)]) == 1, "the Abalone spec refuses wine"
    assert "wrong column count: 14 columns, expected 9" in capsys.readouterr().out


def test_cli_bad_spec_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _spec(tmp_path, _with(problem_type="ranking"))
    assert main(["data", "generate", "--out", str(tmp_path / "o"), "--dataset", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "problem_type: expected one of" in err
    assert not (tmp_path / "o").exists(), "nothing half-written"


@pytest.mark.parametrize("name", ["breast-cancer", "wine"])
def test_generated_data_for_a_classification_spec_is_learnable(tmp_path: Path, name: str) -> None:
    """Synthetic rows for any spec: a plain model beats the majority class by far."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    spec = EXAMPLES[name].spec()
    made = generate(tmp_path, rows=3000, inference_rows=1000, seed=2, spec=spec)
    assert all(r.ok for r in validate_dataset(tmp_path, spec=spec))

    def read(layout: Layout) -> list[list[str]]:
        return [line.split(",") for line in made.files[layout].read_text().splitlines()]

    train = np.array(read(Layout.TRAINING), dtype=object)
    x, y = train[:, :-1].astype(float), train[:, -1]
    test_x = np.array(read(Layout.INFERENCE), dtype=float)
    test_y = np.array([r[0] for r in read(Layout.GROUND_TRUTH)])
    model = HistGradientBoostingClassifier(max_iter=100).fit(x, y)
    accuracy = float((model.predict(test_x) == test_y).mean())
    majority = max(np.mean(test_y == c) for c in set(test_y))
    assert set(y) == set(spec.labels or ()), "every class of the spec occurs"
    assert accuracy > majority + 0.15, (accuracy, majority)
