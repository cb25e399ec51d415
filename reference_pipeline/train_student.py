"""Stage 5 (client): decode the payload against the local pool, train a student, evaluate.

The client has only the payload file and its own copy of the pool. decode() is given
the local pool's digest, so a payload made for another pool (or a tampered, re-ordered
or partial local pool) raises pladafmt.PoolMismatchError before any image is read.
A payload whose class count differs from the student's head is refused too.

Student recipe (the paper's: AdamW, lr 1e-3, cosine schedule), on the kept pool
images with the received hard labels; a fixed step budget (see common.fit). The kept
items are read batch by batch from the pool (data.PoolDataset + data.make_loader), never
all at once: 1 % of ImageNet-21K at 224 px would be ~21 GB of pixels.

Normalisation (--norm): as for the teacher, `auto` takes mean and std from timm's data
config when the student starts from pretrained weights (--student-checkpoint), else
[-1, 1]; both are recorded in the student checkpoint (--out).
Long runs: --checkpoint PATH --checkpoint-every N saves the training state (model,
optimizer, schedule, grad scaler, RNG, step); --resume continues from it and ends with
the same weights as an uninterrupted run.
Importance weights (--weighting, weighting.py): class-sqrt (the default) and
class-balanced from the payload's label counts at zero bytes, none (the plain loss), or
confidence from a weight-stream sidecar (--weight-stream) the server sent with the payload.
A payload with equal label counts (the stratified rule's) trains exactly as with none.

Usage:  python -m reference_pipeline.train_student --payload payload.plada --pool broad --task fashion
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import common, data
from .pools import open_pool
from .tasks import TASKS, load_task
from .weighting import SCHEMES as WEIGHTINGS, client_weights

# -----------------------------------------------------------------------------
# knobs (plada_cnn at 28 px: ~0.07 core-seconds per step of 64 images)

MODEL = "plada_cnn"     # any timm name (plada_cnn is registered with timm by common.py)
IMG_SIZE = 28           # px
STEPS = 400             # optimizer steps (the demo scales them with k, see demo.student_steps)
BATCH_SIZE = 64         # images per step
LR = 1e-3               # AdamW peak learning rate (the paper's)
WEIGHT_DECAY = 0.05
MAX_SHIFT = 2           # px of random translation
NORM = "auto"           # input normalisation: auto | timm | pm1 (common.input_norm)
WORKERS = None          # loader processes; None: 0 for array pools (a batch is one memmap read; measured
                        # faster in-process at 28 px on 2 cores), data.default_workers() for ImageFolder (JPEG decode)
SEED = 0
WEIGHTING = "class-sqrt"  # importance weights of the kept items (weighting.py). The decision rule chose it
                          # (WEIGHTING_RESULTS.md): +0.9 % on fashion-lt random-rule payloads, no loss beyond noise
                          # elsewhere; equal label counts (stratified quotas) give the plain loss bit for bit


def read_payload(path_or_bytes, pool):
    """Decode a payload for this pool; PoolMismatchError if it was made for another pool."""
    import pladafmt

    data = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else Path(path_or_bytes).read_bytes()
    payload = pladafmt.decode(bytes(data), pool_digest=pool.digest())
    if payload.pool_size != len(pool):  # the digest already covers this; a cheap second guard
        raise common.PipelineError(f"payload is for a pool of {payload.pool_size} items, the local pool has {len(pool)}")
    return payload


def default_workers(pool) -> int:
    return 0 if getattr(pool, "images", None) is not None else data.default_workers()


def train_student(payload, pool, *, task: str | dict | None = None, model: str = MODEL, num_classes: int | None = None,
                  img_size: int = IMG_SIZE, steps: int = STEPS, batch_size: int = BATCH_SIZE, lr: float = LR,
                  seed: int = SEED, checkpoint: str | None = None, norm: str = NORM, amp: str = "auto",
                  workers: int | None = WORKERS, state: str | None = None, state_every: int = 0,
                  resume: bool = False, device: str | None = None, verbose: bool = True,
                  weighting: str = WEIGHTING, weight_stream: bytes | None = None) -> dict:
    """Train on a decoded payload; returns dict(student_acc, k, seconds, model, mean, std, weighted, net).

    `checkpoint`: local weights to start from (timm loader); `state`/`state_every`/`resume`:
    the training-state checkpoint of common.fit. `weighting`/`weight_stream`: the
    importance weights (weighting.client_weights); `weighted` says whether any reached the loss.
    """
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
    weights = client_weights(weighting, payload.labels, weight_stream)
    net = common.create_model(model, n_cls, pool.channels, checkpoint)
    mean, std = common.input_norm(net, norm, pretrained=bool(checkpoint), in_chans=pool.channels)
    t0 = time.time()
    # only the kept items, one batch at a time
    common.fit(net, data.PoolDataset(pool, idx), payload.labels, steps=steps, batch_size=batch_size, lr=lr,
               weight_decay=WEIGHT_DECAY, img_size=img_size, max_shift=MAX_SHIFT, hflip=bool(t and t["hflip"]),
               seed=seed, device=device, mean=mean, std=std, amp=amp,
               workers=default_workers(pool) if workers is None else workers,
               checkpoint=state, checkpoint_every=state_every, resume=resume, desc="student",
               log_every=100 if verbose else 0, weights=weights)
    res = dict(k=len(idx), seconds=time.time() - t0, model=model, mean=mean, std=std, weighted=weights is not None)
    if t is not None:
        res["student_acc"] = common.accuracy(net, t["test_x"], t["test_y"], img_size=img_size, device=device,
                                             mean=mean, std=std, in_chans=pool.channels)
        if verbose:
            print(f"student {model} on {len(idx)} pool items: target-test accuracy {res['student_acc']:.4f}")
    res["net"] = net
    return res


def save_student(path, res: dict, payload, *, img_size: int, in_chans: int) -> None:
    """The student checkpoint: weights plus what a user needs to run it (classes, size, normalisation)."""
    net = res["net"]
    common.save_checkpoint(path, dict(model_name=res["model"], num_classes=len(payload.classes), in_chans=in_chans,
                                      img_size=img_size, mean=tuple(res["mean"]), std=tuple(res["std"]),
                                      classes=tuple(payload.classes), student_acc=res.get("student_acc"),
                                      state_dict={k: v.cpu() for k, v in net.state_dict().items()}))


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
    ap.add_argument("--student-checkpoint", help="local weights to start from (timm loader; nothing is downloaded)")
    ap.add_argument("--norm", default=NORM, choices=common.NORMS,
                    help="input normalisation: auto = timm's data config with --student-checkpoint, else "
                         "[-1, 1]; timm = always timm's; pm1 = always [-1, 1] (mean = std = 0.5)")
    ap.add_argument("--amp", default="auto", choices=("auto", "off", "bf16", "fp16"),
                    help="autocast: auto = bf16 on CUDA (fp16 + loss scaling on GPUs without bf16), off on CPU")
    ap.add_argument("--workers", type=int, default=WORKERS,
                    help="loader processes (default: 0 for array pools, data.default_workers() for ImageFolder)")
    ap.add_argument("--checkpoint", help="training-state file (model, optimizer, schedule, RNG, step) for --resume")
    ap.add_argument("--checkpoint-every", type=int, default=0, help="save the training state every N steps")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    ap.add_argument("--weighting", default=WEIGHTING, choices=WEIGHTINGS,
                    help=f"importance weights of the kept items (default {WEIGHTING}): none (plain loss), "
                         "class-balanced, class-sqrt (zero bytes, from the label counts), confidence (needs "
                         "--weight-stream)")
    ap.add_argument("--weight-stream", help="the weight-stream sidecar of the payload (weighting.py)")
    ap.add_argument("--out", help="write the student checkpoint here (weights, classes, normalisation)")
    a = ap.parse_args(argv)
    common.check_model_name(a.model)
    pool = open_pool(a.pool, a.cache, folder_size=a.img_size)
    payload = read_payload(a.payload, pool)
    res = train_student(payload, pool, task=a.task, model=a.model, num_classes=a.num_classes, img_size=a.img_size,
                        steps=a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed, checkpoint=a.student_checkpoint,
                        norm=a.norm, amp=a.amp, workers=a.workers, state=a.checkpoint, state_every=a.checkpoint_every,
                        resume=a.resume, weighting=a.weighting,
                        weight_stream=Path(a.weight_stream).read_bytes() if a.weight_stream else None)
    if a.out:
        save_student(a.out, res, payload, img_size=a.img_size, in_chans=pool.channels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
