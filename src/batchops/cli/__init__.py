"""The ``batchops`` command line (see :mod:`batchops.cli.main`)."""
