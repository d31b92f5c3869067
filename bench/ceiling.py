"""The limit: the most texts/s the serving engine reaches on this machine, with no HTTP and no request log.

The classifier is loaded exactly as the service loads it (`spam_service.runtime.load_classifier(Settings(...))`,
so INFERENCE_BACKEND, INFERENCE_WORKERS, INFERENCE_THREADS and the like from the environment apply) and run as the
service runs it: one thread per inference worker, all cores busy. The test messages are sorted by token length and
cut into passes of 1, 2, 4, ... 64 texts (one forward pass each, neighbours in length, so little padding); for each
pass size the workers share the passes out until every message has been classified once (after a short warm-up),
so every length counts in its share.

Two figures per pass size: `served` is `SpamClassifier.predict` (tokenizing, the network, the TF-IDF baseline:
what the service does per text) and `engine` is the network alone. The limit is the best `served` figure: what
the service could reach if HTTP, JSON and the request log cost nothing.

    python -m bench.ceiling --model-dir weights/spam-minilm            # ~1 min
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.messages import load_messages

PASS_SIZES = (1, 2, 4, 8, 16, 32, 64)


def sweep(workers: int, passes: Sequence[list[str]], predict: Callable[[list[str]], object]) -> float:
    """Texts/s of `workers` threads taking the passes one by one until every pass has run once: the whole
    corpus, each length in its share (a timed window would see mostly the short texts that come first)."""
    taken = itertools.count()
    texts = sum(len(p) for p in passes)

    def worker() -> None:
        while (index := next(taken)) < len(passes):  # next() on a count is atomic under the GIL
            predict(passes[index])

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return texts / (time.perf_counter() - begin)


def length_sorted_passes(classifier, messages: Sequence[str], size: int) -> list[list[str]]:
    lengths = [len(t.ids) for t in classifier.tokenizer.encode(messages)]
    ordered = [messages[i] for i in sorted(range(len(messages)), key=lengths.__getitem__)]
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure the serving engine's limit in-process.")
    parser.add_argument("--model-dir", type=Path, default=Path("weights/spam-minilm"))
    parser.add_argument("--sizes", type=int, nargs="+", default=list(PASS_SIZES), help="texts per forward pass")
    parser.add_argument("--messages", type=Path, default=Path("data/prepared/test.jsonl"))
    args = parser.parse_args(argv)

    from spam_service.model.pass_costs import PassCosts
    from spam_service.runtime import load_classifier
    from spam_service.settings import Settings

    settings = Settings(model_dir=args.model_dir, _env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    classifier = load_classifier(settings)
    load_s = time.perf_counter() - started
    measured_costs = classifier.pass_costs
    messages = load_messages(args.messages)
    workers = settings.inference_workers

    def measure(passes: list[list[str]], predict: Callable[[list[str]], object]) -> float:
        warm_up = passes[:: max(1, len(passes) // (4 * workers))]  # every length, a few passes
        sweep(workers, warm_up, predict)
        return sweep(workers, passes, predict)

    rows = []
    for size in args.sizes:
        # Each call is exactly one forward pass: a fixed cost so high that the planner never splits a call.
        classifier.pass_costs = PassCosts(overhead_tokens=1e9, max_texts=size)
        passes = length_sorted_passes(classifier, messages, size)
        served = measure(passes, classifier.predict)
        engine = measure(passes, classifier.spam_probabilities)
        rows.append(
            {"texts_per_pass": size, "served_texts_per_s": round(served, 1), "engine_texts_per_s": round(engine, 1)}
        )
        print(f"pass of {size:>2}: served {served:7.1f} texts/s, engine alone {engine:7.1f}", file=sys.stderr)
    best = max(rows, key=lambda row: row["served_texts_per_s"])
    json.dump(
        {
            "backend": classifier.backend,
            "workers": workers,
            "threads": settings.inference_threads,
            "baseline": classifier.baseline is not None,
            "texts_per_s": best["served_texts_per_s"],
            "best_texts_per_pass": best["texts_per_pass"],
            "engine_texts_per_s": max(row["engine_texts_per_s"] for row in rows),
            "by_pass_size": rows,
            "measured_pass_costs": {
                "max_texts": measured_costs.max_texts,
                "overhead_tokens": measured_costs.overhead_tokens,
            },
            "load_s": round(load_s, 2),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
