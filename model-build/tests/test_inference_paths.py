"""The inference handler with and without polars: same matrix, same bytes, same errors.

SageMaker's XGBoost framework image has numpy, pandas and xgboost but no polars, so the
handler falls back to pandas' reader there; on the local cloud polars is installed and
used. The module is loaded twice, once with ``import polars`` made to fail.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from batchops.data.generate import generate
from batchops.data.schema import Layout

STEPS = Path(__file__).resolve().parents[1] / "steps"
MEAN = [0.52, 0.41, 0.14, 0.82, 0.34, 0.18, 0.25]
SCALE = [0.12, 0.097, 0.035, 0.52, 0.2, 0.11, 0.18]
#: an Abalone transform as preprocess.py writes it (the median imputes a missing value)
TRANSFORM = {
    "version": 2,
    "problem_type": "regression",
    "classes": None,
    "columns": [
        {"name": "sex", "type": "categorical", "encoding": "onehot",
         "categories": ["M", "F", "I"], "impute": "I"},
        *[
            {"name": f"m{i}", "type": "numeric", "mean": m, "scale": s, "impute": m + s / 2}
            for i, (m, s) in enumerate(zip(MEAN, SCALE, strict=True))
        ],
    ],
}  # fmt: skip


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, STEPS / "inference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def paths() -> tuple[Any, Any]:
    """(handler with polars, handler without polars)."""
    fast = _load("inference_polars")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "polars", None)  # ``import polars`` raises ImportError
        fallback = _load("inference_pandas")
    assert fast.pl is not None and fallback.pl is None
    return fast, fallback


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("model")
    x = np.random.default_rng(0).normal(size=(300, 10))
    booster = xgb.train({"max_depth": 3}, xgb.DMatrix(x, label=x[:, 4] * 3), num_boost_round=8)
    booster.save_model(str(folder / "xgboost-model.json"))
    (folder / "transform.json").write_text(json.dumps(TRANSFORM))
    return {"folder": str(folder)}


def _outcome(handler: Any, model_dir: str, body: str) -> tuple[str, Any, str]:
    """("ok", matrix, output) or ("error", message, "")."""
    loaded = handler.model_fn(model_dir)
    try:
        rows = handler.input_fn(body, "text/csv")
        matrix = handler.features(TRANSFORM, rows) if len(rows) else np.empty((0, 10))
        body, _type = handler.output_fn(handler.predict_fn(rows, loaded), "text/csv")
        output = body.decode("ascii")
    except ValueError as exc:
        return "error", str(exc), ""
    return "ok", matrix, output


def _same(paths: tuple[Any, Any], model: dict, body: str) -> tuple[str, Any, str]:
    fast, fallback = (_outcome(h, model["folder"], body) for h in paths)
    assert fast[0] == fallback[0], (body[:200], fast[1], fallback[1])
    if fast[0] == "error":
        assert fast[1] == fallback[1]
    else:
        assert fast[1].dtype == fallback[1].dtype and fallback[1].flags.c_contiguous
        np.testing.assert_array_equal(fast[1], fallback[1])  # bit for bit
        assert fast[2] == fallback[2]  # byte for byte
    return fast


def _generated(tmp_path: Path, rows: int, seed: int, drift: str | None = None) -> str:
    made = generate(
        tmp_path / f"g{seed}", rows=1, inference_rows=rows, seed=seed, drift=drift,
        layouts=(Layout.INFERENCE,),
    )  # fmt: skip
    return made.files[Layout.INFERENCE].read_text(encoding="utf-8")


def test_generated_abalone_batches_give_the_same_bytes(
    paths: tuple[Any, Any], model: dict, tmp_path: Path
) -> None:
    for seed, drift in ((1, None), (2, "height*1.6,length+0.05"), (3, None)):
        body = _generated(tmp_path, 5000, seed, drift)
        kind, matrix, output = _same(paths, model, body)
        assert kind == "ok" and matrix.shape == (5000, 10)
        assert output.count("\n") == 5000
        crlf = body.replace("\n", "\r\n")
        assert _same(paths, model, crlf)[2] == output


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        ("shucked_weight:invalid=0.2", "field 6: 'n/a' is not a number"),
    ],
)
def test_generated_malformed_batches_fail_the_same_way(
    paths: tuple[Any, Any], model: dict, tmp_path: Path, drift: str, message: str
) -> None:
    kind, error, _ = _same(paths, model, _generated(tmp_path, 2000, 4, drift))
    assert kind == "error" and message in error


def test_sex_spellings_give_the_same_matrix(paths: tuple[Any, Any], model: dict) -> None:
    sexes = ["M", "F", "I", " F", "I ", "X", "", "\u00a0M", "\x1cF", "nan", "true", '"M"']
    rng = np.random.default_rng(5)
    lines = [
        f"{rng.choice(sexes)},{','.join(f'{v:.4f}' for v in rng.uniform(0, 2, 7))}"
        for _ in range(3000)
    ]
    kind, matrix, _ = _same(paths, model, "\n".join(lines) + "\n")
    assert kind == "ok" and set(matrix[:, :3].sum(axis=1).tolist()) <= {0.0, 1.0}


def test_full_precision_numbers_parse_the_same(paths: tuple[Any, Any], model: dict) -> None:
    rng = np.random.default_rng(6)
    values = np.concatenate([rng.uniform(0, 3, 7000), rng.lognormal(0, 4, 7000)])
    texts = [repr(float(v)) for v in values] + [f"{v:.9g}" for v in values]
    lines = [f"M,{','.join(texts[i : i + 7])}" for i in range(0, len(texts) - 6, 7)]
    assert _same(paths, model, "\n".join(lines))[0] == "ok"


GOOD = "M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD, None),
        ("\n\n" + GOOD + GOOD.rstrip("\n"), None),
        (GOOD + "I, 0.5,\t0.3,+.1,1.,1e-1,2E-2,0.15\n", None),
        ("", None),
        (GOOD + "F,1,,3,4,5,6,7\n", None),  # a missing value: imputed
        (GOOD + ",1,2,3,4,5,6,7\n", None),
        (GOOD + "F,nan,2,3,4,5,6,7\n", None),
        (GOOD + "F,1,2,3,4,5,6\n", "record 2: expected 8 fields, got 7"),
        (GOOD + "\n" + GOOD, "record 2: expected 8 fields, got 0"),
        (GOOD + "   \n", "record 2: expected 8 fields, got 1"),
        (GOOD + "F,1,2,3,4,5,6,7,8\n", "record 2: expected 8 fields, got 9"),
        (GOOD + "M,1,2,3,4,x,6,7\n", "record 2, field 6: 'x' is not a number"),
        (GOOD + "M,1 ,2,3,4,5,6,7\n", "record 2, field 2: '1 ' is not a number"),
        (GOOD + 'M,1,2,3,4,5,6,"7 "\n', "record 2, field 8: '7 ' is not a number"),
        (GOOD + "M,true,2,3,4,5,6,7\n", "record 2, field 2: 'true' is not a number"),
        (GOOD + "M,1_0,2,3,4,5,6,7\n", "record 2, field 2: '1_0' is not a number"),
        (GOOD + "M,N/A,2,3,4,5,6,7\n", "record 2, field 2: 'N/A' is not a number"),
        (GOOD.rstrip("\n") + "\rF,1,2,3,4,5,6,7\n", "record 1: a carriage return inside"),
        ("M,1,2,3,4,5,6,7,8\n", "record 1: expected 8 fields, got 9"),
        ("M,1,2,3,4,5,6\n", "record 1: expected 8 fields, got 7"),
    ],
)
def test_edge_payloads_agree(
    paths: tuple[Any, Any], model: dict, body: str, message: str | None
) -> None:
    kind, result, _ = _same(paths, model, body)
    if message is None:
        assert kind == "ok", result
    else:
        assert kind == "error" and message in result, result


def test_handler_source_runs_on_python_38() -> None:
    """SageMaker's XGBoost 1.7-1 image runs Python 3.8: no newer syntax, no zip(strict=)."""
    import ast

    for script in sorted(STEPS.glob("*.py")):
        tree = ast.parse(script.read_text(encoding="utf-8"), feature_version=(3, 8))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "zip":
                assert not node.keywords, f"{script.name}:{node.lineno}: zip(strict=) is 3.10+"


