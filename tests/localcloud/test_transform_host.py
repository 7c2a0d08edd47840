"""The transform host's mini-batching keeps every record whole, in order, joined to its input."""

from __future__ import annotations

from pathlib import Path

from batchops.localcloud.executor.containers import transform_host

SCRIPT = """
def model_fn(model_dir):
    return None

def input_fn(body, content_type):
    return [line.split(",") for line in body.splitlines() if line]

def predict_fn(rows, model):
    return [sum(float(v) for v in row[1:]) for row in rows]

def output_fn(values, accept):
    return "".join(f"{v:g}\\n" for v in values)
"""


def _transform(tmp_path: Path, body: bytes, payload_mb: float) -> list[str]:
    (tmp_path / "code").mkdir()
    (tmp_path / "code/inference.py").write_text(SCRIPT)
    (tmp_path / "in").mkdir()
    (tmp_path / "in/batch.csv").write_bytes(body)
    code = transform_host.main(
        ["--model-dir", str(tmp_path), "--code-dir", str(tmp_path / "code"),
         "--program", "inference.py", "--input-dir", str(tmp_path / "in"),
         "--output-dir", str(tmp_path / "out"), "--join-source", "Input",
         "--max-payload-mb", str(payload_mb)]
    )  # fmt: skip
    assert code == 0
    assert not list((tmp_path / "out").glob("*.partial"))
    return (tmp_path / "out/batch.csv.out").read_text().splitlines()


def test_records_cut_across_payload_blocks_stay_whole_and_in_order(tmp_path: Path) -> None:
    rows = [f"M,{i},{i * 2}" for i in range(500)]
    # 64-byte payloads: every block boundary falls inside a record
    out = _transform(tmp_path, ("\n".join(rows) + "\n").encode(), 64 / 1024 / 1024)
    assert out == [f"{row},{i * 3}" for i, row in enumerate(rows)]


def test_crlf_blank_lines_and_a_missing_final_newline_are_handled(tmp_path: Path) -> None:
    out = _transform(tmp_path, b"F,1,2\r\n\r\nI,3,4\r\n\nM,5,6", 6.0)
    assert out == ["F,1,2,3", "I,3,4,7", "M,5,6,11"]


def _run(tmp_path: Path, body: bytes, *extra: str, script: str = SCRIPT) -> int:
    (tmp_path / "code").mkdir(exist_ok=True)
    (tmp_path / "code/inference.py").write_text(script)
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in/batch.csv").write_bytes(body)
    return transform_host.main(
        ["--model-dir", str(tmp_path), "--code-dir", str(tmp_path / "code"),
         "--program", "inference.py", "--input-dir", str(tmp_path / "in"),
         "--output-dir", str(tmp_path / "out"), *extra]
    )  # fmt: skip


def test_concurrent_payloads_are_written_in_input_order(tmp_path: Path) -> None:
    rows = [f"M,{i},{i % 7}" for i in range(3000)]
    body = ("\n".join(rows) + "\n").encode()
    for concurrent in ("1", "4"):
        out = tmp_path / "out/batch.csv.out"
        payload = str(100 / 1024 / 1024)
        args = ["--join-source", "Input", "--max-payload-mb", payload]
        assert _run(tmp_path, body, *args, "--max-concurrent-transforms", concurrent) == 0
        assert out.read_text().splitlines() == [f"{r},{i + i % 7}" for i, r in enumerate(rows)]


def test_last_line_without_newline_and_payload_sized_records(tmp_path: Path) -> None:
    rows = [f"F,{i},{i}" for i in range(40)]
    # every record exactly fills a 8-byte payload; the last one has no line break
    body = "\n".join(r.ljust(7) for r in rows).encode()
    out = _transform(tmp_path, body, 8 / 1024 / 1024)
    assert out == [f"{r.ljust(7)},{2 * i}" for i, r in enumerate(rows)]


def test_a_record_longer_than_the_payload_goes_alone(tmp_path: Path) -> None:
    long = "I," + ",".join(["1"] * 400)
    out = _transform(tmp_path, f"M,1,2\n{long}\nF,3,4\n".encode(), 64 / 1024 / 1024)
    assert out == ["M,1,2,3", f"{long},400", "F,3,4,7"]


def test_an_empty_file_gives_an_empty_output(tmp_path: Path) -> None:
    assert _transform(tmp_path, b"", 6.0) == []
    assert (tmp_path / "out/batch.csv.out").read_bytes() == b""


def test_percent_signs_and_quotes_in_records_survive_the_join(tmp_path: Path) -> None:
    script = SCRIPT.replace("sum(float(v) for v in row[1:])", "len(row)")
    assert _run(tmp_path, b'M%s,1,2\n"a,b",5%d\n', "--join-source", "Input", script=script) == 0
    assert (tmp_path / "out/batch.csv.out").read_bytes() == b'M%s,1,2,3\n"a,b",5%d,3\n'


def test_input_and_output_filters_with_the_join(tmp_path: Path) -> None:
    code = _run(tmp_path, b"id1,M,1,2\nid2,F,3,4\n", "--join-source", "Input",
                "--input-filter", "$[1:]", "--output-filter", "$[0,-1]")  # fmt: skip
    assert code == 0
    assert (tmp_path / "out/batch.csv.out").read_text().splitlines() == ["id1,3", "id2,7"]


def test_output_fn_may_return_bytes_or_a_body_and_content_type(tmp_path: Path) -> None:
    for returned in ('("".join(f"{v:g}\\n" for v in values)).encode()',
                     '("".join(f"{v:g}\\n" for v in values), "text/csv")'):  # fmt: skip
        script = SCRIPT.split("def output_fn", maxsplit=1)[0] + (
            f"def output_fn(values, accept):\n    return {returned}\n"
        )
        assert _run(tmp_path, b"M,1,2\nF,3,4", script=script) == 0
        assert (tmp_path / "out/batch.csv.out").read_text() == "3\n7\n"


def test_a_record_count_mismatch_fails_without_an_output(tmp_path: Path) -> None:
    script = (
        SCRIPT.split("def output_fn", maxsplit=1)[0]
        + 'def output_fn(values, accept):\n    return "1\\n"\n'
    )
    rows = "".join(f"M,{i},{i}\n" for i in range(100)).encode()
    assert _run(tmp_path, rows, "--max-concurrent-transforms", "2", script=script) == 1
    assert not (tmp_path / "out/batch.csv.out").exists()
