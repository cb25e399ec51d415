"""Shared helpers for the stage scripts: paths, errors, torch setup, models, the train loop.

Every stage script (pools, train_teacher, score_pool, selection, build_payload,
train_student, demo) imports this module and nothing else from the pipeline except
the stages it reads files from. Teacher and student use the same `fit` loop on purpose:
the only differences between them are the data they see and the knobs they get.

Checkpoints hold plain types and tensors only and load with torch.load(weights_only=True)
(`save_checkpoint` / `load_checkpoint`): a checkpoint file is data, never code.
"""

from __future__ import annotations

import hashlib
import io
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


def write_bytes_atomic(path, data: bytes) -> None:
    """Write a whole file or nothing: a temp file in the same directory, then os.replace.

    open()'s default mode, so the file gets the normal 0666 & ~umask permissions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_json(path, obj) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


# -----------------------------------------------------------------------------
# checkpoints: plain types and tensors only, so that loading one never runs code

_PLAIN = (type(None), bool, int, float, str)


def _check_plain(v, where: str) -> None:
    import torch

    if isinstance(v, (_PLAIN, torch.Tensor, torch.Size)):
        return
    if isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, (str, int)):
                raise PipelineError(f"checkpoint key {where}[{k!r}]: expected a str or int key, got {type(k).__name__}")
            _check_plain(x, f"{where}[{k!r}]")
        return
    if isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _check_plain(x, f"{where}[{i}]")
        return
    raise PipelineError(f"checkpoint value {where}: expected plain types and tensors, got {type(v).__name__} "
                        "(torch.load(weights_only=True) would refuse the file)")


def save_checkpoint(path, ckpt: dict) -> None:
    """torch.save a dict of plain types and tensors, atomically; the same dict gives the same bytes.

    Top-level numpy arrays are stored as tensors (their keys listed under 'numpy_keys', so
    load_checkpoint hands numpy back) and numpy scalars as Python numbers; anything else
    that torch.load(weights_only=True) would refuse is an error here, at save time.
    """
    import torch

    plain, numpy_keys = {}, []
    for k, v in ckpt.items():
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf":
                raise PipelineError(f"checkpoint value [{k!r}]: expected a numeric array, got dtype {v.dtype}")
            v = torch.from_numpy(np.ascontiguousarray(v))
            numpy_keys.append(k)
        elif isinstance(v, np.generic):
            v = v.item()
        _check_plain(v, f"[{k!r}]")
        plain[k] = v
    plain["numpy_keys"] = tuple(numpy_keys)
    buf = io.BytesIO()
    torch.save(plain, buf)  # to memory: torch.save(obj, path) writes the file name into the archive
    write_bytes_atomic(path, buf.getvalue())


def load_checkpoint(path) -> dict:
    """A checkpoint dict, loaded with torch.load(weights_only=True) on the CPU.

    A file that needs unsafe unpickling (it carries Python objects, not only tensors and
    plain types: e.g. one written by torch.save of a model or of numpy arrays) is refused.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message: "... WeightsUnpickler error: <reason>\n\nCheck the documentation ..."
        why = str(exc).partition("WeightsUnpickler error:")[2].strip().split("\n\n")[0] or str(exc)
        if "Unsupported global" not in why:  # junk bytes also end up in the (legacy) unpickler
            raise PipelineError(f"checkpoint {path}: not a readable torch checkpoint ({why})") from exc
        raise PipelineError(f"checkpoint {path}: refused, it needs unsafe unpickling (only tensors and plain types "
                            f"load; write checkpoints with common.save_checkpoint): {why}") from exc
    except Exception as exc:  # a truncated or foreign file: torch raises RuntimeError and friends
        raise PipelineError(f"checkpoint {path}: not a readable torch checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(ckpt, dict):
        raise PipelineError(f"checkpoint {path}: expected a dict, got {type(ckpt).__name__}")
    for k in ckpt.pop("numpy_keys", ()):
        ckpt[k] = ckpt[k].numpy()
    return ckpt


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


# NHWC activations: tensor-core convolutions want them on CUDA, and on the project's 2-core
# CPU (oneDNN) they made plada_cnn train steps 24-26 % and eval forwards 2x faster (README)
CHANNELS_LAST = True

# input normalisation: (mean, std) per channel on x / 255
PM1 = ((0.5,), (0.5,))   # pixels to [-1, 1]: the demo's measured choice for models trained from scratch
NORMS = ("auto", "timm", "pm1")


def input_norm(model, norm: str, pretrained: bool, in_chans: int) -> tuple:
    """(mean, std) for a model's inputs; recorded in its checkpoint and applied by to_input.

    auto: timm's data config when the model starts from pretrained weights (they were
    trained with that normalisation), else PM1 (the pools are not natural RGB images, so a
    model trained from scratch gains nothing from ImageNet statistics). timm: always
    timm's data config. pm1: always PM1. A 1-channel model gets the mean of the RGB
    values (timm adapts an RGB stem to 1 channel by summing its filters over R, G, B).
    """
    if norm not in NORMS:
        raise PipelineError(f"normalisation {norm!r}: expected one of {', '.join(NORMS)}")
    if norm == "pm1" or (norm == "auto" and not pretrained):
        return PM1
    from timm.data import resolve_model_data_config

    cfg = resolve_model_data_config(model)
    mean, std = tuple(float(v) for v in cfg["mean"]), tuple(float(v) for v in cfg["std"])
    if in_chans == 1 and len(mean) > 1:
        mean, std = (sum(mean) / len(mean),), (sum(std) / len(std),)
    if len(mean) != in_chans:
        raise PipelineError(f"timm data config of the model has {len(mean)} channel means, the model takes {in_chans}")
    return mean, std


def amp_dtype(device: str, amp: str = "auto"):
    """The autocast dtype for training and inference, or None for float32.

    auto: bfloat16 on CUDA GPUs that support it (no loss scaling needed), float16 (with a
    GradScaler in fit) on older ones, None on the CPU (CPU autocast is slower for these
    small convnets on most CPUs and would change the demo's numbers).
    """
    import torch

    choices = {"auto", "off", "bf16", "fp16"}
    if amp not in choices:
        raise PipelineError(f"amp {amp!r}: expected one of {', '.join(sorted(choices))}")
    cuda = str(device).startswith("cuda")
    if amp == "off" or (amp == "auto" and not cuda):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16


def to_uint8_nchw(batch, device):
    """uint8 numpy (B,H,W) / (B,H,W,C), or a uint8 torch (B,C,H,W) batch -> uint8 (B,C,H,W) on device."""
    import torch

    if isinstance(batch, torch.Tensor):
        if batch.dtype != torch.uint8 or batch.ndim != 4:
            raise PipelineError(f"input batch: expected a uint8 tensor (B, C, H, W), got {batch.dtype} "
                                f"{tuple(batch.shape)}")
        return batch.to(device, non_blocking=True)
    a = np.asarray(batch)
    if a.dtype != np.uint8 or a.ndim not in (3, 4):
        raise PipelineError(f"input batch: expected a uint8 array (B, H, W) or (B, H, W, C), got {a.dtype} {a.shape}")
    x = torch.from_numpy(np.array(a, order="C")).to(device)  # a copy: memmaps are read-only
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)


