"""IAM policy evaluation on moto's policy classes, completed where they fall short.

moto's :class:`moto.iam.access_control.IAMPolicyStatement` matches ``Action`` and
``Resource`` but treats a failed condition or an unmatched principal as an explicit Deny,
ignores ``NotResource``, matches actions case-sensitively and knows one condition operator.
:class:`Statement` keeps moto's element matching and evaluates a statement the way IAM
does; :func:`evaluate` combines identity and resource policies by IAM's evaluation logic:

* an explicit Deny in any policy that applies wins;
* otherwise, within one account, an Allow in an identity policy or a resource policy that
  names the caller (role or session ARN) allows; a resource policy naming only the account
  delegates to the account's identity policies;
* across accounts both sides must allow: the caller's identity policy and the resource
  policy (naming the caller's account, role or session);
* a KMS key policy must allow in every case: naming the account enables identity policies;
* a permissions boundary on the caller's role caps its identity policies and resource
  policies that name the role (one naming the role's session is not capped).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult


class PolicyKind(Enum):
    IDENTITY = "identity-based"
    RESOURCE = "resource-based"
    BOUNDARY = "permissions boundary"


@dataclass(frozen=True)
class Caller:
    """The principal of a checked request: an assumed-role session (or an IAM user)."""

    #: arn:aws:sts::ACCT:assumed-role/ROLE/SESSION, arn:aws:iam::ACCT:user/NAME, or a
    #: service principal (events.amazonaws.com) acting for a resource of ``account_id``
    arn: str
    account_id: str

    @property
    def is_service(self) -> bool:
        """A service principal (``events.amazonaws.com``) rather than an IAM principal."""
        return not self.arn.startswith("arn:")

    @property
    def role_arn(self) -> str:
        """The role's ARN for a session (what ``aws:PrincipalArn`` holds), else the ARN."""
        match = re.match(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", self.arn)
        if match is None:
            return self.arn
        return f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}"


@dataclass
class Request:
    """What one request asks: the action, its resource and the condition context."""

    caller: Caller
    action: str
    resource: str
    #: condition keys (any case) -> value(s)
    context: dict[str, str | list[str]] = field(default_factory=dict)

    def values(self, key: str) -> list[str] | None:
        wanted = key.lower()
        for name, value in self.context.items():
            if name.lower() == wanted:
                return [value] if isinstance(value, str) else list(value)
        return None


