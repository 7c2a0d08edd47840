"""Build the Lambda zips Terraform deploys: ``python -m batchops.build --out dist/functions``.

Each zip holds exactly what its handler imports beyond the Lambda Python runtime (which
ships boto3, botocore and their dependencies): the ``batchops.functions`` modules, the
tiny ``batchops`` package root and error module, and for ``approval_trigger`` python-gitlab
with requests. The zips are deterministic — entries sorted, timestamps fixed at
1980-01-01, permissions 0644, one compression level — so two builds of the same sources
are byte-identical and Terraform's ``source_code_hash`` changes only when code does.
Compiled extensions (``*.so``) are left out: they are built for this machine's Python,
and the libraries we ship fall back to pure Python (``charset_normalizer``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from batchops.errors import BatchopsError
from batchops.fs import atomic_write_bytes

PACKAGE_ROOT = Path(__file__).resolve().parent
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: What the AWS Lambda Python runtime provides; never packed.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
_COMMON = (
    "__init__.py",
    "errors.py",
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
)


def _keep(relative: str) -> bool:
    parts = relative.split("/")
    if relative.startswith("../") or "__pycache__" in parts:
        return False
    if relative.endswith((".pyc", ".so", ".pyd", "RECORD", "INSTALLER", "REQUESTED")):
        return False
    if parts[0].endswith(".dist-info"):
        return parts[-1] == "METADATA" or "licenses" in parts or parts[-1].startswith("LICENSE")
    return True


def distribution_files(name: str) -> dict[str, bytes]:
    """Files of an installed distribution, by their path inside the zip."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise BatchopsError(
            f"cannot build the Lambda zips: distribution {name!r} is not installed "
            "(run 'make install')"
        ) from None
    files: dict[str, bytes] = {}
    for entry in dist.files or ():
        relative = str(entry).replace("\\", "/")
        if _keep(relative):
            files[relative] = Path(str(dist.locate_file(entry))).read_bytes()
    return files


def function_files(function: Function) -> dict[str, bytes]:
    files = {
        f"batchops/{relative}": (PACKAGE_ROOT / relative).read_bytes()
        for relative in (*_COMMON, function.module_file)
    }
    for name in function.distributions:
        files.update(distribution_files(name))
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
