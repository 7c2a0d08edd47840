"""Can every script a definition ships run under the Python of the image that runs it?

SageMaker runs step code in framework images with their own, older Python (scikit-learn
1.2-1: 3.9; XGBoost 1.7-1: 3.8 — :mod:`batchops.images`), while the project is developed
on 3.11. This module reads a *built* definition and its assets (exactly what upsert
uploads), finds which image runs each Python file — the ``code`` input of a Processing
step (a script, or a ``.pyz`` step-code archive with the batchops modules it ships), the
``code``/``sm_drivers`` channels and ``sagemaker_submit_directory`` tarball of a Training or
Tuning step, the ``SAGEMAKER_PROGRAM`` a registered model's container runs —
and checks each file against that image's Python with two static passes:

* `vermin <https://github.com/netromdk/vermin>`_ for the language and the standard
  library (``match``, ``zip(strict=)``, new modules and functions, keyword arguments of
  calls whose receiver it can resolve);
* the keyword arguments vermin knows of but cannot attribute because the receiver is a
  variable (``tar.extractall(filter=...)`` on the result of ``tarfile.open``): a call of a
  method named like a standard-library method with a keyword that method gained later is
  reported with that method's version. Backports to patch releases (3.8.17 for
  ``extractall(filter=)``) do not count: the images pin no patch level we can rely on.

It is a static check: it does not see third-party package versions (pandas 1.x in the
XGBoost image); running the scripts under each image's runtime does that.
"""

from __future__ import annotations

import ast
import io
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from batchops.images import Image, image_for_uri

_VIOLATION = re.compile(r"^L(\d+)(?: C\d+)?: (.+?) requires (.+)$")


@dataclass(frozen=True)
class Script:
    name: str  #: asset key, or ``key!member`` inside a tarball
    source: bytes
    image_uri: str
    step: str


def _walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        yield from _walk(arguments.get("IfSteps", []))
        yield from _walk(arguments.get("ElseSteps", []))


def _key(uri: Any) -> str | None:
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    return uri[5:].partition("/")[2]


def _under(assets: dict[str, Path], uri: Any) -> Iterator[tuple[str, bytes]]:
    """Python files of the assets at ``uri`` (an object or a prefix), tarballs opened."""
    key = _key(uri)
    if key is None:
        return
    for name, path in sorted(assets.items()):
        if name != key and not name.startswith(key.rstrip("/") + "/"):
            continue
        if name.endswith(".py"):
            yield name, path.read_bytes()
        elif name.endswith(".pyz"):  # step code: the script and the batchops it imports
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as pyz:
                for entry in sorted(pyz.namelist()):
                    if entry.endswith(".py"):
                        yield f"{name}!{entry}", pyz.read(entry)
        elif name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(fileobj=io.BytesIO(path.read_bytes()), mode="r:gz") as archive:
                for member in archive.getmembers():
                    if member.isfile() and member.name.endswith(".py"):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            yield f"{name}!{member.name}", handle.read()


def _training_code(spec: dict[str, Any]) -> list[Any]:
    uris = [
        channel["DataSource"]["S3DataSource"]["S3Uri"]
        for channel in spec.get("InputDataConfig", [])
        if channel.get("ChannelName") in ("code", "sm_drivers")
    ]
    hyper = spec.get("HyperParameters") or spec.get("StaticHyperParameters") or {}
    uris.append(hyper.get("sagemaker_submit_directory"))
    return uris


