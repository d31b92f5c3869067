"""Memory of a model swap: resident size before, at its peak while the candidate is loaded, warmed and checked
beside the model serving, and after the old one is released.

The swap is the service's own (`ModelSwapper` with the service's loader and canary check, engine settings from the
environment as the service reads them); the candidate is the same export under another version (a directory of
symlinks), so the figure is that of swapping the trained model for one of its size. Peak: VmHWM, reset just before
the swap (Linux: "5" to /proc/self/clear_refs).

    python -m bench.model_swap --model-dir weights/spam-minilm --swaps 3
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
from pathlib import Path


def memory_mib(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident) of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def symlinked_copy(source: Path, directory: Path, version: str) -> Path:
    """`source` as another model: every file a symlink but serving.json, whose version is `version`."""
    directory.mkdir(parents=True)
    for path in source.iterdir():
        if path.name != "serving.json":
            (directory / path.name).symlink_to(path.resolve())
    metadata = json.loads((source / "serving.json").read_text(encoding="utf-8"))
    (directory / "serving.json").write_text(json.dumps({**metadata, "version": version}), encoding="utf-8")
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Peak resident memory during a model swap.")
    parser.add_argument("--model-dir", type=Path, default=Path("weights/spam-minilm"))
    parser.add_argument("--swaps", type=int, default=3, help="swaps in a row (a leak would grow with each)")
    args = parser.parse_args(argv)

    from spam_service.model.loading import load_model
    from spam_service.model.swap import ModelSwapper
    from spam_service.settings import Settings

    settings = Settings(model_dir=args.model_dir, _env_file=None)  # type: ignore[call-arg]
    baseline_mib = memory_mib("VmRSS")
    serving = [load_model(str(args.model_dir), settings)]
    serving[0].predict(["a first request, as a served model has answered some"] * 32)
    gc.collect()
    rows = [("process before loading the model", baseline_mib), (f"serving {serving[0].version}", memory_mib("VmRSS"))]
    with tempfile.TemporaryDirectory() as scratch:
        candidates = [
            str(symlinked_copy(args.model_dir, Path(scratch) / f"candidate-{n}", f"{n:012x}")) for n in range(2)
        ]
        swapper = ModelSwapper(
            lambda uri: load_model(uri, settings), lambda: serving[0], lambda new: serving.__setitem__(0, new)
        )
        for swap in range(args.swaps):
            before_mib = memory_mib("VmRSS")
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
            result = swapper.swap(candidates[swap % 2], requested_by="bench")  # returns with the old one released
            peak_mib = memory_mib("VmHWM")
            gc.collect()
            after_mib = memory_mib("VmRSS")
            rows += [
                (f"swap {swap + 1} ({result.load_s:.2f} s): peak (VmHWM)", peak_mib),
                (f"swap {swap + 1}: peak above serving before it", peak_mib - before_mib),
                (f"swap {swap + 1}: serving {result.current.version}, old released", after_mib),
            ]
    print(f"model swaps of {args.model_dir} ({serving[0].backend}, INFERENCE_THREADS={settings.inference_threads})")
    print(f"{'':<56} {'RSS MiB':>9}")
    for label, mib in rows:
        print(f"{label:<56} {mib:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
