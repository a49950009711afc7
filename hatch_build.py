"""Hatch build hook: bundle the TypeScript front end (js/) into tam_widgets/static/ for wheels.

A regular wheel build runs ``npm install`` (when js/node_modules is missing; it keeps the committed
lock file's versions) and ``npm run build`` in
js/ whenever the bundle is missing or older than its sources. Editable installs leave the bundle
to ``make js``. A source tree that already holds an up-to-date bundle (an sdist) needs no Node.js.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

OUTPUTS = ("widget.js", "standalone.js", "widget.css")


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


class JsBundleHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        js, static = root / "js", root / "tam_widgets" / "static"
        outputs = [static / name for name in OUTPUTS]
        sources = [*js.glob("src/**/*"), js / "package.json", js / "package-lock.json", js / "build.mjs"]
        missing = not all(p.is_file() for p in outputs)
        stale = js.is_dir() and _newest(sources) > min((p.stat().st_mtime for p in outputs if p.is_file()), default=0)
        if missing or stale:
            npm = shutil.which("npm")
            if npm is None:
                if missing:
                    raise RuntimeError(
                        "tam-widgets: building a wheel needs Node.js and npm to bundle js/ into "
                        "tam_widgets/static/ (install Node.js >= 18, or build from an sdist that ships the bundle)"
                    )
                self.app.display_warning("tam-widgets: npm not found; using the existing (older) js bundle")
                return
            if not (js / "node_modules").is_dir():
                subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=js, check=True)
            subprocess.run([npm, "run", "build"], cwd=js, check=True)
        absent = [str(p) for p in outputs if not p.is_file()]
        if absent:
            raise RuntimeError(f"tam-widgets: the js build did not produce {absent}")
