"""Classification model quality: every value against scikit-learn on the same predictions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as sk

from batchops.monitor.classification import (
    classification_block,
    classification_metrics,
    metric_location,
)


@pytest.fixture
def binary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    truth = np.where(rng.random(900) < 0.35, "malignant", "benign")
    score = np.clip(np.where(truth == "malignant", 0.65, 0.3) + rng.normal(0, 0.22, 900), 0, 1)
    score = np.round(score, 2)  # ties, as real probabilities written with few decimals have
    predicted = np.where(score >= 0.5, "malignant", "benign")
    return truth, predicted, score


def test_binary_metrics_match_scikit_learn(binary: tuple) -> None:
    truth, predicted, score = binary
    m = classification_metrics(
        "binary_classification", truth, predicted, classes=["benign", "malignant"],
        positive_label="malignant", score=score,
    )  # fmt: skip
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
    assert m.confusion_matrix == {
        "benign": {"benign": tn, "malignant": fp},
        "malignant": {"benign": fn, "malignant": tp},
    }
    assert v["true_negative_rate"] == pytest.approx(tn / (tn + fp))
    assert v["false_negative_rate"] == pytest.approx(fn / (fn + tp))
    prevalence = (truth == "malignant").mean()
    assert v["precision_best_constant_classifier"] == pytest.approx(prevalence)
    assert v["f1_best_constant_classifier"] == pytest.approx(
        sk.f1_score(truth, np.full(900, "malignant"), pos_label="malignant")
    )
    fpr, tpr, _ = sk.roc_curve(truth == "malignant", score, drop_intermediate=False)
    roc = m.curves["receiver_operating_characteristic_curve"]
    assert len(fpr) <= 201, "scores with two decimals: every point is kept"
    np.testing.assert_allclose(roc["false_positive_rates"], fpr, atol=1e-6)
    np.testing.assert_allclose(roc["true_positive_rates"], tpr, atol=1e-6)
    assert np.trapezoid(roc["true_positive_rates"], roc["false_positive_rates"]) == pytest.approx(
        v["auc"], abs=2e-3
    )
    assert m.standard_deviations["f1"] > 0  # 900 rows: AWS's five 80% samples


def test_binary_document_is_model_monitors_layout(binary: tuple) -> None:
    truth, predicted, score = binary
    m = classification_metrics(
        "binary_classification", truth[:50], predicted[:50], classes=["benign", "malignant"],
        positive_label="malignant", score=score[:50],
    )  # fmt: skip
    block = json.loads(json.dumps(classification_block(m)))["binary_classification_metrics"]
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
    assert set(block["precision_recall_curve"]) == {"precisions", "recalls"}


def test_multiclass_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(12)
    classes = ["cultivar_1", "cultivar_2", "cultivar_3"]
    truth = rng.choice(classes, 600, p=[0.5, 0.3, 0.2])
    predicted = np.where(rng.random(600) < 0.75, truth, rng.choice(classes, 600))
    m = classification_metrics("multiclass_classification", truth, predicted, classes=classes)
    v = m.values
    assert v["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    for name, average in (("weighted", "weighted"), ("macro", "macro")):
        p, r, f, _ = sk.precision_recall_fscore_support(truth, predicted, average=average)
        assert v[f"{name}_precision"] == pytest.approx(p)
        assert v[f"{name}_recall"] == pytest.approx(r)
        assert v[f"{name}_f1"] == pytest.approx(f)
    assert v["weighted_f2"] == pytest.approx(
        sk.fbeta_score(truth, predicted, beta=2, average="weighted")
    )
    per = sk.precision_recall_fscore_support(truth, predicted, labels=classes)
    for index, label in enumerate(classes):
        assert m.per_class[label]["precision"] == pytest.approx(per[0][index])
        assert m.per_class[label]["recall"] == pytest.approx(per[1][index])
        assert m.per_class[label]["f1"] == pytest.approx(per[2][index])
        assert m.per_class[label]["support"] == per[3][index]
    matrix = sk.confusion_matrix(truth, predicted, labels=classes)
    assert [[m.confusion_matrix[a][p] for p in classes] for a in classes] == matrix.tolist()
    majority = 0.0 + (truth == "cultivar_1").mean()
    assert v["accuracy_best_constant_classifier"] == pytest.approx(majority)
    assert v["weighted_precision_best_constant_classifier"] == pytest.approx(majority**2)
    nonzero = [v[k] for k in v if not k.endswith("classifier")]
    assert all(x > 0 for x in nonzero), "Model Monitor's multiclass zeros (SDK issue 2953)"


def test_an_empty_class_in_ground_truth_is_listed_and_averages_follow_scikit_learn() -> None:
    classes = ["a", "b", "c"]
    truth = np.array(["a", "a", "b", "b", "a", "b"])
    predicted = np.array(["a", "b", "b", "b", "a", "a"])
    m = classification_metrics("multiclass_classification", truth, predicted, classes=classes)
    assert m.classes_without_ground_truth == ("c",)
    assert m.values["macro_f1"] == pytest.approx(sk.f1_score(truth, predicted, average="macro"))
    assert m.per_class["c"]["support"] == 0 and m.per_class["c"]["recall"] == 0.0
    block = classification_block(m)["multiclass_classification_metrics"]
    assert block["classes_without_ground_truth"] == ["c"]


def test_labels_training_never_saw_get_their_own_rows_in_the_confusion_matrix() -> None:
    m = classification_metrics(
        "multiclass_classification", ["a", "z", "b"], ["a", "a", "b"], classes=["a", "b", "c"]
    )
    assert m.classes == ("a", "b", "c", "z")
    assert m.confusion_matrix["z"]["a"] == 1
    assert m.values["accuracy"] == pytest.approx(2 / 3)


def test_auc_with_one_class_in_ground_truth_is_undefined() -> None:
    m = classification_metrics(
        "binary_classification", ["no"] * 4, ["no", "yes", "no", "no"], classes=["no", "yes"],
        positive_label="yes", score=[0.1, 0.8, 0.3, 0.2],
    )  # fmt: skip
    assert math.isnan(m.values["auc"])
    assert classification_block(m)["binary_classification_metrics"]["auc"]["value"] == "NaN"
    assert m.values["precision"] == 0.0 and m.values["recall"] == 0.0  # scikit-learn's 0/0


@pytest.mark.parametrize(
    ("problem", "metric", "where"),
    [
        ("binary_classification", "f1", ("binary_classification_metrics", "f1")),
        ("binary_classification", "f1_macro", ("binary_classification_metrics", "macro_f1")),
        (
            "multiclass_classification",
            "f1_weighted",
            ("multiclass_classification_metrics", "weighted_f1"),
        ),
        (
            "multiclass_classification",
            "recall",
            ("multiclass_classification_metrics", "weighted_recall"),
        ),
        ("regression", "mse", ("regression_metrics", "mse")),
    ],
)
def test_every_spec_metric_has_a_place_in_the_document(
    problem: str, metric: str, where: tuple
) -> None:
    assert metric_location(problem, metric) == where


def test_length_mismatch_is_one_line() -> None:
    with pytest.raises(ValueError, match="2 predictions but 3 ground-truth labels"):
        classification_metrics(
            "multiclass_classification", ["a", "b", "c"], ["a", "b"], classes=["a"]
        )


def test_every_metric_the_spec_accepts_is_located() -> None:
    from batchops.data.spec import METRICS

    for name, metric in METRICS.items():
        for problem in metric.problem_types:
            block, key = metric_location(problem, name)
            assert block.startswith(problem.split("_")[0]) and key
