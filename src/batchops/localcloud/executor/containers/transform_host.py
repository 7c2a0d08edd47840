"""The serving side of a batch transform job, run as the "container" process.

It plays the part of a SageMaker framework container in batch mode: load the model with
the inference script's ``model_fn(model_dir)``, then for every input file send
``MaxPayloadInMB``-sized mini-batches of records (``SplitType=Line``,
``BatchStrategy=MultiRecord``) through ``input_fn -> predict_fn -> output_fn``, and write
``<file>.out`` with the records assembled by line. ``DataProcessing`` is honoured for CSV:
``InputFilter`` selects the fields sent to the model, ``JoinSource=Input`` prefixes each
output with its input record, and ``OutputFilter`` selects fields of the joined record —
SageMaker's pattern for keeping predictions associated with their inputs.

Up to ``MaxConcurrentTransforms`` mini-batches are in flight at once (0, the default,
means one per CPU, as a framework container's model server runs a worker per CPU), each
handled on its own thread, so the handler functions must be thread-safe (numpy, pandas,
polars and ``Booster.inplace_predict`` are); output keeps the input order, and at most
one more payload than that is read ahead, so memory is bounded by the payload size.
Payloads stay ``bytes`` from the file to ``<file>.out`` except for the ``str`` body
``input_fn`` receives (as SageMaker decodes ``text/csv``); the join is one ``%`` pass.

Only the standard library is imported here, and the file keeps to Python 3.8: it runs as a
script under the model image's runtime (the XGBoost 1.7-1 image has Python 3.8), where
batchops is not installed; the inference script brings its own imports.
A script without one of the four functions gets the default the SageMaker containers
have (``input_fn``: CSV to a list of rows, ``predict_fn``: ``model.predict``,
``output_fn``: one value per line).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import os
import re
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # run as a script: the executor's modules are not the container's

_ELEMENT = re.compile(r"^\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$")


def parse_filter(expression: str | None) -> Callable[[list[str]], list[str]] | None:
    """JSONPath subset SageMaker documents for CSV: ``$``, ``$[1:]``, ``$[0,5:]``, ``$[-1]``."""
    if expression is None or expression.strip() in ("", "$"):
        return None
    text = expression.strip()
    if not (text.startswith("$[") and text.endswith("]")):
        raise ValueError(
            f"unsupported filter {expression!r} (use $, $[i], $[a:b] or lists of them)"
        )
    picks: list[tuple[int, int | None, bool]] = []
    for element in text[2:-1].split(","):
        match = _ELEMENT.match(element)
        if not match or element.strip() == "":
            raise ValueError(f"unsupported filter element {element!r} in {expression!r}")
        start, end = match.group(1), match.group(2)
        is_slice = ":" in element
        picks.append((int(start) if start else 0, int(end) if end else None, is_slice))

    def select(fields: list[str]) -> list[str]:
        chosen: list[str] = []
        for start, end, is_slice in picks:
            if is_slice:
                chosen.extend(fields[start:end])
            else:
                chosen.append(fields[start])
        return chosen

    return select


def _load_script(code_dir: Path, program: str) -> Any:
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location("inference_script", code_dir / program)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"inference script {program} not found in {code_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _default_input(payload: str, content_type: str) -> list[list[float]]:
    return [[float(v) for v in row] for row in csv.reader(io.StringIO(payload)) if row]


def _default_output(prediction: Any, accept: str) -> str:
    return "\n".join(str(v) for v in list(prediction))


def _payloads(path: Path, max_bytes: int) -> Iterator[bytes]:
    """Mini-batches of whole records, each at most ``max_bytes`` (or one record if larger).

    Each payload is the records' bytes as they are in the file, one ``\n`` after every
    record (also the last one of a file without a final line break), blank lines and
    ``\r`` of ``\r\n`` removed. The file is read in blocks of ``max_bytes`` cut at the
    last line break, so memory stays bounded by the payload size whatever the file size,
    and a record is never touched one at a time unless the block needs cleaning.
    """
    carry = b""
    with path.open("rb") as handle:
        while True:
            if len(carry) >= max_bytes:  # a record longer than a payload goes alone
                data = carry + handle.readline()
                carry = b""
            else:
                block = handle.read(max_bytes - len(carry))
                if not block:
                    break
                data = carry + block
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                data = data[: cut + 1]
            payload = _clean(data)
            if payload:
                yield payload
    payload = _clean(carry)
    if payload:
        yield payload


def _clean(data: bytes) -> bytes:
    """``data``'s non-blank lines, each ended by ``\n`` (a no-op for clean blocks)."""
    if data.endswith(b"\n") and not (b"\r" in data or b"\n\n" in data or data.startswith(b"\n")):
        return data
    lines = [line for line in data.splitlines() if line]
    return b"\n".join(lines) + b"\n" if lines else b""


def _split(record: str) -> list[str]:
    return record.split(",") if '"' not in record else next(csv.reader([record]))


