"""One model-quality implementation: the engine's, shipped into the step code byte for byte.

Regression metrics used to be written three times (the evaluate step, the inference
pipeline's model-quality step and the engine) with different standard deviations and a
different R² for a constant target. These tests keep it at one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from batchops.monitor.model_quality import PROBLEM_TYPES, regression_metrics
from batchops.pipelines.step_code import archive_files, build_archive

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "src/batchops/monitor/model_quality.py"
#: Product code: what runs in the accounts (tests and benchmarks compute by hand on purpose).
PRODUCT = ("src", "model-build", "model-deploy")
#: Outside the engine, squared differences are allowed only here (chi-squared statistic).
ALLOWED_SQUARES = {REPO / "src/batchops/monitor/drift.py"}
METRIC_NAMES = {"mse", "rmse", "mae", "r2"}
STEP_SCRIPTS = (
    REPO / "model-build/steps/evaluate.py",
    REPO / "model-deploy/steps/model_quality.py",
)


def _product_files() -> list[Path]:
    files = []
    for top in PRODUCT:
        files += [p for p in (REPO / top).rglob("*.py") if "tests" not in p.parts]
    return sorted(files)


def _squares_a_difference(node: ast.AST) -> bool:
    """``(a - b) ** 2``, ``errors ** 2``, ``e * e``, ``np.square(...)``."""
    squared = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
    if squared and isinstance(node.right, ast.Constant) and node.right.value == 2:
        left = node.left
        if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Sub):
            return True
        if isinstance(left, ast.Name) and left.id.startswith(("err", "resid", "diff")):
            return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        same = ast.dump(node.left) == ast.dump(node.right)
        if same and isinstance(node.left, ast.Name) and node.left.id in ("e", "error", "err"):
            return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "square"
    return False


def _hand_written_metrics(source: str, name: str, *, squares_allowed: bool = False) -> list[str]:
    tree = ast.parse(source, filename=name)
    found = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if _squares_a_difference(node) and not squares_allowed:
            found.append(f"{where}: squares a difference (an error metric by hand)")
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if len(keys & METRIC_NAMES) >= 2:
                found.append(f"{where}: writes a metrics document by hand ({sorted(keys)})")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn.metrics"):
            found.append(f"{where}: imports metrics from scikit-learn")
    return found


def test_no_other_copy_of_the_model_quality_metrics_exists() -> None:
    problems = [
        problem
        for path in _product_files()
        if path != ENGINE
        for problem in _hand_written_metrics(
            path.read_text(),
            str(path.relative_to(REPO)),
            squares_allowed=path in ALLOWED_SQUARES,
        )
    ]
    assert not problems, "model-quality metrics outside the engine:\n" + "\n".join(problems)


def test_the_copy_detector_finds_the_copies_that_were_removed() -> None:
    """The three shapes the old copies had are caught (so the test above can fail)."""
    copies = {
        "evaluate.py": "import numpy as np\nerrors = p - a\nmse = float(np.mean(errors**2))\n",
        "step.py": "errors = [p - a for p, a in pairs]\nmse = sum(e * e for e in errors) / n\n",
        "report.py": "total = sum((a - m) ** 2 for a in actual)\n"
        "doc = {'mse': {'value': 1}, 'rmse': {'value': 1}}\n",
    }
    for name, text in copies.items():
        assert _hand_written_metrics(text, name), name
    assert not _hand_written_metrics("x = (a / b) ** 2\nrows = {'mse': 1}\n", "fine.py")


@pytest.mark.parametrize("script", STEP_SCRIPTS, ids=lambda p: p.name)
def test_step_code_ships_the_engine_byte_for_byte(script: Path) -> None:
    tree = ast.parse(script.read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    # the dataset spec's gate (quality_gate) is the engine's only caller in the steps
    assert imported & {"batchops.monitor.model_quality", "batchops.monitor.quality_gate"}
    files = archive_files(script)
    assert files["batchops/monitor/model_quality.py"] == ENGINE.read_bytes()
    for module in ("classification.py", "quality_gate.py"):
        shipped = files[f"batchops/monitor/{module}"]
        assert shipped == (ENGINE.parent / module).read_bytes()
    assert files[script.name] == script.read_bytes()
    assert not [name for name in files if "polars" in name or "localcloud" in name]


def test_step_code_is_deterministic() -> None:
    script = STEP_SCRIPTS[1]
    assert build_archive(script) == build_archive(script)


def test_one_problem_type_table_that_classification_can_extend() -> None:
    regression = PROBLEM_TYPES["Regression"]
    assert regression.statistics_key == "regression_metrics"
    assert regression.constraints_key == "regression_constraints"
    assert regression.violation_operator("mse") == "GreaterThanThreshold"
    assert regression.violation_operator("r2") == "LessThanThreshold"


@pytest.mark.parametrize(
    ("truth", "predicted", "r2"),
    [([4.0, 4.0, 4.0], [4.0, 4.0, 4.0], 1.0), ([4.0, 4.0, 4.0], [3.0, 4.0, 5.0], 0.0)],
)
def test_constant_ground_truth_has_the_r2_scikit_learn_gives(
    truth: list[float], predicted: list[float], r2: float
) -> None:
    assert regression_metrics(np.array(predicted), np.array(truth)).values["r2"] == r2


def test_metrics_are_the_same_under_the_image_runtime(
    tmp_path: Path, sklearn_image_python: Path
) -> None:
    """The shipped module under Python 3.9 + numpy 1.24.1 gives the project's numbers."""
    rng = np.random.default_rng(5)
    truth = rng.normal(10, 3, 500)
    predicted = truth + rng.normal(0, 1.5, 500)
    np.savetxt(tmp_path / "p.csv", predicted)
    np.savetxt(tmp_path / "t.csv", truth)
    archive = tmp_path / "mq.pyz"
    archive.write_bytes(build_archive(STEP_SCRIPTS[1]))
    probe = (
        "import json, sys; from pathlib import Path\n"
        f"sys.path.insert(0, {str(archive)!r})\n"
        "from batchops.monitor.model_quality import read_numeric_column, regression_metrics\n"
        "p = read_numeric_column(Path(sys.argv[1]), None, header=False, what='p')\n"
        "t = read_numeric_column(Path(sys.argv[2]), None, header=False, what='t')\n"
        "m = regression_metrics(p, t)\n"
        "print(json.dumps([sys.version_info[:2], m.values, m.standard_deviations]))\n"
    )
    done = subprocess.run(
        [str(sklearn_image_python), "-c", probe, str(tmp_path / "p.csv"), str(tmp_path / "t.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    version, values, deviations = json.loads(done.stdout)
    assert version == [3, 9]
    here = regression_metrics(np.loadtxt(tmp_path / "p.csv"), np.loadtxt(tmp_path / "t.csv"))
    assert values == pytest.approx(here.values, rel=1e-12)
    assert deviations == pytest.approx(here.standard_deviations, rel=1e-9)
    assert sys.version_info[:2] != (3, 9)  # the comparison is across two runtimes
