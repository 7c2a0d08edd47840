"""Step code archives: a step script plus exactly the batchops modules it imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from batchops.errors import PipelineError
from batchops.pipelines.step_code import archive_files, build_archive, step_code


def test_the_closure_follows_lazy_and_from_imports_and_adds_packages(tmp_path: Path) -> None:
    script = tmp_path / "step.py"
    script.write_text(
        "import numpy\n"
        "from batchops.errors import DataError\n"
        "def main():\n"
        "    from batchops.monitor import model_quality\n"
    )
    files = set(archive_files(script))
    assert {
        "__main__.py",
        "step.py",
        "batchops/__init__.py",
        "batchops/errors.py",
        "batchops/monitor/__init__.py",
        "batchops/monitor/model_quality.py",
        "batchops/monitor/formats.py",  # imported by model_quality
    } <= files
    assert not {name for name in files if name.startswith(("numpy", "batchops/localcloud"))}


def test_the_archive_runs_its_own_batchops_not_an_installed_one(tmp_path: Path) -> None:
    script = tmp_path / "where.py"
    script.write_text("import batchops.errors\nprint(batchops.errors.__file__)\n")
    archive = step_code(script, tmp_path / "build")
    done = subprocess.run([sys.executable, archive], capture_output=True, text=True, check=True)
    assert done.stdout.strip().startswith(archive), done.stdout


def test_same_sources_same_bytes_and_a_content_addressed_path(tmp_path: Path) -> None:
    script = tmp_path / "step.py"
    script.write_text("from batchops.monitor.formats import write_json\n")
    assert build_archive(script) == build_archive(script)
    first = step_code(script, tmp_path / "a")
    script.write_text("from batchops.monitor.formats import read_json\n")
    assert Path(step_code(script, tmp_path / "a")).parent != Path(first).parent


@pytest.mark.parametrize("name", ["my-step.py", "missing.py"])
def test_a_script_that_cannot_be_packed_is_one_clear_error(tmp_path: Path, name: str) -> None:
    script = tmp_path / name
    if name != "missing.py":
        script.write_text("print(1)\n")
    with pytest.raises(PipelineError, match=name):
        archive_files(script)


def test_the_definition_cache_key_changes_when_shipped_engine_code_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data-quality job is the platform's script: its engine is in the key too."""
    from batchops.pipelines import step_code as module

    before = module.shipped_digest([])
    job = tmp_path / "job.py"
    job.write_text("from batchops.monitor.formats import read_json\n")
    monkeypatch.setattr(module, "PLATFORM_SCRIPTS", (job,))
    assert module.shipped_digest([]) != before


def test_the_definition_cache_key_changes_when_the_platform_script_itself_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing the data-quality job (not only the modules it imports) makes new definitions:
    the job's archive is in them."""
    from batchops.pipelines import step_code as module

    job = tmp_path / "job.py"
    job.write_text("from batchops.monitor.formats import read_json\n")
    monkeypatch.setattr(module, "PLATFORM_SCRIPTS", (job,))
    before = module.shipped_digest([])
    job.write_text("from batchops.monitor.formats import read_json\nprint('changed')\n")
    assert module.shipped_digest([]) != before
