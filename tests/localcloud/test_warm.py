"""Warm containers: a forked child behaves like the subprocess it replaces."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from batchops.localcloud.executor.containers import warm


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", **extra}


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = warm.spawn(argv, cwd, env)
    output = process.stdout.read()
    return process.wait(30), output


def test_a_script_sees_its_arguments_directory_environment_and_path(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "helper.py").write_text("VALUE = 'from PYTHONPATH'\n")
    (tmp_path / "sibling.py").write_text("NAME = 'beside the script'\n")
    script = tmp_path / "job.py"
    script.write_text(
        "import os, sys\n"
        "import helper, sibling\n"
        "print(sys.argv[1:], os.getcwd(), os.environ['ROLE'], helper.VALUE, sibling.NAME)\n"
        "print('LEAK' in os.environ, sys.stdin.read() == '')\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    os.environ["LEAK"] = "the executor's own environment"
    try:
        code, output = _run(
            [sys.executable, str(script), "--alpha", "1"],
            work,
            _env(ROLE="job-role", PYTHONPATH=str(lib)),
        )
    finally:
        del os.environ["LEAK"]
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == f"['--alpha', '1'] {work} job-role from PYTHONPATH beside the script"
    assert lines[1] == "False True"  # only the given environment; stdin is empty


def test_modules_and_code_run_as_main(tmp_path: Path) -> None:
    code, output = _run([sys.executable, "-m", "json.tool", "--help"], tmp_path, _env())
    assert code == 0 and "usage" in output
    code, output = _run(
        [sys.executable, "-c", "import sys; print(sys.argv)", "x"], tmp_path, _env()
    )
    assert (code, output.strip()) == (0, "['-c', 'x']")


@pytest.mark.parametrize(
    ("body", "code", "expected"),
    [
        ("raise SystemExit(3)", 3, ""),
        ("import sys; sys.exit('bad input: line 4')", 1, "bad input: line 4"),
        ("raise ValueError('boom')", 1, "ValueError: boom"),
        ("import os; os._exit(7)", 7, ""),
    ],
)
def test_exit_codes_and_errors_are_the_subprocess_ones(
    tmp_path: Path, body: str, code: int, expected: str
) -> None:
    script = tmp_path / "job.py"
    script.write_text(body + "\n")
    got, output = _run([sys.executable, str(script)], tmp_path, _env())
    assert got == code and expected in output


def test_a_running_child_can_be_terminated(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    process = warm.spawn([sys.executable, str(script)], tmp_path, _env())
    assert process.stdout.readline().strip() == "started"
    assert process.poll() is None
    started = time.monotonic()
    process.terminate()
    assert process.wait(10) < 0 and time.monotonic() - started < 10


def test_import_time_settings_get_their_own_zygote(tmp_path: Path) -> None:
    probe = [sys.executable, "-c", "import os; print(os.environ['OMP_NUM_THREADS'], os.getppid())"]
    one = _run(probe, tmp_path, _env(OMP_NUM_THREADS="1"))[1].split()
    two = _run(probe, tmp_path, _env(OMP_NUM_THREADS="2"))[1].split()
    again = _run(probe, tmp_path, _env(OMP_NUM_THREADS="1"))[1].split()
    assert one[0] == "1" and two[0] == "2"
    assert one[1] == again[1] != two[1]  # same zygote for the same settings, another for others


def test_it_is_used_only_when_enabled_and_for_plain_python_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert warm.enabled({}) and not warm.enabled({"warm_containers": False})
    monkeypatch.setenv("BATCHOPS_LOCAL_WARM", "0")
    assert not warm.enabled({})
    assert warm.supports(["python", "job.py"]) and warm.supports(["python", "-m", "x"])
    assert not warm.supports(["python", "-u", "job.py"]) and not warm.supports(["python"])


def test_a_prewarmed_zygote_serves_the_first_spawn_and_a_spawn_waits_for_it(
    tmp_path: Path,
) -> None:
    """Pre-warming starts the zygote a container's settings select; a spawn arriving while it
    starts waits for it rather than starting a second one."""
    probe = [sys.executable, "-c", "import os; print(os.getppid())"]
    settings = _env(OMP_NUM_THREADS="3")
    (thread,) = warm.prewarm([sys.executable, sys.executable], settings)
    parent = _run(probe, tmp_path, settings)[1].strip()  # possibly while the zygote starts
    thread.join(60)
    zygote = warm._ZYGOTES[(sys.executable, warm.import_time_key(settings))]
    assert parent == str(zygote.process.pid)
    assert _run(probe, tmp_path, settings)[1].strip() == parent


def test_prewarm_containers_keys_the_zygotes_as_a_steps_environment_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from batchops.localcloud.executor.containers.runtimes import built_runtimes
    from batchops.localcloud.executor.context import prewarm_containers

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert prewarm_containers({"warm_containers": False}) == []
    started = prewarm_containers({"threads_per_job": 5})
    for thread in started:
        thread.join(120)
    runtimes = built_runtimes({})
    assert len(started) == len(runtimes)
    for runtime in runtimes:
        assert warm._ZYGOTES[(runtime.python, ("5", ""))].alive()
