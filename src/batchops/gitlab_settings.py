"""The GitLab project settings batchops' governance relies on, as data, and their diff.

The CI files gate production on a protected environment and CODEOWNERS splits approvals
by team, but both only work when the project is set up to match: ``main`` protected with
code-owner approval required, the CODEOWNERS groups invited to the project (GitLab
ignores owners that are not members), the production environments protected with the
release managers as approvers, and approvals reset on every push. This module computes
that desired state from CODEOWNERS and compares it with the current one. Two project CI/CD
settings complete the AWS side of the gates: the ID token's ``sub`` carries the job's
environment protection and tier (the only way AWS can tell a job of the protected
production environment from any other job on ``main``, see :mod:`batchops.oidc_trust`),
and pipeline variables may be set only by maintainers (a trigger token acts as the
maintainer who created it, so the approval Lambda can still pass ``MODEL_PACKAGE_ARN``). It
does no I/O,
so ``gitlab configure --dry-run`` and the real run print exactly the same plan.

Group references are GitLab group paths (``batchops/release-managers``); the caller
resolves them to ids before comparing (``resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from batchops.codeowners import Section, section_named
from batchops.oidc_trust import SUB_CLAIM_COMPONENTS

#: GitLab access levels (API values) and how the plan prints them.
NO_ONE, DEVELOPER, MAINTAINER = 0, 30, 40
ACCESS_NAMES = {NO_ONE: "no one", DEVELOPER: "developers", MAINTAINER: "maintainers"}

DEFAULT_BRANCH = "main"
TRIGGER_DESCRIPTION = "batchops approval Lambda (deploys approved model versions)"

#: Project-level merge request approval settings (GET/POST /projects/:id/approvals).
APPROVAL_SETTINGS: dict[str, Any] = {
    "reset_approvals_on_push": True,
    "merge_requests_author_approval": False,
    "merge_requests_disable_committers_approval": True,
    "disable_overriding_approvers_per_merge_request": True,
}


#: Project CI/CD settings (``PUT /projects/:id``, GitLab projects API).
#:
#: * ``ci_id_token_sub_claim_components``: the claims ``sub`` is built from (``project_path``
#:   must come first); the Terraform trust policies expect exactly these.
#: * ``restrict_user_defined_variables`` + ``ci_pipeline_variables_minimum_override_role``:
#:   who may set pipeline variables (run pipeline form, manual jobs, the trigger API). Not
#:   ``no_one_allowed``: GitLab then refuses every trigger-token call, even one without
#:   variables (gitlab-org/gitlab#557381), and the approval Lambda must pass the version.
PROJECT_CI_SETTINGS: dict[str, Any] = {
    "ci_id_token_sub_claim_components": list(SUB_CLAIM_COMPONENTS),
    "restrict_user_defined_variables": True,
    "ci_pipeline_variables_minimum_override_role": "maintainer",
}


@dataclass(frozen=True)
class ProtectedEnvironment:
    deployers: tuple[str, ...]
    approvers: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DesiredSettings:
    project: dict[str, Any]
    approvals: dict[str, Any]
    branch: dict[str, Any]
    groups: dict[str, int]
    environments: dict[str, ProtectedEnvironment]

    def group_paths(self) -> set[str]:
        paths = set(self.groups)
        for env in self.environments.values():
            paths.update(env.deployers)
            paths.update(group for group, _ in env.approvers)
        return paths


@dataclass(frozen=True)
class Change:
    """One setting to create or update; ``before`` is None for a creation."""

    kind: str
    name: str
    before: Any
    after: Any

    @property
    def action(self) -> str:
        return "create" if self.before is None else "update"

    def describe(self) -> str:
        if self.before is None:
            return f"+ {self.kind} {self.name}: {_render(self.after)}"
        return f"~ {self.kind} {self.name}: {_render(self.before)} -> {_render(self.after)}"


def _render(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={_render(item)}" for key, item in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _group_of(section: Section) -> str:
    if not section.default_owners:
        from batchops.codeowners import CodeownersError

        raise CodeownersError(
            f"CODEOWNERS: section [{section.name}] needs a default owner group on its header"
        )
    return section.default_owners[0].lstrip("@")


def desired_settings(sections: list[Section]) -> DesiredSettings:
    """What the project must look like for the CI's gates and CODEOWNERS to take effect."""
    release = _group_of(section_named(sections, "Release Management"))
    platform = _group_of(section_named(sections, "Platform"))
    groups = {
        owner.lstrip("@"): DEVELOPER
        for section in sections
        for owner in (*section.default_owners, *(o for e in section.entries for o in e.owners))
        if owner.startswith("@") and "/" in owner
    }
    return DesiredSettings(
        project=dict(PROJECT_CI_SETTINGS),
        approvals=dict(APPROVAL_SETTINGS),
        branch={
            "push": [NO_ONE],
            "merge": [MAINTAINER],
            "allow_force_push": False,
            "code_owner_approval_required": True,
        },
        groups=dict(sorted(groups.items())),
        environments={
            "production": ProtectedEnvironment(deployers=(release,), approvers=((release, 1),)),
            "infrastructure/production": ProtectedEnvironment(
                deployers=(platform,), approvers=((release, 1),)
            ),
        },
    )


def environment_state(env: ProtectedEnvironment) -> dict[str, Any]:
    """The comparable form of a protected environment (group paths, sorted)."""
    return {
        "deployers": sorted(env.deployers),
        "approvers": sorted(f"{group} x{count}" for group, count in env.approvers),
    }


def plan_changes(desired: DesiredSettings, current: dict[str, Any]) -> list[Change]:
    """Changes that turn ``current`` (same shape as :func:`current_shape`) into ``desired``."""
    changes: list[Change] = []
    project = current.get("project") or {}
    differing = {k: v for k, v in desired.project.items() if project.get(k) != v}
    if differing:
        before = {k: project.get(k) for k in differing}
        changes.append(Change("project CI/CD", "settings", before, differing))
    approvals = current.get("approvals") or {}
    differing = {k: v for k, v in desired.approvals.items() if approvals.get(k) != v}
    if differing:
        before = {k: approvals.get(k) for k in differing}
        changes.append(Change("merge request approvals", "settings", before, differing))
    branch = current.get("branch")
    if branch != desired.branch:
        changes.append(Change("protected branch", DEFAULT_BRANCH, branch, desired.branch))
    shared = current.get("groups") or {}
    for group, level in desired.groups.items():
        if shared.get(group) != level:
            was = None if group not in shared else {"access": ACCESS_NAMES.get(shared[group])}
            after = {"access": ACCESS_NAMES[level]}
            changes.append(Change("project member group", group, was, after))
    environments = current.get("environments") or {}
    for name, env in desired.environments.items():
        wanted = environment_state(env)
        if environments.get(name) != wanted:
            changes.append(Change("protected environment", name, environments.get(name), wanted))
    return changes


def current_shape() -> dict[str, Any]:
    """An empty current state: what a brand-new project looks like to :func:`plan_changes`."""
    return {"project": {}, "approvals": {}, "branch": None, "groups": {}, "environments": {}}
