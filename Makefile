# Furrow: `make run` brings the whole pipeline up, `make test` runs every check,
# `make drill` breaks it on purpose and counts every event (drills/report.json).
# Downloads are cached outside the clone (pip: ~/.cache/pip, Maven: ~/.m2, Furrow: ~/.cache/furrow).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CHECKED_PATHS := libs services iglu_registry devstack bench drills
# The modules setup.py compiles with mypyc (pyproject.toml, [tool.furrow] native-modules): an edit
# to one builds the package again.
NATIVE_MODULES := $(shell $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["furrow"]["native-modules"])')
# The good sink's encoder of enriched lines as JSON, written in C (see the file's comment), which
# setup.py compiles with them.
NATIVE := $(VENV)/.native
# The console's chart library, from npm (services/console/assets), served from static/vendor.
CONSOLE_ASSETS := services/console/assets
CONSOLE_VENDOR := services/console/static/vendor

.PHONY: install run stop status test check unit fuzz bench drill clean

install: $(NATIVE) $(CONSOLE_VENDOR)/.installed

$(INSTALLED): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Furrow needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	@command -v java >/dev/null || { echo "Java 17+ is needed: apt-get install openjdk-17-jdk-headless"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is needed: apt-get install maven"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# The dependencies, with the package not compiled yet: mypyc compiles against their types.
	FURROW_PURE=1 $(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The package built again, its native modules compiled in place (docker/Dockerfile builds the
# same way); tests/conftest.py stops a run that would import a compiled module older than its
# source.
$(NATIVE): $(INSTALLED) $(NATIVE_MODULES)
	@command -v cc >/dev/null || { echo "A C compiler is needed: apt-get install gcc"; exit 1; }
	@echo "compiling $(words $(NATIVE_MODULES)) modules with mypyc (a few minutes; log in build/native.log)"
	@mkdir -p build
	@# Every extension built again: one of a module since dropped from the list would be imported
	@# before its source.
	find libs services -name '*.so' -delete
	@$(BIN)/pip install --no-build-isolation --no-deps -e . >build/native.log 2>&1 \
		|| { tail -40 build/native.log; exit 1; }
	touch $@

$(CONSOLE_VENDOR)/.installed: $(CONSOLE_ASSETS)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the console's charts: apt-get install npm"; exit 1; }
	npm ci --no-audit --no-fund --prefix $(CONSOLE_ASSETS)
	mkdir -p $(CONSOLE_VENDOR)
	cp $(CONSOLE_ASSETS)/node_modules/uplot/dist/uPlot.iife.min.js \
		$(CONSOLE_ASSETS)/node_modules/uplot/dist/uPlot.min.css $(CONSOLE_VENDOR)/
	touch $@

run: install
	$(BIN)/python -m devstack up

stop:
	@test -x $(BIN)/python || { echo "nothing to stop: never installed"; exit 0; } ; \
		$(BIN)/python -m devstack down

status: install
	$(BIN)/python -m devstack status

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy $(CHECKED_PATHS)

# The unit suite runs a second time on the interpreted modules (FURROW_PURE=1 makes the tests
# import the sources), so the path without a C compiler keeps working.
test: check
	$(BIN)/pytest
	FURROW_PURE=1 $(BIN)/pytest -q tests/unit

unit: install
	$(BIN)/pytest -m 'not servers'

# The bad-input drills of tests/fuzz with a large random budget (`make test` runs them small and
# derandomised); `make fuzz FUZZ_EXAMPLES=50000` for more.
FUZZ_EXAMPLES ?= 5000
fuzz: install
	FURROW_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz -m fuzz -q

# Speed and memory against the real servers; `make bench PARTS="collector"` runs one part.
bench: install
	$(BIN)/python -m bench $(PARTS)

# Fault drills on a Kafka and an Elasticsearch of their own (on ports the system hands out);
# about 20 minutes. `make drill DRILLS="kafka-down"` runs one; see `python -m drills --help`.
drill: install
	$(BIN)/python -m drills $(DRILLS)

clean: stop
	rm -rf .run $(VENV) build $(CONSOLE_VENDOR) $(CONSOLE_ASSETS)/node_modules
	find libs services -name '*.so' -delete
