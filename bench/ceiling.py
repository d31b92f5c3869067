"""The in-process ceiling: the serving engine called directly, no HTTP, no request log.

The classifier is loaded exactly as the service loads it (`spam_service.runtime.load_classifier(Settings(...))`,
so INFERENCE_BACKEND, INFERENCE_WORKERS, INFERENCE_THREADS and the like from the environment apply) and run as the
service runs it: one thread per inference worker, each calling `predict` on consecutive batches of `--batch` test
messages. Texts/s here is what the service could reach if serving cost nothing.

    python -m bench.ceiling --model-dir weights/spam-minilm --duration 10 --warmup 3
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from bench.loadgen import load_messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the serving engine in-process.")
    parser.add_argument("--model-dir", type=Path, default=Path("weights/spam-minilm"))
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of predictions before measuring")
    parser.add_argument("--batch", type=int, default=32, help="texts per predict call")
    parser.add_argument("--messages", type=Path, default=Path("data/prepared/test.jsonl"))
    args = parser.parse_args(argv)

    from spam_service.runtime import load_classifier
    from spam_service.settings import Settings

    settings = Settings(model_dir=args.model_dir, _env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    classifier = load_classifier(settings)
    load_s = time.perf_counter() - started
    messages = load_messages(args.messages)
    batches = [
        [messages[(start + i) % len(messages)] for i in range(args.batch)]
        for start in range(0, len(messages), args.batch)
    ]

    def run_for(seconds: float) -> tuple[int, float]:
        """Every worker predicts batch after batch for `seconds`; the batches done and the time taken."""
        done = [0] * settings.inference_workers
        begin = time.perf_counter()

        def worker(index: int) -> None:
            while time.perf_counter() - begin < seconds:
                classifier.predict(batches[(index + done[index] * len(done)) % len(batches)])
                done[index] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(done))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(done), time.perf_counter() - begin

    run_for(args.warmup)
    calls, elapsed = run_for(args.duration)
    json.dump(
        {
            "backend": classifier.backend,
            "workers": settings.inference_workers,
            "threads": settings.inference_threads,
            "batch": args.batch,
            "batches": calls,
            "texts": calls * args.batch,
            "duration_s": round(elapsed, 3),
            "texts_per_s": round(calls * args.batch / elapsed, 2),
            "load_s": round(load_s, 2),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
