"""The built-in target tasks and the leakage check between a task's test split and a pool.

Every task is real data already on disk (Debian packages, scikit-learn's bundled
digits); nothing is downloaded. A task is a dict of uint8 28x28 images and int64
labels:  train_x, train_y (the server's labelled target-train split),
test_x, test_y (target-test, used only to evaluate), classes (names), hflip (whether
a horizontal flip is a label-preserving augmentation: clothes yes, digits no).

  fashion     Fashion-MNIST official test images 0-4,999 -> train, 5,000-9,999 -> test
  fashion-lt  the same train images thinned to a long tail (class c keeps a fraction
              IMBALANCE**(-rank/9) of its images; rank from a seeded class permutation,
              so the head class keeps all, the tail class 1/50), balanced test
  digits      scikit-learn's 1,797 8x8 digits, upscaled to 20x20 and centred in 28x28
              (the MNIST layout), shuffled with a fixed seed and split half/half
"""

from __future__ import annotations

import hashlib

import numpy as np

from .common import PipelineError
from .pools import load_fashion

TASKS = ("fashion", "fashion-lt", "digits")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMBALANCE = 50.0     # head/tail ratio of fashion-lt's train split
SPLIT_SEED = 7       # fixed: the tasks are part of the benchmark definition


def load_task(name: str) -> dict:
    if name in ("fashion", "fashion-lt"):
        x, y = load_fashion("t10k")
        task = dict(name=name, train_x=x[:5000], train_y=y[:5000], test_x=x[5000:], test_y=y[5000:],
                    classes=FASHION_CLASSES, hflip=True)
        if name == "fashion-lt":
            rng = np.random.default_rng(SPLIT_SEED)
            rank = rng.permutation(10)  # class c is the rank[c]-th most frequent
            keep = np.zeros(5000, bool)
            for c in range(10):
                idx = np.flatnonzero(task["train_y"] == c)
                n = max(1, int(round(len(idx) * IMBALANCE ** (-rank[c] / 9))))
                keep[idx[:n]] = True
            task["train_x"], task["train_y"] = task["train_x"][keep], task["train_y"][keep]
        return task
    if name == "digits":
        from PIL import Image
        from sklearn.datasets import load_digits

        d = load_digits()
        imgs = np.zeros((len(d.images), 28, 28), np.uint8)
        for i, im in enumerate(d.images):
            small = Image.fromarray(np.round(im * (255 / 16)).astype(np.uint8))
            imgs[i, 4:24, 4:24] = np.asarray(small.resize((20, 20), Image.BILINEAR))
        order = np.random.default_rng(SPLIT_SEED).permutation(len(imgs))
        half = len(imgs) // 2
        tr, te = order[:half], order[half:]
        y = d.target.astype(np.int64)
        return dict(name=name, train_x=imgs[tr], train_y=y[tr], test_x=imgs[te], test_y=y[te],
                    classes=tuple(str(i) for i in range(10)), hflip=False)
    raise PipelineError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")


# -----------------------------------------------------------------------------
# leakage: exact and near-duplicate matches of test images in the pool

def _coarse_hash(images: np.ndarray) -> np.ndarray:
    """A 49-bit average hash: 4x4 block means on a 7x7 grid, thresholded at their mean."""
    x = np.asarray(images, np.float32)
    if x.ndim == 4:
        x = x.mean(-1)
    n, h, w = x.shape
    x = x[:, : h // 4 * 4, : w // 4 * 4].reshape(n, h // 4, 4, w // 4, 4).mean((2, 4)).reshape(n, -1)
    bits = x > x.mean(1, keepdims=True)
    return np.packbits(bits, axis=1)


def leakage(test_x: np.ndarray, pool_images: np.ndarray, near_l1: float = 4.0, max_compare: int = 64) -> dict:
    """Count test images that are in the pool exactly or nearly.

    exact: identical pixels (SHA-256 of the raw bytes). near: same 49-bit average hash
    and mean absolute pixel difference < near_l1 (uint8 units) against one of the first
    `max_compare` pool items with that hash (the paper's Appendix A bucketing idea,
    with a perceptual hash as the bucket).
    """
    if pool_images is None or test_x.shape[1:] != pool_images.shape[1:]:
        return dict(exact=None, near=None, n_test=len(test_x), note="shapes differ; not checked")
    pool_sha = {hashlib.sha256(np.ascontiguousarray(im).tobytes()).digest() for im in pool_images}
    exact = sum(hashlib.sha256(np.ascontiguousarray(im).tobytes()).digest() in pool_sha for im in test_x)
    buckets: dict = {}
    for i, h in enumerate(_coarse_hash(pool_images)):
        lst = buckets.setdefault(h.tobytes(), [])
        if len(lst) < max_compare:
            lst.append(i)
    near = 0
    for im, h in zip(test_x, _coarse_hash(test_x)):
        cand = buckets.get(h.tobytes())
        if cand:
            d = np.abs(np.asarray(pool_images[cand], np.int16) - im.astype(np.int16)).reshape(len(cand), -1).mean(1)
            near += bool((d < near_l1).any())
    return dict(exact=int(exact), near=int(near), n_test=len(test_x))
