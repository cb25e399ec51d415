"""Stage 4 (server): turn a keep file into the payload, the only thing sent to clients.

pladafmt.encode(kept indices, their pseudo-labels, pool size, class names, the pool
digest the scores were computed on, metadata). The metadata records how the payload
was made (task, teacher, T, rule, p, s, alpha, seed) so a result can be traced back.

Usage:  python -m reference_pipeline.build_payload --scores scores.npz --keep keep.npz \
            --teacher teacher.pt --out payload.plada
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

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


def main(argv=None):
    import torch

    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.build_payload", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scores", required=True, help="scores .npz from score_pool (pool size and digest)")
    ap.add_argument("--keep", required=True, help="keep .npz from selection")
    ap.add_argument("--teacher", required=True, help="teacher checkpoint (class names, model name)")
    ap.add_argument("--out", required=True, help="payload file to write")
    a = ap.parse_args(argv)
    scores = np.load(a.scores)
    keep = np.load(a.keep)
    ckpt = torch.load(a.teacher, map_location="cpu", weights_only=False)
    sel_meta = {}
    if Path(a.keep + ".json").is_file():
        sel_meta = json.loads(Path(a.keep + ".json").read_text())
    meta = dict(task=ckpt["task"], teacher=ckpt["model_name"], T=float(scores["T"]), pool=str(scores["pool_spec"]),
                rule=sel_meta.get("rule"), p=sel_meta.get("keep"), s=sel_meta.get("reserve"),
                alpha=sel_meta.get("alpha"), seed=sel_meta.get("seed"))
    data = build_payload(keep["indices"], keep["labels"], pool_size=len(scores["labels"]), classes=ckpt["classes"],
                         pool_digest=scores["pool_digest"].tobytes(), metadata=meta)
    Path(a.out).write_bytes(data)
    print(f"payload: {len(keep['indices'])} items, {len(data)} bytes -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
