"""Build the Lambda zips Terraform deploys: ``python -m batchops.build --out dist/functions``.

Each zip holds exactly what its handler imports beyond the Lambda Python runtime (which
ships boto3, botocore and their dependencies): the ``batchops.functions`` modules, the
tiny ``batchops`` package root and error module, and for ``approval_trigger`` python-gitlab
with requests. The zips are deterministic — entries sorted, timestamps fixed at
1980-01-01, permissions 0644, one compression level — so two builds of the same sources
are byte-identical and Terraform's ``source_code_hash`` changes only when code does.

Third-party distributions are installed from their wheels *for the function's runtime and
architecture* (:data:`LAMBDA_RUNTIME`, :data:`LAMBDA_ARCHITECTURE`: what
``shared-modules/lambda-function`` declares; a test keeps them equal) at the versions the
lock pins (those installed here), with ``uv pip install --target --python-platform
--python-version --only-binary :all: --no-deps`` — as AWS documents for .zip packages
(``pip install --platform manylinux2014_x86_64 --only-binary=:all:``) — so compiled modules
such as charset-normalizer's are the runtime's, not this machine's. The installs are
cached under ``.batchops/lambda-deps/`` by pins and platform; uv is ``$BATCHOPS_UV``,
``uv`` on PATH or the repository's ``.venv-tools/bin/uv``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from batchops.errors import BatchopsError
from batchops.fs import atomic_write_bytes

PACKAGE_ROOT = Path(__file__).resolve().parent
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: What ``shared-modules/lambda-function`` declares (``runtime`` default; no
#: ``architectures``: Lambda's x86_64), checked by tests/events/test_lambda_packages.py.
LAMBDA_RUNTIME = "python3.12"
LAMBDA_ARCHITECTURE = "x86_64"
_PLATFORMS = {"x86_64": "x86_64-manylinux2014", "arm64": "aarch64-manylinux2014"}
DEPS_CACHE_ENV = "BATCHOPS_LAMBDA_DEPS_DIR"
#: What the AWS Lambda Python runtime provides; never packed.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
_COMMON = (
    "__init__.py",
    "boto_sessions.py",
    "errors.py",
    "lifecycle.py",
    "functions/__init__.py",
    "functions/_runtime.py",
    "functions/_idempotency.py",
    "functions/quality_report.py",
)


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    distributions: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()  #: further batchops modules the handler imports

    @property
    def module_file(self) -> str:
        return f"functions/{self.handler.split('.')[2]}.py"


FUNCTIONS: tuple[Function, ...] = (
    Function("notify", "batchops.functions.notify.handler"),
    Function(
        "approval_trigger",
        "batchops.functions.approval_trigger.handler",
        ("python-gitlab", "requests", "requests-toolbelt", "charset-normalizer", "idna", "certifi"),
    ),
    Function("retrain_trigger", "batchops.functions.retrain_trigger.handler"),
    Function("pipeline_trigger", "batchops.functions.pipeline_trigger.handler"),
    Function(
        "promotion_evidence",
        "batchops.functions.promotion_evidence.handler",
        modules=("promotion.py",),
    ),
)


def _keep(relative: str) -> bool:
    parts = relative.split("/")
    if relative.startswith("../") or "__pycache__" in parts:
        return False
    if relative.endswith((".pyc", ".pyd", "RECORD", "INSTALLER", "REQUESTED", "direct_url.json")):
        return False
    if parts[0].endswith(".dist-info"):
        return parts[-1] == "METADATA" or "licenses" in parts or parts[-1].startswith("LICENSE")
    return True


def _uv() -> str:
    found = os.environ.get("BATCHOPS_UV") or shutil.which("uv")
    if found:
        return found
    for base in (Path(sys.prefix).parent, Path.cwd()):
        candidate = base / ".venv-tools" / "bin" / "uv"
        if candidate.is_file():
            return str(candidate)
    raise BatchopsError(
        "cannot build the Lambda zips: uv not found (set BATCHOPS_UV, or run 'make install')"
    )


def _pin(name: str) -> str:
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        raise BatchopsError(
            f"cannot build the Lambda zips: distribution {name!r} is not installed, so its "
            "locked version is unknown (run 'make install')"
        ) from None


def runtime_install(names: tuple[str, ...]) -> Path:
    """A folder with ``names`` installed for the Lambda runtime and architecture."""
    pins = sorted(_pin(n) for n in names)
    platform = _PLATFORMS[LAMBDA_ARCHITECTURE]
    python = LAMBDA_RUNTIME.removeprefix("python")
    key = hashlib.sha256("\n".join([platform, python, *pins]).encode()).hexdigest()[:16]
    root = Path(os.environ.get(DEPS_CACHE_ENV, ".batchops/lambda-deps"))
    target = root / key
    if (target / ".complete").is_file():
        return target
    staging = root / f".{key}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        _uv(), "pip", "install", "--quiet", "--target", str(staging),
        "--python-platform", platform, "--python-version", python,
        "--only-binary", ":all:", "--no-deps", "--no-compile", *pins,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BatchopsError(f"cannot build the Lambda zips: uv failed to run ({exc})") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or ["(no output)"]
        raise BatchopsError(
            f"cannot install {', '.join(pins)} for {LAMBDA_RUNTIME}/{LAMBDA_ARCHITECTURE}: "
            f"{lines[-1].strip()}"
        )
    (staging / ".complete").write_text("\n".join(pins) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def distribution_files(names: tuple[str, ...]) -> dict[str, bytes]:
    """Files of ``names`` installed for the runtime, by their path inside the zip."""
    if not names:
        return {}
    folder = runtime_install(names)
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        top = relative.split("/", 1)[0]
        # uv's own files (.lock, .complete) and console scripts (bin/) are not importable code
        if path.is_file() and top not in (".lock", ".complete", "bin") and _keep(relative):
            files[relative] = path.read_bytes()
    return files


def function_files(function: Function) -> dict[str, bytes]:
    files = {
        f"batchops/{relative}": (PACKAGE_ROOT / relative).read_bytes()
        for relative in (*_COMMON, *function.modules, function.module_file)
    }
    files.update(distribution_files(function.distributions))
    return files


def deterministic_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permission bits below are honoured
            info.external_attr = (0o100644 & 0xFFFF) << 16
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def build_function(function: Function) -> bytes:
    return deterministic_zip(function_files(function))


def build_all(out: Path) -> dict[str, Path]:
    written: dict[str, Path] = {}
    for function in FUNCTIONS:
        path = Path(out) / f"{function.name}.zip"
        atomic_write_bytes(path, build_function(function))
        written[function.name] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m batchops.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("dist/functions"), help="output folder")
    args = parser.parse_args(argv)
    try:
        written = build_all(args.out)
    except (BatchopsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in written.items():
        data = path.read_bytes()
        print(f"{path}  {len(data):>9} bytes  sha256 {hashlib.sha256(data).hexdigest()}  ({name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
