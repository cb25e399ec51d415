# Two commands for a fresh machine: `make demo` and `make test`. Each installs what it
# needs first: the Debian data packages (Fashion-MNIST, fonts) and the project venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
DEB_PACKAGES := dataset-fashion-mnist fonts-dejavu-core fonts-freefont-ttf fonts-liberation
FUZZ_SECONDS ?= 600

.PHONY: demo test bench bench-quick fuzz install data clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[pipeline,test]'
	touch $(STAMP)

# The Debian packages the pipeline and its tests read (installed once, as root).
data: $(FASHION)

$(FASHION):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(DEB_PACKAGES)

demo: install data
	$(BIN)/plada demo

test: install data
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m benchmarks.run

bench-quick: install
	$(BIN)/python -m benchmarks.run --quick

fuzz: install
	NUMBA_BOUNDSCHECK=1 $(BIN)/python tests/fuzz/fuzz_decode.py -max_total_time=$(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
