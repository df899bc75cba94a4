# vidgen: `make run` makes a video, `make test` runs the tests. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Where `make run` keeps its state and videos: inside the checkout, easy to find and delete.
export VIDGEN_HOME       ?= $(CURDIR)/.vidgen
export VIDGEN_OUTPUT_DIR ?= $(CURDIR)/output

.PHONY: install run worker test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,http]'
	touch $(STAMP)

install: $(STAMP)

## Queue a job for sample-data.yml and follow it live to the end (runs in-process if no worker).
run: $(STAMP)
	$(BIN)/vidgen generate --wait

## A long-running worker for the same home folder.
worker: $(STAMP)
	$(BIN)/vidgen worker

## The whole suite, as CI runs it (includes the real-worker and full-size tests).
test: $(STAMP)
	$(BIN)/python -m pytest

## Skip the slow tests while iterating.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .vidgen output .pytest_cache .mypy_cache .ruff_cache
