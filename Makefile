# Furrow: `make run` brings the whole pipeline up, `make test` runs every check,
# `make drill` breaks it on purpose and counts every event (drills/report.json).
# Downloads are cached outside the clone (pip: ~/.cache/pip, Maven: ~/.m2, Furrow: ~/.cache/furrow).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CHECKED_PATHS := libs services iglu_registry devstack bench drills
# The per-event code of the enricher, the sinks and the collector, compiled to C by mypyc from
# its type annotations. A module left out runs as plain Python; one is listed only once the whole
# suite passes with it compiled (mypyc checks annotations at run time, and may build a generator
# expression as a list).
NATIVE_MODULES := libs/formats/enriched.py libs/formats/collector_payload.py libs/batching.py \
	libs/formats/badrows.py services/enrich/protocol.py services/enrich/core.py \
	services/enrich/adapters.py services/enrich/rules.py services/enrich/model.py \
	services/sinks/documents.py services/sinks/bulks.py services/collector/payload.py \
	services/collector/split.py services/enrich/enrichments/urls.py \
	services/enrich/enrichments/json_path.py services/enrich/enrichments/ip_lookups.py \
	services/enrich/enrichments/anon_ip.py services/enrich/enrichments/ua_parser_config.py \
	services/enrich/enrichments/referer_parser.py \
	services/enrich/enrichments/campaign_attribution.py \
	services/enrich/enrichments/cookie_extractor.py \
	services/enrich/enrichments/http_header_extractor.py \
	services/enrich/enrichments/event_fingerprint.py services/enrich/enrichments/pii.py
# The good sink's encoder of enriched lines as JSON, written in C (see the file's comment).
C_EXTENSIONS := libs/formats/_tsv_json.c
# Asked of the virtualenv's Python when a C extension is built (`=`: only once it exists).
PYTHON_INCLUDE = $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
EXTENSION_SUFFIX = $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
NATIVE := $(VENV)/.native
# The console's chart library, from npm (services/console/assets), served from static/vendor.
CONSOLE_ASSETS := services/console/assets
CONSOLE_VENDOR := services/console/static/vendor

.PHONY: install run stop status test check unit fuzz bench drill clean

install: $(NATIVE) $(CONSOLE_VENDOR)/.installed

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Furrow needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	@command -v java >/dev/null || { echo "Java 17+ is needed: apt-get install openjdk-17-jdk-headless"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is needed: apt-get install maven"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Rebuilt whenever one of the modules changes; tests/conftest.py stops a run that would import a
# compiled module older than its source.
$(NATIVE): $(INSTALLED) $(NATIVE_MODULES) $(C_EXTENSIONS)
	@command -v cc >/dev/null || { echo "A C compiler is needed: apt-get install gcc"; exit 1; }
	@echo "compiling $(words $(NATIVE_MODULES)) modules with mypyc (about 2 minutes; log in build/mypyc.log)"
	@mkdir -p build
	@$(BIN)/mypyc $(NATIVE_MODULES) >build/mypyc.log 2>&1 || { tail -40 build/mypyc.log; exit 1; }
	@for source in $(C_EXTENSIONS); do \
		cc -O2 -Wall -Wextra -Werror -shared -fPIC -I$(PYTHON_INCLUDE) \
			-o $${source%.c}$(EXTENSION_SUFFIX) $$source || exit 1; \
	done
	@# A module's own small library is copied with its old time when only the shared one changed.
	find libs services -name '*.so' -exec touch {} +
	@# The compiled modules share one library (`<hash>__mypyc`) at the top of the clone, which the
	@# `furrow` command (run from .venv/bin, not from here) finds only through this path file.
	$(BIN)/python -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "furrow-native.pth").write_text("$(CURDIR)\n")'
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

test: check
	$(BIN)/pytest

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
	rm -f *__mypyc.*.so
	find libs services -name '*.so' -delete