class Decision(Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit"
    EXPLICIT_DENY = "explicit"


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    #: which kind of policy decided a refusal (for the error message)
    kind: PolicyKind = PolicyKind.IDENTITY

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    def message(self, request: Request) -> str:
        """AWS's wording of a refusal (principal, action, resource, which policy)."""
        who = "Service" if request.caller.is_service else "User"
        head = (
            f"{who}: {request.caller.arn} is not authorized to perform: {request.action} "
            f"on resource: {request.resource}"
        )
        what = self.kind.value if self.kind is PolicyKind.BOUNDARY else f"{self.kind.value} policy"
        if self.decision is Decision.EXPLICIT_DENY:
            article = "an" if self.kind is PolicyKind.IDENTITY else "a"
            return f"{head} with an explicit deny in {article} {what}"
        return f"{head} because no {what} allows the {request.action} action"


class MalformedPolicy(ValueError):
    """A policy document IAM would refuse (the text says why)."""


def parse_policy(document: str | Mapping[str, Any]) -> dict[str, Any]:
    """The policy as a dict, or :class:`MalformedPolicy` saying what is wrong."""
    if isinstance(document, Mapping):
        policy = dict(document)
    else:
        try:
            policy = json.loads(document)
        except (TypeError, json.JSONDecodeError):
            raise MalformedPolicy(
                "Policies must be valid JSON and the first byte must be '{'"
            ) from None
    if not isinstance(policy, dict):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    statements = policy.get("Statement")
    if statements is None:
        raise MalformedPolicy("Missing required field Statement")
    for statement in _as_list(statements):
        if not isinstance(statement, dict):
            raise MalformedPolicy("Statement is not an object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicy("Invalid effect: " + str(statement.get("Effect")))
        if "Action" not in statement and "NotAction" not in statement:
            raise MalformedPolicy("Missing required field Action")
        condition = statement.get("Condition", {})
        if not isinstance(condition, dict) or not all(
            isinstance(v, dict) for v in condition.values()
        ):
            raise MalformedPolicy("Syntax errors in policy: Condition")
    return policy


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | dict) else list(value)


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """The regular expression of an IAM wildcard pattern (compiled once per pattern)."""
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.compile(regex, re.I | re.S if ignore_case else re.S)


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``*`` and ``?`` (nothing else is special)."""
    return _compiled(pattern, ignore_case).match(value) is not None


# --- conditions ---------------------------------------------------------------------------


def _string_equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_equals_ignore_case(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


def _string_like(expected: str, actual: str) -> bool:
    return _wildcard(expected, actual)


def _arn_like(expected: str, actual: str) -> bool:
    # ARNs compare segment by segment; a wildcard in one segment stays in it
    want, got = expected.split(":", 5), actual.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(_wildcard(w, g) for w, g in zip(want, got, strict=True))


def _bool(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


def _numeric(compare: Any) -> Any:
    def check(expected: str, actual: str) -> bool:
        try:
            return bool(compare(float(actual), float(expected)))
        except ValueError:
            return False

    return check


_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(lambda a, e: a == e), False),
    "NumericNotEquals": (_numeric(lambda a, e: a == e), True),
    "NumericLessThan": (_numeric(lambda a, e: a < e), False),
    "NumericLessThanEquals": (_numeric(lambda a, e: a <= e), False),
    "NumericGreaterThan": (_numeric(lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, e: a >= e), False),
}


def condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    """One ``Condition`` entry, as IAM evaluates it.

    ``...IfExists`` is true when the key is absent; a negated operator (``StringNotEquals``,
    ``ArnNotLike``…) is true when the key is absent; ``ForAllValues:`` is true for an absent
    key, ``ForAnyValue:`` false. An operator the evaluator does not know fails closed.
    """
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    actual = request.values(key)
    wanted = [str(v) if not isinstance(v, bool) else str(v).lower() for v in _as_list(expected)]
    if operator == "Null":
        return (actual is None) == (wanted[0].lower() == "true" if wanted else True)
    known = _OPERATORS.get(operator)
    if known is None:
        return False
    match, negated = known
    if actual is None:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def one(value: str) -> bool:
        hit = any(match(w, value) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)


# --- statements and policies --------------------------------------------------------------


class Statement(IAMPolicyStatement):
    """One statement, evaluated as IAM does (moto's element matching, IAM's semantics)."""

    @staticmethod
    def _match(pattern: str, string: str) -> Any:
        return _compiled(pattern, False).match(string)

    def _action_matches(self, action: str) -> bool:
        if "NotAction" in self._statement:
            return not any(
                _wildcard(p, action, ignore_case=True)
                for p in _as_list(self._statement["NotAction"])
            )
        return any(
            _wildcard(p, action, ignore_case=True) for p in _as_list(self._statement.get("Action"))
        )

    def _resource_matches(self, resource: str) -> bool:
        if resource == "*":
            return True  # the request's resource is not resolved: action and conditions decide
        if "NotResource" in self._statement:
            return not self._check_element_matches("NotResource", resource)
        if "Resource" not in self._statement:
            return True  # trust policies and resource policies may omit it
        return self._check_element_matches("Resource", resource)

    def principal_match(self, caller: Caller) -> str | None:
        """How the statement names ``caller``: ``"session"`` (its role session's ARN),
        ``"principal"`` (its role's or user's ARN, or ``*``), ``"account"`` (its account), or
        None (not at all)."""
        principal = self._statement.get("Principal")
        if principal is None:
            return None
        if principal == "*":
            return "principal"
        if caller.is_service:  # an AWS service acting for a resource: named by Service only
            services = principal.get("Service") if isinstance(principal, dict) else None
            return "principal" if caller.arn in [str(s) for s in _as_list(services)] else None
        names = (
            [str(p) for p in _as_list(principal.get("AWS"))] if isinstance(principal, dict) else []
        )
        if caller.arn != caller.role_arn and caller.arn in names:
            return "session"
        if "*" in names or caller.arn in names or caller.role_arn in names:
            return "principal"
        account = caller.account_id
        if account in names or any(n.endswith(f"::{account}:root") for n in names):
            return "account"
        return None

    def applies(self, request: Request) -> bool:
        """Action, resource and every condition match (the principal is checked apart)."""
        if not self._action_matches(request.action) or not self._resource_matches(request.resource):
            return False
        for operator, entries in (self._statement.get("Condition") or {}).items():
            for key, expected in entries.items():
                if not condition_holds(operator, key, expected, request):
                    return False
        return True

    @property
    def denies(self) -> bool:
        return self._statement.get("Effect") == "Deny"


class Policy(IAMPolicy):
    """A policy document (identity or resource), its statements as :class:`Statement`."""

    def __init__(self, policy: Any) -> None:
        if isinstance(policy, dict) and "Statement" in policy:
            policy = json.dumps(policy)
        super().__init__(policy)
        self.statements = [Statement(s) for s in _as_list(self._policy_json.get("Statement"))]

    def identity_result(self, request: Request) -> PermissionResult:
        """The result of this policy as an identity policy of the caller."""
        result = PermissionResult.NEUTRAL
        for statement in self.statements:
            if statement.applies(request):
                if statement.denies:
                    return PermissionResult.DENIED
                result = PermissionResult.PERMITTED
        return result

    def resource_result(self, request: Request) -> tuple[PermissionResult, str | None]:
        """(result, how the allowing statement names the caller) as a resource policy."""
        result, named = PermissionResult.NEUTRAL, None
        for statement in self.statements:
            how = statement.principal_match(request.caller)
            if how is None or not statement.applies(request):
                continue
            if statement.denies:
                return PermissionResult.DENIED, how
            if result is PermissionResult.NEUTRAL or how in ("principal", "session"):
                result, named = PermissionResult.PERMITTED, how
        return result, named


def _document_text(policy: Any) -> str:
    """The JSON text of a policy as moto hands it over: a document, a dict (the document, or
    an inline user policy's ``policy_document``) or a managed policy (its default version)."""
    if isinstance(policy, str):
        return policy
    if isinstance(policy, Mapping):
        if "Statement" in policy:
            return json.dumps(policy, sort_keys=True)
        return str(policy["policy_document"])
    return next(v.document for v in policy.versions if v.is_default)


@functools.lru_cache(maxsize=1024)
def _parsed_policy(text: str) -> Policy:
    return Policy(text)


def policy_of(policy: Any) -> Policy:
    """The :class:`Policy` of a document, parsed once per distinct document text.

    The cache is keyed by the document's content, so a policy write (``PutRolePolicy``, a new
    default version, ``PutBucketPolicy``, ``PutKeyPolicy``…) is seen at once: the new text is
    another key. The :class:`Policy` objects are never changed after parsing.
    """
    return _parsed_policy(_document_text(policy))


def evaluate(
    request: Request,
    identity_policies: Iterable[Any],
    resource_policy: str | Mapping[str, Any] | None = None,
    *,
    resource_account: str | None = None,
    key_policy: bool = False,
    boundary: Any | None = None,
) -> Outcome:
    """IAM's decision for ``request`` (see the module's docstring for the rules).

    ``boundary``: the caller's permissions boundary (a managed policy's document), which
    caps what its identity policies allow and what a resource policy naming its role (not
    its session) allows; an explicit Deny in it wins like any other.
    """
    identity = PermissionResult.NEUTRAL
    for document in identity_policies:
        result = policy_of(document).identity_result(request)
        if result is PermissionResult.DENIED:
            return Outcome(Decision.EXPLICIT_DENY, PolicyKind.IDENTITY)
        if result is PermissionResult.PERMITTED:
            identity = result
    resource, named = PermissionResult.NEUTRAL, None
    if resource_policy:
        resource, named = policy_of(resource_policy).resource_result(request)
        if resource is PermissionResult.DENIED:
            return Outcome(Decision.EXPLICIT_DENY, PolicyKind.RESOURCE)
    bounded = True
    if boundary is not None:
        result = policy_of(boundary).identity_result(request)
        if result is PermissionResult.DENIED:
            return Outcome(Decision.EXPLICIT_DENY, PolicyKind.BOUNDARY)
        bounded = result is PermissionResult.PERMITTED
    identity_allows = identity is PermissionResult.PERMITTED
    resource_allows = resource is PermissionResult.PERMITTED
    if request.caller.is_service:  # a service principal has no identity policies
        if resource_allows:
            return Outcome(Decision.ALLOW)
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.RESOURCE)
    same_account = resource_account in (None, request.caller.account_id)
    names_caller = resource_allows and named in ("principal", "session")
    if key_policy and not resource_allows:
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.RESOURCE)
    if same_account:
        if names_caller and named == "session":
            return Outcome(Decision.ALLOW)  # a session named by ARN: no boundary applies
        if identity_allows or names_caller:
            if bounded:
                return Outcome(Decision.ALLOW)
            return Outcome(Decision.IMPLICIT_DENY, PolicyKind.BOUNDARY)
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.IDENTITY)
    if not resource_allows:
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.RESOURCE)
    if not identity_allows:
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.IDENTITY)
    if not bounded:
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.BOUNDARY)
    return Outcome(Decision.ALLOW)