def scripts(definition: dict[str, Any], assets: dict[str, Path]) -> list[Script]:
    """Every Python file of ``assets`` with the image that runs it."""
    found: list[Script] = []
    training_files: list[tuple[str, bytes]] = []
    for step in _walk(definition.get("Steps", [])):
        arguments, name = step.get("Arguments", {}), step["Name"]
        if step["Type"] in ("Processing", "QualityCheck"):
            image = arguments.get("AppSpecification", {}).get("ImageUri")
            uris = [
                i["S3Input"]["S3Uri"]
                for i in arguments.get("ProcessingInputs", [])
                if i.get("InputName") == "code"
            ]
        elif step["Type"] in ("Training", "Tuning"):
            spec = arguments.get("TrainingJobDefinition", arguments)
            image = spec.get("AlgorithmSpecification", {}).get("TrainingImage")
            uris = _training_code(spec)
        else:
            continue
        for uri in uris:
            for key, source in _under(assets, uri):
                found.append(Script(key, source, str(image), name))
                training_files.append((key, source))
    for step in _walk(definition.get("Steps", [])):
        if step["Type"] != "RegisterModel":
            continue
        for container in step["Arguments"].get("InferenceSpecification", {}).get("Containers", []):
            program = container.get("Environment", {}).get("SAGEMAKER_PROGRAM")
            for key, source in training_files:
                if program and PurePosixPath(key.split("!")[-1]).name == program:
                    found.append(Script(key, source, str(container.get("Image")), step["Name"]))
    unique = {(s.name, s.image_uri): s for s in found}
    return list(unique.values())


def _vermin_keywords() -> dict[str, dict[str, tuple[int, int]]]:
    """method name -> keyword -> the Python 3 version vermin records for it."""
    import vermin

    table: dict[str, dict[str, tuple[int, int]]] = {}
    for (qualified, keyword), versions in vermin.KWARGS_REQS(vermin.Config()).items():
        py3 = versions[1] if len(versions) > 1 else None
        if "." in qualified and py3:
            method = qualified.rsplit(".", 1)[1]
            known = table.setdefault(method, {})
            # several methods share a name: the least demanding one decides (no false alarm)
            known[keyword] = min(known.get(keyword, py3), py3)
    return table


def problems(source: bytes | str, name: str, python: tuple[int, int]) -> list[str]:
    """Why ``source`` cannot run on ``python`` (empty when it can), one line each."""
    import vermin

    text = source.decode("utf-8") if isinstance(source, bytes) else source
    version = ".".join(map(str, python))
    try:
        tree = ast.parse(text, filename=name, feature_version=python)
    except SyntaxError as exc:
        return [f"{name}:{exc.lineno}: not Python {version} syntax: {exc.msg}"]
    found: list[str] = []
    config = vermin.Config()
    config.set_verbose(3)
    config.add_target(python, exact=False)
    config.set_only_show_violations(True)
    for line in vermin.visit(text, config, path=name).output_text().splitlines():
        match = _VIOLATION.match(line.strip())
        if match:
            needs = match.group(3).split(",")[-1].strip()
            found.append(f"{name}:{match.group(1)}: {match.group(2)} needs Python {needs}")
    keywords = _vermin_keywords()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        for keyword in node.keywords:
            if keyword.arg is None:  # **kwargs
                continue
            needs_version = keywords.get(node.func.attr, {}).get(keyword.arg)
            if needs_version and needs_version > python:
                label = f"'{node.func.attr}({keyword.arg}=)'"
                line = f"{name}:{node.lineno}: {label} needs Python " + ".".join(
                    map(str, needs_version)
                )
                if not any(f":{node.lineno}: " in f and keyword.arg in f for f in found):
                    found.append(line)
    return sorted(set(found), key=lambda f: (f.split(":")[0], int(f.split(":")[1])))


def check(definition: dict[str, Any], assets: dict[str, Path]) -> list[str]:
    """Every problem of every script of a built definition, naming script, image, step."""
    found: list[str] = []
    for script in scripts(definition, assets):
        image: Image | None = image_for_uri(script.image_uri)
        if image is None:
            found.append(
                f"{script.name}: step {script.step} runs it in {script.image_uri}, "
                "which is not a pinned image (src/batchops/images.json)"
            )
            continue
        if image.python is None:
            continue
        for problem in problems(script.source, script.name, image.python):
            found.append(
                f"{problem} (step {script.step}, {image.repository}:{image.tag} "
                f"has Python {image.python_text})"
            )
    return found
