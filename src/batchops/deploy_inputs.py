"""Check what a deploy is asked to do before it changes anything.

``batchops deploy`` runs in CI with inputs a pipeline trigger may have set (see
:mod:`batchops.trigger_variables`). Before the deploy reads or writes anything in the target
account, :func:`validate_deploy_request` refuses, with one line each:

* trigger variables other than the documented ones (names only, never values);
* a ``MODEL_PACKAGE_ARN`` that is not a model package version ARN;
* a version of another account, region or model package group than the central registry's;
* trigger variables that disagree with the ARN (``MODEL_PACKAGE_GROUP_NAME``,
  ``MODEL_PACKAGE_VERSION``);
* a version the central registry does not hold, or holds with a status other than
  ``Approved``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from batchops.config import Settings
from batchops.errors import ConfigError, GovernanceError, NotFoundError
from batchops.trigger_variables import TriggerVariablesError, check_trigger_variables

#: arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
#: (SageMaker ARN formats; a group name is 1-63 letters, digits and hyphens).
MODEL_PACKAGE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62})/(?P<version>[1-9]\d*)$"
)


def parse_model_package_arn(arn: str, settings: Settings) -> dict[str, str]:
    """The parts of a version ARN of the central registry; raises when it is not one."""
    match = MODEL_PACKAGE_ARN.match(arn.strip())
    if match is None:
        shown = arn if len(arn) <= 120 else arn[:117] + "..."
        raise ConfigError(
            f"MODEL_PACKAGE_ARN {shown!r} is not a model package version ARN (expected "
            "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
        )
    parts = match.groupdict()
    registry = (settings.registry_account_id, settings.region, settings.model_package_group_name)
    if parts["account"] != registry[0] or parts["region"] != registry[1]:
        raise GovernanceError(
            f"MODEL_PACKAGE_ARN is a version in account {parts['account']} ({parts['region']}), "
            f"not in the central registry (account {registry[0]}, {registry[1]})"
        )
    if parts["group"].lower() != registry[2].lower():
        raise GovernanceError(
            f"MODEL_PACKAGE_ARN is not a version of the model group {registry[2]} "
            f"(it names group {parts['group']})"
        )
    return parts


def _trigger_agrees(parts: dict[str, str], environ: Mapping[str, str]) -> None:
    group = environ.get("MODEL_PACKAGE_GROUP_NAME")
    if group is not None and group.lower() != parts["group"].lower():
        raise GovernanceError(
            "trigger variables disagree: MODEL_PACKAGE_GROUP_NAME is not the group of "
            "MODEL_PACKAGE_ARN"
        )
    version = environ.get("MODEL_PACKAGE_VERSION")
    if version is not None and version.strip() != parts["version"]:
        raise GovernanceError(
            "trigger variables disagree: MODEL_PACKAGE_VERSION is not the version of "
            "MODEL_PACKAGE_ARN"
        )


def _registry_status(sagemaker: Any, arn: str) -> str:
    from botocore.exceptions import ClientError

    from batchops.aws import error_message

    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("ValidationException", "ResourceNotFound"):
            raise NotFoundError(f"MODEL_PACKAGE_ARN {arn} is not in the central registry") from None
        raise GovernanceError(
            f"cannot check MODEL_PACKAGE_ARN against the central registry: {error_message(exc)}"
        ) from None
    return str(package.get("ModelApprovalStatus", "unknown"))


def validate_deploy_request(
    ref: str | None, settings: Settings, sagemaker: Any, environ: Mapping[str, str]
) -> None:
    """Refuse a deploy whose inputs are not a documented, approved version of our registry.

    ``ref`` is the version the command was given (number, ``v3`` or ARN; None: the latest
    approved, which the registry lookup itself guarantees). ``sagemaker`` reads the central
    registry (cross-account by ARN from staging and production).
    """
    try:
        check_trigger_variables(environ)
    except TriggerVariablesError as exc:
        raise ConfigError(str(exc)) from None
    arn = ref.strip() if ref is not None and ref.strip().startswith("arn:") else None
    if arn is None and ref is not None and ref.strip().lower().startswith("arn"):
        arn = ref.strip()  # "arn..." without the colon: malformed, say so
    if arn is None:
        return
    parts = parse_model_package_arn(arn, settings)
    _trigger_agrees(parts, environ)
    status = _registry_status(sagemaker, arn)
    if status != "Approved":
        raise GovernanceError(
            f"MODEL_PACKAGE_ARN version {parts['version']} is {status} in the central registry: "
            "only approved versions are deployed"
        )
