"""Find what a built page would load from the network: remote scripts, stylesheets, fonts, images.

``make publish-check`` (and the tests in ``tests/browser/test_publish.py``) run this over every
HTML and CSS file of ``_build/slides`` and ``_build/site``. A link the reader may click
(``<a href="https://…">``, a reference, the Binder badge's target) is fine; anything the
browser fetches on its own is not: ``<script src>``, ``<link rel=stylesheet|icon|preload|…>``,
``<img src>``, ``<iframe src>``, ``<source src>``, CSS ``url()`` and ``@import``, and ES-module
imports or CDN URLs inside inline scripts.

Usage: ``python tools/offline_check.py DIR [DIR ...]`` (exit status 1 when something is
remote).
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

_REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)['"]""", re.I)
# In inline scripts: module imports and string literals naming a script/stylesheet/font URL.
_SCRIPT_URL = re.compile(
    r"""(?:import\s[^;]*?from\s*|import\(\s*)['"]((?:https?:)?//[^'"]+)['"]"""
    r"""|['"]((?:https?:)?//[^'"\s]+\.(?:m?js|css|woff2?|ttf|otf)(?:\?[^'"]*)?)['"]""",
    re.I,
)
_LOADING_RELS = {"stylesheet", "icon", "shortcut", "preload", "prefetch", "modulepreload",
                 "manifest", "preconnect", "dns-prefetch", "apple-touch-icon", "mask-icon"}
_SRC_TAGS = {"script", "img", "iframe", "source", "audio", "video", "embed", "track", "input"}


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in = None  # "script" or "style" while inside one

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _SRC_TAGS and attrs.get("src") and _REMOTE.match(attrs["src"]):
            self.found.append(f"<{tag} src={attrs['src']}>")
        for candidate in (attrs.get("srcset") or "").split(","):
            if candidate.strip() and _REMOTE.match(candidate):
                self.found.append(f"<{tag} srcset={candidate.strip()}>")
        if tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & _LOADING_RELS and _REMOTE.match(attrs.get("href") or ""):
                self.found.append(f"<link rel={attrs.get('rel')} href={attrs['href']}>")
        if tag == "object" and _REMOTE.match(attrs.get("data") or ""):
            self.found.append(f"<object data={attrs['data']}>")
        if tag == "video" and _REMOTE.match(attrs.get("poster") or ""):
            self.found.append(f"<video poster={attrs['poster']}>")
        if attrs.get("style"):
            self.found += [f"style={u}" for u in css_remote_urls(attrs["style"])]
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.found += [f"<style> {u}" for u in css_remote_urls(data)]
        elif self._in == "script":
            for match in _SCRIPT_URL.finditer(data):
                self.found.append(f"<script> {match.group(1) or match.group(2)}")


def css_remote_urls(css: str) -> list[str]:
    return [u for m in _CSS_URL.finditer(css) for u in m.groups() if u and _REMOTE.match(u)]


def html_remote_urls(html: str) -> list[str]:
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.found


def remote_references(root: Path) -> dict[str, list[str]]:
    """Remote loads per file (path relative to ``root``) of every HTML and CSS file under it."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".html", ".htm", ".css") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        urls = html_remote_urls(text) if path.suffix != ".css" else css_remote_urls(text)
        if urls:
            found[str(path.relative_to(root))] = urls
    return found


def main(argv: list[str]) -> int:
    status = 0
    for arg in argv:
        root = Path(arg)
        if not root.is_dir():
            print(f"{root}: not a folder (build it first)")
            status = 1
            continue
        found = remote_references(root)
        n_files = sum(1 for p in root.rglob("*") if p.suffix in (".html", ".htm", ".css"))
        for name, urls in found.items():
            status = 1
            print(f"{root / name}: {len(urls)} remote load(s), e.g. {urls[0]}")
        if not found:
            print(f"{root}: {n_files} HTML/CSS files, no remote script, stylesheet, font or image")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
