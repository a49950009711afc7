import torch

from tam_widgets.testing import ShapeRecorder
from tam_widgets.testing.bench import PeakMemory, timed


def test_timed_is_a_median_in_seconds():
    calls = []
    t = timed(lambda: calls.append(1), repeats=3)
    assert len(calls) == 4 and 0 <= t < 1


def test_peak_memory_sees_a_temporary_allocation():
    """In a fresh process, as PeakMemory asks: after hundreds of tests the allocator may hand back
    memory that is already resident, and the growth reads 0."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from tam_widgets.testing.bench import PeakMemory\n"
        "with PeakMemory() as peak:\n"
        "    a = np.ones(50_000_000 // 8)  # 50 MB, touched\n"
        "    del a\n"
        "print(peak.mb)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout.strip()) > 30
    with PeakMemory() as small:  # in this process too, nothing is negative or absurd
        pass
    assert 0 <= small.mb < 30


def test_shape_recorder_skips_views_and_in_place_results():
    x = torch.ones(4, 6)
    with ShapeRecorder() as rec:
        view = x.T  # a view
        x.add_(1)  # in place
        y = x @ torch.ones(6, 2)  # new
    assert (4, 2) in rec.shapes and (6, 4) not in rec.shapes and y.shape == (4, 2) and view.shape == (6, 4)
