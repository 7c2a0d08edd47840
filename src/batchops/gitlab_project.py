"""Read and change a GitLab project's governance settings through python-gitlab.

The REST calls live here; what to change is decided by :mod:`batchops.gitlab_settings`.
Every write is followed by nothing that depends on its timing, and every read is done
again on the next run, so running ``gitlab configure`` twice changes nothing the second
time. python-gitlab retries 429 and 5xx answers with backoff (``retry_transient_errors``).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from batchops.errors import CloudError, ConfigError
from batchops.gitlab_settings import (
    APPROVAL_SETTINGS,
    DEFAULT_BRANCH,
    PROJECT_CI_SETTINGS,
    Change,
    DesiredSettings,
    environment_state,
)

if TYPE_CHECKING:
    import gitlab

TOKEN_VARIABLE = "BATCHOPS_GITLAB_TOKEN"


def connect(url: str, token: str | None) -> gitlab.Gitlab:
    """An authenticated client, or one clear line saying why there is none."""
    import gitlab
    import requests

    if not token:
        raise ConfigError(
            f"no GitLab token: set {TOKEN_VARIABLE} to an access token with the api scope "
            "(Maintainer of the project)"
        )
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"GitLab URL {url!r} is not a URL like https://gitlab.example.com")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=5).close()
    except OSError as exc:
        raise CloudError(f"GitLab not reachable at {url}: {exc.strerror or exc}") from None
    client = gitlab.Gitlab(url, private_token=token, timeout=30, retry_transient_errors=True)
    try:
        client.auth()
    except gitlab.exceptions.GitlabAuthenticationError:
        raise CloudError(
            f"GitLab at {url} rejected the token in {TOKEN_VARIABLE} (401): "
            "use an access token with the api scope that has not expired"
        ) from None
    except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
        raise CloudError(f"GitLab at {url} did not answer the token check: {exc}") from None
    return client


def _json(answer: Any) -> dict[str, Any]:
    """python-gitlab types answers as JSON or a raw response; ours are always JSON."""
    if not isinstance(answer, dict):
        raise CloudError(f"GitLab answered with {type(answer).__name__}, expected JSON")
    return answer


class GitLabProject:
    """One project's settings: read them, plan against them, apply changes."""

    def __init__(self, client: gitlab.Gitlab, project: str) -> None:
        self.client = client
        self.project = project
        self.base = f"/projects/{quote(str(project), safe='')}"
        self.group_ids: dict[str, int] = {}
        self._branch: dict[str, Any] | None = None
        self._environments: dict[str, dict[str, Any]] = {}

    # ----- reading ---------------------------------------------------------------------
    def _get(self, path: str) -> Any:
        import gitlab

        try:
            return self.client.http_get(path)
        except gitlab.exceptions.GitlabHttpError as exc:
            if exc.response_code == 404 and path == self.base:
                raise CloudError(
                    f"GitLab project {self.project!r} not found at {self.client.url} "
                    "(or the token cannot see it)"
                ) from None
            raise

    def _list(self, path: str) -> list[dict[str, Any]]:
        return list(self.client.http_list(path, get_all=True))

    def resolve_groups(self, paths: set[str]) -> None:
        """Group path -> id for every group the settings name; a missing group is an error."""
        import gitlab

        for path in sorted(paths):
            try:
                group = self.client.http_get(f"/groups/{quote(path, safe='')}")
            except gitlab.exceptions.GitlabHttpError as exc:
                if exc.response_code != 404:
                    raise
                raise CloudError(
                    f"GitLab group {path!r} (named in CODEOWNERS) does not exist at "
                    f"{self.client.url}: create it or replace the placeholder groups"
                ) from None
            self.group_ids[path] = int(_json(group)["id"])

    def _path_of(self, group_id: int | None) -> str:
        for path, known in self.group_ids.items():
            if known == group_id:
                return path
        return f"group#{group_id}"

    def read_state(self, desired: DesiredSettings) -> dict[str, Any]:
        """The project's current settings in the shape :func:`plan_changes` compares."""
        project = self._get(self.base)
        approvals = self._get(f"{self.base}/approvals")
        branches = {b["name"]: b for b in self._list(f"{self.base}/protected_branches")}
        self._branch = branches.get(DEFAULT_BRANCH)
        shared = {
            g["group_full_path"]: g["group_access_level"]
            for g in project.get("shared_with_groups") or []
        }
        envs = {e["name"]: e for e in self._list(f"{self.base}/protected_environments")}
        self._environments = envs
        return {
            # GitLab shows these to maintainers only; absent means "not readable here".
            "project": {key: project.get(key) for key in PROJECT_CI_SETTINGS},
            "approvals": {key: approvals.get(key) for key in APPROVAL_SETTINGS},
            "branch": self._branch_state(self._branch),
            "groups": shared,
            "environments": {
                name: self._environment_state(envs[name])
                for name in desired.environments
                if name in envs
            },
        }

    @staticmethod
    def _levels(entries: list[dict[str, Any]]) -> list[int]:
        return sorted(
            int(e["access_level"])
            for e in entries
            if e.get("user_id") is None and e.get("group_id") is None
        )

    def _branch_state(self, branch: dict[str, Any] | None) -> dict[str, Any] | None:
        if branch is None:
            return None
        return {
            "push": self._levels(branch.get("push_access_levels") or []),
            "merge": self._levels(branch.get("merge_access_levels") or []),
            "allow_force_push": bool(branch.get("allow_force_push")),
            "code_owner_approval_required": bool(branch.get("code_owner_approval_required")),
        }

    def _environment_state(self, env: dict[str, Any]) -> dict[str, Any]:
        deployers = [
            self._path_of(level["group_id"])
            for level in env.get("deploy_access_levels") or []
            if level.get("group_id") is not None
        ]
        approvers = [
            (self._path_of(rule["group_id"]), int(rule.get("required_approvals") or 1))
            for rule in env.get("approval_rules") or []
            if rule.get("group_id") is not None
        ]
        from batchops.gitlab_settings import ProtectedEnvironment

        return environment_state(ProtectedEnvironment(tuple(deployers), tuple(approvers)))

    def trigger_token(self, description: str) -> str | None:
        """The token of the project's pipeline trigger named ``description``, if any."""
        for trigger in self._list(f"{self.base}/triggers"):
            if trigger.get("description") == description:
                token = str(trigger.get("token") or "")
                if len(token) < 20:
                    raise CloudError(
                        f"pipeline trigger {description!r} belongs to another user and GitLab "
                        "hides its token: delete it or run with that user's token"
                    )
                return token
        return None

    # ----- writing ---------------------------------------------------------------------
    def apply(self, change: Change, desired: DesiredSettings) -> None:
        if change.kind == "project CI/CD":
            self.client.http_put(self.base, post_data=desired.project)
        elif change.kind == "merge request approvals":
            self.client.http_post(f"{self.base}/approvals", post_data=desired.approvals)
        elif change.kind == "protected branch":
            self._apply_branch(desired.branch)
        elif change.kind == "project member group":
            group_id = self.group_ids[change.name]
            if change.before is not None:
                self.client.http_delete(f"{self.base}/share/{group_id}")
            data = {"group_id": group_id, "group_access": desired.groups[change.name]}
            self.client.http_post(f"{self.base}/share", post_data=data)
        elif change.kind == "protected environment":
            self._apply_environment(change.name, desired)
        else:
            raise ValueError(f"unknown change kind {change.kind!r}")

    def _apply_branch(self, wanted: dict[str, Any]) -> None:
        flags = {k: wanted[k] for k in ("allow_force_push", "code_owner_approval_required")}
        if self._branch is None:
            data = {
                "name": DEFAULT_BRANCH,
                "push_access_level": wanted["push"][0],
                "merge_access_level": wanted["merge"][0],
                **flags,
            }
            self.client.http_post(f"{self.base}/protected_branches", post_data=data)
            return
        data = dict(flags)
        for key, field in (("push", "push_access_levels"), ("merge", "merge_access_levels")):
            current = self._branch.get(field) or []
            if self._levels(current) != wanted[key]:
                data[f"allowed_to_{key}"] = [
                    *({"id": e["id"], "_destroy": True} for e in current),
                    *({"access_level": level} for level in wanted[key]),
                ]
        self.client.http_patch(f"{self.base}/protected_branches/{DEFAULT_BRANCH}", post_data=data)

    def _apply_environment(self, name: str, desired: DesiredSettings) -> None:
        env = desired.environments[name]
        deployers = [{"group_id": self.group_ids[group]} for group in env.deployers]
        approvers = [
            {"group_id": self.group_ids[group], "required_approvals": count}
            for group, count in env.approvers
        ]
        existing = self._environments.get(name)
        if existing is None:
            data = {"name": name, "deploy_access_levels": deployers, "approval_rules": approvers}
            self.client.http_post(f"{self.base}/protected_environments", post_data=data)
            return
        data = {
            "deploy_access_levels": [
                *({"id": e["id"], "_destroy": True} for e in existing["deploy_access_levels"]),
                *deployers,
            ],
            "approval_rules": [
                *({"id": r["id"], "_destroy": True} for r in existing.get("approval_rules") or []),
                *approvers,
            ],
        }
        path = f"{self.base}/protected_environments/{quote(name, safe='')}"
        self.client.http_put(path, post_data=data)

    def create_trigger(self, description: str) -> str:
        created = self.client.http_post(
            f"{self.base}/triggers", post_data={"description": description}
        )
        return str(_json(created)["token"])
