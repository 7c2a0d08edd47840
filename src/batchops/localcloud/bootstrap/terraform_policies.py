"""The policy documents the Terraform roots apply, as one committed snapshot the bootstrap uses.

``terraform-policies.json`` (next to this module) holds, per account, what
``accounts/bootstrap`` and the account root create on AWS and the local bootstrap must create
the same way: the GitLab OIDC provider; every IAM role (CI's deploy, plan and apply roles,
the SageMaker execution role, each function's and the event targets' role) with its trust,
inline and attached policies; the account and state keys' policies; the data and state
buckets' policies and default keys; the registry's group policy; and every ``batchops-*``
EventBridge rule's targets (ARN, role, RetryPolicy, DeadLetterConfig, input transformer), as
``events:ListTargetsByRule`` returns them, so a target the bootstrap puts cannot drift from the
one Terraform applies (both come from ``src/batchops/events/rules.json``).

It is *captured* from a local cloud the Terraform roots were applied to
(``tests/infra/test_local_cloud_apply.py`` compares a fresh capture with the committed file and
rewrites it when ``UPDATE_TERRAFORM_POLICIES=1``); key ARNs, which KMS chooses at
creation, are kept as ``${key:<environment>:<alias>}`` placeholders. The bootstrap renders the
placeholders with the keys it created and puts every document as it is, and
``tests/test_doctor.py`` captures the bootstrapped cloud the same way and compares: the
bootstrap cannot drift from Terraform without one of the two tests failing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from batchops.aws import Clients
from batchops.config import ENVIRONMENTS, Settings, load_settings

SNAPSHOT = Path(__file__).with_name("terraform-policies.json")
STATE_KEY_ALIAS = "batchops-tfstate"
PLAN_ROLE, APPLY_ROLE = "batchops-terraform-plan", "batchops-terraform-apply"
_PLACEHOLDER = re.compile(r"\$\{key:([a-z-]+):([A-Za-z0-9/_-]+)\}")


def state_bucket_name(settings: Settings) -> str:
    """``batchops-tfstate-<account id>``, as accounts/bootstrap names it."""
    return f"batchops-tfstate-{settings.account_id}"


def account_key_alias(settings: Settings) -> str:
    return f"batchops-{settings.environment}"


def _document(value: Any) -> Any:
    """Policy documents arrive as text or decoded dicts; compare them decoded."""
    if isinstance(value, str):
        from urllib.parse import unquote

        try:
            return json.loads(value)
        except ValueError:
            return json.loads(unquote(value))
    return value


# ----- capture: read what a local cloud holds ------------------------------------------------
def _keys(clients: Clients) -> dict[str, str]:
    """alias name (without ``alias/``) -> key ARN, in one account."""
    kms = clients.client("kms")
    found = {}
    for alias in kms.get_paginator("list_aliases").paginate():
        for entry in alias["Aliases"]:
            name = entry["AliasName"].removeprefix("alias/")
            if name.startswith("batchops") and entry.get("TargetKeyId"):
                found[name] = kms.describe_key(KeyId=entry["TargetKeyId"])["KeyMetadata"]["Arn"]
    return found


def _account(settings: Settings, clients: Clients) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    iam, kms, s3 = clients.client("iam"), clients.client("kms"), clients.client("s3")
    account: dict[str, Any] = {"oidc_providers": {}, "roles": {}, "keys": {}, "buckets": {}}
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
        account["oidc_providers"][provider["Arn"]] = sorted(described["ClientIDList"])
    roles = [r for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
    for role in sorted(roles, key=lambda r: r["RoleName"]):
        name = role["RoleName"]
        inline = {
            policy: _document(
                iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            )
            for policy in sorted(iam.list_role_policies(RoleName=name)["PolicyNames"])
        }
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        account["roles"][name] = {
            "trust": _document(role["AssumeRolePolicyDocument"]),
            "inline": inline,
            "attached": sorted(p["PolicyArn"] for p in attached),
        }
    for alias, arn in sorted(_keys(clients).items()):
        account["keys"][alias] = {
            "policy": _document(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]),
            "rotation": kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"],
        }
    for bucket in (settings.bucket_name, state_bucket_name(settings)):
        try:
            policy = _document(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        except ClientError:
            continue
        default = rules["Rules"][0].get("ApplyServerSideEncryptionByDefault", {})
        account["buckets"][bucket] = {"policy": policy, "key": default.get("KMSMasterKeyID")}
    account["event_targets"] = _event_targets(clients)
    if settings.environment == "data-science":
        group = settings.model_package_group_name
        described = clients.client("sagemaker").get_model_package_group_policy(
            ModelPackageGroupName=group
        )
        account["registry_policy"] = _document(described["ResourcePolicy"])
    return account


#: what a target says; Terraform and the bootstrap must agree on all of it
_TARGET_FIELDS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "RetryPolicy",
    "DeadLetterConfig",
    "SageMakerPipelineParameters",
)


def _event_targets(clients: Clients) -> dict[str, list[dict[str, Any]]]:
    """rule name -> its targets (by Id), for the account's ``batchops-*`` rules."""
    events = clients.client("events")
    rules = [
        r["Name"]
        for page in events.get_paginator("list_rules").paginate(NamePrefix="batchops-")
        for r in page["Rules"]
    ]
    found = {}
    for rule in sorted(rules):
        targets = events.list_targets_by_rule(Rule=rule)["Targets"]
        found[rule] = sorted(
            ({k: t[k] for k in _TARGET_FIELDS if t.get(k) is not None} for t in targets),
            key=lambda t: str(t["Id"]),
        )
    return found


def capture(endpoint: str) -> dict[str, Any]:
    """Every account's documents on the local cloud at ``endpoint``, key ARNs as placeholders.

    Read as each account's administrator, as an inventory of the account is: the deploy role
    may not (where the local cloud checks permissions, its ``iam:ListOpenIDConnectProviders``
    is refused first)."""
    from batchops.localcloud.credentials import admin_clients

    documents, keys = {}, {}
    for env in ENVIRONMENTS:
        settings = load_settings(env)
        clients = admin_clients(settings, endpoint, "terraform-policies")
        documents[env] = _account(settings, clients)
        keys.update({arn: f"${{key:{env}:{alias}}}" for alias, arn in _keys(clients).items()})
    text = json.dumps(documents, sort_keys=True)
    # longest first: a key ARN never prefixes another, but be safe
    for arn in sorted(keys, key=len, reverse=True):
        text = text.replace(arn, keys[arn])
    return dict(json.loads(text))


def write_snapshot(documents: dict[str, Any], path: Path = SNAPSHOT) -> None:
    from batchops.fs import atomic_write_text

    atomic_write_text(path, json.dumps(documents, indent=1, sort_keys=True) + "\n")


# ----- render: what the bootstrap puts -----------------------------------------------------
def load_snapshot(path: Path = SNAPSHOT) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def render(value: Any, keys: dict[tuple[str, str], str]) -> Any:
    """``value`` with every ``${key:<env>:<alias>}`` replaced by that key's ARN."""

    def one(match: re.Match[str]) -> str:
        wanted = (match.group(1), match.group(2))
        if wanted not in keys:
            raise KeyError(f"terraform-policies.json names key {wanted}, which was not created")
        return keys[wanted]

    return json.loads(_PLACEHOLDER.sub(one, json.dumps(value)))
