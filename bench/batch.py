"""Spark's overhead on batch scoring: `score` on N messages against the in-process engine on the same texts.

The engine limit is measured the way local[*] runs: one process per core, each with the model loaded as the batch
job loads it (one ONNX Runtime thread) and `predict` called on chunks of its share; only predicting is timed. The
Spark figure is `python -m spam_service.batch score` run as a user runs it (a subprocess, a fresh JVM): its
summary line gives the job's texts/s and the start-up; the end-to-end wall time is measured around it.

    python -m bench.batch --rows 20000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.messages import load_messages

CHUNK = 512  # texts per predict call, as spam_service.batch.scoring.PREDICT_CHUNK


def _predict_share(arguments: tuple[str, list[str]]) -> float:
    """Load the model in this process (not timed), predict its texts; the seconds predicting took."""
    model_dir, texts = arguments
    from spam_service.model.loading import load_model
    from spam_service.settings import Settings

    classifier = load_model(model_dir, Settings(inference_threads=1, _env_file=None))  # type: ignore[call-arg]
    started = time.perf_counter()
    for start in range(0, len(texts), CHUNK):
        classifier.predict(texts[start : start + CHUNK])
    return time.perf_counter() - started


def in_process(model_dir: str, texts: list[str], processes: int) -> float:
    """Texts/s of `processes` processes each predicting an equal share (the slowest one decides)."""
    shares = [texts[i::processes] for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        seconds = pool.map(_predict_share, [(model_dir, share) for share in shares])
    return len(texts) / max(seconds)


def spark_score(model_dir: str, input_path: Path, output: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "spam_service.batch", "score", "--input", str(input_path)]
    command += ["--output", str(output), "--model", model_dir, "--no-progress"]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"score failed ({finished.returncode}): {finished.stderr.strip().splitlines()[-1:]}")
    summary = finished.stdout.strip().splitlines()[-1]
    match = re.search(r"in ([\d.]+) s: (\d+) texts/s; Spark start-up ([\d.]+) s", summary)
    if match is None:
        raise SystemExit(f"no summary line in {summary!r}")
    job_s, rate, startup = float(match[1]), float(match[2]), float(match[3])
    return {"job_s": job_s, "texts_per_s": rate, "startup_s": startup, "wall_s": round(wall, 1), "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Spark batch scoring against the in-process engine.")
    parser.add_argument("--rows", type=int, default=20_000, help="messages (the test split repeated)")
    parser.add_argument("--model-dir", default="weights/spam-minilm")
    parser.add_argument("--messages", type=Path, default=Path("data/prepared/test.jsonl"))
    args = parser.parse_args(argv)

    import pandas as pd

    messages = load_messages(args.messages)
    texts = [messages[i % len(messages)] for i in range(args.rows)]
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as directory:
        input_path = Path(directory) / "texts.parquet"
        pd.DataFrame({"id": range(len(texts)), "text": texts}).to_parquet(input_path)
        spark = spark_score(args.model_dir, input_path, Path(directory) / "scored")
        engine = in_process(args.model_dir, texts, cores)
    report = {
        "rows": args.rows,
        "cores": cores,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "in_process_texts_per_s": round(engine, 1),
        "spark_job_texts_per_s": spark["texts_per_s"],
        "spark_over_engine": round(spark["texts_per_s"] / engine, 3),
        "spark_end_to_end_texts_per_s": round(args.rows / spark["wall_s"], 1),
        "spark_startup_s": spark["startup_s"],
        "spark_wall_s": spark["wall_s"],
        "summary_line": spark["summary"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
