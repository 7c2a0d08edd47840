"""The Lambda packages are built for the runtime and architecture Terraform declares.

Copied from the development virtualenv, a package held that machine's Python's files and
dropped compiled modules (charset-normalizer's ``*.so``), so on AWS it ran on whatever
fallback a library had. Now third-party distributions are installed from their wheels for
the function's runtime and architecture (AWS: "use pip install --platform
manylinux2014_x86_64 --only-binary=:all:" for a .zip of a Python function), at the versions
the lock pins, and the zip stays byte-for-byte reproducible.
"""

from __future__ import annotations

import re
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from batchops.build import FUNCTIONS, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, build_all

MODULE = Path(__file__).resolve().parents[2] / "shared-modules" / "lambda-function"


def test_build_targets_the_runtime_and_architecture_terraform_declares() -> None:
    variables = (MODULE / "variables.tf").read_text(encoding="utf-8")
    runtime = re.search(r'variable "runtime" \{.*?default\s*=\s*"([^"]+)"', variables, re.S)
    assert runtime and runtime.group(1) == LAMBDA_RUNTIME
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    declared = re.search(r"architectures\s*=\s*\[\s*\"([^\"]+)\"", main)
    # no `architectures` argument: Lambda's default, x86_64
    assert (declared.group(1) if declared else "x86_64") == LAMBDA_ARCHITECTURE


@pytest.fixture(scope="module")
def approval_zip(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("zips")
    return zipfile.ZipFile(build_all(out)["approval_trigger"])


def test_compiled_modules_are_the_runtimes_and_kept(approval_zip: zipfile.ZipFile) -> None:
    names = approval_zip.namelist()
    compiled = [n for n in names if n.endswith(".so")]
    assert compiled, "charset-normalizer's compiled modules are shipped"
    tag = f"cpython-{LAMBDA_RUNTIME.removeprefix('python').replace('.', '')}-x86_64-linux-gnu.so"
    assert [n for n in compiled if not n.endswith(tag)] == []
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_third_party_versions_are_the_locked_ones(approval_zip: zipfile.ZipFile) -> None:
    function = next(f for f in FUNCTIONS if f.name == "approval_trigger")
    folders = {n.split("/")[0].removesuffix(".dist-info") for n in approval_zip.namelist()}
    shipped = {
        f.rsplit("-", 1)[0].lower().replace("_", "-"): f.rsplit("-", 1)[1]
        for f in folders
        if "-" in f and f.split("-")[-1][:1].isdigit()
    }
    for name in function.distributions:
        assert shipped[name.lower()] == metadata.version(name), name
