"""Shared helpers for the stage scripts: paths, errors, torch setup, models, the train loop.

Every stage script (pools, train_teacher, score_pool, selection, build_payload,
train_student, demo) imports this module and nothing else from the pipeline except
the stages it reads files from. Teacher and student use the same `fit` loop on purpose:
the only differences between them are the data they see and the knobs they get.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np

# -----------------------------------------------------------------------------
# paths and errors

DEFAULT_CACHE = Path(os.environ.get("PLADA_CACHE", Path.home() / ".cache" / "pladafmt"))


class PipelineError(ValueError):
    """Bad argument or bad input for a pipeline stage (the message says which and why)."""


class MissingDataError(PipelineError, FileNotFoundError):
    """A Debian data package the pipeline reads is not installed."""


def check_keep(p: float) -> float:
    """The keep rate p is a fraction in (0, 1]; reject anything else early and clearly."""
    p = float(p)
    if not (0.0 < p <= 1.0) or math.isnan(p):
        raise PipelineError(f"keep rate p must be in (0, 1], got {p!r}")
    return p


def content_key(*parts) -> str:
    """A short stable hash of JSON-able parts: used to name cache entries by their content."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


# -----------------------------------------------------------------------------
# torch setup and models

def setup_torch(threads: int | None = None, seed: int = 0):
    """Import torch lazily (pools and selection do not need it) and make runs repeatable."""
    import torch

    if threads is None:
        threads = int(os.environ.get("PLADA_THREADS", min(2, os.cpu_count() or 1)))
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    # cuDNN autotuning picks kernels by timing, which changes results between runs
    torch.backends.cudnn.benchmark = False
    return torch


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _register_plada_cnn():
    """Register `plada_cnn` with timm so that every stage goes through timm.create_model.

    A 4-conv net in the airbench style (conv-BN-GELU, max-pool between stages).
    At 28x28 it is ~0.24 M parameters and ~4 MFLOPs per image, so teacher, scoring
    and students all fit the 2-core CPU budget. Any other timm name works too.
    """
    import timm
    import torch.nn as nn
    from timm.models import register_model

    if timm.is_model("plada_cnn"):
        return

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.GELU())

    class PladaCNN(nn.Module):
        def __init__(self, num_classes=10, in_chans=1, widths=(32, 64, 128)):
            super().__init__()
            w1, w2, w3 = widths
            self.num_classes = num_classes
            self.features = nn.Sequential(
                # strided 4x4 stem: full-resolution layers dominate CPU time at 28x28
                nn.Conv2d(in_chans, w1, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w1), nn.GELU(),  # 28 -> 14
                block(w1, w2), nn.MaxPool2d(2),  # 14 -> 7
                block(w2, w3), nn.MaxPool2d(2),  # 7 -> 3
                block(w3, w3), nn.AdaptiveMaxPool2d(1),
                nn.Flatten(),
            )
            self.head = nn.Linear(w3, num_classes)

        def forward(self, x):
            return self.head(self.features(x))

    @register_model
    def plada_cnn(pretrained=False, num_classes=10, in_chans=1, **kwargs):
        # timm passes pretrained_cfg and friends; this model has no pretrained weights
        for k in ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir", "features_only"):
            kwargs.pop(k, None)
        if pretrained:
            raise PipelineError("plada_cnn has no pretrained weights; use --teacher-checkpoint")
        return PladaCNN(num_classes=num_classes, in_chans=in_chans, **kwargs)


def check_model_name(name: str) -> None:
    import timm

    _register_plada_cnn()
    if not timm.is_model(name):
        raise PipelineError(
            f"unknown model {name!r}: not a timm model name "
            "(see timm.list_models(); the pipeline also registers 'plada_cnn')")


