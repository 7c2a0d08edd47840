"""A small in-memory GitLab REST API (the endpoints ``gitlab configure`` uses).

It behaves like GitLab where the command depends on it: ``PRIVATE-TOKEN`` checked on
every request (401 otherwise), URL-encoded project and group paths, protected branches
updated with ``allowed_to_*`` lists holding ``_destroy`` entries, protected environments
replaced the same way, trigger tokens shown to their owner. Every write is recorded so a
test can prove that a second run writes nothing.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

_ids = itertools.count(1000)


@dataclass
class FakeGitLabState:
    token: str
    project_id: int = 42
    project_path: str = "ml/batchops"
    groups: dict[str, int] = field(default_factory=dict)
    approvals: dict[str, Any] = field(
        default_factory=lambda: {
            "approvals_before_merge": 0,
            "reset_approvals_on_push": True,
            "merge_requests_author_approval": True,
            "merge_requests_disable_committers_approval": False,
            "disable_overriding_approvers_per_merge_request": False,
        }
    )
    # GitLab protects the default branch of a new project: maintainers push and merge.
    branches: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "main": {
                "id": 1,
                "name": "main",
                "push_access_levels": [{"id": 11, "access_level": 40, "group_id": None}],
                "merge_access_levels": [{"id": 12, "access_level": 40, "group_id": None}],
                "allow_force_push": False,
                "code_owner_approval_required": False,
            }
        }
    )
    # A new project's CI/CD settings as GitLab creates it (projects API field names).
    ci_settings: dict[str, Any] = field(
        default_factory=lambda: {
            "ci_id_token_sub_claim_components": ["project_path", "ref_type", "ref"],
            "restrict_user_defined_variables": False,
            "ci_pipeline_variables_minimum_override_role": "developer",
        }
    )
    #: What GitLab accepts in ci_id_token_sub_claim_components (ProjectCiCdSetting
    #: ALLOWED_SUB_CLAIM_COMPONENTS; project_path or project_id first). An older instance
    #: accepts only project_path, ref_type and ref: set this to simulate one.
    allowed_sub_claim_components: tuple[str, ...] = (
        "project_path", "project_id", "ref_type", "ref", "ref_protected",
        "environment_protected", "deployment_tier",
    )  # fmt: skip
    shares: dict[int, int] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)


def _levels(current: list[dict[str, Any]], updates: list[dict[str, Any]]) -> list[dict]:
    destroyed = {u["id"] for u in updates if u.get("_destroy")}
    kept = [level for level in current if level["id"] not in destroyed]
    added = [{"id": next(_ids), "group_id": None, **u} for u in updates if "id" not in u]
    return kept + added


ROLES = ("no_one_allowed", "developer", "maintainer", "owner")


def _ci_settings_problem(body: dict[str, Any], allowed: tuple[str, ...]) -> dict | None:
    """GitLab's validation of the project CI/CD settings we write (400 body), or None."""
    components = body.get("ci_id_token_sub_claim_components")
    if components is not None:
        errors = [
            f"{c} is not an allowed sub claim component" for c in components if c not in allowed
        ]
        if not components or components[0] not in ("project_path", "project_id"):
            errors.append("project_path must be the first element of the sub claim")
        if errors:
            return {"ci_id_token_sub_claim_components": errors}
    role = body.get("ci_pipeline_variables_minimum_override_role")
    if role is not None and role not in ROLES:
        return {"ci_pipeline_variables_minimum_override_role": ["is not included in the list"]}
    return None


