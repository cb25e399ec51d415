"""Stage 1 (server): train the teacher on the task's labelled target-train split.

Writes one checkpoint file (torch.save dict): model name, head size, input size,
weights, class names, its target-test accuracy, and its logits on target-train
(score_pool uses them as the in-distribution reference for energy thresholds).

Usage:  python -m reference_pipeline.train_teacher --task fashion --out teacher.pt
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import common
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
SEED = 0


def train_teacher(task: str, out: str, *, model: str = MODEL, checkpoint: str | None = None,
                  img_size: int = IMG_SIZE, steps: int = STEPS, batch_size: int = BATCH_SIZE, lr: float = LR,
                  seed: int = SEED, device: str | None = None, verbose: bool = True) -> dict:
    torch = common.setup_torch(seed=seed)
    common.check_model_name(model)
    device = device or common.default_device()
    t = load_task(task)
    in_chans = 1
    net = common.create_model(model, len(t["classes"]), in_chans, checkpoint)
    t0 = time.time()
    common.fit(net, t["train_x"], t["train_y"], steps=steps, batch_size=batch_size, lr=lr,
               weight_decay=WEIGHT_DECAY, img_size=img_size, max_shift=MAX_SHIFT, hflip=t["hflip"], seed=seed,
               device=device, label_smoothing=LABEL_SMOOTHING, desc="teacher", log_every=200 if verbose else 0)
    acc = common.accuracy(net, t["test_x"], t["test_y"], img_size=img_size, device=device)
    calib = common.predict_logits(net, t["train_x"], img_size=img_size, batch_size=512, device=device)
    ckpt = dict(model_name=model, num_classes=len(t["classes"]), in_chans=in_chans, img_size=img_size,
                classes=tuple(t["classes"]), task=task, teacher_acc=acc, train_seconds=time.time() - t0,
                calib_logits=calib, calib_labels=np.asarray(t["train_y"]), state_dict={k: v.cpu() for k, v in net.state_dict().items()},
                knobs=dict(steps=steps, batch_size=batch_size, lr=lr, seed=seed, checkpoint=checkpoint))
    torch.save(ckpt, out)
    if verbose:
        print(f"teacher {model} on {task}: target-test accuracy {acc:.4f} ({time.time() - t0:.0f}s) -> {out}")
    return ckpt


def load_teacher(path: str, device: str | None = None):
    """(model, checkpoint dict) from a file written by train_teacher."""
    torch = common.setup_torch()
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
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
    ap.add_argument("--out", required=True, help="checkpoint file to write")
    a = ap.parse_args(argv)
    train_teacher(a.task, a.out, model=a.model, checkpoint=a.teacher_checkpoint, img_size=a.img_size,
                  steps=a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
