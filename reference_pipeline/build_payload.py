"""Stage 4 (server): turn a keep file into the payload, the only thing sent to clients.

pladafmt.encode(kept indices, their pseudo-labels, pool size, class names, the pool
digest the scores were computed on, metadata). The metadata records how the payload
was made (task, teacher, T, rule, p, s, alpha, seed) so a result can be traced back.

Class names come from the scores file (`classes`, written by score_pool) or from the
teacher checkpoint; with both, they must agree. The teacher adds the task and model
name to the metadata. The scores file's per-item arrays are never read: the pool size
is the length in the labels' .npy header, so this stage costs O(kept items) at any
pool size.

Usage:  python -m reference_pipeline.build_payload --scores scores.npz --keep keep.npz \
            [--teacher teacher.pt] --out payload.plada
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from . import common
from .common import PipelineError

ZSTD_LEVEL = 19         # the paper's setting (Table 4)


def build_payload(indices, labels, *, pool_size: int, classes, pool_digest: bytes, metadata: dict) -> bytes:
    import pladafmt

    indices = np.asarray(indices, np.int64)
    labels = np.asarray(labels, np.int64)
    if len(classes) and labels.size and labels.max() >= len(classes):
        raise PipelineError(f"label {labels.max()} out of range for {len(classes)} classes")
    return pladafmt.encode(indices, labels, pool_size=int(pool_size), classes=list(classes),
                           pool_digest=bytes(pool_digest), metadata=metadata, zstd_level=ZSTD_LEVEL)


def npy_header(path, key: str):
    """(shape, dtype) of array `key` in an .npz, from its .npy header alone (no data read)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            if version not in readers:
                raise PipelineError(f"{path}: {key}.npy has .npy format version {version}; expected 1.0 or 2.0")
            shape, _, dtype = readers[version](f)
    except KeyError as e:
        raise PipelineError(f"{path} lacks the array {key!r}") from e
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise PipelineError(f"cannot read {key!r} from {path}: {e}") from e
    return shape, dtype


def npz_length(path, key: str) -> int:
    """len() of the 1-D array `key` in an .npz, without reading it."""
    shape, _ = npy_header(path, key)
    if len(shape) != 1:
        raise PipelineError(f"{path}: {key} must be 1-D, got shape {shape}")
    return shape[0]


def _read(path, keys, what: str) -> dict:
    """`keys` of the .npz at `path` (those present), nothing else."""
    try:
        with np.load(path) as f:
            return {k: f[k] for k in keys if k in f}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise PipelineError(f"cannot read {what} file {path}: {e}") from e


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.build_payload", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scores", required=True, help="scores .npz from score_pool (pool size, digest, class names)")
    ap.add_argument("--keep", required=True, help="keep .npz from selection")
    ap.add_argument("--teacher", help="teacher checkpoint (task, model name; class names if the scores lack them)")
    ap.add_argument("--out", required=True, help="payload file to write")
    a = ap.parse_args(argv)
    scores = _read(a.scores, ("T", "pool_spec", "pool_digest", "classes"), "scores")
    keep = _read(a.keep, ("indices", "labels"), "keep")
    for name, d, keys in (("scores", scores, ("T", "pool_spec", "pool_digest")), ("keep", keep, ("indices", "labels"))):
        missing = [k for k in keys if k not in d]
        if missing:
            raise PipelineError(f"{name} file lacks {', '.join(missing)}")
    classes = [str(c) for c in scores["classes"]] if "classes" in scores else None
    ckpt = common.load_checkpoint(a.teacher) if a.teacher else {}
    if a.teacher:
        if classes is not None and list(ckpt["classes"]) != classes:
            raise PipelineError(f"class names differ: scores file {a.scores} has {classes[:5]}..., teacher {a.teacher} "
                                f"has {list(ckpt['classes'])[:5]}... (scores from another teacher?)")
        classes = list(ckpt["classes"])
    if classes is None:
        raise PipelineError(f"scores file {a.scores} has no class names (an older score_pool wrote it): pass --teacher")
    sel_meta = {}
    if Path(a.keep + ".json").is_file():
        sel_meta = json.loads(Path(a.keep + ".json").read_text())
    meta = dict(task=ckpt.get("task"), teacher=ckpt.get("model_name"), T=float(scores["T"]),
                pool=str(scores["pool_spec"]), rule=sel_meta.get("rule"), p=sel_meta.get("keep"),
                s=sel_meta.get("reserve"), alpha=sel_meta.get("alpha"), seed=sel_meta.get("seed"))
    data = build_payload(keep["indices"], keep["labels"], pool_size=npz_length(a.scores, "labels"), classes=classes,
                         pool_digest=scores["pool_digest"].tobytes(), metadata=meta)
    common.write_bytes_atomic(a.out, data)
    print(f"payload: {len(keep['indices'])} items, {len(data)} bytes -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
