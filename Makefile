# `make run` on a fresh clone: venv, install, model (pulled from the DVC remote, else reproduced by DVC), serve.  `make test`: the suite.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
MODEL_DIR ?= weights/spam-minilm
BIN := $(abspath $(VENV))/bin

# DVC stages call `python`; it must be the venv's. Nothing may reach the Hugging Face hub.
export PATH := $(BIN):$(PATH)
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Some machines' pip configuration names local indexes that lack most packages; pip warns once per package.
PIP_QUIET_FILTER := { grep -v --line-buffered 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: run serve test install install-dev system-packages model lint notebooks-strip clean

run: install model serve

serve:
	PORT=$(PORT) MODEL_DIR=$(MODEL_DIR) $(BIN)/python -m spam_service

test: install-dev system-packages model
	$(BIN)/python -m pytest

# Debian packages the tests need (PostgreSQL for the prediction store, Chromium for the page, a headless JRE for
# Spark when `java` is missing); apt-get runs only when one is missing.
system-packages:
	bash scripts/install_system_packages.sh

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	@echo ">> creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, on its own: pip takes the local CPU wheel for exactly 2.13.0, while any looser spec
# (or letting another package pull torch in) downloads gigabytes of CUDA wheels.
$(VENV)/.installed: requirements.txt requirements-pipeline.txt pyproject.toml | $(BIN)/python
	@echo ">> installing torch (CPU) and the pinned requirements; a few minutes on a fresh machine"
	$(BIN)/pip install torch==2.13.0 2>&1 | $(PIP_QUIET_FILTER)
	$(BIN)/pip install -r requirements.txt -r requirements-pipeline.txt 2>&1 | $(PIP_QUIET_FILTER)
	$(BIN)/pip install --no-deps -e . 2>&1 | $(PIP_QUIET_FILTER)
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -r requirements-dev.txt 2>&1 | $(PIP_QUIET_FILTER)
	touch $@

# The model, if missing: first the outputs dvc.lock pins, pulled from the default DVC remote (bit for bit the
# published model, no training); failing that (no remote yet, or it lacks some), `dvc repro` runs the stages whose
# outputs the pull did not bring, then `dvc push` sends them to the remote so the next clone there pulls instead.
# docs/data-versioning.md says why dvc.lock pins output hashes.
model: install
	@if [ -f "$(MODEL_DIR)/onnx/model.int8.onnx" ]; then \
		echo ">> model present in $(MODEL_DIR)/"; \
	elif mkdir -p .dvc/tmp && $(BIN)/dvc pull >.dvc/tmp/model-pull.log 2>&1; then \
		echo ">> pulled the model dvc.lock pins from the default DVC remote (no training)"; \
	else \
		echo ">> the DVC remote lacks the model dvc.lock pins (.dvc/tmp/model-pull.log): training with 'dvc repro' (about 5 minutes on 2 cores), then 'dvc push' to the remote"; \
		$(BIN)/dvc repro; \
		$(BIN)/dvc push --quiet || echo ">> 'dvc push' failed: the model is here but not on the remote"; \
	fi

lint: install-dev
	$(BIN)/ruff check src tests scripts bench notebooks
	$(BIN)/ruff format --check src tests scripts bench notebooks

# Notebooks are committed without outputs (tests/test_notebooks.py checks): strip them before committing.
notebooks-strip: install-dev
	$(BIN)/python scripts/strip_notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
