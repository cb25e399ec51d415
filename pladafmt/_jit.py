"""Numba, loaded only when a call is worth compiling; the kernels' own Python otherwise.

Every kernel is declared with `@njit(...)` from this module, not from numba, so that
`import pladafmt` neither imports Numba (~0.2 s) nor compiles anything. Until Numba is
loaded a kernel is a `Kernel`: calling it either runs its Python source (the very code
Numba compiles, as under NUMBA_DISABLE_JIT=1, which passes the whole conformance suite)
or loads Numba, which swaps every Kernel in the package's module globals for a real
Numba dispatcher at once (kernels call kernels through those globals, and Numba must see
dispatchers there), and then compiles lazily, one kernel at a time, as before.

When does a call run as Python?
- Always, in pure-Python mode: PLADAFMT_PURE_PYTHON=1, or Numba cannot be imported (no
  wheel yet for a new CPython, PyPy, Pyodide). One warning says so.
- For small work before Numba is loaded (`python_if_small`): compiling a stream's
  kernels costs 0.5-2 s and even loading them from Numba's cache ~0.2 s, while their
  Python codes a few thousand items in milliseconds. So a one-shot `plada inspect` of a
  small payload never pays for Numba. The first larger call loads Numba, and from then
  on every kernel runs compiled. PLADAFMT_JIT_ALWAYS=1 loads Numba on the first kernel
  call (the test suite and the fuzzers set it, to exercise the compiled kernels).
Both ways give the same bytes and the same errors.
"""
import importlib
import importlib.util
import os
import sys
import threading
import warnings

PURE_PYTHON_ENV = "PLADAFMT_PURE_PYTHON"
JIT_ALWAYS_ENV = "PLADAFMT_JIT_ALWAYS"
# "Small" (python_if_small): fewer items than this, and fewer bytes of work as the decode
# budget counts it (items, decode tables, stream bodies; at 1 % of IN-21K a ctx-rans
# payload charges 1.1 MB of tables it may build).  At these sizes the Python takes
# 10-100 ms; compiling the kernels 0.5-2 s each time a new stream mode is met.
JIT_MIN_ITEMS = 1 << 13
JIT_MIN_BYTES = 1 << 21

_KERNELS = []                     # every Kernel, in definition order
_LOCK = threading.RLock()
_local = threading.local()        # .python: this thread's call may run as Python
_state = {"numba": None, "pure": os.environ.get(PURE_PYTHON_ENV, "") not in ("", "0"),
          "always": os.environ.get(JIT_ALWAYS_ENV, "") not in ("", "0")}


class Kernel:
    """A kernel before Numba is loaded (see the module docstring)."""

    def __init__(self, py_func, compile_with):
        self.py_func = py_func
        self._compile_with = compile_with    # numba module -> the compiled callable
        self.compiled = None
        self.__name__, self.__qualname__ = py_func.__name__, py_func.__qualname__
        self.__module__, self.__doc__ = py_func.__module__, py_func.__doc__

    def __call__(self, *args):
        if self.compiled is None and (_state["pure"] or getattr(_local, "python", False)
                                      or not load_numba()):
            return self.py_func(*args)
        return self.compiled(*args)

    def __getattr__(self, name):      # dispatcher attributes (signatures, ...)
        if name.startswith("__"):     # probes (copy, inspect) must not load Numba
            raise AttributeError(name)
        if self.compiled is None and not load_numba():
            raise AttributeError(f"{name}: Numba is not loaded (pure-Python mode)")
        return getattr(self.compiled, name)

    def __repr__(self):
        return f"<pladafmt kernel {self.__qualname__}>"


def njit(**options):
    """numba.njit(**options), compiled once Numba is loaded."""
    def wrap(py_func):
        kernel = Kernel(py_func, lambda numba: numba.njit(**options)(py_func))
        _KERNELS.append(kernel)
        return kernel
    return wrap


def intrinsic(name, py_func):
    """py_func, which compiled code runs as numba.cpython.unsafe.numbers.<name> (one LLVM
    instruction, registered as its Numba overload when Numba is loaded). py_func stays
    what the global names, so Python can always call it; the intrinsic itself cannot be
    called from Python (nor compiled under NUMBA_DISABLE_JIT=1)."""
    def compile_with(numba):
        if not numba.config.DISABLE_JIT:
            from numba.extending import overload
            fast = getattr(importlib.import_module("numba.cpython.unsafe.numbers"), name)
            overload(py_func, inline="always")(lambda v: lambda v: fast(v))
        return py_func
    kernel = Kernel(py_func, compile_with)
    _KERNELS.append(kernel)
    return kernel


def load_numba() -> bool:
    """Import Numba and swap every Kernel for its compiled form; False in pure mode."""
    if _state["numba"] is not None:
        return True
    with _LOCK:
        if _state["numba"] is not None:
            return True
        if _state["pure"]:
            return False
        try:
            import numba
        except ImportError as exc:
            _state["pure"] = True
            warnings.warn(f"pladafmt: Numba cannot be imported ({exc}); the codec runs "
                          "its kernels as pure Python (same results, 100-1500x slower)",
                          RuntimeWarning, stacklevel=3)
            return False
        from ._jitcache import refresh_kernel_cache
        refresh_kernel_cache()       # before the first kernel is loaded from the cache
        swap = {id(k): k._compile_with(numba) for k in _KERNELS}
        # the globals first: a kernel may compile (on another thread) once its Kernel
        # has .compiled, and then every kernel it calls must be a dispatcher already
        for name, module in list(sys.modules.items()):
            if name.startswith(__package__ + ".") and module is not None:
                for attr, value in list(vars(module).items()):
                    if isinstance(value, Kernel):
                        setattr(module, attr, swap[id(value)])
        for kernel in _KERNELS:
            kernel.compiled = swap[id(kernel)]
        _state["numba"] = numba
        return True


class python_if_small:
    """Context: kernels called inside run as Python if Numba is not loaded yet and the
    call is small: fewer than JIT_MIN_ITEMS items and JIT_MIN_BYTES of work."""

    def __init__(self, items, work_bytes):
        self.small = (items < JIT_MIN_ITEMS and work_bytes < JIT_MIN_BYTES
                      and not _state["always"])

    def __enter__(self):
        self.before = getattr(_local, "python", False)
        _local.python = self.before or self.small

    def __exit__(self, *exc):
        _local.python = self.before


if _state["pure"]:
    _why = f"{PURE_PYTHON_ENV} is set"
elif importlib.util.find_spec("numba") is None:    # looks, does not import
    _state["pure"], _why = True, "Numba is not installed"
if _state["pure"]:
    warnings.warn(f"pladafmt: {_why}; the codec runs its kernels as pure Python (same "
                  "results, 100-1500x slower)", RuntimeWarning, stacklevel=2)
