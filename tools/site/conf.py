"""Sphinx configuration of the static site (`make site`, tools/build_site.py).

Sphinx + MyST-NB + the Sphinx Book Theme render the notebooks from their stored outputs (no
execution). Everything a page loads is local: MathJax 3 is copied into ``_static/mathjax`` by
tools/build_site.py, the theme ships its own fonts and icons, and the widget manager MyST-NB
would load from a CDN is switched off (each explorer has a static figure beside it).
build_site.py writes the source tree (front page, notebook copies, ``_static``), copies this
file into it, and passes the Binder settings of tools/publish.toml through the environment
variables read below.
"""

from __future__ import annotations

import os

project = "ebm-notebooks"
author = "the ebm-notebooks authors"
copyright = "the ebm-notebooks authors"

extensions = ["myst_nb"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"

# Stored outputs only: the committed .ipynb files carry a full run.
nb_execution_mode = "off"
# Markdown that cells display (tables printed with display(Markdown(...))) may hold maths.
nb_render_markdown_format = "myst"
# No widget manager from a CDN: widget outputs are replaced by a note in build_site.py.
nb_ipywidgets_js = {}
nb_merge_streams = True

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "html_image"]
myst_dmath_double_inline = True
myst_heading_anchors = 3

# MathJax 3 from local files (build_site.py copies the npm package here).
mathjax_path = "mathjax/tex-chtml-full.js"
mathjax3_config = {"chtml": {"displayAlign": "center"}}

html_theme = "sphinx_book_theme"
html_title = "ebm-notebooks"
html_static_path = ["_static"]
html_css_files = ["ebm-site.css"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the download button's .ipynb
html_search_language = "en"

_repository = os.environ.get("EBM_SITE_REPOSITORY", "")
html_theme_options = {
    "repository_url": f"https://github.com/{_repository}" if _repository else "",
    "repository_branch": os.environ.get("EBM_SITE_REF", "main"),
    "path_to_docs": "notebooks",
    "use_repository_button": bool(_repository),
    "use_download_button": True,
    "launch_buttons": {"binderhub_url": os.environ.get("EBM_SITE_BINDERHUB", "")},
    "show_toc_level": 2,
    "home_page_in_toc": True,
    # No analytics, no remote version switcher, no remote icons.
    "icon_links": [],
}

# Notebooks link to each other and to files outside the site (the package, the README).
suppress_warnings = ["myst.xref_missing", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
