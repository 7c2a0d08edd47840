"""``batchops doctor``: a read-only preflight of one account, AWS or the local cloud.

One line per check: ``ok   <check>: <what was found>`` or ``FAIL <check>: <what is wrong>;
<what to do>``. Every check reads through the account's :class:`batchops.aws.Clients` and
changes nothing; each verifies its own piece only (a missing OIDC provider fails
``oidc-provider``, not every role that trusts it), so removing one piece fails exactly one
check. The first check is the caller's identity: with no credentials, or credentials of
another account, doctor prints that one line (naming the expected account) and stops.

What doctor needs on AWS: read access to IAM, S3 (bucket settings, not objects), KMS
(DescribeKey, GetKeyPolicy, GetKeyRotationStatus), SageMaker, EventBridge, Lambda (and the
account key through Lambda: its configuration is encrypted), Secrets Manager (DescribeSecret,
never the value) and ECR; the account's ReadOnlyAccess covers it.
"""

from __future__ import annotations

from pathlib import Path

from batchops.aws import Clients, error_message
from batchops.config import Settings
from batchops.doctor import automation, identity, storage
from batchops.doctor.base import Check, CheckResult, Context, Failure

__all__ = ["CheckResult", "Context", "Failure", "check_names", "run_doctor"]


def _checks() -> list[tuple[str, Check, tuple[str, ...]]]:
    everywhere = ("data-science", "staging", "production")
    return [
        ("oidc-provider", identity.oidc_provider, everywhere),
        ("deploy-role", identity.deploy_role, everywhere),
        ("terraform-roles", identity.terraform_roles, everywhere),
        ("execution-role", identity.execution_role, everywhere),
        ("state-bucket", storage.state_bucket, everywhere),
        ("bucket", storage.data_bucket, everywhere),
        ("kms-key", storage.kms_key, everywhere),
        ("registry", storage.registry, everywhere),
        ("event-rules", automation.event_rules, everywhere),
        ("bus-policy", automation.bus_policy, ("data-science",)),
        ("functions", automation.functions, everywhere),
        ("trigger-secret", automation.trigger_secret, ("data-science",)),
        ("pipelines", automation.pipelines, everywhere),
        ("images", automation.images, everywhere),
    ]


def check_names(environment: str) -> list[str]:
    """The checks doctor runs for an environment, in order (identity first)."""
    return ["identity"] + [name for name, _, envs in _checks() if environment in envs]


def _run(name: str, check: Check, context: Context) -> CheckResult:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return CheckResult(name, True, check(context))
    except Failure as failure:
        return CheckResult(name, False, str(failure))
    except ClientError as exc:
        return CheckResult(
            name, False, f"AWS refused a read: {error_message(exc)}; give doctor read access"
        )
    except BotoCoreError as exc:
        return CheckResult(name, False, f"{exc}; check the network and the endpoint")


def run_doctor(settings: Settings, clients: Clients, accounts_dir: Path) -> list[CheckResult]:
    """Every check of the environment; only the identity line when the identity is wrong."""
    context = Context(settings, clients, accounts_dir)
    first = _run("identity", identity.caller_identity, context)
    if not first.ok:
        return [first]
    results = [first]
    for name, check, environments in _checks():
        if settings.environment in environments:
            results.append(_run(name, check, context))
    return results
