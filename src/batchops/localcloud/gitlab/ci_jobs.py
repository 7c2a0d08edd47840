"""Which jobs a triggered pipeline runs, and their commands — read from the CI files.

The GitLab stand-in does not carry its own copy of the deploy job: for a trigger it reads
``.gitlab-ci.yml`` and the child files as GitLab would (:mod:`.ci_yaml`), evaluates
``workflow:rules`` (a trigger they filter out is refused, as GitLab refuses it), the rules of
the parent's routing jobs (which child pipelines start), then each child job's ``rules``
with the trigger's variables, and runs the jobs that come out ``on_success`` in stage order,
their ``before_script`` and ``script`` lines in a shell. Two templates' lines the local
cloud provides itself and skips, by name (:data:`PROVIDED_BY_LOCAL_CLOUD`): ``.python``'s
(installing the project: jobs run in its virtualenv) and ``.aws-oidc``'s (the ID token: jobs
get the local cloud's credentials). Jobs that come out ``manual`` wait (as
``deploy-production`` waits for a release manager). So the CI file and the local path can
not drift: change the job's script and the local deploy runs the new one.

The rule language covered is what the repository's CI files use: ``$VAR``, ``$VAR ==``/``!=``
a quoted string or another variable, ``&&`` and ``||`` (no parentheses, no regular
expressions — an unknown form raises rather than guessing). ``changes:`` counts as true for
trigger pipelines (GitLab: without a push there is nothing to compare, so it is true).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchops.errors import ConfigError
from batchops.localcloud.gitlab.ci_yaml import load_pipeline, script_lines

#: Templates whose ``before_script`` lines the local cloud provides itself (module docstring).
PROVIDED_BY_LOCAL_CLOUD = (".python", ".aws-oidc")
_COMPARISON = re.compile(r"^(\S+)\s*(==|!=)\s*(\S+)$")
_VARIABLE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


@dataclass(frozen=True)
class PlannedJob:
    name: str
    stage: str
    when: str  # on_success | manual
    script: tuple[str, ...]
    variables: dict[str, str] = field(default_factory=dict)
    child: str = ""
    #: ``before_script`` lines skipped because the local cloud provides them
    provided: tuple[str, ...] = ()
    #: the job's ``environment:name`` (GitLab's ``CI_ENVIRONMENT_NAME``)
    environment: str = ""
    #: the job's ``environment:deployment_tier``
    deployment_tier: str = ""
    #: ``id_tokens``: variable name -> ``aud`` as written (``$CI_SERVER_URL``)
    id_tokens: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    jobs: tuple[PlannedJob, ...]
    variables: dict[str, str]
    name: str = ""


class PipelineFiltered(ConfigError):
    """``workflow:rules`` (or every job's rules) leave nothing to run: GitLab refuses."""


def _value(token: str, variables: Mapping[str, str]) -> str | None:
    found = _VARIABLE.match(token)
    if found:
        value = variables.get(found.group(1))
        return value if value not in (None, "") else None
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    raise ConfigError(f"rules: cannot evaluate {token!r} (the stand-in knows $VAR and quotes)")


def evaluate(expression: str, variables: Mapping[str, str]) -> bool:
    """GitLab's ``rules:if`` for the forms the repository's CI files use."""
    if "(" in expression or "=~" in expression:
        raise ConfigError(f"rules: {expression!r} uses a form the GitLab stand-in cannot evaluate")
    for alternative in expression.split("||"):
        if all(_atom(part.strip(), variables) for part in alternative.split("&&")):
            return True
    return False


def _atom(text: str, variables: Mapping[str, str]) -> bool:
    found = _COMPARISON.match(text)
    if found is None:
        return _value(text, variables) is not None
    left, operator, right = found.groups()
    same = _value(left, variables) == _value(right, variables)
    return same if operator == "==" else not same


def rule_outcome(rules: Any, variables: Mapping[str, str], default: str = "on_success") -> str:
    """``when`` of the first matching rule ("never" when rules exist and none matches)."""
    if not rules:
        return default
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        if "if" in rule and not evaluate(str(rule["if"]), variables):
            continue
        return str(rule.get("when", default))
    return "never"


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``$VAR``/``${VAR}`` in a YAML variable value, as GitLab expands them."""

    def replace(found: re.Match[str]) -> str:
        return variables.get(found.group(1) or found.group(2), "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", replace, text)


def plan_trigger(root: Path, variables: Mapping[str, str]) -> Plan:
    """The jobs a trigger pipeline with ``variables`` runs, from ``root/.gitlab-ci.yml``."""
    parent = load_pipeline(root / ".gitlab-ci.yml", root)
    workflow = parent.config.get("workflow") or {}
    values = dict(variables)
    name = ""
    for rule in workflow.get("rules") or []:
        if "if" in rule and not evaluate(str(rule["if"]), values):
            continue
        if rule.get("when") == "never":
            raise PipelineFiltered("Pipeline filtered out by workflow rules.")
        added = {k: expand(str(v), values) for k, v in (rule.get("variables") or {}).items()}
        values.update(added)
        break
    else:
        if workflow.get("rules"):
            raise PipelineFiltered("Pipeline filtered out by workflow rules.")
    if workflow.get("name"):
        name = expand(str(workflow["name"]), values)
    jobs: list[PlannedJob] = []
    for route_name, route in parent.jobs.items():
        if rule_outcome(route.get("rules"), values) in ("never", "manual"):
            continue
        include = (route.get("trigger") or {}).get("include") if "trigger" in route else None
        if not include:
            continue  # a job of the parent itself (checks): not run for triggers here
        child_values = {
            **values,
            **{k: expand(str(v), values) for k, v in (route.get("variables") or {}).items()},
        }
        jobs.extend(_child_jobs(root, str(include), route_name, child_values))
    if not jobs:
        raise PipelineFiltered(
            "Pipeline will not run for the selected trigger. The rules configuration prevented "
            "any jobs from being added to the pipeline."
        )
    return Plan(jobs=tuple(jobs), variables=values, name=name)


def _child_jobs(
    root: Path, include: str, route: str, variables: Mapping[str, str]
) -> list[PlannedJob]:
    child = load_pipeline(root / include, root)
    order = {stage: index for index, stage in enumerate(child.stages)}
    provided = {
        line
        for template in PROVIDED_BY_LOCAL_CLOUD
        for line in script_lines(child.templates.get(template, {}), "before_script")
    }
    planned = []
    for name, job in child.jobs.items():
        when = rule_outcome(job.get("rules"), variables, default=str(job.get("when", "on_success")))
        if when in ("never",):
            continue
        job_variables = {
            k: expand(str(v), variables) for k, v in (job.get("variables") or {}).items()
        }
        planned.append(
            PlannedJob(
                name=name,
                stage=str(job.get("stage", "test")),
                when="manual" if when == "manual" else "on_success",
                script=tuple(
                    [line for line in script_lines(job, "before_script") if line not in provided]
                    + script_lines(job)
                ),
                variables=job_variables,
                child=route,
                provided=tuple(
                    line for line in script_lines(job, "before_script") if line in provided
                ),
                environment=_environment_name(job.get("environment")),
                deployment_tier=_deployment_tier(job.get("environment")),
                id_tokens={
                    str(name): str((spec or {}).get("aud", ""))
                    for name, spec in (job.get("id_tokens") or {}).items()
                    if isinstance(spec, dict)
                },
            )
        )
    planned.sort(key=lambda j: order.get(j.stage, len(order)))
    return planned


def _deployment_tier(value: Any) -> str:
    return str(value.get("deployment_tier") or "") if isinstance(value, dict) else ""


def _environment_name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return str(value or "")
