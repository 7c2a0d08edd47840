"""boto3 sessions that share one botocore data loader per process.

Every botocore session otherwise reads and parses the service models, ``endpoints.json``
and the service list again: ~0.2 s for a first SageMaker client in each new session, and
batchops makes a session per assumed role (executor steps, event targets, deploy jobs, the
functions' clients per credentials). Those files are the same for every session;
credentials, region, configuration and clients stay per session. Shipped in every Lambda
package (``batchops.build``), so the functions' runtime uses it too.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_loader: list[Any] = []


def session(**kwargs: Any) -> Any:
    """``boto3.Session(**kwargs)`` on the process's shared data loader."""
    import boto3
    import botocore.session
    from botocore.loaders import create_loader

    with _lock:
        if not _loader:
            _loader.append(create_loader())
        loader = _loader[0]
        core = botocore.session.Session()
        core.register_component("data_loader", loader)
        made = boto3.Session(botocore_session=core, **kwargs)
        if kwargs.get("profile_name") is not None:
            # a new loader would read the profile's configuration here and raise
            # ProfileNotFound for an unknown profile; the shared one does not: ask for it
            core.get_scoped_config()
        # boto3 appends its resource folder to the loader's paths on every session: once is enough
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return made
