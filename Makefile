# Two commands for a fresh machine: `make demo` and `make test`. Each installs what it
# needs first: the Debian data packages (Fashion-MNIST, fonts) and the project venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
DEB_PACKAGES := dataset-fashion-mnist fonts-dejavu-core fonts-freefont-ttf fonts-liberation
FUZZ_SECONDS ?= 600

.PHONY: demo test bench bench-quick fuzz fuzz-nojit install data clean

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

# Coverage-guided fuzzing of decode under Numba bounds checks (the script picks its own
# NUMBA_CACHE_DIR: the cache does not key on the bounds-check setting). fuzz-nojit runs the
# kernels as Python (~6x slower) so the fuzzer sees coverage inside them.
FUZZ_ARGS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix=tests/fuzz/ tests/fuzz/corpus tests/fuzz/seeds conformance/vectors

fuzz: install
	mkdir -p tests/fuzz/corpus tests/fuzz/seeds
	NUMBA_BOUNDSCHECK=1 $(BIN)/python tests/fuzz/fuzz_decode.py $(FUZZ_ARGS)

fuzz-nojit: install
	mkdir -p tests/fuzz/corpus tests/fuzz/seeds
	NUMBA_DISABLE_JIT=1 NUMBA_BOUNDSCHECK=0 $(BIN)/python tests/fuzz/fuzz_decode.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
