"""benchmarks/bench_widget.py picks a baseline bundle's page shape and builds the bundle of any git ref."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_widget", ROOT / "benchmarks" / "bench_widget.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

DOC = {"format": "tam-widgets-page", "version": 1, "view": "token_map", "state": {"selected": 3},
       "records": [{"id": "r0", "meta": {"title": "t"}, "buffers": {"scales": "AAAA"}}]}


def bundle_dir(tmp_path: Path, code: str) -> Path:
    folder = tmp_path / code[:8]
    folder.mkdir()
    (folder / "standalone.js").write_text(f"var TamWidgets=(()=>{{{code}}})();")
    return folder


def test_the_document_takes_the_shape_the_bundle_reads(tmp_path):
    assert bench.document_for(bundle_dir(tmp_path, "recordFromDoc:()=>x"), DOC) is DOC
    legacy = bench.document_for(bundle_dir(tmp_path, "payloadFromDoc:()=>x"), DOC)
    assert legacy == {"state": {"selected": 3}, "meta": {"title": "t"}, "buffers": {"scales": "AAAA"}}
    with pytest.raises(ValueError, match="exports neither recordFromDoc nor payloadFromDoc"):
        bench.document_for(bundle_dir(tmp_path, "somethingElse"), DOC)


def test_build_ref_builds_that_commits_bundle_outside_the_repository(tmp_path):
    status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    static = bench.build_ref("HEAD", tmp_path)
    assert static.is_relative_to(tmp_path)
    for name in ("widget.js", "standalone.js", "widget.css"):
        assert (static / name).stat().st_size > 1000, name
    assert bench.document_for(static, DOC) is DOC  # today's bundle reads the page document
    after = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    assert after.stdout == status.stdout  # nothing in the checkout changed
    with pytest.raises(RuntimeError, match="git archive no-such-ref-xyz js failed"):
        bench.build_ref("no-such-ref-xyz", tmp_path / "other")
