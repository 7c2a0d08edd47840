"""Bad input and lost services get one line naming what is wrong — never a traceback.

Each case is one row of the table in ``benchmarks/results/bad-input-and-faults.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchops.cli.main import main

from .test_restart import SLEEPER, LocalUp

ROW = "M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15,15\n"


def one_line(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "Traceback" not in captured.err + captured.out
    return code, err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"M," + b"1" * 200_000 + b",0.4,0.1,0.5,0.2,0.1,0.1,9\n",
            "longer than 131,072 characters",
        ),
        (b"\xef\xbb\xbf" + ROW.encode() * 30, "byte-order mark"),
        (ROW.encode(), "the training pipeline needs at least 20"),
    ],
    ids=["one huge field", "utf-8 bom", "one row"],
)
def test_data_validate_reports_what_the_pipeline_would_refuse(
    tmp_path: Path, capsys, content: bytes, expected: str
) -> None:
    path = tmp_path / "training-data.csv"
    path.write_bytes(content)
    code = main(["data", "validate", str(path)])
    out = capsys.readouterr().out
    assert code == 3
    assert expected in out and "Traceback" not in out


def test_local_up_refuses_a_port_out_of_range_and_a_state_dir_that_is_a_file(
    tmp_path: Path, capsys
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["local", "up", "--port", "99999"])
    assert usage.value.code == 2
    assert "port 99999 is out of range" in capsys.readouterr().err
    afile = tmp_path / "afile"
    afile.write_text("")
    code, err = one_line(capsys, ["local", "up", "--state-dir", str(afile)])
    assert (code, err) == (2, f"error: --state-dir {afile}: is a file, expected a folder")


def test_report_with_a_truncated_records_file_names_file_line_and_column(
    tmp_path: Path, capsys
) -> None:
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "records.json").write_text('{"executions": [1,\n')
    code, err = one_line(capsys, ["report", "--out", str(tmp_path)])
    assert code == 3
    assert err.startswith(f"error: {tmp_path / 'records.json'}:2:1: not valid JSON")


def test_report_from_an_endpoint_does_not_overwrite_records_without_force(
    tmp_path: Path, capsys
) -> None:
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "records.json").write_text("{}")
    code, err = one_line(
        capsys, ["report", "--out", str(tmp_path), "--endpoint", "http://127.0.0.1:9"]
    )
    assert code == 2 and "exists: pass --force" in err
    assert (tmp_path / "records.json").read_text() == "{}"


def test_data_generate_under_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("")
    code, err = one_line(capsys, ["data", "generate", "--out", str(tmp_path / "afile" / "sub")])
    assert code == 2 and err.endswith(
        "cannot write there: a file is in the way (expected a folder)"
    )


def test_status_of_a_pipeline_that_does_not_exist_yet(cloud, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BATCHOPS_PIPELINE_INF", "batchops-inference-not-yet")
    code, err = one_line(
        capsys,
        ["pipelines", "status", "inference", "--env", "production", "--endpoint", cloud.endpoint],
    )
    assert code == 5
    assert err.startswith("error: pipeline batchops-inference-not-yet does not exist")


def test_uploading_before_the_pipeline_exists_says_so(cloud, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("BATCHOPS_PIPELINE_INF", "batchops-inference-not-yet")
    (tmp_path / "inference-data.csv").write_text(ROW.rsplit(",", 1)[0] + "\n")
    code = main(
        [
            "data",
            "upload",
            "--env",
            "production",
            "--inference",
            str(tmp_path / "inference-data.csv"),
            "--endpoint",
            cloud.endpoint,
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)[0]["layout"] == "inference"
    assert "pipeline batchops-inference-not-yet does not exist in production yet" in captured.err
    assert "batchops events redrive" in captured.err


def test_the_cli_loses_the_local_cloud_mid_wait_in_one_line(tmp_path: Path) -> None:
    """``pipelines start --wait`` while the local cloud is killed: one line, exit 4."""
    from batchops.aws import clients_for
    from batchops.config import load_settings

    cloud = LocalUp(tmp_path / "state")
    endpoint = cloud.start()
    try:
        settings = load_settings("data-science")
        sm = clients_for(settings, endpoint).client("sagemaker")
        sm.create_pipeline(
            PipelineName="batchops-training",
            PipelineDefinition=json.dumps(SLEEPER),
            RoleArn=settings.role_arn,
        )
        waiting = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "batchops.cli.main",
                "pipelines",
                "start",
                "training",
                "--env",
                "data-science",
                "--endpoint",
                endpoint,
                "--wait",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        time.sleep(8)
    finally:
        cloud.kill()
    _out, err = waiting.communicate(timeout=180)
    assert waiting.returncode == 4, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: lost {endpoint} while waiting for ")
    assert "same --state-dir" in last


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "BATCHOPS_ENDPOINT"}


def test_validate_checks_the_minimum_the_training_pipeline_checks(repo_root: Path) -> None:
    """One number, two places (the step script cannot import batchops): kept equal here."""
    import ast

    from batchops.data.schema import MIN_TRAINING_ROWS

    tree = ast.parse((repo_root / "model-build/steps/preprocess.py").read_text())
    values = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "MIN_ROWS" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    assert values == [MIN_TRAINING_ROWS]
