# The two commands in the README: `make demo` and `make test`. Each sets itself up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tam-widgets-installed
# The versions the suite last passed with (pip constraints): `make test` installs exactly these,
# so an upstream release cannot turn CI red. `make test-latest` tries the newest releases in the
# declared ranges in $(LATEST); `make lock` then writes them here.
LOCK := constraints.txt
LATEST ?= .venv-latest
SHARED := $(abspath ../shared)
export NLTK_DATA ?= $(SHARED)/nltk_data
# Screenshots of the browser tests land here.
export TAM_WIDGETS_ARTIFACTS ?= $(abspath artifacts)

NODE_STAMP := js/node_modules/.tam-widgets-installed
BUNDLE := tam_widgets/static/widget.js
JS_SOURCES := $(wildcard js/src/* js/src/*/*) js/build.mjs js/package.json

.PHONY: demo lab test test-latest lock check bench setup js browser clean docs

setup: $(STAMP) js

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -c $(LOCK) -e ".[test]"
	@touch $(STAMP)

# The widget's TypeScript, bundled into tam_widgets/static/ (the wheel build does the same).
js: $(BUNDLE)

# `npm install` with the committed lock file installs the locked versions; `npm ci` refuses this
# lock file because it lists only this platform's optional rollup/esbuild binaries.
$(NODE_STAMP): js/package.json js/package-lock.json
	cd js && npm install --no-audit --no-fund
	@touch $(NODE_STAMP)

$(BUNDLE): $(NODE_STAMP) $(JS_SOURCES)
	cd js && npm run build

# Debian's chromium for the browser tests; installed with apt when missing. Outside CI a failed
# install only warns (the browser tests then skip and say how to install it); under CI it fails.
browser:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
	if command -v apt-get >/dev/null 2>&1 && $$sudo apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; then exit 0; fi; \
	case "$$CI" in true|1) echo "error: could not install chromium (apt-get install chromium)"; exit 1;; esac; \
	echo "warning: chromium is not installed; browser tests will be skipped (sudo apt-get install chromium)"

# The demo site: every view on the synthetic scene and on a tiny random model of each family (demo/).
demo: setup
	$(PY) -m tam_widgets demo --out demo

# JupyterLab on the tutorials (Ctrl-C stops it); e.g. LAB_ARGS="--no-browser --port 8890".
lab: setup
	$(PY) -m jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: setup browser
	$(MAKE) check

# The whole suite with the interpreter $(PY): lint, TypeScript checks and unit tests, pytest.
check: js
	$(PY) -m ruff check tam_widgets tests benchmarks hatch_build.py docs
	cd js && npm run typecheck && npm test
	$(PY) -m pytest
	$(DOCS_BUILD)

# The documentation site (mkdocs.yml) in site/; strict: a broken reference or link fails.
DOCS_BUILD = NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site
docs: $(STAMP)
	$(DOCS_BUILD)
	@echo "the site is in site/ (open site/index.html)"

# The same suite on the newest releases within pyproject.toml's ranges (no lock), in $(LATEST).
# Run it before refreshing the lock and now and then to find upstream drift before users do.
test-latest: js browser
	@test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --upgrade pip
	$(LATEST)/bin/python -m pip install --upgrade --upgrade-strategy eager -e ".[test]"
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/passed-constraints.txt.tmp
	$(MAKE) check PY=$(LATEST)/bin/python
	mv $(LATEST)/passed-constraints.txt.tmp $(LATEST)/passed-constraints.txt
	@echo "the newest releases pass; 'make lock' makes them the locked versions"

# Lock the versions that just passed `make test-latest` (it runs the suite first).
lock: test-latest
	{ echo "# Locked by 'make lock' on $$(date -u +%Y-%m-%d): the versions the whole suite last passed with."; \
	  echo "# make test installs these (pip -c); make test-latest tries newer ones."; \
	  cat $(LATEST)/passed-constraints.txt; } > $(LOCK)

bench: setup browser
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_reference_filter.py
	$(PY) benchmarks/bench_explain.py
	$(PY) benchmarks/bench_widget.py
	$(PY) benchmarks/bench_compare.py
	$(PY) benchmarks/bench_stream.py
	$(PY) benchmarks/bench_timeline.py
	$(PY) benchmarks/bench_board.py

clean:
	rm -rf $(VENV) $(LATEST) build dist *.egg-info demo tam_widgets/static js/node_modules artifacts site
