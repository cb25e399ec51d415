import os
import sys

# tests/common.py is imported as `common` by the codec tests.
sys.path.insert(0, os.path.dirname(__file__))
# Small payloads run the kernels as Python until Numba is loaded (pladafmt/_jit.py). The
# tests are about the compiled kernels, so they load Numba on the first kernel call
# (subprocesses inherit it); test_purepython.py and test_install.py test the other ways.
os.environ.setdefault("PLADAFMT_JIT_ALWAYS", "1")
