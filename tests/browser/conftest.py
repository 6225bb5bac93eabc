"""Fixtures for the real-browser tests: one JupyterLab server and headless Chromium.

One JupyterLab server serves every test of the session (starting one takes tens of seconds on
2 cores). Its root is a fresh temporary directory, and each test works in a folder of its own
there (``LabServer.new_folder``; ``lab.open_notebook`` copies a notebook into one and opens it
with ``?reset``), so nothing a test does (workspaces, checkpoints) leaks into the repository
or into another test; ``lab_page`` deletes the test's kernel sessions when it ends, and the
slice of the server log written during the test is kept in ``test-artifacts/browser/``.

Every page is offline: requests to any address but this machine (127.0.0.1, localhost, files)
are aborted and recorded in the ``network`` fixture, and a test fails at teardown if it made
one. Helpers for driving JupyterLab live in ``lab.py``.
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
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

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
    """A running JupyterLab server, shared by the tests of a session."""

    url: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen
    _n_folders: int = 0

    def log_tail(self, n_chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-n_chars:]

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> bytes:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read()

    def new_folder(self, hint: str = "t") -> str:
        """A new, empty folder under the server root (its path relative to the root)."""
        self._n_folders += 1
        safe_hint = re.sub(r"[^\w.-]+", "_", hint)
        name = f"{self._n_folders:03d}-{safe_hint}"
        (self.root_dir / name).mkdir()
        return name


_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Every URL that leaves this machine. Playwright hands a regular expression to the browser, so
# only these requests are intercepted; JupyterLab's own hundreds of requests are not slowed.
_NON_LOCAL_URL = re.compile(
    r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:[/?#]|$)"
    r"|(?:file|data|blob|about|chrome|chrome-extension|devtools):)",
    re.IGNORECASE,
)


def is_local_url(url: str) -> bool:
    """Whether a browser request stays on this machine (loopback, files, inline data)."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about", "chrome", "chrome-extension"):
        return True
    return (parts.hostname or "") in _LOCAL_HOSTS


@dataclass
class NetworkLog:
    """Requests a test's pages made: the remote ones were aborted and are listed here."""

    blocked: list[str] = field(default_factory=list)
    n_local: int = 0


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


def _start_lab_server(base: Path) -> LabServer:
    """JupyterLab on a free 127.0.0.1 port, serving an empty directory, no token, no password."""
    root_dir = base / "root"
    settings_dir = base / "lab-settings"
    for path in (root_dir, settings_dir, base / "workspaces", base / "runtime"):
        path.mkdir()
    _write_lab_settings(settings_dir)

    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        EBM_FAST="1",
        # Kernels launched as plain `python` must be the venv's, as with an activated venv.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONPATH=os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH")] if p),
    )
    port = _free_port()
    log_path = base / "jupyterlab.log"
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
    except BaseException:
        _stop(process)
        raise
    return server


def _artifact_name(node_name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", node_name).strip("_")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory,
               chromium_executable: Path) -> Iterator[LabServer]:
    """The session's JupyterLab server (started on first use, stopped after the last test)."""
    server = _start_lab_server(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield server
    finally:
        _stop(server.process)
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.log_path, ARTIFACTS_DIR / "jupyterlab-session.log")