def resource_policy_allows(
    policy: str | None,
    account_id: str,
    action: str,
    resource: str | None = None,
    *,
    caller: Caller | None = None,
    context: dict[str, str] | None = None,
) -> bool:
    """Whether the resource policy lets ``caller`` (default: the administrator of
    ``account_id``) do ``action`` — the resource side of a cross-account request whose
    identity side is not checked. ``context``: the request's condition keys (``s3:prefix``)."""
    if not policy:
        return False
    try:
        parsed = parse_policy(policy)
    except MalformedPolicy:
        return False
    request = Request(
        caller=caller or Caller(arn=f"arn:aws:iam::{account_id}:root", account_id=account_id),
        action=action,
        resource=resource or "*",
        context={
            "aws:SecureTransport": "true",
            "aws:PrincipalAccount": account_id,
            **(context or {}),
        },
    )
    if resource is None:
        # any resource of the policy's: match the action and principal only
        parsed = {
            **parsed,
            "Statement": [
                {k: v for k, v in s.items() if k not in ("Resource", "NotResource")}
                for s in _as_list(parsed["Statement"])
            ],
        }
    result, _named = Policy(parsed).resource_result(request)
    return result is PermissionResult.PERMITTED


__all__: Sequence[str] = (
    "Caller",
    "Decision",
    "MalformedPolicy",
    "Outcome",
    "Policy",
    "PolicyKind",
    "Request",
    "evaluate",
    "parse_policy",
    "policy_of",
    "resource_policy_allows",
)