def create_model(name: str, num_classes: int, in_chans: int, checkpoint: str | None = None):
    """timm.create_model with pretrained=False, or local weights from `checkpoint`.

    A local checkpoint goes through timm's own loader (pretrained_cfg_overlay=file), so
    a head of a different size is dropped and re-initialised and in_chans is adapted,
    exactly as timm does for hub weights. Nothing is downloaded.
    """
    import timm

    check_model_name(name)
    if checkpoint:
        if not Path(checkpoint).is_file():
            raise PipelineError(f"checkpoint not found: {checkpoint}")
        return timm.create_model(name, pretrained=True, num_classes=num_classes, in_chans=in_chans,
                                 pretrained_cfg_overlay=dict(file=str(checkpoint)))
    return timm.create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_chans)


def to_input(batch_u8, img_size: int, device):
    """uint8 (B,H,W) or (B,H,W,C) -> float (B,C,img_size,img_size) in [-1, 1].

    One fixed normalisation for every model: the pools are not natural RGB images, so
    ImageNet mean/std would be no more right than 0.5/0.5.
    """
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.array(batch_u8, dtype=np.uint8, order="C")).to(device)  # a copy: memmaps are read-only
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    x = x.float().div_(127.5).sub_(1.0)
    if x.shape[-1] != img_size or x.shape[-2] != img_size:
        x = F.interpolate(x, size=(img_size, img_size), mode="bilinear", align_corners=False, antialias=True)
    return x


def random_shift(x, max_shift: int, gen):
    """Translate each image by up to max_shift pixels (zero fill = background after [-1,1])."""
    import torch
    import torch.nn.functional as F

    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    pad = F.pad(x, (max_shift,) * 4, value=-1.0)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :]).to(x.device)  # (b, h)
    cols = (dx[:, None] + torch.arange(w)[None, :]).to(x.device)  # (b, w)
    bi = torch.arange(b, device=x.device)[:, None, None]
    out = pad.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]]  # (b, h, w, c)
    return out.permute(0, 3, 1, 2).contiguous()


def fit(model, images, labels, *, steps: int, batch_size: int, lr: float, weight_decay: float,
        img_size: int, max_shift: int, hflip: bool, seed: int, device: str, label_smoothing=0.0,
        desc="train", log_every=0):
    """AdamW + cosine schedule (the paper's student recipe) for a fixed number of steps.

    Steps rather than epochs: at 1 % keep the student sees ~1,200 images, and a fixed
    step budget keeps tiny and large selections comparable in both compute and fit.
    """
    import torch
    import torch.nn.functional as F

    model.to(device).train()
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1,
                                                anneal_strategy="cos", div_factor=10.0, final_div_factor=100.0)
    y_all = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    n = len(y_all)
    order = torch.randperm(n, generator=gen)
    pos = 0
    t0 = time.time()
    for step in range(steps):
        if pos + min(batch_size, n) > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch_size]
        pos += len(idx)
        idx_np = np.sort(idx.numpy())  # sorted: memmap / file reads stay sequential
        x = to_input(images[idx_np], img_size, device)
        y = y_all[idx_np].to(device)
        x = random_shift(x, max_shift, gen)
        if hflip:
            flip = torch.rand(len(x), generator=gen) < 0.5
            x[flip.to(device)] = x[flip.to(device)].flip(-1)
        loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"{desc} step {step + 1}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    return model


def predict_logits(model, images, *, img_size: int, batch_size: int, device: str, indices=None, progress=None):
    """Logits (float32 numpy) for images[indices] in fixed batches, in eval mode."""
    import torch

    model.to(device).eval()
    n = len(images) if indices is None else len(indices)
    out = []
    starts = range(0, n, batch_size)
    if progress is not None:
        starts = progress(starts)
    with torch.inference_mode():
        for s in starts:
            sel = slice(s, s + batch_size) if indices is None else indices[s:s + batch_size]
            x = to_input(images[sel], img_size, device)
            out.append(model(x).float().cpu().numpy())
    k = model.num_classes if hasattr(model, "num_classes") else None
    return np.concatenate(out) if out else np.zeros((0, k or 0), np.float32)


def accuracy(model, images, labels, *, img_size: int, device: str, batch_size=512) -> float:
    logits = predict_logits(model, images, img_size=img_size, batch_size=batch_size, device=device)
    return float((logits.argmax(1) == np.asarray(labels)).mean())