# ITU-R 601-2 luma, the weights of Pillow's RGB -> "L" conversion
LUMA = (0.299, 0.587, 0.114)


def to_input(batch, img_size: int, device, mean=PM1[0], std=PM1[1], in_chans: int | None = None):
    """uint8 images (see to_uint8_nchw) -> float32 (B,C,img_size,img_size): per channel (x/255 - mean)/std.

    A length-1 mean/std applies to every channel. Resized with antialiased bilinear
    interpolation when the native size differs from img_size. With `in_chans`, the
    channels are adapted to the model's: grey is repeated into RGB, RGB becomes grey by
    luma. Why: a task and its pool need not agree (a grey task's teacher scoring an RGB
    ImageFolder such as ImageNet-21K, an RGB-pool student evaluated on the grey task).
    """
    import torch
    import torch.nn.functional as F

    x = to_uint8_nchw(batch, device).float()
    c = x.shape[1]
    if in_chans is not None and c != in_chans:
        if c == 1:
            x = x.expand(-1, in_chans, -1, -1)
        elif c == 3 and in_chans == 1:
            x = (x * torch.tensor(LUMA, device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        else:
            raise PipelineError(f"input batch has {c} channels, the model takes {in_chans} "
                                "(only 1 <-> 3 channels can be adapted)")
        c = in_chans
    if len(mean) not in (1, c) or len(std) not in (1, c):
        raise PipelineError(f"normalisation has {len(mean)} means and {len(std)} stds, the input has {c} channels "
                            "(expected 1 or one per channel)")
    m = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    x = x.div(255).sub_(m).div_(s)
    if x.shape[-1] != img_size or x.shape[-2] != img_size:
        x = F.interpolate(x, size=(img_size, img_size), mode="bilinear", align_corners=False, antialias=True)
    return x


def random_shift(x, max_shift: int, gen):
    """Translate each uint8 image by up to max_shift pixels, filling with black (pixel 0)."""
    import torch
    import torch.nn.functional as F

    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    pad = F.pad(x, (max_shift,) * 4, value=0)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :]).to(x.device)  # (b, h)
    cols = (dx[:, None] + torch.arange(w)[None, :]).to(x.device)  # (b, w)
    bi = torch.arange(b, device=x.device)[:, None, None]
    out = pad.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]]  # (b, h, w, c)
    return out.permute(0, 3, 1, 2).contiguous()


