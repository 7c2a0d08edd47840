"""The data-quality SageMaker Processing job: batchops' engine where Model Monitor's analyzer ran.

The pipelines' data-quality steps (``BaselineDataQuality`` in training, ``CheckDataQuality``
in inference) run this script, shipped with the engine as the step's code
(:mod:`batchops.pipelines.step_code`), in SageMaker's scikit-learn image — an image every
account can pull. It reads and writes what the analyzer did, at the same places:

* ``--mode baseline``: ``statistics.json`` + suggested ``constraints.json`` of the dataset;
* ``--mode check``: the batch's ``statistics.json``, its suggested ``constraints.json`` and
  ``constraint_violations.json`` against the registered baseline. Violations are findings:
  the job succeeds and the pipeline goes on (the notification says so); bad input fails it
  with one line in ``/opt/ml/output/failure`` (SageMaker's FailureReason).

The image has no polars and the job no network: the wheels shipped as the ``wheels``
processing input are unpacked into a private folder and put first on ``sys.path``
(a wheel is a zip archive of an installed tree; no pip run, no index). A runtime that
already has polars (e.g. the local cloud's) uses its own. On the local cloud only, the
executor offers an unpack cache (``BATCHOPS_LOCAL_WHEEL_CACHE``, a folder): the shipped
wheels are then unpacked once per content (the folder is named by their sha256, computed
from the bytes this job received) and reused by later jobs, instead of unzipping 44 MB on
every run. Without the variable (as on SageMaker) the job unpacks them into a temporary
folder. The job's log says which of the three happened.

Bad input, decided here: a baseline file the registered model version names but the
baseline input does not hold fails naming the version and the file; a baseline of a newer
format is refused naming both versions (:func:`batchops.monitor.formats.check_format_version`);
an empty batch is a violation report.
"""

from __future__ import annotations

import argparse
import atexit
import compileall
import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from batchops.errors import BatchopsError, DataError

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
PROCESSING = "/opt/ml/processing"
#: Where the step definitions put things (under ROOT on the local cloud).
DATASET = f"{PROCESSING}/input/baseline_dataset_input"
BASELINE = f"{PROCESSING}/baseline"
WHEELS = f"{PROCESSING}/input/wheels"
OUTPUT = f"{PROCESSING}/output"
#: A folder the local cloud's executor offers for unpacked wheels (absent on SageMaker).
WHEEL_CACHE_ENV = "BATCHOPS_LOCAL_WHEEL_CACHE"


def container_path(path: str) -> Path:
    return Path(f"{ROOT}{path}") if path.startswith("/opt/ml") else Path(path)


def ensure_polars(wheels: Path) -> str:
    """Import polars, from the shipped wheels when the image has none; says which."""
    try:
        import polars

        return f"polars {polars.__version__} of this runtime"
    except ImportError:
        pass
    found = sorted(wheels.glob("*.whl")) if wheels.is_dir() else []
    if not found:
        raise DataError(
            f"polars is not installed in this image and no wheels were shipped in {wheels} "
            "(the step's 'wheels' input); rebuild the pipeline definition"
        )
    cache = os.environ.get(WHEEL_CACHE_ENV, "")
    if cache:
        target, how = unpacked_in_cache(found, Path(cache))
    else:
        target = Path(tempfile.mkdtemp(prefix="batchops-wheels-"))
        atexit.register(shutil.rmtree, target, ignore_errors=True)
        unpack(found, target)
        how = "unpacked into a temporary folder"
    sys.path.insert(0, str(target))
    import polars

    names = ", ".join(w.name for w in found)
    return f"polars {polars.__version__} from the shipped wheels ({names}; {how})"


def unpack(wheels: list[Path], target: Path) -> None:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)


