"""An image runtime's interpreter as the image's own patch release: what came later is hidden.

The machine's CPython of an image's minor version is usually a later patch release than
the image's (the XGBoost 1.7-1 image has 3.8.13; pyenv here has 3.8.18). Security backports
in between added API a step could come to rely on and then fail in the real image: the
``filter=`` argument of ``TarFile.extract``/``extractall`` and the ``tarfile.data_filter``
and ``tar_filter`` functions (PEP 706, backported to 3.8.17, 3.9.17, 3.10.12 and 3.11.4). ``make
image-runtimes`` installs this module with a ``.pth`` line calling :func:`apply` with the
release ``tools/image-runtimes/<runtime>.in`` records, so every process of the runtime
(the warm zygote and its children too) starts without that API, as the image's does.

Standard library only, Python 3.8 (it runs inside the image runtimes).
"""

from __future__ import annotations

import sys
from typing import Any

#: the first patch release of each minor version with PEP 706's tarfile filters
TARFILE_FILTERS: dict[tuple[int, ...], int] = {(3, 8): 17, (3, 9): 17, (3, 10): 12, (3, 11): 4}
#: the public filter functions (the ones tarfile's own code uses stay: it calls them by name)
_FILTER_NAMES = ("data_filter", "tar_filter")


def _without_tarfile_filters() -> None:
    import tarfile

    extract_all = tarfile.TarFile.extractall
    extract = tarfile.TarFile.extract

    def extractall(
        self: Any, path: Any = ".", members: Any = None, *, numeric_owner: bool = False
    ) -> Any:
        return extract_all(self, path, members, numeric_owner=numeric_owner)

    def extract_one(
        self: Any,
        member: Any,
        path: Any = "",
        set_attrs: bool = True,
        *,
        numeric_owner: bool = False,
    ) -> Any:
        return extract(self, member, path, set_attrs, numeric_owner=numeric_owner)

    extractall.__doc__ = extract_all.__doc__
    extract_one.__doc__ = extract.__doc__
    extract_one.__name__ = "extract"
    setattr(tarfile.TarFile, "extractall", extractall)  # noqa: B010 (signature without filter=)
    setattr(tarfile.TarFile, "extract", extract_one)  # noqa: B010
    for name in _FILTER_NAMES:
        if hasattr(tarfile, name):
            delattr(tarfile, name)


def apply(release: str) -> None:
    """Hide what this interpreter has and CPython ``release`` (``3.8.13``) had not."""
    wanted = tuple(int(part) for part in release.split("."))
    minor = wanted[:2]
    if tuple(sys.version_info[:2]) != minor or tuple(sys.version_info[:3]) <= wanted:
        return
    first = TARFILE_FILTERS.get(minor)
    if first is not None and wanted[2] < first <= sys.version_info[2]:
        _without_tarfile_filters()