class ArrayPool:
    """Just enough of a Pool for data.PoolDataset over in-memory arrays (a task's target-train split)."""

    def __init__(self, images: np.ndarray):
        self.images = images

    def __len__(self):
        return len(self.images)

    def rows(self, pos) -> np.ndarray:
        return np.array(self.images[pos])

    @property
    def channels(self) -> int:
        return 1 if self.images.ndim == 3 else self.images.shape[3]


def _seed(*parts) -> int:
    """A well-mixed 63-bit seed from small integers (numpy's SeedSequence hashing)."""
    return int(np.random.SeedSequence(parts).generate_state(2, np.uint64)[0] >> np.uint64(1))


class StepBatches:
    """The batches of steps start .. stop-1, as a torch batch_sampler.

    Epoch e is a permutation of the n items seeded by (seed, e), cut into n // batch_size
    full batches (the tail is dropped: every step sees batch_size items). Each batch is
    sorted so that memmap and file reads stay sequential. A pure function of
    (n, batch_size, seed, step): a resumed run sees exactly the batches an uninterrupted
    run would have, with no sampler state to save.
    """

    def __init__(self, n: int, batch_size: int, seed: int, start: int, stop: int):
        self.n, self.bs, self.seed, self.start, self.stop = n, min(batch_size, n), seed, start, stop

    def __len__(self):
        return self.stop - self.start

    def __iter__(self):
        per_epoch = self.n // self.bs
        epoch, perm = -1, None
        for step in range(self.start, self.stop):
            e, b = divmod(step, per_epoch)
            if e != epoch:
                epoch, perm = e, np.random.default_rng(_seed(self.seed, e)).permutation(self.n)
            yield np.sort(perm[b * self.bs:(b + 1) * self.bs]).tolist()


TRAIN_STATE = "plada-train-state-1"   # the 'format' of a resume checkpoint written by fit


