"""Classification model quality: every value against scikit-learn on the same predictions.

The metrics are the one implementation's problem types (``BinaryClassification``,
``MulticlassClassification`` in ``model_quality.PROBLEM_TYPES``); the dataset spec's gate
(``quality_gate``) feeds them labels and reads their documents.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as sk

from batchops.data.spec import METRICS
from batchops.monitor.classification import metric_location
from batchops.monitor.model_quality import (
    BINARY_CLASSIFICATION,
    MULTICLASS_CLASSIFICATION,
    PROBLEM_TYPES,
    compute_metrics,
    statistics_document,
)
from batchops.monitor.quality_gate import evaluate_batch, failure_message

MULTI = "multiclass_classification_metrics"
BINARY = {
    "problem_type": "binary_classification",
    "positive_label": "malignant",
    "classes": ["benign", "malignant"],
    "quality": {"metric": "f1", "higher_is_better": True},
}
MULTICLASS = {
    "problem_type": "multiclass_classification",
    "classes": ["cultivar_1", "cultivar_2", "cultivar_3"],
    "quality": {"metric": "f1_macro", "higher_is_better": True},
}


@pytest.fixture
def binary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    truth = np.where(rng.random(900) < 0.35, "malignant", "benign")
    score = np.clip(np.where(truth == "malignant", 0.65, 0.3) + rng.normal(0, 0.22, 900), 0, 1)
    score = np.round(score, 2)  # ties, as probabilities written with few decimals have
    predicted = np.where(score >= 0.5, "malignant", "benign")
    return truth, predicted, score


def test_the_engine_knows_the_classification_problem_types() -> None:
    assert {"Regression", "BinaryClassification", "MulticlassClassification"} <= set(PROBLEM_TYPES)
    assert "false_positive_rate" not in BINARY_CLASSIFICATION.higher_is_better
    assert "f1" in BINARY_CLASSIFICATION.higher_is_better


def test_binary_metrics_match_scikit_learn(binary: tuple) -> None:
    truth, predicted, score = binary
    m = compute_metrics(BINARY_CLASSIFICATION, score, (truth == "malignant").astype(float))
    v, pos = m.values, {"pos_label": "malignant"}
    assert v["precision"] == pytest.approx(sk.precision_score(truth, predicted, **pos))
    assert v["recall"] == pytest.approx(sk.recall_score(truth, predicted, **pos))
    assert v["f1"] == pytest.approx(sk.f1_score(truth, predicted, **pos))
    assert v["f0_5"] == pytest.approx(sk.fbeta_score(truth, predicted, beta=0.5, **pos))
    assert v["f2"] == pytest.approx(sk.fbeta_score(truth, predicted, beta=2, **pos))
    assert v["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert v["auc"] == pytest.approx(sk.roc_auc_score(truth == "malignant", score))
    assert v["macro_f1"] == pytest.approx(sk.f1_score(truth, predicted, average="macro"))
    assert v["weighted_f1"] == pytest.approx(sk.f1_score(truth, predicted, average="weighted"))
    tn, fp, fn, tp = sk.confusion_matrix(truth, predicted, labels=["benign", "malignant"]).ravel()
    assert m.details["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert v["true_negative_rate"] == pytest.approx(tn / (tn + fp))
    assert v["false_negative_rate"] == pytest.approx(fn / (fn + tp))
    prevalence = (truth == "malignant").mean()
    assert v["precision_best_constant_classifier"] == pytest.approx(prevalence)
    assert v["f1_best_constant_classifier"] == pytest.approx(
        sk.f1_score(truth, np.full(900, "malignant"), pos_label="malignant")
    )
    fpr, tpr, _ = sk.roc_curve(truth == "malignant", score, drop_intermediate=False)
    roc = m.details["receiver_operating_characteristic_curve"]
    assert len(fpr) <= 201, "scores with two decimals: every point is kept"
    np.testing.assert_allclose(roc["false_positive_rates"], fpr, atol=1e-6)
    np.testing.assert_allclose(roc["true_positive_rates"], tpr, atol=1e-6)
    assert m.standard_deviations["f1"] > 0  # 900 rows: AWS's five 80% samples


def test_the_gate_writes_model_monitors_binary_layout_with_labels(binary: tuple) -> None:
    truth, predicted, score = binary
    result = evaluate_batch(BINARY, truth[:50], predicted[:50], score[:50], 0.99)
    document = json.loads(json.dumps(result.statistics))
    block = document["binary_classification_metrics"]
    for key in (
        "confusion_matrix", "recall", "precision", "accuracy", "recall_best_constant_classifier",
        "precision_best_constant_classifier", "accuracy_best_constant_classifier",
        "true_positive_rate", "true_negative_rate", "false_positive_rate",
        "false_negative_rate", "receiver_operating_characteristic_curve",
        "precision_recall_curve", "auc", "f0_5", "f1", "f2", "f0_5_best_constant_classifier",
        "f1_best_constant_classifier", "f2_best_constant_classifier",
    ):  # fmt: skip
        assert key in block, key
    assert block["f1"]["standard_deviation"] == "NaN", "fewer than 200 rows, as AWS writes it"
    assert set(block["confusion_matrix"]) == {"benign", "malignant"}
    assert result.constraints["binary_classification_constraints"] == {
        "f1": {"threshold": 0.99, "comparison_operator": "LessThanThreshold"}
    }
    (violation,) = result.violations
    assert (
        violation["metric_name"] == "f1" and "LessThanThreshold '0.99'" in violation["description"]
    )
    assert not result.passed
    f1 = sk.f1_score(truth[:50], predicted[:50], pos_label="malignant")
    assert failure_message(result.verdict) == (
        f"model quality below threshold: f1 {f1:.4f} < threshold 0.99 on 50 labelled rows"
    )


def test_multiclass_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(12)
    classes = MULTICLASS["classes"]
    truth = rng.choice(classes, 600, p=[0.5, 0.3, 0.2])
    predicted = np.where(rng.random(600) < 0.75, truth, rng.choice(classes, 600))
    index = {c: i for i, c in enumerate(classes)}
    m = compute_metrics(
        MULTICLASS_CLASSIFICATION,
        [float(index[p]) for p in predicted],
        [float(index[t]) for t in truth],
    )
    v = m.values
    assert v["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    for name in ("weighted", "macro"):
        p, r, f, _ = sk.precision_recall_fscore_support(truth, predicted, average=name)
        assert v[f"{name}_precision"] == pytest.approx(p)
        assert v[f"{name}_recall"] == pytest.approx(r)
        assert v[f"{name}_f1"] == pytest.approx(f)
    assert v["weighted_f2"] == pytest.approx(
        sk.fbeta_score(truth, predicted, beta=2, average="weighted")
    )
    result = evaluate_batch(MULTICLASS, truth, predicted, None, 0.5)
    block = result.statistics["multiclass_classification_metrics"]
    per = sk.precision_recall_fscore_support(truth, predicted, labels=classes)
    for i, label in enumerate(classes):
        assert block["per_class"][label]["precision"] == pytest.approx(per[0][i])
        assert block["per_class"][label]["recall"] == pytest.approx(per[1][i])
        assert block["per_class"][label]["f1"] == pytest.approx(per[2][i])
        assert block["per_class"][label]["support"] == per[3][i]
    matrix = sk.confusion_matrix(truth, predicted, labels=classes)
    assert [[block["confusion_matrix"][a][p] for p in classes] for a in classes] == matrix.tolist()
    majority = float((truth == "cultivar_1").mean())
    assert v["accuracy_best_constant_classifier"] == pytest.approx(majority)
    assert v["weighted_precision_best_constant_classifier"] == pytest.approx(majority**2)
    assert all(v[k] > 0 for k in v), "Model Monitor's multiclass zeros (SDK issue 2953)"
    assert result.passed and result.verdict["value"] == pytest.approx(v["macro_f1"])


def test_an_empty_class_in_ground_truth_is_listed_and_averages_follow_scikit_learn() -> None:
    truth = np.array(["cultivar_1", "cultivar_1", "cultivar_2", "cultivar_2", "cultivar_1"])
    predicted = np.array(["cultivar_1", "cultivar_2", "cultivar_2", "cultivar_2", "cultivar_1"])
    result = evaluate_batch(MULTICLASS, truth, predicted, None, 0.5)
    block = result.statistics["multiclass_classification_metrics"]
    assert block["classes_without_ground_truth"] == ["cultivar_3"]
    assert result.verdict["value"] == pytest.approx(sk.f1_score(truth, predicted, average="macro"))
    assert any("cultivar_3" in note for note in result.notes)


def test_labels_training_never_saw_are_counted_in_the_confusion_matrix() -> None:
    result = evaluate_batch(
        MULTICLASS, ["cultivar_1", "cultivar_9", "cultivar_2"],
        ["cultivar_1", "cultivar_1", "cultivar_2"], None, 0.1,
    )  # fmt: skip
    block = result.statistics["multiclass_classification_metrics"]
    assert block["confusion_matrix"]["cultivar_9"]["cultivar_1"] == 1
    assert block["accuracy"]["value"] == pytest.approx(2 / 3)
    assert "label 'cultivar_9' was never seen in training" in result.notes


def test_auc_of_a_single_class_batch_is_undefined_and_fails_its_gate() -> None:
    dataset = {**BINARY, "quality": {"metric": "auc", "higher_is_better": True}}
    result = evaluate_batch(
        dataset, ["benign"] * 4, ["benign", "malignant", "benign", "benign"],
        [0.1, 0.8, 0.3, 0.2], 0.7,
    )  # fmt: skip
    block = result.statistics["binary_classification_metrics"]
    assert block["auc"]["value"] == "NaN" and result.verdict["value"] is None
    assert not result.passed and "undefined" in result.violations[-1]["description"]
    assert block["precision"]["value"] == 0.0 and block["recall"]["value"] == 0.0  # 0/0


def test_a_rounded_probability_keeps_the_handlers_label() -> None:
    result = evaluate_batch(
        BINARY, ["benign", "malignant"], ["benign", "malignant"], [0.5, 0.9], 0.9
    )
    assert result.statistics["binary_classification_metrics"]["accuracy"]["value"] == 1.0


@pytest.mark.parametrize(
    ("problem", "metric", "where"),
    [
        ("binary_classification", "f1", ("binary_classification_metrics", "f1")),
        ("binary_classification", "f1_macro", ("binary_classification_metrics", "macro_f1")),
        ("multiclass_classification", "f1_weighted", (MULTI, "weighted_f1")),
        ("multiclass_classification", "recall", (MULTI, "weighted_recall")),
        ("regression", "mse", ("regression_metrics", "mse")),
    ],
)  # fmt: skip
def test_every_spec_metric_has_a_place_in_the_document(
    problem: str, metric: str, where: tuple
) -> None:
    assert metric_location(problem, metric) == where


def test_every_metric_the_spec_accepts_is_computed() -> None:
    from batchops.monitor.model_quality import SPEC_PROBLEM_TYPES

    for name, metric in METRICS.items():
        for problem in metric.problem_types:
            _block, key = metric_location(problem, name)
            kind = SPEC_PROBLEM_TYPES[problem]
            assert key in kind.metrics
            assert (key in kind.higher_is_better) == metric.higher_is_better, (problem, name)


def test_length_mismatch_is_one_line() -> None:
    from batchops.errors import DataError

    with pytest.raises(DataError, match="2 predictions but 3 ground-truth labels"):
        evaluate_batch(MULTICLASS, ["a", "b", "c"], ["a", "b"], None, 0.5)


def test_statistics_document_keeps_nan_as_aws_writes_it() -> None:
    m = compute_metrics(BINARY_CLASSIFICATION, [0.2, 0.4], [0.0, 0.0])
    assert math.isnan(m.values["auc"])
    block = statistics_document(m)["binary_classification_metrics"]
    assert block["auc"]["value"] == "NaN"
