"""AWS managed policies (``arn:aws:iam::aws:policy/...``), there when a request names one.

AWS always has them; moto loads all ~1,600 into every account's IAM backend only with
``MOTO_IAM_LOAD_MANAGED_POLICIES`` (about a second per account). The local cloud instead
adds one to an account the first time a request names it (attach, get, versions), from the
same data moto ships, so attaching ``ReadOnlyAccess`` (the Terraform plan role does) works as
on AWS at the cost of one policy. A name AWS does not have stays NoSuchEntity.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

_PREFIX = "arn:aws:iam::aws:policy"
_lock = threading.Lock()


@functools.cache
def _published() -> dict[str, dict[str, Any]]:
    """moto's copy of AWS's managed policies, by ARN (parsed once per process)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed = json.loads(aws_managed_policies_data)
    return {
        f"{_PREFIX}{d.get('Path', '/')}{name}": {"name": name, **d} for name, d in parsed.items()
    }


def ensure(backend: Any, arn: str) -> None:
    """Add the AWS managed policy ``arn`` to ``backend`` if AWS has it and it is missing."""
    if not arn.startswith(_PREFIX + "/") or arn in backend.managed_policies:
        return
    data = _published().get(arn)
    if data is None:
        return
    from moto.iam.models import AWSManagedPolicy

    with _lock:
        if arn not in backend.managed_policies:
            policy = AWSManagedPolicy.from_data(
                data["name"], backend.account_id, backend.region_name, data
            )
            backend.managed_policies[arn] = policy


def install() -> None:
    from moto.iam.models import IAMBackend

    if getattr(IAMBackend, "_batchops_managed_on_demand", False):
        return
    for method in ("attach_role_policy", "attach_user_policy", "attach_group_policy"):
        original = getattr(IAMBackend, method)

        def attach(self: Any, policy_arn: str, *args: Any, _original: Any = original) -> Any:
            ensure(self, policy_arn)
            return _original(self, policy_arn, *args)

        setattr(IAMBackend, method, attach)
    for method in ("get_policy", "get_policy_version", "list_policy_versions"):
        original = getattr(IAMBackend, method)

        def read(self: Any, policy_arn: str, *args: Any, _original: Any = original) -> Any:
            ensure(self, policy_arn)
            return _original(self, policy_arn, *args)

        setattr(IAMBackend, method, read)
    IAMBackend._batchops_managed_on_demand = True  # type: ignore[attr-defined]
