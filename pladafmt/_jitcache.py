"""Keep Numba's on-disk cache honest.

`@njit(cache=True)` invalidates a cached kernel only when *its own* source file changes,
not when a jitted function it calls from another module changes (e.g. `read_varint` in
_leb128.py, called by the kernels of _varint.py). After such an edit a stale kernel
would keep running old code. So when Numba is loaded (_jit.load_numba, not at import) we
hash every module of the package and, when the hash differs from the one recorded
beside the cache, drop the package's cached kernels; Numba then recompiles them once.
"""
import hashlib
import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent
_STAMP = "pladafmt-sources.sha256"


def refresh_kernel_cache(pkg=_PKG):
    """Drop pkg/__pycache__/*.nbi|*.nbc when pkg/*.py changed since the last call."""
    pkg = Path(pkg)
    h = hashlib.sha256()
    for path in sorted(pkg.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    digest = h.hexdigest()
    cache = pkg / "__pycache__"
    stamp = cache / _STAMP
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for f in cache.iterdir():
            if f.suffix in (".nbi", ".nbc"):
                f.unlink(missing_ok=True)
        tmp = cache / f"{_STAMP}.{os.getpid()}"
        tmp.write_text(digest)
        tmp.replace(stamp)
    except OSError:            # a read-only install: Numba then caches elsewhere or not at all
        pass
