"""Refuse a triggered pipeline that carries variables the deploy job does not document.

Why: whoever holds the pipeline trigger token can set CI/CD variables for the pipeline it
starts (GitLab, "Trigger pipelines with the API"), and some of those change what a job runs
before any of our code does (``PYTHONPATH``, ``PIP_INDEX_URL``, ``CI_DEBUG_TRACE``...).
GitLab's side is restricted by ``batchops gitlab configure`` (pipeline variables only for
maintainers; the trigger acts as the maintainer who created it). This is the job's side: a
pipeline started by a trigger token gets the request's parameters, token removed, in the
file named by ``TRIGGER_PAYLOAD`` (``{"ref": ..., "variables": {...}}``, gitlab-org/gitlab
MR 53837 and 146242), so the names the trigger set are known exactly, whatever the runner
adds to the environment.

Only :data:`ACCEPTED` may appear, the variables the approval Lambda sends. Anything else
stops the pipeline with one line that names the variables and never shows a value.

Standard library only, so ``python3 -I src/batchops/trigger_variables.py`` runs first in a
job, before ``make install`` and with ``-I`` ignoring ``PYTHON*`` variables and the user
site: nothing a trigger can set runs before this check.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping

#: The variables of the approval Lambda's trigger (functions/approval_trigger.py).
ACCEPTED: tuple[str, ...] = (
    "MODEL_PACKAGE_ARN",
    "MODEL_PACKAGE_VERSION",
    "MODEL_PACKAGE_GROUP_NAME",
    "DEPLOY_ENV",
)
PAYLOAD_VARIABLE = "TRIGGER_PAYLOAD"


class TriggerVariablesError(Exception):
    """The trigger payload names variables the deploy job does not accept (one line)."""


def trigger_variable_names(environ: Mapping[str, str]) -> list[str] | None:
    """Names of the variables the trigger set, or None when no trigger started the pipeline."""
    path = environ.get(PAYLOAD_VARIABLE)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except OSError as exc:
        raise TriggerVariablesError(
            f"{PAYLOAD_VARIABLE} names {path!r}, which cannot be read ({exc.strerror})"
        ) from None
    except ValueError:
        raise TriggerVariablesError(
            f"{PAYLOAD_VARIABLE} ({path}) is not the JSON GitLab writes for a trigger"
        ) from None
    variables = payload.get("variables") if isinstance(payload, dict) else None
    if variables is None:
        return []
    if not isinstance(variables, dict):
        raise TriggerVariablesError(
            f"{PAYLOAD_VARIABLE} ({path}): 'variables' is {type(variables).__name__}, "
            "expected a mapping of names to values"
        )
    return sorted(str(name) for name in variables)


def check_trigger_variables(environ: Mapping[str, str]) -> list[str]:
    """The accepted variable names the trigger set; raises on any other name."""
    names = trigger_variable_names(environ)
    if names is None:
        return []
    refused = [name for name in names if name not in ACCEPTED]
    if refused:
        raise TriggerVariablesError(
            f"the pipeline trigger set variable(s) the deploy job does not accept: "
            f"{', '.join(refused)} (accepted: {', '.join(ACCEPTED)}; values not shown)"
        )
    deploy_env = environ.get("DEPLOY_ENV")
    if "DEPLOY_ENV" in names and deploy_env not in (None, "staging"):
        raise TriggerVariablesError(
            "the pipeline trigger set DEPLOY_ENV to something other than staging: a trigger "
            "deploys to staging; production is the manual, protected job"
        )
    return names


def main(environ: Mapping[str, str] | None = None) -> int:
    try:
        names = check_trigger_variables(os.environ if environ is None else environ)
    except TriggerVariablesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if names:
        print(f"trigger variables accepted: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
