"""Serving benchmarks: `python -m bench.serving` (see that module)."""