def _train_state(step, run, model, opt, sched, scaler) -> dict:
    import torch

    return dict(format=TRAIN_STATE, step=step, run=run, model=model.state_dict(), optimizer=opt.state_dict(),
                scheduler=sched.state_dict(), scaler=scaler.state_dict(), rng_cpu=torch.get_rng_state(),
                rng_cuda=list(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else [])


def _restore(path, run, model, opt, sched, scaler) -> int:
    """Load a resume checkpoint into model, optimizer, scheduler, scaler and RNG; the step to go on from."""
    import torch

    state = load_checkpoint(path)
    if state.get("format") != TRAIN_STATE:
        raise PipelineError(f"--resume {path}: expected a training-state checkpoint ({TRAIN_STATE}), "
                            f"got format {state.get('format')!r}")
    for k, v in run.items():
        if state["run"].get(k) != v:
            raise PipelineError(f"--resume {path}: this run has {k} = {v!r}, the checkpoint {state['run'].get(k)!r}")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["rng_cpu"])
    if state["rng_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    return int(state["step"])


def _item_weights(weights, n: int, desc: str):
    """Per-item weights as a float32 tensor rescaled to mean 1; finite, >= 0, not all 0, one per item."""
    import torch

    w = np.asarray(weights, np.float64)
    if w.shape != (n,):
        raise PipelineError(f"{desc}: expected one weight per training item ({n}), got shape {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise PipelineError(f"{desc}: weight of item {bad[0]} is {float(w[bad[0]])}, expected a finite number >= 0")
    if w.sum() <= 0:
        raise PipelineError(f"{desc}: all {n} weights are 0")
    return torch.from_numpy((w * (n / w.sum())).astype(np.float32))


def fit(model, dataset, labels, *, steps: int, batch_size: int, lr: float, weight_decay: float,
        img_size: int, max_shift: int, hflip: bool, seed: int, device: str, mean=PM1[0], std=PM1[1],
        label_smoothing=0.0, workers: int | None = 0, amp: str = "auto", checkpoint=None, checkpoint_every: int = 0,
        resume: bool = False, desc="train", log_every=0, weights=None):
    """AdamW + cosine schedule (the paper's student recipe) for a fixed number of steps.

    Steps rather than epochs: at 1 % keep the student sees ~1,200 images, and a fixed
    step budget keeps tiny and large selections comparable in both compute and fit.
    `dataset` yields uint8 items (data.PoolDataset); they are read batch by batch
    through data.make_loader and augmented on the device (random shift, horizontal
    flip), seeded per step so that a resumed run equals an uninterrupted one.
    With `checkpoint` and `checkpoint_every`, the training state (model, optimizer,
    scheduler, grad scaler, RNG, step) is saved every that many steps and at the end;
    `resume` continues from it when the file exists (else starts fresh).
    `weights`: optional per-item importance weights (weighting.py); the loss is then the
    weighted mean of the per-item cross-entropy, the weights rescaled to mean 1 over the
    items so that lr means the same. None: the plain mean, exactly as without the argument.
    """
    import torch
    import torch.nn.functional as F

    from .data import make_loader

    n = len(dataset)
    y_all = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if n == 0 or len(y_all) != n:
        raise PipelineError(f"{desc}: expected one label per training item and at least one item, "
                            f"got {n} items and {len(y_all)} labels")
    if steps < 1 or batch_size < 1 or checkpoint_every < 0:
        raise PipelineError(f"{desc}: steps and batch size must be >= 1 and checkpoint_every >= 0, "
                            f"got {steps}, {batch_size}, {checkpoint_every}")
    w_all = None if weights is None else _item_weights(weights, n, desc)
    if (resume or checkpoint_every) and not checkpoint:
        raise PipelineError(f"{desc}: --resume and --checkpoint-every need a --checkpoint file")
    dtype = amp_dtype(device, amp)
    model.to(device)
    if CHANNELS_LAST:
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1,
                                                anneal_strategy="cos", div_factor=10.0, final_div_factor=100.0)
    # float16 gradients underflow without loss scaling; bfloat16 and float32 need none
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    data_sha = hashlib.sha256(y_all.numpy().tobytes())
    if getattr(dataset, "indices", None) is not None:
        data_sha.update(np.asarray(dataset.indices, np.int64).tobytes())
    if w_all is not None:  # only then, so that an unweighted run keeps its resume identity
        data_sha.update(w_all.numpy().tobytes())
    run = dict(desc=desc, n=n, data_sha256=data_sha.hexdigest(), steps=steps, batch_size=batch_size, lr=lr,
               weight_decay=weight_decay, seed=seed, label_smoothing=label_smoothing, max_shift=max_shift,
               hflip=bool(hflip), img_size=img_size, mean=tuple(mean), std=tuple(std))
    start = 0
    if resume and checkpoint and Path(checkpoint).is_file():
        start = _restore(checkpoint, run, model, opt, sched, scaler)
        if log_every:
            print(f"{desc}: resumed from {checkpoint} at step {start}/{steps}", flush=True)
    model.train()
    loader = make_loader(dataset, batch_size=batch_size, workers=workers, device=device, seed=seed,
                         batch_sampler=StepBatches(n, batch_size, seed, start, steps))
    t0 = time.time()
    for step, (x8, j) in enumerate(loader, start):
        gen = torch.Generator().manual_seed(_seed(seed, step))
        x8 = random_shift(x8.to(device, non_blocking=True), max_shift, gen)
        if hflip:
            flip = (torch.rand(len(x8), generator=gen) < 0.5).to(device)
            x8 = torch.where(flip[:, None, None, None], x8.flip(-1), x8)
        x = to_input(x8, img_size, device, mean, std)
        if CHANNELS_LAST:
            x = x.contiguous(memory_format=torch.channels_last)
        y = y_all[j].to(device, non_blocking=True)
        with torch.autocast(device_type="cuda" if str(device).startswith("cuda") else "cpu", dtype=dtype,
                            enabled=dtype is not None):
            if w_all is None:
                loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
            else:  # mean of w * CE over the batch: an unbiased estimate of the weighted mean over the items
                ce = F.cross_entropy(model(x), y, reduction="none", label_smoothing=label_smoothing)
                loss = (ce * w_all[j].to(device, non_blocking=True)).mean()
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        done = step + 1
        if checkpoint and checkpoint_every and (done % checkpoint_every == 0 or done == steps):
            save_checkpoint(checkpoint, _train_state(done, run, model, opt, sched, scaler))
        if log_every and (step % log_every == 0 or done == steps):
            print(f"{desc} step {done}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    return model


def predict_logits(model, images, *, img_size: int, batch_size: int, device: str, mean=PM1[0], std=PM1[1],
                   indices=None, progress=None, amp: str = "auto", in_chans: int | None = None):
    """Logits (float32 numpy) for images[indices] in fixed batches, in eval mode."""
    import torch

    model.to(device).eval()
    if CHANNELS_LAST:
        model.to(memory_format=torch.channels_last)
    dtype = amp_dtype(device, amp)
    n = len(images) if indices is None else len(indices)
    out = []
    starts = range(0, n, batch_size)
    if progress is not None:
        starts = progress(starts)
    with torch.inference_mode(), torch.autocast(device_type="cuda" if str(device).startswith("cuda") else "cpu",
                                                dtype=dtype, enabled=dtype is not None):
        for s in starts:
            sel = slice(s, s + batch_size) if indices is None else indices[s:s + batch_size]
            x = to_input(images[sel], img_size, device, mean, std, in_chans)
            if CHANNELS_LAST:
                x = x.contiguous(memory_format=torch.channels_last)
            out.append(model(x).float().cpu().numpy())
    k = model.num_classes if hasattr(model, "num_classes") else None
    return np.concatenate(out) if out else np.zeros((0, k or 0), np.float32)


def accuracy(model, images, labels, *, img_size: int, device: str, mean=PM1[0], std=PM1[1], batch_size=512,
             in_chans: int | None = None) -> float:
    logits = predict_logits(model, images, img_size=img_size, batch_size=batch_size, device=device, mean=mean, std=std,
                            in_chans=in_chans)
    return float((logits.argmax(1) == np.asarray(labels)).mean())