class _Handler(BaseHTTPRequestHandler):
    state: FakeGitLabState

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _route(self, method: str) -> None:
        state = self.state
        if self.headers.get("PRIVATE-TOKEN") != state.token:
            self._send(401, {"message": "401 Unauthorized"})
            return
        raw = urlparse(self.path).path.removeprefix("/api/v4/")
        parts = [unquote(part) for part in raw.split("/")]
        body = self._body() if method in ("POST", "PUT", "PATCH") else {}
        if method != "GET":
            state.writes.append(f"{method} /{raw}")
        answer = self._answer(method, parts, body)
        if answer is None:
            self._send(404, {"message": "404 Not Found"})
        else:
            self._send(*answer)

    def _answer(
        self, method: str, parts: list[str], body: dict[str, Any]
    ) -> tuple[int, Any] | None:
        state = self.state
        if parts == ["user"]:
            return 200, {"id": 1, "username": "release-bot"}
        if parts[0] == "groups" and len(parts) == 2:
            group_id = state.groups.get(parts[1])
            return None if group_id is None else (200, {"id": group_id, "full_path": parts[1]})
        if parts[0] != "projects" or parts[1] not in (str(state.project_id), state.project_path):
            return None
        rest = parts[2:]
        if not rest and method == "PUT":
            problem = _ci_settings_problem(body, state.allowed_sub_claim_components)
            if problem:
                return 400, {"message": problem}
            state.ci_settings.update({k: v for k, v in body.items() if k in state.ci_settings})
            return 200, {"id": state.project_id, **state.ci_settings}
        if not rest:
            names = {v: k for k, v in state.groups.items()}
            shared = [
                {"group_id": g, "group_full_path": names[g], "group_access_level": level}
                for g, level in state.shares.items()
            ]
            return 200, {
                "id": state.project_id,
                "path_with_namespace": state.project_path,
                "shared_with_groups": shared,
                **state.ci_settings,
            }
        resource = rest[0]
        if resource == "approvals":
            if method == "POST":
                state.approvals.update(body)
            return 200, state.approvals
        if resource == "protected_branches":
            if method == "GET":
                return 200, list(state.branches.values())
            if method == "POST":
                state.branches[body["name"]] = {
                    "id": next(_ids),
                    "name": body["name"],
                    "push_access_levels": _levels(
                        [], [{"access_level": body["push_access_level"]}]
                    ),
                    "merge_access_levels": _levels(
                        [], [{"access_level": body["merge_access_level"]}]
                    ),
                    "allow_force_push": body.get("allow_force_push", False),
                    "code_owner_approval_required": body.get("code_owner_approval_required", False),
                }
                return 201, state.branches[body["name"]]
            branch = state.branches.get(rest[1]) if len(rest) == 2 else None
            if method == "PATCH" and branch is not None:
                for key in ("allow_force_push", "code_owner_approval_required"):
                    if key in body:
                        branch[key] = body[key]
                for kind in ("push", "merge"):
                    if f"allowed_to_{kind}" in body:
                        field_name = f"{kind}_access_levels"
                        branch[field_name] = _levels(branch[field_name], body[f"allowed_to_{kind}"])
                return 200, branch
            return None
        if resource == "share":
            if method == "POST":
                state.shares[int(body["group_id"])] = int(body["group_access"])
                return 201, {"group_id": body["group_id"]}
            if method == "DELETE" and len(rest) == 2:
                state.shares.pop(int(rest[1]), None)
                return 204, {}
            return None
        if resource == "protected_environments":
            if method == "GET":
                return 200, list(state.environments.values())
            if method == "POST":
                env = {"name": body["name"], "deploy_access_levels": [], "approval_rules": []}
                env["deploy_access_levels"] = _levels([], body["deploy_access_levels"])
                env["approval_rules"] = _levels([], body.get("approval_rules") or [])
                state.environments[body["name"]] = env
                return 201, env
            env = state.environments.get(rest[1]) if len(rest) == 2 else None
            if method == "PUT" and env is not None:
                for key in ("deploy_access_levels", "approval_rules"):
                    if key in body:
                        env[key] = _levels(env[key], body[key])
                return 200, env
            return None
        if resource == "triggers":
            if method == "POST":
                trigger = {
                    "id": next(_ids),
                    "description": body["description"],
                    "token": f"glptt-{next(_ids):020d}",
                }
                state.triggers.append(trigger)
                return 201, trigger
            return 200, state.triggers
        return None

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")


class FakeGitLab:
    """Serve ``state`` on 127.0.0.1 and a free port until :meth:`stop`."""

    def __init__(self, state: FakeGitLabState) -> None:
        handler = type("Handler", (_Handler,), {"state": state})
        self.state = state
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
