"""A throwaway JupyterLab server for browser tests, isolated from the user's Jupyter setup.

>>> lab = JupyterLab(".")  # nothing starts until ``with lab:``
>>> lab.running
False

Typical use with a Playwright page (see tests/testing/test_jupyter.py)::

    with JupyterLab(tmp_path) as lab:
        lab.open_notebook(page, "demo.ipynb")
        lab.run_all(page)
        with lab.kernel_client("demo.ipynb") as kernel:
            assert kernel.execute("print(1 + 1)") == "2\\n"

The UI is driven through JupyterLab's own command registry (``window.jupyterapp``, exposed with
``LabApp.expose_app_in_browser``), which is steadier than clicking menus on a slow machine.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from jupyter_client import BlockingKernelClient
    from playwright.sync_api import Page

__all__ = ["SAVE_WIDGET_STATE", "WIDGET_STATE_MIME", "JupyterLab", "Kernel", "KernelError"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Settings written to the isolated user-settings dir: no news/update toasts, no autosave into the
# caller's notebook files, no kernel dialogs (a notebook without kernelspec gets the default
# kernel), every cell attached to the DOM (no virtual scrolling hiding outputs).
_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/apputils-extension/sessionDialogs": {"skipKernelRestartDialog": True},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
}

#: User settings that make JupyterLab save the live widgets' state into the notebook on every save
#: (*Settings → Save Widget State Automatically*): ``JupyterLab(root, settings=SAVE_WIDGET_STATE)``.
SAVE_WIDGET_STATE = {"@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True}}

#: Where a notebook file keeps the saved widget state (``metadata.widgets[WIDGET_STATE_MIME]``).
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

_SERVER_CONFIG = {
    "ServerApp": {
        "ip": "127.0.0.1",
        "port": 0,  # the OS picks a free port; it is read back from jpserver-<pid>.json
        "port_retries": 0,
        "open_browser": False,
        "disable_check_xsrf": True,
        "terminals_enabled": False,
        "jpserver_extensions": {"jupyter_lsp": False},
    },
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        "expose_app_in_browser": True,
        "extension_manager": "readonly",  # the default "pypi" manager queries the package index
    },
}

# Finds the notebook panel open on ``path`` (or the current widget when path is null).
_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  if (path === null) return app.shell.currentWidget;
  for (const w of app.shell.widgets('main')) if (w.context && w.context.path === path) return w;
  return null;
};
"""

_PANEL_READY = (
    "(path) => {"
    + _FIND_PANEL
    + """
  const p = findPanel(path);
  const kernel = p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel;
  return !!(p && p.context.isReady && p.content && p.content.widgets.length && kernel
            && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
}"""
)

_RUN_ALL = (
    "async ([path, ms]) => {"
    + _FIND_PANEL
    + """
  const app = window.jupyterapp;
  const panel = findPanel(path);
  if (!panel) throw new Error('no notebook panel open for ' + path);
  app.shell.activateById(panel.id);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('run-all did not finish in ' + ms + ' ms')), ms);
  });
  try {
    const ok = await Promise.race([app.commands.execute('notebook:run-all-cells'), timeout]);
    const errors = [];
    for (const cell of panel.content.model.toJSON().cells) {
      for (const out of cell.outputs || []) {
        if (out.output_type === 'error') errors.push(out.traceback.join('\\n') || out.ename + ': ' + out.evalue);
      }
    }
    return { ok: ok !== false, errors };
  } finally {
    clearTimeout(timer);
  }
}"""
)


