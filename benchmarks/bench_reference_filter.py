"""What bit-exactness on every CPU costs the reference rank Gaussian filter.

Run: ``.venv/bin/python benchmarks/bench_reference_filter.py``

``compat="reference"`` filters with the C library's ``exp`` and ``pow`` (one call per value)
because numpy's vectorised kernels round differently by CPU. The baseline is the same filter with
numpy's kernels, as it was before; both run here, in one process, on the golden fixture's 50 maps
of 24x32 and on 512 maps of 36x48. It prints medians and the ratio, and how many values the numpy
kernels get wrong against the fixture on this machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tam_widgets.core import filters
from tam_widgets.testing.bench import timed

GOLDEN = Path(__file__).resolve().parents[1].parent / "shared" / "golden" / "tam_ref_image_24x32.npz"


def numpy_kernels(x: np.ndarray) -> np.ndarray:
    """The reference filter with numpy's own exp and pow: the baseline."""
    h, w = x.shape[-2:]
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode="reflect")
    win = np.sort(np.stack([p[..., i : i + h, j : j + w] for i in range(3) for j in range(3)], -1), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = filters._numpy_sum9(win) / 9
        dev = win - mean
        sigma = np.sqrt(filters._numpy_sum9(dev * dev) / 9) / mean
        weights = np.exp(-((np.arange(9) - 4) ** 2) / (2 * np.power(sigma, np.full_like(sigma, 2))))
        weights = weights / filters._numpy_sum9(weights)
        out = filters._numpy_sum9(win * weights)[..., 0]
    return np.where((mean[..., 0] == 0) | np.isnan(out), 0, out).astype(x.dtype)


def main() -> None:
    if not GOLDEN.exists():
        sys.exit(f"needs the golden fixture at {GOLDEN}")
    with np.load(GOLDEN, allow_pickle=False) as g:
        rgf_in, rgf_out = g["rgf_in"], g["rgf_out"]
    wrong = int(np.count_nonzero(numpy_kernels(rgf_in[1:]) != rgf_out[1:]))
    exact = int(np.count_nonzero(filters.rank_gaussian_filter_reference(rgf_in[1:]) != rgf_out[1:]))
    print(f"values off the golden fixture (float64 calls): numpy kernels {wrong}, C library {exact}")
    big = np.random.default_rng(0).random((512, 36, 48))
    for name, x in (("golden 50 x 24x32", rgf_in), ("random 512 x 36x48", big)):
        base = timed(lambda x=x: numpy_kernels(x), 7) * 1e3
        new = timed(lambda x=x: filters.rank_gaussian_filter_reference(x), 7) * 1e3
        print(f"{name:20s} numpy kernels {base:7.1f} ms   C library {new:7.1f} ms   ratio {new / base:4.2f}x")


if __name__ == "__main__":
    main()
