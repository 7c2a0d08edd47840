"""The SageMaker images the pipelines run in, pinned in one place (``images.json``).

A team's pipeline config names an image by framework and version (``sklearn``, ``1.2-1``);
:func:`pinned_image_uri` resolves it with the SDK for the region and refuses it unless the
tag the SDK returns is the one pinned here. Each entry also says which Python the image
runs — the version the static check of the step scripts targets
(:mod:`batchops.pipelines.pycompat`) — so a script that needs a newer Python fails in
``make test``, not in a SageMaker job.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchops.errors import ConfigError

CATALOG = Path(__file__).resolve().parent / "images.json"
_URI = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/([^:@]+)(?::([^@]+))?$")


@dataclass(frozen=True)
class Image:
    framework: str
    version: str
    repository: str
    tag: str
    python: tuple[int, int] | None  #: None: the image runs no project code
    #: the local cloud's runtime of the image (``tools/image-runtimes/<runtime>.in``), or ""
    runtime: str = ""

    @property
    def python_text(self) -> str:
        return ".".join(map(str, self.python)) if self.python else "none"


@functools.cache
def images() -> tuple[Image, ...]:
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    found = []
    for entry in data["images"]:
        python = tuple(int(p) for p in entry["python"].split(".")) if entry["python"] else None
        found.append(
            Image(
                framework=entry["framework"],
                version=entry["version"],
                repository=entry["repository"],
                tag=entry["tag"],
                python=(python[0], python[1]) if python else None,
                runtime=entry.get("runtime", ""),
            )
        )
    return tuple(found)


def image_for_uri(uri: str) -> Image | None:
    """The pinned image an ECR URI names (repository and tag), else None."""
    match = _URI.match(uri)
    if not match:
        return None
    repository, tag = match.group(1), match.group(2) or ""
    return next((i for i in images() if i.repository == repository and i.tag == tag), None)


def pinned(framework: str, version: str) -> Image:
    for image in images():
        if image.framework == framework and image.version == version:
            return image
    known = ", ".join(f"{i.framework} {i.version}" for i in images() if i.version)
    raise ConfigError(
        f"image {framework} {version} is not pinned (pinned: {known}); add it to {CATALOG} "
        "with its tag and Python version"
    )


def pinned_image_uri(spec: dict[str, Any], region: str, instance_type: str) -> str:
    """The image URI of ``{framework, version}`` in ``region``, checked against the pin."""
    from sagemaker.core import image_uris

    image = pinned(str(spec["framework"]), str(spec["version"]))
    uri = str(
        image_uris.retrieve(
            framework=image.framework,
            region=region,
            version=image.version,
            instance_type=instance_type,
        )
    )
    if image_for_uri(uri) != image:
        raise ConfigError(
            f"the SDK resolves {image.framework} {image.version} to {uri}, not the pinned tag "
            f"{image.repository}:{image.tag}; review the image and update {CATALOG}"
        )
    return uri
