"""Stage 1 (server): train the teacher on the task's labelled target-train split.

Writes one checkpoint file (common.save_checkpoint: plain types and tensors, loaded with
weights_only=True): model name, head size, input size, input normalisation (mean, std),
weights, class names, its target-test accuracy, and its logits on target-train
(score_pool uses them as the in-distribution reference for energy thresholds). The same
task, knobs and seed give the same file bytes on the same machine and torch build (no
wall time inside), so the file's SHA-256 names the teacher.

Normalisation (--norm): `auto` takes mean and std from timm's data config when the
teacher starts from pretrained weights (--teacher-checkpoint), else [-1, 1] (mean = std
= 0.5, the demo's choice for a model trained from scratch); see common.input_norm.

Usage:  python -m reference_pipeline.train_teacher --task fashion --out teacher.pt
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import common
from .data import PoolDataset
from .tasks import TASKS, load_task

# -----------------------------------------------------------------------------
# knobs (plada_cnn: ~0.13 core-seconds per step of 128 images, ~65 core-seconds in all)

MODEL = "plada_cnn"     # any timm name; plada_cnn (common.py) is ~3x cheaper per image than resnet10t on CPU
IMG_SIZE = 28           # px; inputs are resized to this square (28: the pools are native 28x28)
STEPS = 500             # optimizer steps (~13 epochs of the 5,000-image fashion train split)
BATCH_SIZE = 128        # images per step
LR = 2e-3               # AdamW peak learning rate (one-cycle cosine)
WEIGHT_DECAY = 0.05     # AdamW decoupled weight decay
MAX_SHIFT = 2           # px of random translation (augmentation)
LABEL_SMOOTHING = 0.1   # the teacher's labels are ground truth; smoothing only calibrates energies
NORM = "auto"           # input normalisation: auto | timm | pm1 (common.input_norm)
WORKERS = 0             # loader processes; in-memory 28 px arrays are fastest read in-process (README)
SEED = 0


def train_teacher(task: str, out: str, *, model: str = MODEL, checkpoint: str | None = None,
                  img_size: int = IMG_SIZE, steps: int = STEPS, batch_size: int = BATCH_SIZE, lr: float = LR,
                  seed: int = SEED, norm: str = NORM, amp: str = "auto", workers: int | None = WORKERS,
                  state: str | None = None, state_every: int = 0, resume: bool = False,
                  device: str | None = None, verbose: bool = True) -> dict:
    """Train, evaluate and write the teacher checkpoint `out`; returns the checkpoint dict.

    `state`/`state_every`/`resume`: the training-state checkpoint of common.fit.
    """
    common.setup_torch(seed=seed)
    common.check_model_name(model)
    device = device or common.default_device()
    t = load_task(task)
    in_chans = 1
    net = common.create_model(model, len(t["classes"]), in_chans, checkpoint)
    mean, std = common.input_norm(net, norm, pretrained=bool(checkpoint), in_chans=in_chans)
    t0 = time.time()
    common.fit(net, PoolDataset(common.ArrayPool(t["train_x"])), t["train_y"], steps=steps, batch_size=batch_size,
               lr=lr, weight_decay=WEIGHT_DECAY, img_size=img_size, max_shift=MAX_SHIFT, hflip=t["hflip"], seed=seed,
               device=device, mean=mean, std=std, label_smoothing=LABEL_SMOOTHING, workers=workers, amp=amp,
               checkpoint=state, checkpoint_every=state_every, resume=resume, desc="teacher",
               log_every=200 if verbose else 0)
    acc = common.accuracy(net, t["test_x"], t["test_y"], img_size=img_size, device=device, mean=mean, std=std)
    calib = common.predict_logits(net, t["train_x"], img_size=img_size, batch_size=512, device=device,
                                  mean=mean, std=std)
    ckpt = dict(model_name=model, num_classes=len(t["classes"]), in_chans=in_chans, img_size=img_size,
                mean=mean, std=std, classes=tuple(t["classes"]), task=task, teacher_acc=acc,
                calib_logits=calib, calib_labels=np.asarray(t["train_y"], np.int64),
                state_dict={k: v.cpu() for k, v in net.state_dict().items()},
                knobs=dict(steps=steps, batch_size=batch_size, lr=lr, seed=seed, norm=norm, checkpoint=checkpoint))
    common.save_checkpoint(out, ckpt)
    if verbose:
        print(f"teacher {model} on {task}: target-test accuracy {acc:.4f} ({time.time() - t0:.0f}s) -> {out}")
    return ckpt


def load_teacher(path: str, device: str | None = None):
    """(model in eval mode, checkpoint dict) from a file written by train_teacher."""
    common.setup_torch()
    ckpt = common.load_checkpoint(path)
    net = common.create_model(ckpt["model_name"], ckpt["num_classes"], ckpt["in_chans"])
    net.load_state_dict(ckpt["state_dict"])
    return net.to(device or common.default_device()).eval(), ckpt


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.train_teacher", description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", default="fashion", choices=TASKS)
    ap.add_argument("--model", default=MODEL, help=f"timm model name (default {MODEL}; also 'plada_cnn')")
    ap.add_argument("--teacher-checkpoint", help="local weights to start from (timm loader; nothing is downloaded)")
    ap.add_argument("--img-size", type=int, default=IMG_SIZE)
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--norm", default=NORM, choices=common.NORMS,
                    help="input normalisation: auto = timm's data config with --teacher-checkpoint, else "
                         "[-1, 1]; timm = always timm's; pm1 = always [-1, 1] (mean = std = 0.5)")
    ap.add_argument("--amp", default="auto", choices=("auto", "off", "bf16", "fp16"),
                    help="autocast: auto = bf16 on CUDA (fp16 + loss scaling on GPUs without bf16), off on CPU")
    ap.add_argument("--workers", type=int, default=WORKERS, help=f"loader processes (default {WORKERS})")
    ap.add_argument("--checkpoint", help="training-state file (model, optimizer, schedule, RNG, step) for --resume")
    ap.add_argument("--checkpoint-every", type=int, default=0, help="save the training state every N steps")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    ap.add_argument("--out", required=True, help="checkpoint file to write")
    a = ap.parse_args(argv)
    train_teacher(a.task, a.out, model=a.model, checkpoint=a.teacher_checkpoint, img_size=a.img_size,
                  steps=a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed, norm=a.norm, amp=a.amp,
                  workers=a.workers, state=a.checkpoint, state_every=a.checkpoint_every, resume=a.resume)
    return 0


if __name__ == "__main__":
    sys.exit(main())
