"""Create in each account of the local cloud what the Terraform roots create on AWS.

:mod:`.resources` holds the storage, keys, roles, topics, tables, registry and secret (with
Terraform's documents, :mod:`.terraform_policies`);
:mod:`.events` the Lambda functions, rules, targets and bus policy. Applying the Terraform
roots against the local cloud is tested separately; this is the fast path (< 2 s) that
``batchops local up`` and ``make demo`` take.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from batchops.aws import Clients
from batchops.config import ENVIRONMENTS, Settings, load_settings
from batchops.fs import atomic_write_text
from batchops.localcloud.bootstrap.events import bootstrap_events
from batchops.localcloud.bootstrap.resources import (
    LOCAL_TRIGGER_TOKEN,
    bootstrap_account,
    ensure_keys,
)
from batchops.localcloud.bootstrap.terraform_policies import (
    STATE_KEY_ALIAS,
    load_snapshot,
    state_bucket_name,
)
from batchops.localcloud.credentials import admin_clients

__all__ = ["LOCAL_TRIGGER_TOKEN", "bootstrap", "bootstrap_account"]


def backend_config(settings: Settings, state_key_arn: str) -> str:
    """The account root's backend.hcl, as accounts/bootstrap's ``account_backend_hcl`` says."""
    return (
        "# terraform init -backend-config=backend.hcl  (written by `batchops local up` as "
        "accounts/bootstrap's account_backend_hcl output)\n"
        f'bucket       = "{state_bucket_name(settings)}"\n'
        f'key          = "batchops/{settings.environment}/terraform.tfstate"\n'
        f'region       = "{settings.region}"\n'
        "encrypt      = true\n"
        f'kms_key_id   = "{state_key_arn}"\n'
        "use_lockfile = true\n"
    )


def bootstrap(
    endpoint: str, *, gitlab_url: str | None = None, accounts_dir: Path | None = None
) -> dict[str, Settings]:
    """Bootstrap every environment; returns the settings used, by environment.

    ``gitlab_url`` points the approval Lambda at the GitLab stand-in (default: settings).
    ``accounts_dir`` receives ``<environment>/backend.hcl`` naming each local state key (what
    the runbook has an administrator commit after applying accounts/bootstrap), for
    ``batchops doctor --accounts-dir``.
    """
    environments = {env: load_settings(env) for env in ENVIRONMENTS}
    readers = [s.account_id for e, s in environments.items() if e != "data-science"]

    def account_clients(settings: Settings) -> Clients:
        # the account's administrator (unchecked, like root): the bootstrap creates what
        # Terraform's apply would, not what a checked role may
        return admin_clients(settings, endpoint, "batchops-bootstrap")

    # the keys first, in every account: the other accounts' documents name them
    keys: dict[tuple[str, str], str] = {}
    with ThreadPoolExecutor(max_workers=len(environments)) as pool:
        for found in pool.map(lambda s: ensure_keys(s, account_clients(s)), environments.values()):
            keys.update(found)
    documents = load_snapshot()
    if accounts_dir is not None:
        for env, settings in environments.items():
            key = keys[(env, STATE_KEY_ALIAS)]
            atomic_write_text(accounts_dir / env / "backend.hcl", backend_config(settings, key))

    def one(settings: Settings) -> None:
        clients = account_clients(settings)
        own_readers = readers if settings.environment == "data-science" else []
        bootstrap_account(settings, clients, keys, documents[settings.environment])
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
