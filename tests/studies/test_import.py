"""``tw.studies`` without the model stack: a study is read, scored, annotated and tabled without torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_study_without_a_model_needs_no_torch(tmp_path):
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "transformers"):
                    raise ImportError(f"{name} is blocked by the test")

        sys.meta_path.insert(0, Block())
        import tam_widgets as tw

        study = tw.studies.Study(
            [{"id": "1", "image": "x.jpg", "question": "What?", "answers": ["cat"] * 10, "prediction": "cat"}],
            store=sys.argv[1],
        )
        study.annotate("1", reason="other", note="fine")
        df = study.cases
        assert df.correct.tolist() == [True] and df.note.tolist() == ["fine"], df
        print("loaded:", sorted({m.split(".")[0] for m in sys.modules} & {"torch", "transformers"}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "a.jsonl")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
