"""``batchops gitlab configure``: make a GitLab project match what the CI relies on.

Plans first (:mod:`batchops.gitlab_settings` against the live project), prints the plan,
then applies it unless it is a dry run. The pipeline trigger token the approval Lambda
uses is created once and kept in Secrets Manager in the data-science account; the token
itself is never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchops.codeowners import parse
from batchops.errors import CloudError, ConfigError
from batchops.gitlab_project import GitLabProject
from batchops.gitlab_settings import (
    TRIGGER_DESCRIPTION,
    Change,
    desired_settings,
    plan_changes,
)


@dataclass
class SecretStore:
    """The trigger-token secret, through a Secrets Manager client of one account."""

    client: Any
    name: str
    kms_key: str

    def read(self) -> str | None:
        try:
            return str(self.client.get_secret_value(SecretId=self.name)["SecretString"])
        except self.client.exceptions.ResourceNotFoundException:
            return None

    def write(self, value: str) -> None:
        try:
            self.client.put_secret_value(SecretId=self.name, SecretString=value)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_secret(
                Name=self.name,
                SecretString=value,
                KmsKeyId=self.kms_key,
                Description="GitLab pipeline trigger token for the batchops approval Lambda",
            )


def load_codeowners(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no CODEOWNERS file (pass --codeowners PATH)") from None
    return parse(text, source=str(path))


def trigger_changes(project: GitLabProject, secrets: SecretStore) -> list[Change]:
    """A trigger to create and/or a secret to fill, so the approval Lambda can deploy."""
    token = project.trigger_token(TRIGGER_DESCRIPTION)
    target = {"token stored in": f"secret {secrets.name}"}
    if token is None:
        return [Change("pipeline trigger", repr(TRIGGER_DESCRIPTION), None, target)]
    stored = secrets.read()
    if stored == token:
        return []
    before = None if stored is None else {"value": "another token"}
    return [Change("secret", secrets.name, before, {"value": "the trigger's token"})]


def configure(
    project: GitLabProject,
    sections: list[Any],
    secrets: SecretStore,
    *,
    dry_run: bool,
    emit: Callable[[str], None],
) -> list[Change]:
    """Plan, print, and (unless ``dry_run``) apply; returns the planned changes."""
    desired = desired_settings(sections)
    project.resolve_groups(desired.group_paths())
    current = project.read_state(desired)
    changes = plan_changes(desired, current) + trigger_changes(project, secrets)
    where = f"GitLab project {project.project} at {project.client.url}"
    if not changes:
        emit(f"{where}: up to date, nothing to change")
        return changes
    verb = "would make" if dry_run else "making"
    emit(f"{where}: {verb} {len(changes)} change(s)")
    for change in changes:
        emit(change.describe())
    if dry_run:
        emit("dry run: nothing was changed")
        return changes
    for change in changes:
        _apply(project, secrets, change, desired)
    emit(f"applied {len(changes)} change(s)")
    return changes


def _apply(project: GitLabProject, secrets: SecretStore, change: Change, desired: Any) -> None:
    import gitlab

    try:
        if change.kind == "pipeline trigger":
            secrets.write(project.create_trigger(TRIGGER_DESCRIPTION))
        elif change.kind == "secret":
            token = project.trigger_token(TRIGGER_DESCRIPTION)
            if token is None:
                raise CloudError(f"pipeline trigger {TRIGGER_DESCRIPTION!r} disappeared")
            secrets.write(token)
        else:
            project.apply(change, desired)
    except gitlab.exceptions.GitlabError as exc:
        hint = ""
        if change.kind == "project CI/CD" and exc.response_code == 400:
            hint = (
                " (the ID token sub claim needs environment_protected and deployment_tier "
                "components, which older GitLab versions refuse; see .gitlab/README.md)"
            )
        raise CloudError(
            f"GitLab refused to {change.action} {change.kind} {change.name}: "
            f"{exc.response_code} {exc.error_message}{hint}"
        ) from None
