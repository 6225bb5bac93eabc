"""Fixtures for the real-browser tests: a throwaway JupyterLab server and headless Chromium.

Every test gets its own server whose root is a fresh temporary directory, so nothing a test
does (workspaces, checkpoints, kernels) can leak into the repository or into another test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"

# Starting JupyterLab plus a kernel on a 2-core machine takes tens of seconds.
SERVER_START_TIMEOUT_S = 120
SERVER_STOP_TIMEOUT_S = 20
# Playwright's default of 5 s is far too short for kernel start and widget rendering here.
EXPECT_TIMEOUT_MS = 90_000

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

# User settings written before the server starts.
LAB_SETTINGS = {
    # Otherwise a "receive official Jupyter news?" toast covers part of the page, and the
    # update check would try to reach the internet.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Windowed notebooks only keep visible cells in the DOM; the test inspects every output.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class LabServer:
    """A running JupyterLab server."""

    url: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen

    def log_tail(self, n_chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-n_chars:]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    for rel_path, values in LAB_SETTINGS.items():
        path = settings_dir / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_serving(server: LabServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n{server.log_tail()}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # SIGTERM lets jupyter_server shut its kernels down; killing the process group is the
    # fallback so that no kernel outlives a hung server.
    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{CHROMIUM} is missing: install Debian's chromium "
                "(`apt-get install chromium`; `make test` does this)"
            )
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium, e.g. via `make test`)")
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def lab_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LabServer]:
    """JupyterLab on a free 127.0.0.1 port, serving an empty directory, no token, no password."""
    root_dir = tmp_path / "root"
    settings_dir = tmp_path / "lab-settings"
    for path in (root_dir, settings_dir, tmp_path / "workspaces", tmp_path / "runtime"):
        path.mkdir()
    _write_lab_settings(settings_dir)

    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        EBM_FAST="1",
        # Kernels launched as plain `python` must be the venv's, as with an activated venv.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONPATH=os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH")] if p),
    )
    port = _free_port()
    log_path = tmp_path / "jupyterlab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.root_dir={root_dir}",
                "--IdentityProvider.token=",
                "--ServerApp.password=",
                "--LabApp.expose_app_in_browser=True",
                # Containers and CI runners often run as root, which Jupyter refuses by default.
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            cwd=root_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own process group, so the teardown fallback can take kernels down with the server.
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", root_dir, log_path, process)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        _stop(process)
        # The server log is the first thing to read when a browser test fails.
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
        shutil.copy(log_path, ARTIFACTS_DIR / f"{name}-jupyterlab.log")


@pytest.fixture(scope="session")
def browser(chromium_executable: Path) -> Iterator[Browser]:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


# Kernels belong to the server, not to the page: closing the browser would leave them running.
# With an empty token the REST API still wants the _xsrf cookie echoed as a header, exactly as
# JupyterLab's own requests do, so the sessions are deleted from inside the page.
_DELETE_SESSIONS_JS = r"""
async () => {
  const match = document.cookie.match(/\b_xsrf=([^;]*)/);
  const headers = match ? {'X-XSRFToken': match[1]} : {};
  const sessions = await (await fetch('/api/sessions', {headers})).json();
  const statuses = [];
  for (const session of sessions) {
    const response = await fetch(`/api/sessions/${session.id}`, {method: 'DELETE', headers});
    statuses.push(response.status);
  }
  const kernels = await (await fetch('/api/kernels', {headers})).json();
  return {statuses, kernelsLeft: kernels.length};
}
"""


@pytest.fixture
def lab_page(lab_server: LabServer, page: Page) -> Iterator[Page]:
    """A page on `lab_server` whose kernel sessions are deleted before browser and server stop."""
    try:
        yield page
    finally:
        if not page.url.startswith(lab_server.url):
            page.goto(f"{lab_server.url}/api/status")
        result = page.evaluate(_DELETE_SESSIONS_JS)
        assert all(status == 204 for status in result["statuses"]), result
        assert result["kernelsLeft"] == 0, result
