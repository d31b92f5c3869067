"""`python -m spam_service.batch score|compare`: classify archives on Apache Spark (docs/batch.md).

  score   --input URI --output URI [--model MODEL_URI] [--text-column text] [--format auto] [--partition-by COL]
  compare --input URI --champion MODEL_URI --challenger MODEL_URI [--feedback URI | --label-column COL]

URIs are local paths or Hadoop URIs (hdfs://, webhdfs://). Local mode (local[*]) unless run by spark-submit.
Exit status: 0 done; 2 the command line names something missing or unusable (an input path, a column, an output
that exists, a bad option); 1 anything else (a model that does not load, a failed job). The reason is one line on
stderr, and nothing is left at the output path.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from spam_service.batch.errors import BatchError
from spam_service.batch.inputs import FORMATS
from spam_service.batch.scoring import BACKENDS
from spam_service.errors import SpamServiceError
from spam_service.settings import DEFAULT_MODEL_DIR

PROG = "python -m spam_service.batch"
_logger = logging.getLogger("spam_service.batch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Batch scoring on Apache Spark (docs/batch.md).")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument("--input", required=True, help="file or directory: local path, hdfs:// or webhdfs://")
        command.add_argument("--text-column", default="text", help="column holding the texts (default: text)")
        command.add_argument("--format", default="auto", choices=FORMATS, help="default: from the file names")
        command.add_argument("--backend", default="auto", choices=BACKENDS, help="default: the service's (auto)")
        command.add_argument(
            "--threads", type=int, default=1, help="ONNX Runtime threads per Python worker (default 1: one per task)"
        )
        command.add_argument("--master", default=None, help="Spark master (default: spark-submit's, else local[*])")
        command.add_argument(
            "--conf", action="append", default=[], metavar="KEY=VALUE", help="a further Spark setting (repeatable)"
        )
        command.add_argument("--no-progress", action="store_true", help="no Spark progress bar")
        command.add_argument(
            "--partitions",
            type=int,
            default=None,
            help="spread the input over at least this many tasks (default: Spark's default parallelism, the cores)",
        )

    score = commands.add_parser("score", help="classify every text; write Parquet with the predictions")
    common(score)
    score.add_argument("--output", required=True, help="Parquet directory to create (written whole, or not at all)")
    score.add_argument("--model", default=str(DEFAULT_MODEL_DIR), help="model directory or models:/... URI")
    score.add_argument(
        "--executor-model-dir",
        default=None,
        help="the model directory as executors see it, when not the driver's path (e.g. unpacked by --archives)",
    )
    score.add_argument(
        "--partition-by",
        action="append",
        default=None,
        metavar="COLUMN",
        help="partition the output by this column (default: `date` when the input has it, as the HDFS request log)",
    )
    score.add_argument("--overwrite", action="store_true", help="replace an existing output (at commit time)")

    compare = commands.add_parser("compare", help="a challenger against the champion on the same texts")
    common(compare)
    compare.add_argument("--champion", required=True, help="model directory or models:/spam-classifier@champion")
    compare.add_argument("--challenger", required=True, help="model directory or models:/spam-classifier@challenger")
    truth = compare.add_mutually_exclusive_group()
    truth.add_argument("--feedback", default=None, help="prediction store URL, or a feedback .jsonl/.parquet export")
    truth.add_argument("--label-column", default=None, help="an input column holding the true label")
    compare.add_argument(
        "--challenger-backend",
        default=None,
        choices=BACKENDS,
        help="the challenger's engine, when not --backend (e.g. onnx-int8 against the served fp32)",
    )
    compare.add_argument("--examples", type=int, default=5, help="flipped texts shown per direction (default 5)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    if args.threads < 1 or (args.partitions is not None and args.partitions < 1):
        return _fail("--threads and --partitions must be 1 or more", 2)
    try:
        extra = tuple(tuple(item.split("=", 1)) for item in args.conf)
        if any(len(pair) != 2 for pair in extra):
            return _fail("--conf takes KEY=VALUE", 2)
        if args.command == "score":
            _score(args, extra)
        else:
            _compare(args, extra)
    except BatchError as exc:
        return _fail(str(exc), exc.exit_code)
    except SpamServiceError as exc:  # the model loader's ModelLoadError, RegistryError: the model is unusable
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted (nothing was committed)", 130)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return code


def _spark(args: argparse.Namespace, extra: tuple[Any, ...]) -> Any:
    from spam_service.batch.session import SparkOptions, start_spark

    return start_spark(SparkOptions(master=args.master, progress_bar=not args.no_progress, extra=extra))


def _score(args: argparse.Namespace, extra: tuple[Any, ...]) -> None:
    from spam_service.batch.inputs import read_input
    from spam_service.batch.output import commit_parquet
    from spam_service.batch.scoring import resolve_model, score_frame, spread

    # The model first: a model that does not load fails in seconds, before Spark starts.
    plan, _ = resolve_model(
        args.model, backend=args.backend, threads=args.threads, executor_directory=args.executor_model_dir
    )
    spark = _spark(args, extra)
    texts = read_input(spark.session, args.input, text_column=args.text_column, fmt=args.format)
    partition_by = args.partition_by
    if partition_by is None:
        partition_by = ["date"] if "date" in texts.frame.columns else []
    frame = spread(texts.frame, args.partitions or spark.session.sparkContext.defaultParallelism)
    scored = score_frame(frame, texts.text_column, [("", plan)])
    committed = commit_parquet(spark.session, scored, args.output, partition_by=partition_by, overwrite=args.overwrite)
    rate = committed.rows / committed.seconds if committed.seconds > 0 else 0.0
    print(
        f"scored {committed.rows} rows ({texts.format}) with {plan.name} {plan.version} ({plan.backend}) in "
        f"{committed.seconds:.1f} s: {rate:.0f} texts/s; Spark start-up {spark.startup_s:.1f} s; "
        f"output {committed.path}",
        flush=True,
    )


def _compare(args: argparse.Namespace, extra: tuple[Any, ...]) -> None:
    from spam_service.batch.compare import compare_models, read_feedback
    from spam_service.batch.inputs import read_input
    from spam_service.batch.scoring import resolve_model, spread

    champion, _ = resolve_model(args.champion, backend=args.backend, threads=args.threads)
    challenger_backend = args.challenger_backend or args.backend
    challenger, _ = resolve_model(args.challenger, backend=challenger_backend, threads=args.threads)
    spark = _spark(args, extra)
    started = time.perf_counter()
    texts = read_input(spark.session, args.input, text_column=args.text_column, fmt=args.format)
    partitions = args.partitions or spark.session.sparkContext.defaultParallelism
    texts = dataclasses.replace(texts, frame=spread(texts.frame, partitions))
    feedback = read_feedback(spark.session, args.feedback) if args.feedback else None
    report = compare_models(
        spark.session,
        texts,
        champion,
        challenger,
        feedback=feedback,
        label_column=args.label_column,
        examples=args.examples,
    )
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    sys.exit(main())