def _classifier(folder: Path, problem: str, classes: list[str]) -> dict:
    """A model over (plan: one-hot, region: ordinal, tenure, spend) for ``problem``."""
    transform = {
        "version": 2,
        "problem_type": problem,
        "classes": classes,
        "columns": [
            {"name": "plan", "type": "categorical", "encoding": "onehot",
             "categories": ["basic", "pro"], "impute": "basic"},
            {"name": "region", "type": "categorical", "encoding": "ordinal",
             "categories": ["north", "south", "east"], "impute": "south"},
            {"name": "tenure", "type": "numeric", "mean": 10.0, "scale": 4.0, "impute": 9.0},
            {"name": "spend", "type": "numeric", "mean": 50.0, "scale": 20.0, "impute": 45.0},
        ],
    }  # fmt: skip
    x = np.random.default_rng(7).normal(size=(400, 5))
    y = (x[:, 3] > 0).astype(int) if len(classes) == 2 else np.digitize(x[:, 4], [-0.5, 0.5])
    params = {"max_depth": 2, "objective": "binary:logistic"}
    if len(classes) > 2:
        params = {"max_depth": 2, "objective": "multi:softprob", "num_class": len(classes)}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=6)
    booster.save_model(str(folder / "xgboost-model.json"))
    (folder / "transform.json").write_text(json.dumps(transform))
    return transform


