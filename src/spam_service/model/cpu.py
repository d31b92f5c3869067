"""What the engine runs on: the CPU model and the instruction sets int8 inference depends on.

Recorded beside every speed figure (reports/backends.json, the benchmarks): int8 is ~2.9x fp32 on a Xeon with
AVX-512 VNNI and ~1.4x on an AMD EPYC with AVX2 only, so a figure means little without the machine.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

# The x86 flags that decide int8 GEMM speed in ONNX Runtime's MLAS kernels, as /proc/cpuinfo names them.
INT8_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    model, flags = "unknown", set()
    with contextlib.suppress(OSError):
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    return {
        "model": model,
        "cores": len(os.sched_getaffinity(0)),
        "int8_instructions": [flag for flag in INT8_FLAGS if flag in flags],
    }
