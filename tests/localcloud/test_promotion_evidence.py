"""Production checks staging's evidence on the model version, never staging itself.

Staging records on the version in the central registry that it was deployed there
(``batchops deploy --env staging``) and how its inference runs ended (the
``batchops-promotion-evidence`` function on the run's *Execution Status Change*);
production reads that with its own registry read access. Before, production assumed the
staging deploy role — which trusts only GitLab's web identity — and read staging's runs.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from batchops import promotion, registry
from batchops.config import load_settings
from batchops.deploy import check_promotion
from batchops.errors import GovernanceError
from batchops.pipelines import deploy as pipelines
from batchops.pipelines.build import build
from batchops.pipelines.project import project


@pytest.fixture()
def approved(account, register):  # type: ignore[no-untyped-def]
    """``approved()`` -> a new approved version of the group."""
    settings = load_settings("data-science")
    return lambda: registry.approve(account("data-science"), settings, register())


def _production_check(account, version) -> None:  # type: ignore[no-untyped-def]
    check_promotion("production", version, account("production"), load_settings("production"))


def test_only_staging_may_record_evidence_on_a_version(account, approved) -> None:  # type: ignore[no-untyped-def]
    version = approved()
    promotion.record_staging_deploy(account("staging").client("sagemaker"), version.arn)
    with pytest.raises(ClientError) as caught:
        promotion.record_staging_deploy(account("production").client("sagemaker"), version.arn)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_production_refuses_until_staging_ran_the_version_successfully(account, approved) -> None:  # type: ignore[no-untyped-def]
    first, second = approved(), approved()
    staging = account("staging").client("sagemaker")
    promotion.record_staging_deploy(staging, first.arn)
    with pytest.raises(
        GovernanceError,
        match=f"v{first.version} cannot go to production: it has no inference run in staging yet",
    ):
        _production_check(account, first)
    promotion.record_staging_run(staging, first.arn, "arn:run/1", "Failed", promotion.now())
    with pytest.raises(GovernanceError, match="its latest staging inference run is Failed"):
        _production_check(account, first)
    promotion.record_staging_run(staging, first.arn, "arn:run/2", "Succeeded", promotion.now())
    _production_check(account, first)
    with pytest.raises(
        GovernanceError,
        match=f"staging runs v{first.version}, not v{second.version}; deploy it to staging first",
    ):
        _production_check(account, second)
    # an older run's event arriving late does not replace the newer outcome
    assert not promotion.record_staging_run(staging, first.arn, "arn:run/0", "Failed", "2000-01-01")
    _production_check(account, first)


@pytest.mark.slow
def test_a_staging_run_records_its_outcome_on_its_version(account, approved) -> None:  # type: ignore[no-untyped-def]
    version = approved()
    settings, clients = load_settings("staging"), account("staging")
    proj = project("model-deploy")
    pipelines.upsert(clients, settings, build(proj, proj.spec("inference"), settings))
    arn = pipelines.start(
        clients,
        settings.pipeline_inf,
        {"ModelPackageArn": version.arn, "InputKey": f"{settings.inference_data_prefix}none/"},
    )
    assert (
        pipelines.wait(clients, arn, timeout_s=300, max_delay_s=0.3)["PipelineExecutionStatus"]
        == "Failed"
    )
    deadline = time.monotonic() + 60
    evidence: dict = {}
    while time.monotonic() < deadline and evidence.get(promotion.RUN) != arn:
        package = registry.describe_package(account("data-science"), version.arn)
        evidence = package.get("CustomerMetadataProperties") or {}
        time.sleep(0.2)
    assert evidence.get(promotion.RUN) == arn and evidence[promotion.RUN_STATUS] == "Failed"
