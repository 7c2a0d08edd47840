"""Create in each account of the local cloud what the Terraform roots create on AWS.

:mod:`.resources` holds the storage, keys, roles, topics, tables, registry and secret;
:mod:`.events` the Lambda functions, rules, targets and bus policy. Applying the Terraform
roots against the local cloud is tested separately; this is the fast path (< 2 s) that
``batchops local up`` and ``make demo`` take.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from batchops.aws import Clients
from batchops.config import ENVIRONMENTS, Settings, load_settings
from batchops.localcloud.bootstrap.events import bootstrap_events
from batchops.localcloud.bootstrap.resources import LOCAL_TRIGGER_TOKEN, bootstrap_account

__all__ = ["LOCAL_TRIGGER_TOKEN", "bootstrap", "bootstrap_account"]


def bootstrap(endpoint: str, *, gitlab_url: str | None = None) -> dict[str, Settings]:
    """Bootstrap every environment; returns the settings used, by environment.

    ``gitlab_url`` points the approval Lambda at the GitLab stand-in (default: settings).
    """
    environments = {env: load_settings(env) for env in ENVIRONMENTS}
    readers = [s.account_id for e, s in environments.items() if e != "data-science"]

    def one(settings: Settings) -> None:
        clients = Clients(
            region=settings.region,
            endpoint=endpoint,
            role_arn=settings.access_role_arn,
            session_name="batchops-bootstrap",
        )
        own_readers = readers if settings.environment == "data-science" else []
        bootstrap_account(settings, clients, own_readers)
        bootstrap_events(
            settings,
            clients,
            environments["data-science"],
            gitlab_url=gitlab_url,
            readers=own_readers,
        )

    # accounts are independent: overlap their round trips
    with ThreadPoolExecutor(max_workers=len(environments)) as pool:
        list(pool.map(one, environments.values()))
    return environments
