"""Synthetic score files at ImageNet-21K scale, clustered like its synsets.

Writes what score_pool writes (same keys in the same order, same dtypes) for a pool that
does not exist, so that selection and build_payload can be run and measured at
14,197,122 items without 14 M images and a teacher. The scores are not uniform noise:
selection rules and the codec behave very differently on clustered data, so the model
copies the structure a real teacher produces on ImageNet-21K.

Model (every number is a knob below):
  Pool     `--items` images in `--synsets` synsets (21,841 in IN-21K), stored synset
           after synset like an ImageFolder in folder order. Synset sizes have a long
           tail: lognormal weights (median ~500, clipped at 3,000), scaled so that the
           sizes sum to exactly `--items`, at least 1 image each.
  Related  RELATED_FRAC of the synsets are semantically related to the task; they come
           in runs of a few neighbouring synsets (folder order is WordNet order, which
           keeps kin such as dog breeds together). Each related synset stands for one task
           class, cycling through a seeded permutation of the classes (with fewer related
           synsets than classes, some classes have none, as with a task IN-21K barely
           covers).
  Unrelated  every other synset's dominant class is drawn from a Zipf law over a seeded
           permutation of the classes: a few "attractor" classes collect most of the
           out-of-domain images (the demo's teacher calls glyphs "Sandal").
  Labels   an image carries its synset's dominant class with the synset's purity
           (related 0.85-0.99, unrelated 0.2-0.8), otherwise half the time the synset's
           second class and half the time a uniform class.
  Logits   per image, a top logit b + g over C - 1 equal logits b: g >= 0 is the top-1
           minus top-2 margin, b an offset. g = log(C-1) + the log-odds of the top class,
           so a log-odds means the same confidence at any C. Each synset has its own mean
           log-odds and b (related: confident, b large; unrelated: unsure, b small; spread
           SYNSET_SD), each image adds Gaussian noise, and an image not labelled with its
           synset's dominant class loses OFF_LABEL_MARGIN (off-label images are the
           ambiguous ones). From these logits, with T = 1:
             energy  = -(b + g + log(1 + (C-1) e^-g))
             entropy = log(1 + (C-1) e^-g) + (1 - p) g,   p = 1 / (1 + (C-1) e^-g)
             margin  = g
           Energy and entropy agree on confidence but not on the offset b, so the
           lowest-energy and lowest-entropy rules pick different, overlapping sets.
  Reference  ref_energy/ref_labels stand for the teacher's own target-train images:
           REF_MIN..REF_MAX images per class, distributed like a related synset with
           REF_MARGIN_BONUS more margin (the teacher was trained on them).
  Other keys  T = 1, num_classes = C, pool_spec "synthetic:...", pool_digest = SHA-256
           of the pool_spec text (the pool is its layout), teacher_acc = NaN (there is no
           teacher), classes = "class0000".. names.

Left out on purpose: duplicates and near-duplicates across synsets, images whose class
has nothing to do with their synset, and any structure of the logits beyond top-1
vs the rest; selection only sees labels and scalar scores, and the codec only sees
which items are kept and their labels.

Determinism: synset parameters come from Generator([seed, 0]), item chunk i of CHUNK
items from Generator([seed, 1, i]), the reference set from Generator([seed, 2]); same
arguments -> the same bytes (npzio.save_npz). Memory: the output arrays (20 bytes per
item, as score_pool writes them) plus one chunk's temporaries (~100 MB).

Usage:  python -m reference_pipeline.synth_scores --items 14197122 --classes 101 --out scores.npz --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import sys

import numpy as np

from .common import PipelineError
from .npzio import save_npz

# -----------------------------------------------------------------------------
# knobs

IN21K_ITEMS = 14_197_122
IN21K_SYNSETS = 21_841
SIZE_LOG_MEDIAN = 500.0     # synset sizes: lognormal weights with this median ...
SIZE_LOG_SIGMA = 1.0        # ... and this log-sd (long tail: many ~1,000, some a handful)
SIZE_CLIP = 3000.0          # ... clipped (IN-21K synsets stop at a few thousand images)
RELATED_FRAC = 0.04         # share of synsets related to the task
RELATED_RUN = 5.0           # mean length of a run of neighbouring related synsets
ATTRACTOR_ZIPF = 1.2        # unrelated synsets' dominant class ~ 1/rank**s over permuted classes
PURITY_RELATED = (0.85, 0.99)
PURITY_UNRELATED = (0.2, 0.8)
CONF_RELATED = 3.0          # mean log-odds of the top class of a related synset (p ~ 0.95) ...
CONF_UNRELATED = -1.0       # ... and of an unrelated one (p ~ 0.27); margin g = log(C-1) + log-odds
OFFSET_RELATED = 4.0        # mean logit offset b of a related synset
OFFSET_UNRELATED = 1.0
SYNSET_SD = 1.0             # spread of a synset's mean margin and offset
IMAGE_SD = 1.5              # per-image noise of the margin (the offset gets IMAGE_SD / 2)
OFF_LABEL_MARGIN = 2.0      # margin lost by an image not labelled with its synset's class
REF_MIN, REF_MAX = 20, 100  # target-train images per class behind ref_energy
REF_MARGIN_BONUS = 1.0
CHUNK = 1 << 20             # items generated per step (bounds the temporaries)


def logit_scores(g, b, num_classes: int):
    """(energy, entropy) of logits [b + g, b, ..., b] (C entries), float64, T = 1."""
    t = np.log1p((num_classes - 1) * np.exp(-g))   # log(sum exp(logits - top logit))
    p = np.exp(-t)                                  # softmax probability of the top class
    return -(b + g + t), t + (1.0 - p) * g


def synset_sizes(items: int, synsets: int, rng) -> np.ndarray:
    """Long-tailed sizes, >= 1 each, summing to exactly `items`."""
    w = np.minimum(rng.lognormal(np.log(SIZE_LOG_MEDIAN), SIZE_LOG_SIGMA, synsets), SIZE_CLIP)
    share = w * (items - synsets) / w.sum()
    sizes = 1 + np.floor(share).astype(np.int64)
    # hand the rounding remainder to the largest fractional parts (ties: lower synset)
    left = items - int(sizes.sum())
    sizes[np.argsort(-(share - np.floor(share)), kind="stable")[:left]] += 1
    return sizes


def synset_params(synsets: int, num_classes: int, rng) -> dict:
    """Per synset: related?, dominant and second class, purity, mean margin and offset."""
    related = np.zeros(synsets, bool)
    target = max(1, round(RELATED_FRAC * synsets))
    while related.sum() < target:   # runs of neighbours until the share is reached
        start = int(rng.integers(synsets))
        related[start:start + int(rng.geometric(1.0 / RELATED_RUN))] = True
    rel = np.flatnonzero(related)
    unrel = np.flatnonzero(~related)
    main = np.zeros(synsets, np.int64)
    main[rel] = rng.permutation(num_classes)[np.arange(len(rel)) % num_classes]
    zipf = 1.0 / np.arange(1, num_classes + 1) ** ATTRACTOR_ZIPF
    attractors = rng.permutation(num_classes)
    main[unrel] = attractors[rng.choice(num_classes, len(unrel), p=zipf / zipf.sum())]
    second = (main + rng.integers(1, num_classes, synsets)) % num_classes   # never the main class
    purity = np.where(related, rng.uniform(*PURITY_RELATED, synsets), rng.uniform(*PURITY_UNRELATED, synsets))
    conf = np.where(related, CONF_RELATED, CONF_UNRELATED) + SYNSET_SD * rng.standard_normal(synsets)
    margin = np.log(num_classes - 1) + conf
    offset = np.where(related, OFFSET_RELATED, OFFSET_UNRELATED) + SYNSET_SD * rng.standard_normal(synsets)
    return dict(related=related, main=main, second=second, purity=purity, margin=margin, offset=offset)


def synth_scores(items: int = IN21K_ITEMS, num_classes: int = 101, seed: int = 0, synsets: int | None = None) -> dict:
    """The arrays of a synthetic scores file (see the module doc for the model).

    `synsets` defaults to IN-21K's mean synset size (~650 items) at any pool size.
    """
    if items < 1:
        raise PipelineError(f"--items must be >= 1, got {items}")
    if num_classes < 2:
        raise PipelineError(f"--classes must be >= 2 (a task has at least two classes), got {num_classes}")
    if synsets is None:
        synsets = max(1, round(items * IN21K_SYNSETS / IN21K_ITEMS))
    synsets = min(synsets, items)
    if synsets < 1:
        raise PipelineError(f"--synsets must be >= 1, got {synsets}")
    rng = np.random.default_rng([seed, 0])
    starts = np.concatenate([[0], np.cumsum(synset_sizes(items, synsets, rng))[:-1]])
    sp = synset_params(synsets, num_classes, rng)

    labels = np.empty(items, np.int64)      # score_pool's dtypes: int64 labels, float32 scores
    energy = np.empty(items, np.float32)
    entropy = np.empty(items, np.float32)
    margin = np.empty(items, np.float32)
    for i, lo in enumerate(range(0, items, CHUNK)):
        hi = min(items, lo + CHUNK)
        r = np.random.default_rng([seed, 1, i])
        s = np.searchsorted(starts, np.arange(lo, hi), side="right") - 1
        u = r.random(hi - lo)
        pur = sp["purity"][s]
        lab = np.where(u < pur, sp["main"][s],
                       np.where(u < (1 + pur) / 2, sp["second"][s], r.integers(0, num_classes, hi - lo)))
        g = sp["margin"][s] + IMAGE_SD * r.standard_normal(hi - lo) - OFF_LABEL_MARGIN * (lab != sp["main"][s])
        b = sp["offset"][s] + IMAGE_SD / 2 * r.standard_normal(hi - lo)
        g = np.maximum(g, 0.0)
        e, h = logit_scores(g, b, num_classes)
        labels[lo:hi], energy[lo:hi], entropy[lo:hi], margin[lo:hi] = lab, e, h, g

    r = np.random.default_rng([seed, 2])
    ref_labels = np.repeat(np.arange(num_classes), r.integers(REF_MIN, REF_MAX + 1, num_classes))
    g = np.log(num_classes - 1) + CONF_RELATED + REF_MARGIN_BONUS + SYNSET_SD * r.standard_normal(len(ref_labels))
    b = OFFSET_RELATED + SYNSET_SD * r.standard_normal(len(ref_labels))
    ref_energy, _ = logit_scores(np.maximum(g, 0.0), b, num_classes)

    spec = f"synthetic:items={items},synsets={synsets},seed={seed}"
    return dict(labels=labels, energy=energy, entropy=entropy, margin=margin, T=np.float64(1.0), num_classes=np.int64(num_classes),
                ref_energy=ref_energy.astype(np.float32), ref_labels=ref_labels.astype(np.int64),
                pool_digest=np.frombuffer(hashlib.sha256(spec.encode()).digest(), np.uint8), pool_spec=np.str_(spec),
                teacher_acc=np.float64("nan"), classes=np.array([f"class{c:04d}" for c in range(num_classes)]))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.synth_scores", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--items", type=int, default=IN21K_ITEMS, help="pool size N (default: ImageNet-21K's)")
    ap.add_argument("--classes", type=int, default=101, help="task classes C")
    ap.add_argument("--synsets", type=int, default=None,
                    help="synsets the pool is made of (default: --items / ~650, 21,841 for IN-21K)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="scores .npz to write")
    a = ap.parse_args(argv)
    scores = synth_scores(a.items, a.classes, a.seed, a.synsets)
    save_npz(a.out, **scores)
    print(f"synthetic scores: {scores['pool_spec']}, C={a.classes} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