@pytest.fixture
def lab_log(lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[LabServer]:
    """Keeps the part of the shared server's log written during this test as an artefact."""
    offset = lab_server.log_size()
    try:
        yield lab_server
    finally:
        # The server log is the first thing to read when a browser test fails.
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        name = _artifact_name(request.node.name)
        (ARTIFACTS_DIR / f"{name}-jupyterlab.log").write_bytes(lab_server.log_since(offset))


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
def network() -> NetworkLog:
    """The requests of this test's pages (see ``page``)."""
    return NetworkLog()


def _offline_context(browser: Browser, network: NetworkLog) -> BrowserContext:
    """A browser context whose requests to anywhere but this machine are aborted and recorded
    in ``network`` (and whose local requests are counted there)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})

    def block(route_):
        url = route_.request.url
        if is_local_url(url):  # the two tests of locality must agree
            route_.continue_()
            raise AssertionError(f"_NON_LOCAL_URL matched a local URL: {url}")
        network.blocked.append(url)
        route_.abort("internetdisconnected")

    def count(request):
        if is_local_url(request.url):
            network.n_local += 1

    context.route(_NON_LOCAL_URL, block)
    context.on("request", count)
    return context


def _assert_offline(blocked: list[str]) -> None:
    assert not blocked, f"{len(blocked)} request(s) to the network were blocked: {blocked[:5]}"


@pytest.fixture
def page(browser: Browser, network: NetworkLog) -> Iterator[Page]:
    """A fresh page whose requests to anywhere but this machine are aborted and counted.

    The test fails at teardown if a page tried to reach the network: the collection must work
    offline, so a remote script, stylesheet, font or API call is a defect even when the page
    still looks right without it.
    """
    context = _offline_context(browser, network)
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()
    _assert_offline(network.blocked)


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


def delete_sessions(page: Page, server_url: str) -> dict:
    """Delete every kernel session of the server from inside ``page`` (see above)."""
    if not page.url.startswith(server_url):
        page.goto(f"{server_url}/api/status")
    return page.evaluate(_DELETE_SESSIONS_JS)


@pytest.fixture
def lab_page(lab_log: LabServer, page: Page) -> Iterator[Page]:
    """A page on the shared server whose kernel sessions are deleted when the test ends."""
    try:
        yield page
    finally:
        result = delete_sessions(page, lab_log.url)
        assert all(status == 204 for status in result["statuses"]), result
        assert result["kernelsLeft"] == 0, result


# Notebooks open in JupyterLab can be closed without a "save changes?" dialog once their model
# is marked clean; their kernels are shut down first, so no session outlives the test.
_CLOSE_NOTEBOOKS_JS = r"""
async () => {
  const app = window.jupyterapp;
  if (!app) return 0;
  const open = Array.from(app.shell.widgets('main')).filter(w => w.sessionContext);
  for (const widget of open) {
    await widget.sessionContext.shutdown();
    widget.context.model.dirty = false;
    widget.dispose();
  }
  return open.length;
}
"""

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed


@dataclass
class _SharedLabPage:
    """The JupyterLab page the explorer tests share (``notebook_page``)."""

    context: BrowserContext | None = None
    page: Page | None = None
    network: NetworkLog = field(default_factory=NetworkLog)

    def discard(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context = self.page = None


@pytest.fixture(scope="session")
def _shared_lab_page() -> Iterator[_SharedLabPage]:
    shared = _SharedLabPage()
    try:
        yield shared
    finally:
        shared.discard()


@pytest.fixture
def notebook_page(lab_log: LabServer, browser: Browser, _shared_lab_page: _SharedLabPage,
                  request: pytest.FixtureRequest) -> Iterator[Page]:
    """One JupyterLab page for the explorer tests, loaded once (loading JupyterLab's front end
    takes about 4 s of each test on 2 cores; opening a notebook in a loaded app, well under 1 s).

    ``lab.open_notebook`` opens each test's notebook copy in it with ``docmanager:open``. When
    the test ends, every notebook open in the page is closed and its kernel shut down, then the
    server's remaining sessions are deleted, as with ``lab_page``; after a failure the page is
    discarded, so one test's broken state (a dialog, a dead kernel) cannot fail the next.
    Requests leaving the machine are blocked and fail the test that made them, as with ``page``.
    """
    shared = _shared_lab_page
    if shared.page is None:
        shared.network = NetworkLog()
        shared.context = _offline_context(browser, shared.network)
        shared.page = shared.context.new_page()
        shared.page.set_default_timeout(EXPECT_TIMEOUT_MS)
    n_blocked = len(shared.network.blocked)
    page = shared.page
    try:
        yield page
    finally:
        clean, result = False, None
        try:
            if page.url.startswith(lab_log.url):
                page.evaluate(_CLOSE_NOTEBOOKS_JS)
            result = delete_sessions(page, lab_log.url)
            clean = all(status == 204 for status in result["statuses"]) and \
                result["kernelsLeft"] == 0
        finally:
            if not clean or request.node.stash.get(_CALL_FAILED, True):
                shared.discard()
    assert clean, f"kernel sessions were left running: {result}"
    _assert_offline(shared.network.blocked[n_blocked:])
