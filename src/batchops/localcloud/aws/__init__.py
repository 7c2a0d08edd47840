"""The AWS services the local cloud extends beyond moto, one package per service.

:func:`install` puts every extension in place once per process (moto's response classes
are process-wide); each extension finds the local cloud of the request it serves through
:mod:`batchops.localcloud.aws.context`.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()


def install() -> None:
    """Install every service extension (idempotent)."""
    from moto.sagemaker.responses import SageMakerResponse

    with _lock:
        if getattr(SageMakerResponse, "_batchops_extended", False):
            return
        from batchops.localcloud.aws.awslambda import functions
        from batchops.localcloud.aws.iam import authorization, documents, managed
        from batchops.localcloud.aws.kms import grants
        from batchops.localcloud.aws.s3 import cross_account, notifications
        from batchops.localcloud.aws.sagemaker import executions, registry
        from batchops.localcloud.aws.sns import outbox
        from batchops.localcloud.aws.sts import web_identity

        authorization.install()
        documents.install()
        web_identity.install()
        functions.install()
        grants.install()
        managed.install()
        executions.install()
        registry.install()
        notifications.install()
        cross_account.install()
        outbox.install()
        _service_folders_listed_once()
        SageMakerResponse._batchops_extended = True  # type: ignore[attr-defined]


def _service_folders_listed_once() -> None:
    """moto's dispatcher asks ``moto.backends.list_of_moto_modules()`` on every request, which
    lists moto's package folder and stats each of its ~200 entries; the folder does not change
    while the process runs, so the local cloud lists it once."""
    from moto import backends

    listed = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: listed