def _filtered(payload: bytes, select: Callable[[list[str]], list[str]]) -> bytes:
    """Each record of ``payload`` with only the fields ``select`` keeps."""
    records = payload.decode("utf-8").split("\n")[:-1]
    return ("\n".join(",".join(select(_split(r))) for r in records) + "\n").encode("utf-8")


def _render(rendered: Any) -> list[bytes]:
    """``output_fn``'s result (str, bytes or ``(body, content type)``) as one item a line."""
    if isinstance(rendered, tuple):
        rendered = rendered[0]
    if isinstance(rendered, str):
        rendered = rendered.encode("utf-8")
    rendered = bytes(rendered).rstrip(b"\n")
    return rendered.split(b"\n") if rendered else []


def _joined(payload: bytes, results: list[bytes]) -> bytes:
    """``record,result`` a line (``JoinSource=Input``): one ``%`` pass over the payload."""
    if b"%" in payload:
        payload = payload.replace(b"%", b"%%")
    return payload.replace(b"\n", b",%s\n") % tuple(results)


def _in_order(
    work: Callable[[bytes], tuple[int, bytes]], payloads: Iterator[bytes], concurrent: int
) -> Iterator[tuple[int, bytes]]:
    """``work`` on each payload, up to ``concurrent`` at once, results in input order.

    At most ``concurrent + 1`` payloads are read ahead, so memory stays bounded by the
    payload size. The first failure stops the file: payloads not yet started are dropped.
    """
    if concurrent <= 1:
        yield from map(work, payloads)
        return
    pool = ThreadPoolExecutor(concurrent, thread_name_prefix="transform")
    pending: deque[Future[tuple[int, bytes]]] = deque()
    try:
        for payload in payloads:
            pending.append(pool.submit(work, payload))
            if len(pending) > concurrent:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:  # after a failure: the payloads not yet started are dropped
            future.cancel()
        pool.shutdown(wait=True)


def transform_file(
    source: Path, target: Path, handlers: dict[str, Any], options: argparse.Namespace
) -> int:
    input_filter = parse_filter(options.input_filter)
    output_filter = parse_filter(options.output_filter)
    join = options.join_source == "Input"

    def invoke(payload: bytes) -> tuple[int, bytes]:
        """One request to the model: ``input_fn -> predict_fn -> output_fn``, assembled."""
        records = payload.count(b"\n")
        sent = _filtered(payload, input_filter) if input_filter else payload
        data = handlers["input_fn"](sent.decode("utf-8"), options.content_type)
        prediction = handlers["predict_fn"](data, handlers["model"])
        results = _render(handlers["output_fn"](prediction, options.accept))
        if len(results) != records:
            raise ValueError(f"output_fn returned {len(results)} records for {records} inputs")
        written = _joined(payload, results) if join else b"\n".join(results) + b"\n"
        return records, _filtered(written, output_filter) if output_filter else written

    count = 0
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    payloads = _payloads(source, int(options.max_payload_mb * 1024 * 1024))
    with partial.open("wb") as out:
        for records, written in _in_order(invoke, payloads, _concurrency(options)):
            out.write(written)
            count += records
    partial.replace(target)
    return count


def _concurrency(options: argparse.Namespace) -> int:
    """``MaxConcurrentTransforms``; 0 (unset) takes the container's default, a worker a CPU."""
    wanted = int(getattr(options, "max_concurrent_transforms", 1) or 0)
    return wanted if wanted > 0 else max(os.cpu_count() or 1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--code-dir", type=Path, required=True)
    parser.add_argument("--program", required=True)
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--accept", default="text/csv")
    parser.add_argument("--input-filter", default=None)
    parser.add_argument("--output-filter", default=None)
    parser.add_argument("--join-source", default="None")
    parser.add_argument("--max-payload-mb", type=float, default=6.0)
    parser.add_argument(
        "--max-concurrent-transforms",
        type=int,
        default=0,
        help="requests in flight at once (0: one per CPU, the container's default)",
    )
    options = parser.parse_args(argv)
    try:
        module = _load_script(options.code_dir, options.program)
        if not hasattr(module, "model_fn"):
            raise AttributeError(f"{options.program} defines no model_fn(model_dir)")
        handlers = {
            "model": module.model_fn(str(options.model_dir)),
            "input_fn": getattr(module, "input_fn", _default_input),
            "predict_fn": getattr(module, "predict_fn", lambda data, model: model.predict(data)),
            "output_fn": getattr(module, "output_fn", _default_output),
        }
        files = sorted(p for p in options.input_dir.rglob("*") if p.is_file())
        for source in files:
            relative = source.relative_to(options.input_dir)
            started = time.perf_counter()
            rows = transform_file(source, options.output_dir / f"{relative}.out", handlers, options)
            seconds = time.perf_counter() - started
            print(
                f"transformed {relative}: {rows} records in {seconds:.3f} s "
                f"({rows / max(seconds, 1e-9):.0f} records/s)",
                flush=True,
            )
    except Exception as exc:
        traceback.print_exc()
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
