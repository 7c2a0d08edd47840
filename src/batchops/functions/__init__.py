"""Lambda handlers: ``notify``, ``approval_trigger`` and ``retrain_trigger``.

Each module exposes ``handler(event, context)``; configuration comes from environment
variables (see the naming contract in the README), AWS clients from the function's role.
They import only the standard library, boto3 and (approval_trigger) python-gitlab, which
is what ``python -m batchops.build`` packs into their zips.
"""
