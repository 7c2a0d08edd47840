"""The transform host's mini-batching keeps every record whole, in order, joined to its input."""

from __future__ import annotations

from pathlib import Path

from batchops.localcloud import transform_host

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
