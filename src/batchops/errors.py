"""One exception family for the whole package.

Every error a user can cause is a :class:`BatchopsError` whose message is a single line
saying what went wrong, where (file, line, key, resource) and what was expected. The CLI
prints that line and exits non-zero; nothing else reaches the user as a traceback.
"""

from __future__ import annotations


class BatchopsError(Exception):
    """Base class: a problem the user can act on."""

    exit_code = 1


class ConfigError(BatchopsError):
    """Settings files, environment variables or command-line settings are invalid."""

    exit_code = 2


class DataError(BatchopsError):
    """A data file does not follow the expected layout."""

    exit_code = 3


class CloudError(BatchopsError):
    """The cloud (AWS or the local cloud) could not be reached or refused a request."""

    exit_code = 4


class NotFoundError(BatchopsError):
    """A named resource (pipeline, execution, model version...) does not exist."""

    exit_code = 5


class GovernanceError(BatchopsError):
    """A registry or promotion rule forbids the requested action."""

    exit_code = 6


class PipelineError(BatchopsError):
    """A pipeline definition cannot be built, stored or run."""

    exit_code = 7
