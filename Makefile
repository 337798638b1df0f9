# Two commands for a newcomer: `make run` (main job on bundled data) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint venv clean browser

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Best effort: Debian's chromium for the report browser test (which fails loudly without it).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) || echo "warning: chromium not installed; tests/pipeline/test_report_browser.py will fail"

run: $(STAMP)
	$(VENV)/bin/elig run --out out

lint: $(STAMP)
	$(VENV)/bin/ruff check pipeline criteria_models tests
	$(VENV)/bin/ruff format --check pipeline criteria_models tests
	$(VENV)/bin/mypy pipeline criteria_models

test: $(STAMP) browser lint
	$(PY) -m pytest

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