_SAVE = (
    "async ([path, ms]) => {"
    + _FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel) throw new Error('no notebook panel open for ' + path);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('saving did not finish in ' + ms + ' ms')), ms);
  });
  try {
    await Promise.race([panel.context.save(), timeout]);
    return panel.context.model.dirty;
  } finally {
    clearTimeout(timer);
  }
}"""
)


class KernelError(RuntimeError):
    """Code run through :meth:`Kernel.execute` raised in the kernel."""


class Kernel:
    """A started ``BlockingKernelClient`` on a notebook's kernel, with a few helpers.

    Unknown attributes are looked up on :attr:`client`, so it can be used like the client itself
    (``kernel.execute_interactive``...); :meth:`execute` differs: it returns the stdout text.
    """

    def __init__(self, client: BlockingKernelClient) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        if name == "client":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.client, name)

    def execute(self, code: str, timeout: float = 60.0) -> str:
        """Run ``code`` in the kernel and return its stdout; raise KernelError if it raised."""
        out: list[str] = []

        def hook(msg: dict) -> None:
            if msg["header"]["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                out.append(msg["content"]["text"])

        reply = self.client.execute_interactive(
            code, output_hook=hook, timeout=timeout, store_history=False, allow_stdin=False
        )
        content = reply["content"]
        if content["status"] != "ok":
            tb = _ANSI.sub("", "\n".join(content.get("traceback") or []))
            raise KernelError(f"{content.get('ename')}: {content.get('evalue')}\n{tb}\nwhile running:\n{code}")
        return "".join(out)

    def eval(self, expr: str, timeout: float = 60.0) -> Any:
        """The value of a Python expression in the kernel, through its ``repr`` and ``ast.literal_eval``."""
        return ast.literal_eval(self.execute(f"print(repr({expr}))", timeout=timeout).strip())

    def wait_for(self, expr: str, expected: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
        """Poll ``eval(expr)`` until it equals ``expected``; AssertionError with the last value on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expr)
            if value == expected or time.monotonic() > deadline:
                break
            time.sleep(interval)
        assert value == expected, f"kernel: {expr} == {value!r}, expected {expected!r} within {timeout} s"
        return value

    def close(self) -> None:
        """Stop the client's channels (the kernel keeps running)."""
        self.client.stop_channels()

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JupyterLab:
    """``python -m jupyter lab`` on 127.0.0.1, a free port and a random token, serving ``root_dir``.

    Config, data, runtime, settings, workspaces and IPython dirs live in a temp dir that is removed
    on exit (nothing else is deleted; autosave is off so notebooks in ``root_dir`` are left as they
    are). The server log goes to a file there: :meth:`log`. ``settings`` adds user settings by
    plugin id (``"@jupyterlab/docmanager-extension/plugin"``), merged over the defaults above;
    :data:`SAVE_WIDGET_STATE` turns on saving widget state with the notebook.
    """

    def __init__(self, root_dir: str | os.PathLike[str], *, startup_timeout: float = 90.0,
                 settings: dict[str, dict[str, Any]] | None = None) -> None:
        self.root_dir = Path(root_dir).resolve()
        self.startup_timeout = startup_timeout
        self.settings = {k: dict(v) for k, v in _USER_SETTINGS.items()}
        for plugin, values in (settings or {}).items():
            if not isinstance(values, dict):
                raise TypeError(f"settings[{plugin!r}] must be a dict of setting values, got {type(values).__name__}")
            self.settings[plugin] = {**self.settings.get(plugin, {}), **values}
        self.token = secrets.token_hex(24)
        self.tmp: Path | None = None
        self.base_url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._kernels: list[Kernel] = []
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def runtime_dir(self) -> Path:
        assert self.tmp is not None, "JupyterLab is not started"
        return self.tmp / "runtime"

    def __enter__(self) -> JupyterLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until ``/api/status`` answers (RuntimeError with the log if not)."""
        self.tmp = Path(tempfile.mkdtemp(prefix="tam-jupyterlab-"))
        names = ("config", "data", "runtime", "ipython", "settings", "workspaces", "checkpoints", "mpl")
        dirs = {k: self.tmp / k for k in names}
        for d in dirs.values():
            d.mkdir()
        # An absolute checkpoint_dir keeps the .ipynb_checkpoints JupyterLab makes on open out of root_dir.
        config = {**_SERVER_CONFIG, "FileCheckpoints": {"checkpoint_dir": str(dirs["checkpoints"])}}
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(config, indent=1))
        for name, value in self.settings.items():
            path = dirs["settings"] / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            IPYTHONDIR=str(dirs["ipython"]),
            MPLCONFIGDIR=str(dirs["mpl"]),
            PYTHONUNBUFFERED="1",
        )
        # Kernels import this very copy of tam_widgets (a source checkout or worktree), not whichever
        # one the environment's site-packages points at.
        src = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.open_browser=False",
            "--LabApp.news_url=None",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # containers and CI runners
        self._log_file = open(self.tmp / "server.log", "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=self.root_dir, env=env, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            self._wait_started()
        except BaseException:
            self.stop()
            raise

    def _wait_started(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"jupyter lab exited with code {self.proc.returncode}:\n{self.log()}")
            if not self.base_url:
                for info in self.runtime_dir.glob("jpserver-*.json"):
                    try:
                        port = json.loads(info.read_text())["port"]
                    except (ValueError, KeyError):
                        continue  # half-written
                    self.base_url = f"http://127.0.0.1:{port}/"
            if self.base_url:
                try:
                    self.api("GET", "api/status", timeout=5)
                    return
                except (OSError, urllib.error.URLError):
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer /api/status within {self.startup_timeout} s:\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> None:
        """Shut the server and its kernels down (killing them if they hang) and remove the temp dir."""
        for k in self._kernels:
            try:
                k.close()
            except Exception:  # best effort
                pass
        self._kernels.clear()
        if self.proc is not None and self.proc.poll() is None:
            children = _children(self.proc.pid)
            try:
                self.api("POST", "api/shutdown", timeout=5)
            except (OSError, urllib.error.URLError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait(10)
            _reap(children, timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.tmp is not None:
            self._last_log = self.log()
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self.base_url = ""

    def log(self, tail: int = 20_000) -> str:
        """The last ``tail`` characters of the server log (the whole log with ``tail=0``)."""
        if self.tmp is None:
            text = getattr(self, "_last_log", "")
        else:
            try:
                text = (self.tmp / "server.log").read_text(errors="replace")
            except OSError:
                text = ""
        return text[-tail:] if tail else text

    # --- HTTP ------------------------------------------------------------------------------------
    def url(self, path: str = "lab") -> str:
        """Absolute URL of ``path`` on the server, with the token in its query string."""
        assert self.base_url, "JupyterLab is not started"
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{sep}token={self.token}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        """Call the REST API (token in the header) and return the decoded JSON (None when empty)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path.lstrip("/"), data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with self._opener.open(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    # --- browser ---------------------------------------------------------------------------------
    def open_notebook(self, page: Page, name: str, timeout: float = 90.0) -> None:
        """Open ``lab/tree/<name>`` in ``page`` and wait for its notebook panel with an idle kernel."""
        page.goto(self.url(f"lab/tree/{quote(name)}"), wait_until="domcontentloaded", timeout=timeout * 1000)
        try:
            page.wait_for_function(_PANEL_READY, arg=name, timeout=timeout * 1000, polling=250)
        except Exception as e:
            raise RuntimeError(f"notebook {name} did not open with an idle kernel: {e}\n{self.log()}") from e

    def run_all(self, page: Page, name: str | None = None, timeout: float = 120.0) -> None:
        """Run all cells of notebook ``name`` (default: the current one) and wait for them to finish.

        Raises RuntimeError with the tracebacks if a cell raised.
        """
        result = page.evaluate(_RUN_ALL, [name, int(timeout * 1000)])
        if not result["ok"] or result["errors"]:
            errors = _ANSI.sub("", "\n\n".join(result["errors"]))
            raise RuntimeError(f"running all cells of {name or 'the notebook'} failed:\n{errors}")

    def save(self, page: Page, name: str | None = None, timeout: float = 60.0) -> None:
        """Save notebook ``name`` (default: the current one) as JupyterLab's save does, widget state
        included when :data:`SAVE_WIDGET_STATE` is set, and wait until it is written."""
        dirty = page.evaluate(_SAVE, [name, int(timeout * 1000)])
        if dirty:
            raise RuntimeError(f"{name or 'the notebook'} is still unsaved after saving")

    def widget_state(self, name: str) -> dict[str, dict]:
        """The widget models saved in notebook file ``name`` (``{model_id: {model_name, state, buffers...}}``),
        ``{}`` when it holds no widget state."""
        meta = json.loads((self.root_dir / name).read_text(encoding="utf-8")).get("metadata", {})
        return (meta.get("widgets") or {}).get(WIDGET_STATE_MIME, {}).get("state", {})

    # --- kernel ----------------------------------------------------------------------------------
    def shutdown(self, name: str | None = None) -> None:
        """End the sessions (and so the kernels) of notebook ``name``, or of every notebook; the pages stay."""
        for s in self.api("GET", "api/sessions"):
            if name is None or name in (s.get("path"), (s.get("notebook") or {}).get("path")):
                self.api("DELETE", f"api/sessions/{s['id']}")

    def kernel_client(self, name: str, timeout: float = 30.0) -> Kernel:
        """A started client on the running kernel of notebook ``name`` (closed on server stop)."""
        from jupyter_client import BlockingKernelClient

        deadline = time.monotonic() + timeout
        kernel_id = None
        while kernel_id is None:
            for s in self.api("GET", "api/sessions"):
                if name in (s.get("path"), (s.get("notebook") or {}).get("path")) and s.get("kernel"):
                    kernel_id = s["kernel"]["id"]
            if kernel_id is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no kernel session for {name}: {self.api('GET', 'api/sessions')}")
                time.sleep(0.2)
        client = BlockingKernelClient()
        client.load_connection_file(str(self.runtime_dir / f"kernel-{kernel_id}.json"))
        client.start_channels()
        try:
            client.wait_for_ready(timeout=timeout)
        except RuntimeError:
            client.stop_channels()
            raise
        kernel = Kernel(client)
        self._kernels.append(kernel)
        return kernel


def _children(pid: int) -> list[Any]:
    """The live descendants of ``pid`` (kernels run in sessions of their own), via psutil if present."""
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:  # psutil missing or the process is gone
        return []


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(children: list[Any], timeout: float) -> None:
    """Wait for the server's former children; kill those still alive after ``timeout``."""
    if not children:
        return
    import psutil

    _, alive = psutil.wait_procs(children, timeout=timeout)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)
