"""Stage 5 (client): decode the payload against the local pool, train a student, evaluate.

The client has only the payload file and its own copy of the pool. decode() is given
the local pool's digest, so a payload made for another pool (or a tampered, re-ordered
or partial local pool) raises pladafmt.PoolMismatchError before any image is read.
A payload whose class count differs from the student's head is refused too.

Student recipe (the paper's: AdamW, lr 1e-3, cosine schedule), on the kept pool
images with the received hard labels; a fixed step budget (see common.fit).

Usage:  python -m reference_pipeline.train_student --payload payload.plada --pool broad --task fashion
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import common
from .pools import open_pool
from .tasks import TASKS, load_task

# -----------------------------------------------------------------------------
# knobs (plada_cnn at 28 px: ~0.07 core-seconds per step of 64 images)

MODEL = "plada_cnn"     # any timm name (plada_cnn is registered with timm by common.py)
IMG_SIZE = 28           # px
STEPS = 400             # optimizer steps (the demo scales them with k, see demo.student_steps)
BATCH_SIZE = 64         # images per step
LR = 1e-3               # AdamW peak learning rate (the paper's)
WEIGHT_DECAY = 0.05
MAX_SHIFT = 2           # px of random translation
SEED = 0


def read_payload(path_or_bytes, pool):
    """Decode a payload for this pool; PoolMismatchError if it was made for another pool."""
    import pladafmt

    data = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else Path(path_or_bytes).read_bytes()
    payload = pladafmt.decode(bytes(data), pool_digest=pool.digest())
    if payload.pool_size != len(pool):  # the digest already covers this; a cheap second guard
        raise common.PipelineError(f"payload is for a pool of {payload.pool_size} items, the local pool has {len(pool)}")
    return payload


def train_student(payload, pool, *, task: str | dict | None = None, model: str = MODEL, num_classes: int | None = None,
                  img_size: int = IMG_SIZE, steps: int = STEPS, batch_size: int = BATCH_SIZE, lr: float = LR,
                  seed: int = SEED, device: str | None = None, verbose: bool = True) -> dict:
    """Train on a decoded payload; returns dict(student_acc, k, seconds, model)."""
    n_cls = len(payload.classes)
    if num_classes is not None and num_classes != n_cls:
        raise common.PipelineError(f"payload has {n_cls} classes but the student's head has {num_classes}")
    t = load_task(task) if isinstance(task, str) else task
    if t is not None and len(t["classes"]) != n_cls:
        raise common.PipelineError(f"payload has {n_cls} classes, task {t['name']!r} has {len(t['classes'])}")
    common.setup_torch(seed=seed)
    common.check_model_name(model)
    device = device or common.default_device()
    idx = np.asarray(payload.indices, np.int64)
    images = np.asarray(pool[idx])  # only the kept items are read from the pool
    net = common.create_model(model, n_cls, pool.channels)
    t0 = time.time()
    common.fit(net, images, payload.labels, steps=steps, batch_size=batch_size, lr=lr, weight_decay=WEIGHT_DECAY,
               img_size=img_size, max_shift=MAX_SHIFT, hflip=bool(t and t["hflip"]), seed=seed, device=device,
               desc="student", log_every=100 if verbose else 0)
    res = dict(k=len(idx), seconds=time.time() - t0, model=model)
    if t is not None:
        res["student_acc"] = common.accuracy(net, t["test_x"], t["test_y"], img_size=img_size, device=device)
        if verbose:
            print(f"student {model} on {len(idx)} pool items: target-test accuracy {res['student_acc']:.4f}")
    res["net"] = net
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.train_student", description=__doc__.split("\n\n")[0])
    ap.add_argument("--payload", required=True)
    ap.add_argument("--pool", default="broad", help="the client's local pool spec")
    ap.add_argument("--cache", default=str(common.DEFAULT_CACHE))
    ap.add_argument("--task", choices=TASKS, help="evaluate on this task's target-test split")
    ap.add_argument("--model", default=MODEL, help=f"timm model name (default {MODEL})")
    ap.add_argument("--num-classes", type=int, help="the student's head size (default: the payload's class count)")
    ap.add_argument("--img-size", type=int, default=IMG_SIZE)
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", help="save the student's weights here (torch.save)")
    a = ap.parse_args(argv)
    common.check_model_name(a.model)
    pool = open_pool(a.pool, a.cache)
    payload = read_payload(a.payload, pool)
    res = train_student(payload, pool, task=a.task, model=a.model, num_classes=a.num_classes, img_size=a.img_size,
                        steps=a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed)
    if a.out:
        import torch

        torch.save(dict(model_name=a.model, classes=payload.classes, img_size=a.img_size,
                        state_dict=res["net"].state_dict()), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
