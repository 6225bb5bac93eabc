# ebm-notebooks: the two commands are `make lab` and `make test`; each sets up .venv first.
# Other targets: sync (pair .py <-> .ipynb), notebooks (re-execute in full mode), lint, bench, book;
# classroom and publishing: slide-metadata, slides, site, publish-check (see that section below).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB_PY  := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))

# open a browser only where there is a display (or on macOS); Jupyter refuses root without a flag
LAB_FLAGS ?=
ifeq ($(strip $(DISPLAY)$(WAYLAND_DISPLAY)$(filter Darwin,$(shell uname -s))),)
LAB_FLAGS += --no-browser
endif
ifeq ($(shell id -u),0)
LAB_FLAGS += --allow-root
endif

.PHONY: lab test venv chromium sync notebooks lint bench book clean

# tools/lab/jupyter_server_config.py: serve notebooks/, land on 00_roadmap.ipynb (the URL printed),
# no news pop-up, the .py twins hidden from the file browser.
lab: venv
	$(VENV)/bin/jupyter lab --config=tools/lab/jupyter_server_config.py $(LAB_FLAGS)

# Two pytest-xdist workers keep both cores busy; each file (a notebook's cells) stays on one
# worker, the longest files first (conftest.py); `make test TEST_WORKERS=0` runs one process.
TEST_WORKERS ?= 2
test: venv chromium
	EBM_FAST=1 $(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Debian's Chromium for the real-browser tests (Playwright cannot download browsers here).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "note: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped"; \
	fi

sync: venv
	$(VENV)/bin/jupytext --sync $(NB_PY)

# Re-execute every notebook in full mode so the committed .ipynb carries teaching-quality outputs.
notebooks: sync
	@for nb in $(NB_PY:.py=.ipynb); do \
	  echo "executing $$nb (full mode)"; \
	  env -u EBM_FAST $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.record_timing=False "$$nb" || exit 1; \
	done

lint: venv
	$(VENV)/bin/ruff check ebm_helpers tests notebooks benchmarks tools

# Time every notebook in fast and full mode; 00_roadmap shows the table this writes.
bench: venv
	$(PY) benchmarks/notebook_times.py

# Static HTML of the collection: the offline site (`make site`, below), under its old name.
book: site

# ---- Classroom and publishing: slides, the static site (README, "Teaching with the collection") ----
WEB_DIR   := tools/web
WEB_STAMP := $(WEB_DIR)/node_modules/.installed
PUB_STAMP := $(VENV)/.publish-installed

.PHONY: slide-metadata slides site web-assets publish-venv publish-check

# Write slideshow.slide_type into every notebook pair (.py and .ipynb) from the rules in
# tools/slides.py and tools/slide_overrides.toml; prints slide counts and lecture lengths.
slide-metadata: venv
	$(PY) tools/slides.py write

# reveal.js, MathJax, require.js, jQuery from npm (versions in tools/web/package-lock.json).
web-assets: $(WEB_STAMP)

$(WEB_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (e.g. apt-get install npm)"; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# Sphinx, MyST-NB and the Sphinx Book Theme, only for `make site` (`make lab` stays lean).
publish-venv: $(PUB_STAMP)

$(PUB_STAMP): $(STAMP) tools/publish-requirements.txt
	$(PY) -m pip install --quiet -r tools/publish-requirements.txt
	@touch $@

# _build/slides/NN_topic.slides.html, offline (open _build/slides/index.html).
slides: venv web-assets
	$(PY) tools/build_slides.py

# _build/site/ (open _build/site/index.html), offline, from the stored outputs.
site: publish-venv web-assets
	$(PY) tools/build_site.py

# Build slides and site, check that no page loads anything remote, then open a deck and a site
# page in headless Chromium with the network blocked. CI runs it after `make test`.
publish-check: chromium slides site
	$(PY) tools/offline_check.py _build/slides _build/site
	EBM_PUBLISH_BUILT=1 $(PY) -m pytest -q tests/browser/test_publish.py

clean:
	rm -rf $(VENV) _build test-artifacts .pytest_cache .ruff_cache $(WEB_DIR)/node_modules
