"""The built slides and site, offline, in a real browser (`make publish-check` runs these).

``make slides`` and ``make site`` must produce pages that work from a USB stick with the network
unplugged. These tests open them from ``file://`` paths in headless Chromium with every request
to a non-local address aborted and counted (the ``page`` fixture): a deck opens, advances two
slides and shows typeset maths; a site page with equations does the same, its navigation lists
the notebooks in reading order and its search finds a notebook; and no HTML or CSS file of
either build names a remote script, stylesheet, font or image (``tools/offline_check.py``).

Building both takes longer than ``make test`` can spare on 2 cores, so they run in ``make
publish-check`` (CI runs it after ``make test``), which builds first and sets
``EBM_PUBLISH_BUILT=1``. Elsewhere they are skipped with that pointer.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from .conftest import REPO_ROOT
from .lab import MATH_COUNTS_JS, RAW_TEX_JS

if TYPE_CHECKING:
    from .conftest import NetworkLog

SLIDES = REPO_ROOT / "_build" / "slides"
SITE = REPO_ROOT / "_build" / "site"
DECK = "01_boltzmann_distribution"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.publish,
    pytest.mark.skipif(os.environ.get("EBM_PUBLISH_BUILT") != "1",
                       reason="builds slides and site first: run `make publish-check`"),
]


def _offline_check():
    spec = importlib.util.spec_from_file_location(
        "offline_check", REPO_ROOT / "tools" / "offline_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook_stems() -> list[str]:
    return sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_builds_are_complete_and_offline() -> None:
    stems = _notebook_stems()
    decks = sorted(p.name.removesuffix(".slides.html") for p in SLIDES.glob("*.slides.html"))
    pages = sorted(p.stem for p in SITE.glob("[0-9][0-9]_*.html"))
    assert decks == stems, "a deck per notebook"
    assert pages == stems, "a site page per notebook"
    assert (SITE / "search.html").exists() and (SITE / "searchindex.js").exists()
    remote = {}
    for root in (SLIDES, SITE):
        remote.update(_offline_check().remote_references(root))
    assert not remote, f"remote loads in the built HTML/CSS: {dict(list(remote.items())[:5])}"


def _reveal_indices(page: Page) -> tuple[int, int]:
    """(horizontal, vertical) slide index, from the URL (the decks keep it in the hash)."""
    parts = [int(p) for p in re.findall(r"\d+", page.evaluate("() => location.hash"))]
    h, v, *_ = [*parts, 0, 0]
    return h, v


def test_slide_deck_offline(page: Page, network: NetworkLog, artifacts_dir: Path) -> None:
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((SLIDES / f"{DECK}.slides.html").as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.isReady")
    page.wait_for_function("() => document.querySelector('.reveal.ready')")
    # MathJax 2 typesets the whole deck once at load; wait for its queue to drain.
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
    start = _reveal_indices(page)
    assert start == (0, 0), f"the deck opened at slide {start}"
    page.screenshot(path=str(artifacts_dir / "slides-title.png"))
    positions = [start]
    for step in (1, 2):
        before = page.evaluate("() => location.hash")
        page.keyboard.press("Space")  # next slide, vertical ones included
        page.wait_for_function("(h) => location.hash !== h", arg=before)
        page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
        positions.append(_reveal_indices(page))
        page.screenshot(path=str(artifacts_dir / f"slides-step-{step}.png"))
    assert len(set(positions)) == 3, positions
    current = page.locator(".reveal .slides section.present").last
    expect(current).to_be_visible()
    deck_math = page.evaluate(MATH_COUNTS_JS)
    shown_math = current.evaluate(MATH_COUNTS_JS)
    raw = page.evaluate(RAW_TEX_JS)
    assert deck_math["typeset"] > 20 and deck_math["errors"] == 0, deck_math
    assert shown_math["typeset"] > 0, "the slide reached after two steps shows no typeset maths"
    assert not raw, f"maths left as TeX on the slides: {raw[:5]}"
    assert not failed, f"local files missing from the deck: {failed[:5]}"
    assert not network.blocked
    (artifacts_dir / "slides-requests.json").write_text(json.dumps(
        {"local": network.n_local, "blocked": network.blocked, "positions": positions}))


def test_site_page_offline(page: Page, network: NetworkLog, artifacts_dir: Path) -> None:
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((SITE / f"{DECK}.html").as_uri())
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")
    page.screenshot(path=str(artifacts_dir / "site-page.png"))
    article = page.locator("article.bd-article")
    math = article.evaluate(MATH_COUNTS_JS)
    raw = article.evaluate(RAW_TEX_JS)
    assert math["typeset"] > 20 and math["errors"] == 0, math
    assert not raw, f"maths left as TeX on the site page: {raw[:5]}"
    # A launch badge at the top, and the navigation in reading order.
    badge = article.locator(".ebm-badges a").first
    assert "mybinder.org/v2/gh/" in badge.get_attribute("href")
    assert "01_boltzmann_distribution.ipynb" in badge.get_attribute("href")
    nav = page.locator("nav.bd-links a.reference.internal").all_inner_texts()
    numbers = [m.group(0) for t in nav if (m := re.match(r"\d\d", t.strip()))]
    assert numbers == sorted(numbers) and len(numbers) == len(_notebook_stems()), nav
    assert not failed, f"local files missing from the site: {failed[:5]}"
    (artifacts_dir / "site-requests.json").write_text(
        json.dumps({"local": network.n_local, "blocked": network.blocked}))


def test_site_front_page_and_search(page: Page, network: NetworkLog, artifacts_dir: Path) -> None:
    page.goto((SITE / "index.html").as_uri())
    article = page.locator("article.bd-article")
    expect(article.locator("table")).to_contain_text("00_roadmap")
    assert "mybinder.org" in article.locator(".ebm-badges a").first.get_attribute("href")
    page.goto((SITE / "search.html").as_uri() + "?q=partition+function")
    results = page.locator("#search-results li")
    deadline = time.monotonic() + 60
    while results.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    page.screenshot(path=str(artifacts_dir / "site-search.png"))
    assert results.count() > 0, "search found nothing for 'partition function'"
    assert "Boltzmann" in " ".join(results.all_inner_texts())
    assert not network.blocked
