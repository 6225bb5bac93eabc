# ebm-notebooks: the two commands are `make lab` and `make test`; each sets up .venv first.
# Other targets: sync (pair .py <-> .ipynb), notebooks (re-execute in full mode), lint, bench, book.

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

lab: venv
	$(VENV)/bin/jupyter lab notebooks/00_roadmap.ipynb $(LAB_FLAGS)

test: venv chromium
	EBM_FAST=1 $(PY) -m pytest

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
	$(VENV)/bin/ruff check ebm_helpers tests notebooks benchmarks

# Time every notebook in fast and full mode; 00_roadmap shows the table this writes.
bench: venv
	$(PY) benchmarks/notebook_times.py

# Static HTML of the collection (offline; equations need MathJax from the web to render).
book: venv
	$(VENV)/bin/jupyter nbconvert --to html --output-dir _build/html notebooks/[0-9][0-9]_*.ipynb

clean:
	rm -rf $(VENV) _build test-artifacts .pytest_cache .ruff_cache
