"""The pandas-only option's floor, run by the scikit-learn 1.2-1 image's runtime.

``python image_floor.py DATA BATCH OUT`` — run by ``benchmarks/monitor_bench.py`` with
``.venv-images/sklearn-1.2-1/bin/python`` (Python 3.9, pandas 1.1.3, numpy 1.24.1), so this
script imports only the standard library, numpy and pandas.

Why: the data-quality step can run in that image either on what the image has (numpy and
pandas) or with polars shipped as wheels. A pandas engine would have to read every row in
chunks (bounded memory) and, per chunk, count, sum, take the variance, min and max of each
number and count the categories — this script does exactly that and nothing more (no
sketch, no type classification, no checks), for the data and the batch. Whatever a full
pandas engine costs, it costs at least this: if this floor is slower than the engine with
the shipped wheels, the pandas-only option cannot be the faster one.

Its last stdout line is one JSON object: ``seconds`` (imports included), ``flagged`` (null:
no drift check), ``note``, ``version``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

CHUNK_ROWS = 1_000_000


def profile(path: Path) -> dict:
    import pandas as pd

    rows = 0
    numbers: dict = {}
    categories: dict = {}
    for chunk in pd.read_csv(path, header=None, chunksize=CHUNK_ROWS):
        rows += len(chunk)
        for name in chunk.columns:
            column = chunk[name]
            if column.dtype == object:
                for value, count in column.value_counts().items():
                    categories[value] = categories.get(value, 0) + int(count)
                continue
            seen = numbers.setdefault(str(name), [0, 0.0, 0.0, float("inf"), float("-inf")])
            seen[0] += int(column.count())
            seen[1] += float(column.sum())
            seen[2] += float(column.var(ddof=0)) * int(column.count())
            seen[3] = min(seen[3], float(column.min()))
            seen[4] = max(seen[4], float(column.max()))
    return {"rows": rows, "numbers": numbers, "categories": categories}


def main() -> None:
    start = time.perf_counter()
    data, batch, out = (Path(arg) for arg in sys.argv[1:4])
    out.mkdir(parents=True, exist_ok=True)
    for name, path in (("data", data), ("batch", batch)):
        (out / f"{name}.json").write_text(json.dumps(profile(path)))
    import numpy
    import pandas

    seconds = time.perf_counter() - start
    python = ".".join(str(p) for p in sys.version_info[:3])
    print(
        json.dumps(
            {
                "seconds": seconds,
                "flagged": None,
                "note": f"chunked read_csv + per-column aggregates only (Python {python})",
                "version": f"pandas {pandas.__version__}, numpy {numpy.__version__}",
            }
        )
    )


if __name__ == "__main__":
    main()
