"""Fixtures shared by every test suite of the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's BATCHOPS_* or AWS_* settings."""
    for key in list(os.environ):
        if key.startswith(("BATCHOPS_", "AWS_")) and key != "BATCHOPS_TEST_KEEP":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("BATCHOPS_CONFIG_DIR", str(REPO / "config"))
    # recorded, so whatever a test's `--dataset` sets is removed when it ends
    monkeypatch.setenv("BATCHOPS_DATASET_SPEC", "")
    monkeypatch.delenv("BATCHOPS_DATASET_SPEC")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


# ----- the local cloud's registry and approval Lambda ---------------------------------------
@pytest.fixture
def new_version():  # type: ignore[no-untyped-def]
    """``new_version(clients)`` -> ARN of a new pending version in the data-science group (a
    placeholder container: for approval and deploy-trigger tests, not for running)."""

    def make(clients, source: str = "training") -> str:  # type: ignore[no-untyped-def]
        return str(
            clients.client("sagemaker").create_model_package(
                ModelPackageGroupName="batchops-abalone",
                ModelApprovalStatus="PendingManualApproval",
                CustomerMetadataProperties={"source": source},
                InferenceSpecification={
                    "Containers": [{"Image": "xgboost"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )["ModelPackageArn"]
        )

    return make


@pytest.fixture
def fast_approval_client():  # type: ignore[no-untyped-def]
    """``fast_approval_client(clients)``: the approval Lambda with a 1 s GitLab timeout and
    50 ms backoff (changed through the Lambda API, as an operator would); returns the
    function's previous variables, to put back with ``restore_approval_client``."""

    def make(clients) -> dict:  # type: ignore[no-untyped-def]
        lam = clients.client("lambda")
        name = "batchops-approval-trigger"
        variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        lam.update_function_configuration(
            FunctionName=name,
            Environment={
                "Variables": {
                    **variables,
                    "BATCHOPS_GITLAB_TIMEOUT": "1",
                    "BATCHOPS_RETRY_BASE_DELAY": "0.05",
                }
            },
        )
        return dict(variables)

    return make


# ----- the lifecycle report -----------------------------------------------------------------
@pytest.fixture
def drift_statistics(tmp_path: Path) -> tuple[dict, dict]:
    """statistics.json of a baseline (sex, height) and of a batch with height x1.6."""
    import json

    import numpy as np
    import polars as pl

    from batchops.monitor.dataquality import check_dataset, suggest_baseline

    rng = np.random.default_rng(3)
    heights = rng.normal(0.14, 0.04, 2000).clip(0.01)
    base = pl.DataFrame({"sex": rng.choice(["M", "F", "I"], 2000), "height": heights})
    drifted = base.with_columns(pl.col("height") * 1.6)
    base.write_csv(tmp_path / "base.csv", include_header=False)  # the article's layout
    drifted.write_csv(tmp_path / "batch.csv", include_header=False)
    suggest_baseline(tmp_path / "base.csv", tmp_path / "baseline")
    check_dataset(
        tmp_path / "batch.csv",
        tmp_path / "check",
        tmp_path / "baseline/constraints.json",
        tmp_path / "baseline/statistics.json",
    )
    read = [
        json.loads((tmp_path / d / "statistics.json").read_text()) for d in ("baseline", "check")
    ]
    return read[0], read[1]


@pytest.fixture
def report_records(drift_statistics: tuple[dict, dict]) -> dict:
    """Records as ``batchops.records.collect`` returns them: one training run, one drift."""
    import json

    from batchops.records import dag, feature, histograms

    baseline, batch = drift_statistics
    definition = json.loads(
        (REPO / "model-build/tests/golden/training-data-science.json").read_text()
    )
    return {
        "accounts": {"data-science": "111111111111", "production": "333333333333"},
        "executions": [
            {
                "env": "data-science",
                "account": "111111111111",
                "pipeline": "train<script>",
                "arn": "arn:aws:sagemaker:us-east-1:111111111111:pipeline/t/execution/abc",
                "status": "Succeeded",
                "start": "2026-11-28T10:00:00.000+00:00",
                "end": "2026-11-28T10:00:09.000+00:00",
                "failure_reason": None,
                "steps": [
                    {
                        "name": "PreprocessData",
                        "status": "Succeeded",
                        "start": "2026-11-28T10:00:00.500+00:00",
                        "end": "2026-11-28T10:00:02.000+00:00",
                        "failure_reason": None,
                    }
                ],
                "dag": dag(definition),
            }
        ],
        "drift": [
            {
                "env": "production",
                "execution": "arn:aws:sagemaker:us-east-1:333333333333:pipeline/i/execution/def",
                "step": "CheckDataQuality",
                "feature": "_c3",
                "checks": ["baseline_drift_check"],
                "distributions": histograms(feature(baseline, "_c1"), feature(batch, "_c1")),
            },
            {
                "env": "production",
                "execution": "arn:aws:sagemaker:us-east-1:333333333333:pipeline/i/execution/def",
                "step": "CheckDataQuality",
                "feature": "_c0",
                "checks": ["categorical_values_check"],
                "distributions": histograms(feature(baseline, "_c0"), feature(batch, "_c0")),
            },
        ],
        "notifications": [{"time": "t", "account": "1", "subject": "a <b>", "recipients": []}],
        "gitlab_triggers": [
            {"id": 1, "created_at": "t", "ref": "main", "status": "success", "variables": {}}
        ],
    }
