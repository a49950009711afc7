"""Measuring helpers shared by the benchmarks: median timings and peak memory growth."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


class PeakMemory:
    """Peak resident-memory growth (MB) of the code inside ``with``, on Linux.

    The kernel's high-water mark (VmHWM) is reset on entry, so the result is the peak reached
    inside the block minus the resident size at entry. Run it in a fresh process for numbers
    that earlier allocations (kept by the allocator) do not hide.
    """

    def __enter__(self) -> PeakMemory:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        self.before = _status_mb("VmRSS")
        self.mb = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.mb = _status_mb("VmHWM") - self.before