@pytest.mark.parametrize(
    ("problem", "classes"),
    [("binary_classification", ["stay", "churn"]), ("multiclass_classification", ["a", "b", "c"])],
)
def test_classifiers_output_labels_the_same_way_on_both_paths(
    paths: tuple[Any, Any], tmp_path: Path, problem: str, classes: list[str]
) -> None:
    transform = _classifier(tmp_path, problem, classes)
    rng = np.random.default_rng(8)
    plans = rng.choice(["basic", "pro", " pro", "", "gold"], 2000)
    regions = rng.choice(["north", "south", "east", "", "west"], 2000)
    tenure = [f"{v:.1f}" if v > 3 else "" for v in rng.normal(10, 4, 2000)]
    body = "".join(
        f"{p},{r},{t},{s:.2f}\n"
        for p, r, t, s in zip(plans, regions, tenure, rng.normal(50, 20, 2000), strict=True)
    )
    outputs = []
    for handler in paths:
        model = handler.model_fn(str(tmp_path))
        rows = handler.input_fn(body, "text/csv")
        unseen: Counter = Counter()
        matrix = handler.features(transform, rows, unseen)
        body_out, content_type = handler.output_fn(handler.predict_fn(rows, model))
        assert content_type == "text/csv"
        outputs.append((matrix, body_out.decode("utf-8"), unseen))
    (fast, fast_out, fast_unseen), (slow, slow_out, slow_unseen) = outputs
    np.testing.assert_array_equal(fast, slow)
    assert fast_out == slow_out and fast_unseen == slow_unseen
    assert fast_unseen == {
        ("plan", "gold"): int((plans == "gold").sum()),
        ("region", "west"): int((regions == "west").sum()),
    }
    gold = plans == "gold"
    assert (fast[gold, :2] == 0).all(), "an unseen category is all zeros"
    assert (fast[plans == "", 0] == 1).all(), "a missing category takes the most frequent"
    assert np.isnan(fast[regions == "west", 2]).all() and (fast[regions == "", 2] == 1).all()
    missing_tenure = np.array([t == "" for t in tenure])
    assert np.allclose(fast[missing_tenure, 3], (9.0 - 10.0) / 4.0), "median imputed, scaled"
    lines = fast_out.splitlines()
    assert len(lines) == 2000
    if problem == "binary_classification":
        labels = {line.split(",")[0] for line in lines}
        probabilities = [float(line.split(",")[1]) for line in lines]
        assert labels <= {"stay", "churn"} and all(0 <= p <= 1 for p in probabilities)
        assert all(
            (p >= 0.5) == line.startswith("churn") or abs(p - 0.5) <= 5e-5  # printed rounded
            for p, line in zip(probabilities, lines, strict=True)
        )
    else:
        assert set(lines) <= {"a", "b", "c"} and len(set(lines)) > 1


def test_unseen_categories_are_a_warning_line_not_a_crash(
    paths: tuple[Any, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _classifier(tmp_path, "binary_classification", ["stay", "churn"])
    handler = paths[0]
    model = handler.model_fn(str(tmp_path))
    out, _content_type = handler.output_fn(
        handler.predict_fn(handler.input_fn("gold,west,3,40\npro,north,9,60\n"), model)
    )
    assert len(out.splitlines()) == 2
    err = capsys.readouterr().err
    assert "WARNING unseen categories in 2 of 2 records: plan='gold' x1, region='west' x1" in err
