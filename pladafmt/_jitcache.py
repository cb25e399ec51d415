"""Keep Numba's on-disk cache honest; run when Numba is loaded (_jit.load_numba), never at
`import pladafmt`.

`@njit(cache=True)` invalidates a cached kernel only when *its own* source file changes,
not when a jitted function it calls from another module changes (e.g. `read_varint` in
_coders/leb128.py, called by the kernels of the index modes). After such an edit a stale
kernel would keep running old code. So when Numba is loaded we hash every module of the
package (subpackages included) and, when the hash differs from the one recorded beside
the cache, drop the package's cached kernels; Numba then recompiles them once.
"""
import hashlib
import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent
_STAMP = "pladafmt-sources.sha256"


def _sources(pkg):
    return sorted(p for p in pkg.rglob("*.py") if "__pycache__" not in p.parts)


def refresh_kernel_cache(pkg=_PKG):
    """Drop every pkg/**/__pycache__/*.nbi|*.nbc when pkg/**/*.py changed since the last
    call (the stamp lives in pkg/__pycache__)."""
    pkg = Path(pkg)
    h = hashlib.sha256()
    for path in _sources(pkg):
        h.update(path.relative_to(pkg).as_posix().encode() + b"\0" + path.read_bytes())
    digest = h.hexdigest()
    stamp = pkg / "__pycache__" / _STAMP
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for cache in {p.parent / "__pycache__" for p in _sources(pkg)}:
            if cache.is_dir():
                for f in cache.iterdir():
                    if f.suffix in (".nbi", ".nbc"):
                        f.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        tmp = stamp.parent / f"{_STAMP}.{os.getpid()}"
        tmp.write_text(digest)
        tmp.replace(stamp)
    except OSError:            # a read-only install: Numba then caches elsewhere or not at all
        pass