def wheels_digest(wheels: list[Path]) -> str:
    """sha256 over the wheels' names and bytes: what the unpacked tree is made of."""
    digest = hashlib.sha256()
    for wheel in wheels:
        digest.update(wheel.name.encode() + b"\0")
        with wheel.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def unpacked_in_cache(wheels: list[Path], cache: Path) -> tuple[Path, str]:
    """The wheels unpacked under ``cache/<sha256>`` (unpacked there first if no complete tree
    of that content is), and how: reused or filled. A filled tree is byte-compiled, as pip
    compiles what it installs, so later jobs import it without compiling polars again.
    Concurrent jobs each unpack into their own folder and rename it into place; the first
    rename wins, the others use its tree."""
    digest = wheels_digest(wheels)
    target = cache / digest
    complete = target / ".complete"
    if complete.is_file():
        return target, f"unpack cache {digest[:12]} reused"
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache))
    try:
        unpack(wheels, staging)
        compileall.compile_dir(str(staging), quiet=1)
        (staging / ".complete").write_text(digest, encoding="utf-8")
        try:
            os.rename(staging, target)
        except OSError:  # another job renamed its tree first (or a stale incomplete one)
            if not complete.is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, f"unpack cache {digest[:12]} filled"


def registered_file(folder: Path, uri: str, model_package_arn: str, what: str) -> Path:
    """The baseline file ``uri`` names, staged in ``folder``; missing: one clear line."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    path = folder / name
    if not path.is_file():
        held = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise DataError(
            f"model version {model_package_arn} registers its data-quality {what} as {uri}, "
            f"but that file is missing (the baseline folder holds: {', '.join(held) or 'nothing'})"
            "; the version cannot be checked — re-run its training pipeline or deploy another"
        )
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["baseline", "check"], required=True)
    parser.add_argument("--dataset", default=DATASET)
    parser.add_argument("--output", default=OUTPUT)
    parser.add_argument("--dataset-format", default='{"csv": {"header": false}}')
    parser.add_argument("--wheels", default=WHEELS)
    parser.add_argument("--baseline", default=BASELINE, help="staged baseline folder (check)")
    parser.add_argument("--baseline-statistics", help="registered statistics.json URI (check)")
    parser.add_argument("--baseline-constraints", help="registered constraints.json URI (check)")
    parser.add_argument("--model-package-arn", default="(unknown)", help="version checked")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    polars = ensure_polars(container_path(args.wheels))
    python = ".".join(str(part) for part in sys.version_info[:3])
    print(f"data quality ({args.mode}) on Python {python} with {polars}")
    from batchops.monitor.dataquality import check_dataset, suggest_baseline
    from batchops.monitor.reader import DatasetFormat

    fmt = DatasetFormat.parse(args.dataset_format)
    dataset, output = container_path(args.dataset), container_path(args.output)
    if args.mode == "baseline":
        result = suggest_baseline(dataset, output, fmt)
    else:
        if not (args.baseline_statistics and args.baseline_constraints):
            raise DataError("--mode check needs --baseline-statistics and --baseline-constraints")
        folder = container_path(args.baseline)
        constraints = registered_file(
            folder, args.baseline_constraints, args.model_package_arn, "constraints"
        )
        statistics = registered_file(
            folder, args.baseline_statistics, args.model_package_arn, "statistics"
        )
        result = check_dataset(
            dataset, output, constraints, statistics, fmt, write_suggested_constraints=True
        )
    for note in result.notes:
        print(f"note: {note}")
    for violation in result.violations:
        print(
            f"violation: {violation.constraint_check_type} {violation.feature_name}: "
            f"{violation.description}"
        )
    written = ", ".join(sorted(path.name for path in result.files.values()))
    verdict = f"{len(result.violations)} violation(s)" if args.mode == "check" else "baseline"
    print(f"{args.mode}: {result.item_count} rows, {verdict}; wrote {written} to {output}")
    return 0


def fail(message: str) -> int:
    failure = container_path("/opt/ml/output")
    failure.mkdir(parents=True, exist_ok=True)
    (failure / "failure").write_text(message, encoding="utf-8")
    print(message, file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except BatchopsError as exc:
        return fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
