"""Deterministic, atomic .npz files: same arrays in, same bytes out.

numpy.savez stamps every zip member with the current time, so two runs that compute
the same scores write different files, and "byte-identical to an uninterrupted run"
cannot be checked. save_npz writes the same container numpy.load reads (ZIP_STORED
members `<key>.npy`, NPY format), with a fixed timestamp and member order, into a
temporary file in the target directory that replaces the target only when complete.
The file gets open()'s default permissions (0666 & ~umask).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .common import PipelineError

# The zip format's earliest date; any fixed value works, this one says "no time recorded".
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def save_npz(path, **arrays) -> Path:
    """Write `arrays` (name -> array-like) to `path` atomically; members in argument order.

    Object arrays are refused: they would need pickle, which numpy.load(allow_pickle=False)
    rejects and which can run code when read.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # per-process temporary name: torchrun ranks may write into the same directory at once
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key, value in arrays.items():
                a = np.asanyarray(value)
                if a.dtype.hasobject:
                    raise PipelineError(f"save_npz {path.name}: array {key!r} has dtype object; "
                                        "expected numbers, bools or fixed-width strings")
                info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16
                with zf.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, a, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
