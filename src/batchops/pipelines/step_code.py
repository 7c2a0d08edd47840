"""Step code: a step script plus the part of batchops it imports, as one deterministic zipapp.

Why: a processing container has only its image's packages. A step script that needs the
platform's engine (the model-quality metrics, the data-quality engine) gets it *with* the
job, as the step's code — never by installing batchops in the image or copying the engine
into the team's folder. The SDK's ``ScriptProcessor.run(code=...)`` uploads one file and
runs ``python3 /opt/ml/processing/input/code/<file>``; Python runs a zip archive holding a
``__main__.py`` as a program, so the step's code is one such archive (``<script>.pyz``):

* ``__main__.py``: a bootstrap that runs the script as ``__main__`` with the archive first
  on ``sys.path`` (and drops any other copy of ``batchops`` a warm local container had
  already imported, so the archive's copy is the one that runs, as on AWS);
* ``<script>.py``: the team's script, unchanged;
* ``batchops/...``: exactly the modules the script imports, transitively (found by reading
  their ``import`` statements, lazy ones included), with their packages' ``__init__.py``.

The archive is deterministic like the Lambda zips (:func:`batchops.build.deterministic_zip`:
sorted entries, fixed timestamps), so its bytes — and the SDK's content hash in the S3 key —
change only when the code does, and :func:`shipped_digest` feeds the definition cache key.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

from batchops.build import deterministic_zip
from batchops.errors import PipelineError
from batchops.fs import atomic_write_bytes
from batchops.pipelines.build_folder import build_root

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # src/batchops
PACKAGE = PACKAGE_ROOT.name
ARCHIVE_SUFFIX = ".pyz"
#: Step scripts of the platform itself that pipelines run (the data-quality job).
PLATFORM_SCRIPTS = (PACKAGE_ROOT / "monitor" / "job.py",)

_BOOTSTRAP = '''\
"""Step code built by batchops (batchops.pipelines.step_code): runs {module}.py with the
batchops modules shipped in this archive."""
import os
import runpy
import sys

# a warm local container may already hold another copy of batchops: this archive's runs
for _name in [n for n in sys.modules if n == "batchops" or n.startswith("batchops.")]:
    del sys.modules[_name]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
runpy.run_module("{module}", run_name="__main__", alter_sys=True)
'''


@functools.lru_cache(maxsize=512)
def _imported_modules(source: bytes, filename: str, package: str | None) -> frozenset[str]:
    """Dotted names of the batchops modules a source file imports (anywhere in it); parsed
    once per content (a deploy computes the definition cache key from every shipped module)."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise PipelineError(f"{filename}: cannot be packed as step code ({exc.msg})") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if package is None:
                    continue
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(n for n in names if n == PACKAGE or n.startswith(PACKAGE + "."))


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return PACKAGE_ROOT / "__init__.py"
    folder = PACKAGE_ROOT.joinpath(*parts[:-1])
    for candidate in (folder / f"{parts[-1]}.py", folder / parts[-1] / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None  # an attribute imported from a module (``from a.b import function``)


def shipped_modules(script: Path) -> dict[str, bytes]:
    """``batchops/...`` archive paths -> bytes of every module ``script`` needs."""
    files: dict[str, bytes] = {}
    pending = sorted(_imported_modules(script.read_bytes(), str(script), None))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # the packages on the way down
            package_init = _module_file(".".join(parts[:depth]))
            if package_init is not None and package_init.name == "__init__.py":
                arcname = package_init.relative_to(PACKAGE_ROOT.parent).as_posix()
                if arcname not in files:
                    files[arcname] = package_init.read_bytes()
                    pending.append(".".join(parts[:depth]))
        source = path.read_bytes()
        files[path.relative_to(PACKAGE_ROOT.parent).as_posix()] = source
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        pending.extend(sorted(_imported_modules(source, str(path), package) - seen))
    return files


def archive_files(script: Path) -> dict[str, bytes]:
    """Every entry of the step code archive of ``script``."""
    if not script.is_file() or script.suffix != ".py":
        raise PipelineError(f"step script {script} does not exist (expected a .py file)")
    module = script.stem
    if not module.isidentifier():
        raise PipelineError(f"step script {script.name}: its name must be a Python identifier")
    return {
        "__main__.py": _BOOTSTRAP.format(module=module).encode(),
        script.name: script.read_bytes(),
        **shipped_modules(script),
    }


def build_archive(script: Path) -> bytes:
    return deterministic_zip(archive_files(script))


def step_code(script: Path, out_dir: Path | None = None) -> str:
    """Write the archive of ``script`` under ``out_dir`` (default: the build folder,
    content-addressed) and return its path.

    Pass the result as ``code=`` to ``ScriptProcessor.run``: the job runs
    ``python3 /opt/ml/processing/input/code/<script>.pyz``.
    """
    out_dir = build_root() if out_dir is None else out_dir
    data = build_archive(script)
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = out_dir / "step-code" / digest / f"{script.stem}{ARCHIVE_SUFFIX}"
    if not target.is_file():
        atomic_write_bytes(target, data)
    return str(target)


def shipped_digest(scripts: list[Path]) -> str:
    """A hash over the batchops modules the given step scripts and the platform's own step
    scripts ship, and over the platform's scripts themselves (the team's are in the project's
    source digest): part of the definition cache key, as the archives are in the definition."""
    digest = hashlib.sha256()
    for script in PLATFORM_SCRIPTS:
        digest.update(script.name.encode() + b"\0" + script.read_bytes())
    for script in sorted({*scripts, *PLATFORM_SCRIPTS}):
        for name, data in sorted(shipped_modules(script).items()):
            digest.update(name.encode() + b"\0" + data)
    return digest.hexdigest()
