"""Promotion evidence: what production needs to know about staging, kept on the model version.

Production accepts only the version currently deployed to staging whose latest staging
inference run succeeded. Production must check that without trusting staging (no staging
role to assume, no staging bucket to read), so staging records the evidence on the model
package in the central registry, the one thing both accounts share:

* ``batchops deploy --env staging`` writes ``batchops:staging:deployed-at``;
* the ``batchops-promotion-evidence`` function in staging, on every *Pipeline Execution
  Status Change* of the inference pipeline that ends (Succeeded, Failed, Stopped), writes
  ``batchops:staging:run``, ``…:run-status`` and ``…:run-at`` on the version the run was
  pinned to (a late, redelivered event never overwrites a newer run).

Both are ``UpdateModelPackage`` calls with ``CustomerMetadataProperties`` (a map of up to 50
string pairs, keys ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` up to 128 and values up to 256
characters), cross-account, allowed to the staging account by the group's resource policy.
Production reads them with the ``DescribeModelPackage``/``ListModelPackages`` it already has:
the version deployed to staging is the one with the latest ``deployed-at``.

This module talks to a SageMaker client it is given (Lambda handlers and the CLI alike).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

PREFIX = "batchops:staging:"
DEPLOYED_AT = PREFIX + "deployed-at"
RUN = PREFIX + "run"
RUN_STATUS = PREFIX + "run-status"
RUN_AT = PREFIX + "run-at"
ENDED = ("Succeeded", "Failed", "Stopped")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _metadata(sm: Any, arn: str) -> dict[str, str]:
    package = sm.describe_model_package(ModelPackageName=arn)
    return dict(package.get("CustomerMetadataProperties") or {})


def record_staging_deploy(sm: Any, arn: str, at: str | None = None) -> None:
    """Mark ``arn`` as the version staging runs now (the latest ``deployed-at`` wins)."""
    sm.update_model_package(
        ModelPackageArn=arn, CustomerMetadataProperties={DEPLOYED_AT: at or now()}
    )


def record_staging_run(sm: Any, arn: str, execution_arn: str, status: str, at: str) -> bool:
    """Record a staging run's outcome on ``arn``; False when a newer run is already there."""
    if status not in ENDED:
        raise ValueError(f"run status {status!r} has not ended")
    current = _metadata(sm, arn)
    if current.get(RUN_AT, "") > at or (
        current.get(RUN_AT) == at and current.get(RUN) == execution_arn
    ):
        return False
    sm.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={RUN: execution_arn, RUN_STATUS: status, RUN_AT: at},
    )
    return True


def staging_version(packages: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The package staging runs: the one deployed there last."""
    deployed = [p for p in packages if (p.get("CustomerMetadataProperties") or {}).get(DEPLOYED_AT)]
    if not deployed:
        return None
    return max(deployed, key=lambda p: p["CustomerMetadataProperties"][DEPLOYED_AT])


def refusal(version: int, package: dict[str, Any], staging: dict[str, Any] | None) -> str | None:
    """Why ``package`` (v``version``) cannot go to production, or None when it can."""
    if staging is None or staging["ModelPackageArn"] != package["ModelPackageArn"]:
        where = f"v{staging['ModelPackageVersion']}" if staging else "nothing"
        return (
            f"production accepts only the version deployed to staging: staging runs {where}, "
            f"not v{version}; deploy it to staging first"
        )
    evidence = package.get("CustomerMetadataProperties") or {}
    status = evidence.get(RUN_STATUS)
    if status is None:
        return f"v{version} cannot go to production: it has no inference run in staging yet"
    if status != "Succeeded":
        return f"v{version} cannot go to production: its latest staging inference run is {status}"
    return None
