"""Where bounds-checked Numba kernels are cached (imports nothing heavy: used before numba).

Numba's on-disk cache (cache=True) has two blind spots that matter for fuzzing:

* it does not key on NUMBA_BOUNDSCHECK, so kernels cached by a normal run would be
  reused unchecked (hence a separate directory);
* it invalidates a kernel only when *its own* source file changes, not when an @njit
  function it calls from another module changes: after a fix in read_varint (now in
  _coders/leb128.py), the cached varint kernels still ran the old one (found in 1.x).

So the directory is keyed by a hash of every pladafmt source file: any change to the
package gives the fuzzer freshly compiled kernels.
"""

import hashlib
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
PKG = HERE.parents[1] / "pladafmt"


def boundscheck_cache_dir() -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts):
        h.update(f.relative_to(PKG).as_posix().encode() + b"\0" + f.read_bytes())
    return str(HERE / ".numba-cache-boundscheck" / h.hexdigest()[:16])
