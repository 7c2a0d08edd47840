"""The serving side of a batch transform job, run as the "container" process.

It plays the part of a SageMaker framework container in batch mode: load the model with
the inference script's ``model_fn(model_dir)``, then for every input file send
``MaxPayloadInMB``-sized mini-batches of records (``SplitType=Line``,
``BatchStrategy=MultiRecord``) through ``input_fn -> predict_fn -> output_fn``, and write
``<file>.out`` with the records assembled by line. ``DataProcessing`` is honoured for CSV:
``InputFilter`` selects the fields sent to the model, ``JoinSource=Input`` prefixes each
output with its input record, and ``OutputFilter`` selects fields of the joined record —
SageMaker's pattern for keeping predictions associated with their inputs.

Only the standard library is imported here; the inference script brings its own imports.
A script without one of the four functions gets the default the SageMaker containers
have (``input_fn``: CSV to a list of rows, ``predict_fn``: ``model.predict``,
``output_fn``: one value per line).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


def _batches(path: Path, max_bytes: int) -> Iterator[list[str]]:
    """Mini-batches of whole records, each at most ``max_bytes`` (or one record if larger).

    The file is read in blocks of ``max_bytes`` and cut at the last line break, so memory
    stays bounded by the payload size whatever the file size, and no Python-level work is
    done per record beyond one ``str.split``.
    """
    carry = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(max(max_bytes - len(carry), 1))
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1 :]
            records = _records(data[: cut + 1])
            if records:
                yield records
    if carry:
        records = _records(carry)
        if records:
            yield records


def _records(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    if "\r" in text or "\n\n" in text or text.startswith("\n"):
        return [line for line in text.splitlines() if line]
    return text.rstrip("\n").split("\n") if text.strip("\n") else []


def _split(record: str) -> list[str]:
    return record.split(",") if '"' not in record else next(csv.reader([record]))


def _render(rendered: Any) -> list[str]:
    if isinstance(rendered, tuple):
        rendered = rendered[0]
    if isinstance(rendered, bytes):
        rendered = rendered.decode("utf-8")
    return rendered.rstrip("\n").split("\n") if rendered else []


def transform_file(
    source: Path, target: Path, handlers: dict[str, Any], options: argparse.Namespace
) -> int:
    input_filter = parse_filter(options.input_filter)
    output_filter = parse_filter(options.output_filter)
    join = options.join_source == "Input"
    count = 0
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("w", encoding="utf-8") as out:
        for batch in _batches(source, int(options.max_payload_mb * 1024 * 1024)):
            sent = [",".join(input_filter(_split(r))) for r in batch] if input_filter else batch
            data = handlers["input_fn"]("\n".join(sent) + "\n", options.content_type)
            prediction = handlers["predict_fn"](data, handlers["model"])
            lines = _render(handlers["output_fn"](prediction, options.accept))
            if len(lines) != len(batch):
                raise ValueError(f"output_fn returned {len(lines)} records for {len(batch)} inputs")
            if join:
                lines = [f"{record},{result}" for record, result in zip(batch, lines, strict=True)]
            if output_filter:
                lines = [",".join(output_filter(_split(line))) for line in lines]
            out.write("\n".join(lines))
            out.write("\n")
            count += len(batch)
    partial.replace(target)
    return count


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
