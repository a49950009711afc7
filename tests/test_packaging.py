"""The wheel build bundles the TypeScript front end (hatch_build.py) from a tree that has no bundle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_build_bundles_the_front_end(tmp_path):
    node_modules = ROOT / "js" / "node_modules"
    assert node_modules.is_dir() and shutil.which("npm"), "run `make js` first (needs Node.js and npm)"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    src = tmp_path / "src"
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    assert not (src / "tam_widgets" / "static").exists()
    (src / "js" / "node_modules").symlink_to(node_modules)  # no registry access in tests
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wheel = next((tmp_path / "dist").glob("tam_widgets-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for asset in ("widget.js", "standalone.js", "widget.css"):
            assert f"tam_widgets/static/{asset}" in names
            built = (src / "tam_widgets" / "static" / asset).read_bytes()
            assert z.read(f"tam_widgets/static/{asset}") == built and len(built) > 1000
        assert b"export" in z.read("tam_widgets/static/widget.js")  # the ES module anywidget imports
        assert b"TamWidgets" in z.read("tam_widgets/static/standalone.js")
    assert not any(n.startswith(("js/", "tests/")) for n in names)
