"""The offline guard of the browser tests works: a remote request is aborted and counted.

Every browser test relies on the ``page`` fixture to block requests that leave the machine and
to fail when one was made; this test shows that it does, on a page that asks for a remote
script, stylesheet and image next to a local image (no request leaves the machine: Chromium
aborts them before any lookup).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page

if TYPE_CHECKING:
    from .conftest import NetworkLog

PAGE = """<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="https://cdn.example.org/theme.css">
<script src="https://cdn.example.org/lib.js"></script>
</head><body>
<img src="local.svg" alt="local">
<img src="http://images.example.org/remote.png" alt="remote">
<p id="ready">page loaded</p>
</body></html>
"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'


@pytest.mark.browser
def test_remote_requests_are_blocked_and_counted(
    page: Page, network: NetworkLog, tmp_path: Path
) -> None:
    (tmp_path / "local.svg").write_text(SVG)
    (tmp_path / "index.html").write_text(PAGE)
    page.goto((tmp_path / "index.html").as_uri())
    page.wait_for_selector("#ready")
    page.wait_for_load_state("load")
    blocked = sorted(network.blocked)
    assert blocked == ["http://images.example.org/remote.png",
                       "https://cdn.example.org/lib.js",
                       "https://cdn.example.org/theme.css"], blocked
    assert network.n_local >= 2  # the page and its local image
    assert page.evaluate("() => document.querySelector('img[alt=local]').naturalWidth") > 0
    network.blocked.clear()  # seen and checked: the fixture's own teardown check stays quiet
