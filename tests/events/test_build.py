"""``python -m batchops.build``: deterministic zips that import with the Lambda runtime alone."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from batchops.build import FUNCTIONS, RUNTIME_PACKAGES, main

SITE = Path(__import__("boto3").__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("build1"), tmp_path_factory.mktemp("build2")
    assert main(["--out", str(first)]) == 0
    assert main(["--out", str(second)]) == 0
    return first, second


def test_build_writes_byte_identical_zips_twice(built) -> None:
    first, second = built
    names = sorted(p.name for p in first.glob("*.zip"))
    assert names == sorted(f"{f.name}.zip" for f in FUNCTIONS)
    assert {"approval_trigger.zip", "notify.zip", "retrain_trigger.zip"} <= set(names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_zip_entries_are_sorted_with_fixed_time_and_permissions(built) -> None:
    with zipfile.ZipFile(built[0] / "approval_trigger.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    # compiled modules are the Lambda runtime's (tests/events/test_lambda_packages.py)
    assert not [i.filename for i in infos if i.filename.endswith(".pyc")]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_each_zip_imports_its_handler_with_only_the_lambda_runtime(built, tmp_path, function):
    task = tmp_path / "task"
    with zipfile.ZipFile(built[0] / f"{function.name}.zip") as archive:
        archive.extractall(task)
    runtime = tmp_path / "runtime"  # what the python3.12 Lambda runtime provides
    runtime.mkdir()
    for package in RUNTIME_PACKAGES:
        source = SITE / package if (SITE / package).exists() else SITE / f"{package}.py"
        (runtime / source.name).symlink_to(source)
    module, _, attribute = function.handler.rpartition(".")
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        f"import importlib; handler = getattr(importlib.import_module({module!r}), {attribute!r})\n"
        "assert callable(handler)\n"
        "if 'approval' in sys.argv[3]:\n"
        "    import gitlab, requests\n"
        "    assert gitlab.__file__.startswith(sys.argv[1]), gitlab.__file__\n"
        "assert 'pydantic' not in sys.modules and 'yaml' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code, str(task), str(runtime), function.name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
