"""Run the Terraform checks of every module and account root: fmt, init, validate, test.

Why a harness: `terraform test` needs the Lambda zips to exist (they are built by
`make build`, which the module tests must not depend on), init must not run concurrently
into one plugin cache (it races), and the tests themselves are slow enough (~25 s each on
2 cores) to be worth running two at a time. Provider installation is decided by the
caller through TF_CLI_CONFIG_FILE (mk/infra.mk points it at a filesystem mirror when one
exists, otherwise Terraform uses the registry).
"""

from __future__ import annotations

import argparse
import fcntl
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".infra-work"


def _function_names() -> tuple[str, ...]:
    """The zips Terraform deploys: what ``python -m batchops.build`` makes (one list)."""
    from batchops.build import FUNCTIONS

    return tuple(function.name for function in FUNCTIONS)


PLACEHOLDER_FUNCTIONS = _function_names()


def write_placeholder_zip(path: Path) -> None:
    """A tiny valid Lambda package, atomically written (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        info = zipfile.ZipInfo("placeholder.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, "def handler(event, context):\n    return None\n")
    tmp.replace(path)


def write_placeholders() -> None:
    for name in PLACEHOLDER_FUNCTIONS:
        write_placeholder_zip(WORK / "functions" / f"{name}.zip")
    write_placeholder_zip(ROOT / "shared-modules" / "lambda-function" / "tests" / "placeholder.zip")


def terraform_dirs() -> list[Path]:
    modules = sorted(p.parent for p in (ROOT / "shared-modules").glob("*/versions.tf"))
    # account roots (their values in terraform.tfvars.json) and the bootstrap root, which
    # reads those files; accounts/_shared holds the roots' common files, not a root
    roots = sorted(
        p
        for p in (ROOT / "accounts").iterdir()
        if (p / "versions.tf").is_file() and not p.name.startswith("_")
    )
    return modules + roots


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def init_one_at_a_time(directory: Path) -> tuple[int, str]:
    """``terraform init`` under the plugin cache's lock: `make test` runs this harness beside
    pytest, whose local-cloud apply tests (tests/infra/test_local_cloud_apply.py) init into
    the same cache and take the same lock (concurrent inits race: "file exists")."""
    lock = WORK / "plugin-cache.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            return run(
                ["terraform", "init", "-backend=false", "-input=false", "-no-color"], directory
            )
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_dir(directory: Path) -> tuple[Path, bool, str, float]:
    """validate + test one directory (already initialised)."""
    started = time.monotonic()
    code, out = run(["terraform", "validate", "-no-color"], directory)
    if code == 0 and any((directory / "tests").glob("*.tftest.hcl")):
        code, out = run(["terraform", "test", "-no-color"], directory)
    return directory, code == 0, out, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="terraform tests run at once")
    parser.add_argument("dirs", nargs="*", type=Path, help="only these directories")
    args = parser.parse_args(argv)
    write_placeholders()
    code, out = run(
        ["terraform", "fmt", "-check", "-recursive", "-no-color", "shared-modules", "accounts"],
        ROOT,
    )
    if code != 0:
        print(
            f"terraform fmt -check: files need formatting (run `make fmt`):\n{out}", file=sys.stderr
        )
        return 1
    dirs = [d.resolve() for d in args.dirs] or terraform_dirs()
    for directory in dirs:  # sequential: concurrent init into one plugin cache races
        code, out = init_one_at_a_time(directory)
        if code != 0:
            print(
                f"terraform init failed in {directory.relative_to(ROOT)}:\n{out}", file=sys.stderr
            )
            return 1
    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for directory, ok, out, seconds in pool.map(check_dir, dirs):
            name = directory.relative_to(ROOT)
            summary = next((line for line in reversed(out.splitlines()) if line.strip()), "")
            print(f"{'ok  ' if ok else 'FAIL'} {name} ({seconds:.0f} s) {summary}")
            if not ok:
                failed += 1
                print(out, file=sys.stderr)
    print(f"terraform: {len(dirs) - failed}/{len(dirs)} directories passed fmt, validate and test")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
