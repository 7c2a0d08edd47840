"""What a pipeline trigger may set: the project's settings, as the stand-in enforces them.

GitLab lets a project restrict who may set pipeline variables (settings as code restrict
them); the deploy pipeline is documented to take only the variables the approval Lambda
sends (:data:`batchops.functions.approval_trigger.TRIGGER_VARIABLES`). A trigger naming any
other variable is refused — GitLab answers 400 "Insufficient permissions to set pipeline
variables" — so a holder of the trigger token cannot slip ``PYTHONPATH`` or ``BASH_ENV``
into the jobs (on the local cloud the jobs run as the machine's user).
"""

from __future__ import annotations

from collections.abc import Mapping


def allowed_variables() -> frozenset[str]:
    from batchops.functions.approval_trigger import TRIGGER_VARIABLES

    return frozenset(TRIGGER_VARIABLES)


def refused_variables(variables: Mapping[str, str]) -> list[str]:
    """Names in ``variables`` the project does not accept (sorted; never their values)."""
    return sorted(set(variables) - allowed_variables())
