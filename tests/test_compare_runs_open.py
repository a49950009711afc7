"""RunComparison.open: a sample's stored records in a CompareView (needs tam_widgets.widgets.compare, branch h-11a)."""

from __future__ import annotations

import pytest

import tam_widgets as tw
from tam_widgets.compare_runs import RunComparisonError
from tam_widgets.evaluate import record_name
from tam_widgets.testing.records import synthetic_record
from tests.test_compare_runs import row, write_run


def test_open_shows_the_runs_records_of_a_sample(tmp_path):
    from tam_widgets.widgets.compare import CompareView

    outs = []
    for name in ("qwen", "llava"):
        out = write_run(
            tmp_path / name, [row("7", "A cat.", {"cat": 0.5}, {"a": 0.4}, record=record_name("7"))], model=f"x/{name}"
        )
        (out / "records").mkdir()
        synthetic_record().save(out / record_name("7"))
        outs.append(out)
    cmp = tw.compare_runs(outs, labels=["Qwen", "LLaVA"], min_count=1)
    view = cmp.open(cmp.samples("cat")["id"][0])
    assert isinstance(view, CompareView)
    assert isinstance(cmp.open("7", query="cat", method="cam"), CompareView)  # view options pass through
    (outs[1] / record_name("7")).unlink()
    with pytest.raises(RunComparisonError, match="LLaVA: cannot read the record of sample '7'"):
        cmp.open("7")
