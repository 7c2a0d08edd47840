"""Image runtimes: the Python and packages a container step gets, chosen by its image URI.

On SageMaker a step runs in the image its definition names: the scikit-learn 1.2-1 image
has Python 3.9, pandas 1.1.3, numpy 1.24.1 and no polars; the XGBoost 1.7-1 image Python
3.8 and xgboost 1.7.4. The local cloud runs each container process with the interpreter of
a virtualenv built for that image (``make image-runtimes``: ``.venv-images/<runtime>``,
pinned by ``tools/image-runtimes/<runtime>.txt``; ``src/batchops/images.json`` says which
runtime an image has). What an image lacks is absent there too — polars, and the project's
own package (a step ships the batchops modules it needs in its ``.pyz``).

* An image URI that is not in ``images.json`` fails the step, naming the URI and the
  images the local cloud knows (SageMaker would fail to pull an image that does not exist;
  the project pins every image its definitions name).
* An image whose runtime could not be built here (no CPython of that version on the
  machine) runs under the project's Python, with a WARNING line in the step's log.
* An image that runs no project code (Model Monitor's analyzer) has no runtime: the local
  cloud's own implementation of it runs in the executor.

``BATCHOPS_IMAGE_RUNTIMES`` (or the executor option ``image_runtimes_dir``) names the
folder of the virtualenvs; by default ``.venv-images`` of the checkout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchops.images import CATALOG, Image, image_for_uri, images

#: ``.venv-images`` beside ``src/`` (the checkout the package is installed from).
DEFAULT_DIR = Path(__file__).resolve().parents[5] / ".venv-images"


class UnknownImage(Exception):
    """The image URI names no image of ``images.json``."""


@dataclass(frozen=True)
class Runtime:
    """The interpreter a container process of one image runs with."""

    image: Image | None  #: None: the project's own runtime (no image pinned)
    python: str  #: the interpreter
    name: str  #: the runtime's name (``sklearn-1.2-1``), ``project`` for the executor's
    warning: str | None = None  #: why the image's runtime is not used, when it is not

    @property
    def is_image(self) -> bool:
        return self.name != "project"


def runtimes_dir(options: Mapping[str, Any] | None = None) -> Path:
    configured = (options or {}).get("image_runtimes_dir") or os.environ.get(
        "BATCHOPS_IMAGE_RUNTIMES"
    )
    return Path(configured) if configured else DEFAULT_DIR


def known_images() -> list[str]:
    return [f"{i.repository}:{i.tag}" for i in images() if i.tag]


def project_runtime(warning: str | None = None) -> Runtime:
    return Runtime(image=None, python=sys.executable, name="project", warning=warning)


def built_runtimes(options: Mapping[str, Any] | None = None) -> list[Runtime]:
    """The image runtimes built on this machine (those a step may run under here)."""
    found = []
    for image in images():
        if not image.runtime:
            continue
        root = runtimes_dir(options) / image.runtime
        python = root / "bin" / "python"
        if (root / ".installed").is_file() and python.exists():
            found.append(Runtime(image=image, python=str(python), name=image.runtime))
    return found


def runtime_for(image_uri: str, options: Mapping[str, Any] | None = None) -> Runtime:
    """The runtime of ``image_uri``; :class:`UnknownImage` when no pinned image has it."""
    image = image_for_uri(image_uri)
    if image is None:
        raise UnknownImage(
            f"image {image_uri!r} is not one the local cloud knows (known: "
            f"{', '.join(known_images())}, in any region's ECR; see {CATALOG.name})"
        )
    if not image.runtime:
        return project_runtime()
    root = runtimes_dir(options) / image.runtime
    python = root / "bin" / "python"
    if not (root / ".installed").is_file() or not python.exists():
        version = image.python_text
        return project_runtime(
            f"WARNING: no {image.runtime} runtime in {root} (CPython {version} was not found "
            f"when `make image-runtimes` ran): this step runs under the project's Python "
            f"{sys.version_info.major}.{sys.version_info.minor} and its packages, not the "
            f"image's Python {version}"
        )
    return Runtime(image=image, python=str(python), name=image.runtime)
