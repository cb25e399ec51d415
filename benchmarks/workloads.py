"""Benchmark workloads: deterministic (indices, labels) selections of a reference pool.

Every workload is a frozen :class:`Workload` whose ``generate()`` returns
``(indices, labels)``: ``indices`` sorted, strictly increasing int64 in [0, N),
``labels`` int64 in [0, C), both of length k = floor(keep * N) (the paper's rounding,
PAPER.md section 2.4).  Generation depends only on the workload's fields and seed.

Families
--------
uniform    k indices drawn uniformly without replacement from [0, N); labels i.i.d.,
           either uniform over C or Zipf (p_c proportional to 1/(c+1)^s, s = 1).
clustered  a synset-ordered pool of contiguous blocks; a few percent of blocks are
           "low energy" and hold most of the kept items; labels mostly constant within
           a block.  Exact model in :func:`_clustered` and benchmarks/README.md.
real       selections from the reference pipeline's score files (optional).
in21k-like the reference pipeline's own selection rules (stratified, lowest-energy,
           random) at 1 % of synthetic ImageNet-21K-sized scores
           (reference_pipeline.synth_scores, seed 0): the selections `plada` is for.
"""

from __future__ import annotations

import glob
import math
import os
from dataclasses import asdict, dataclass, field

import numpy as np

N_MNIST = 60_000
N_IN1K = 1_281_167
N_IN21K = 14_197_122
POOLS = {"60K": N_MNIST, "IN-1K": N_IN1K, "IN-21K": N_IN21K}
KEEPS = (0.001, 0.005, 0.01, 0.05, 0.10, 0.25, 0.50)
CLASS_COUNTS = (2, 10, 101, 1000)
ZIPF_S = 1.0


@dataclass(frozen=True)
class ClusterRegime:
    """Parameters of the clustered, synset-ordered selection model.

    block_min/block_max: block ("synset") sizes are i.i.d. uniform integers in this range,
        blocks laid out contiguously in pool order (the last one truncated at N).
    density: fraction of a selected block's items that are kept (on average; the kept
        items are drawn uniformly from the union of selected blocks).
    background: fraction of k drawn uniformly from the pool outside the selected blocks
        (isolated low-energy images in otherwise unselected synsets).
    purity: probability that a kept item's label is its block's dominant class; otherwise
        the label is uniform over C.  Dominant classes are uniform over C, i.i.d. per block.
    """

    name: str
    block_min: int
    block_max: int
    density: float
    background: float
    purity: float
    note: str = ""


# Three regimes.  "caltech" is calibrated (benchmarks.calibrate) so that the paper's best
# format (min of Compact-Idx+Zstd-19 and Bmp+Zstd-19) lands near the paper's Caltech-101
# figure at 1 % keep of IN-21K with C = 101: 148.91 KiB (Bmp) / 151.80 KiB (Idx).
REGIMES = {
    "tight": ClusterRegime("tight", 300, 1000, 0.50, 0.02, 0.98,
                           "dense blocks, almost pure labels"),
    "caltech": ClusterRegime("caltech", 300, 1000, 0.35, 0.30, 0.95,
                             "calibrated to the paper's Caltech-101 1 % IN-21K size"),
    "loose": ClusterRegime("loose", 300, 1000, 0.10, 0.80, 0.60,
                           "sparse blocks, mostly background, noisy labels"),
}


@dataclass(frozen=True)
class Workload:
    family: str            # "uniform" | "clustered" | "real" | "in21k-like"
    pool: str              # key of POOLS (or a file stem for "real")
    n: int
    keep: float
    classes: int
    labels: str = "uniform"  # "uniform" | "zipf" | "block" (clustered) | "real"
    regime: str = ""         # clustered regime name; in21k-like: the selection rule
    seed: int = 0
    source: str = ""         # real: path of the score file
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def k(self) -> int:
        if self.family == "real":
            return int(self.extra.get("k", 0))
        return int(math.floor(self.keep * self.n))

    @property
    def group(self) -> str:
        """Workload group: one results table per group (rows are keep rates)."""
        if self.family == "uniform":
            return f"uniform {self.pool} C={self.classes} {self.labels}"
        if self.family == "clustered":
            return f"clustered-{self.regime} {self.pool} C={self.classes}"
        if self.family == "in21k-like":
            return f"IN-21K-like synth_scores C={self.classes} {self.regime}"
        return f"real {self.pool}"

    @property
    def name(self) -> str:
        return f"{self.group} keep={self.keep * 100:g}%"

    def describe(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "extra"}
        d.update(name=self.name, group=self.group, k=self.k)
        if self.family == "clustered":
            d["regime_params"] = asdict(REGIMES[self.regime])
        return d

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        if self.family == "uniform":
            return _uniform(self)
        if self.family == "clustered":
            return _clustered(self)
        if self.family == "real":
            return _real(self)
        if self.family == "in21k-like":
            return _in21k_like(self)
        raise ValueError(self.family)


def _rng(w: Workload, salt: int) -> np.random.Generator:
    # Seed from the workload's identity so each case is reproducible on its own.
    key = [w.seed, salt, w.n, int(round(w.keep * 1e6)), w.classes,
           sum(map(ord, w.labels)), sum(map(ord, w.regime))]
    return np.random.default_rng(key)


def _iid_labels(rng: np.random.Generator, k: int, c: int, dist: str) -> np.ndarray:
    if dist == "uniform":
        return rng.integers(0, c, size=k, dtype=np.int64)
    if dist == "zipf":
        p = 1.0 / np.arange(1, c + 1, dtype=np.float64) ** ZIPF_S
        p /= p.sum()
        return rng.choice(c, size=k, p=p).astype(np.int64)
    raise ValueError(dist)


def _sample_sorted(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """k distinct sorted values from [0, n), uniformly."""
    if k == 0:
        return np.zeros(0, np.int64)
    if k * 4 < n:
        # Oversample then dedupe: much cheaper than a full permutation for small k.
        out = np.unique(rng.integers(0, n, size=k + k // 8 + 64, dtype=np.int64))
        while out.size < k:
            out = np.unique(np.concatenate([out, rng.integers(0, n, size=k, dtype=np.int64)]))
        if out.size > k:
            out = np.sort(rng.choice(out, size=k, replace=False))
        return out
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:k]] = True
    return np.flatnonzero(mask).astype(np.int64)


def _uniform(w: Workload):
    rng = _rng(w, 1)
    idx = _sample_sorted(rng, w.n, w.k)
    lab = _iid_labels(rng, w.k, w.classes, w.labels)
    return idx, lab


def block_layout(n: int, regime: ClusterRegime, seed: int) -> np.ndarray:
    """Block start offsets (plus a final n): synset-like contiguous blocks."""
    rng = np.random.default_rng([seed, 7, n, regime.block_min, regime.block_max])
    mean = (regime.block_min + regime.block_max) / 2
    sizes = rng.integers(regime.block_min, regime.block_max + 1,
                         size=int(n / mean * 1.2) + 16)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    starts = starts[starts < n]
    return np.concatenate([starts, [n]]).astype(np.int64)


def _clustered_plan(w: Workload):
    """Steps 1-3 of the clustered model: (block bounds, selected-block mask, rng, k_cl, k_bg)."""
    reg = REGIMES[w.regime]
    bounds = block_layout(w.n, reg, w.seed)
    nblocks = bounds.size - 1
    sizes = np.diff(bounds)
    rng = _rng(w, 2)
    k = w.k
    k_bg = int(round(reg.background * k))
    k_cl = k - k_bg
    # Select blocks in a random order until their capacity * density covers k_cl.
    order = rng.permutation(nblocks)
    cap = np.cumsum(sizes[order]) * reg.density
    nsel = min(nblocks, int(np.searchsorted(cap, k_cl)) + 1) if k_cl > 0 else 0
    sel = np.zeros(nblocks, dtype=bool)
    sel[order[:nsel]] = True
    in_sel = int(sizes[sel].sum())
    k_cl = min(k_cl, in_sel)
    k_bg = k - k_cl
    if k_bg > w.n - in_sel:  # never happens for keep <= 50 % with these regimes
        raise ValueError("clustered workload infeasible")
    return bounds, sel, rng, k_cl, k_bg


def _clustered(w: Workload):
    reg = REGIMES[w.regime]
    bounds, sel, rng, k_cl, k_bg = _clustered_plan(w)
    k = w.k
    in_sel = np.repeat(sel, np.diff(bounds))
    sel_items = np.flatnonzero(in_sel)
    rest = np.flatnonzero(~in_sel)
    a = sel_items[_sample_sorted(rng, sel_items.size, k_cl)]
    b = rest[_sample_sorted(rng, rest.size, k_bg)]
    idx = np.sort(np.concatenate([a, b])).astype(np.int64)
    dom = rng.integers(0, w.classes, size=bounds.size - 1, dtype=np.int64)
    block_of = np.searchsorted(bounds, idx, side="right") - 1
    lab = dom[block_of]
    noisy = rng.random(k) >= reg.purity
    lab[noisy] = rng.integers(0, w.classes, size=int(noisy.sum()), dtype=np.int64)
    return idx, lab


def clustered_model_bounds(w: Workload, idx: np.ndarray | None = None) -> dict:
    """What any coder can reach on a clustered workload, from the generating model.

    Z = (block layout, selected blocks, each block's dominant class). Given Z, the kept
    items are k_cl uniform picks from the selected blocks' S items and k_bg from the other
    N - S, and each label is the block's class with probability q = purity + (1-purity)/C,
    another given class with (1-purity)/C; so

        H(X | Z) = log2 C(S, k_cl) + log2 C(N-S, k_bg) + k * h(label),

    and since conditioning never increases entropy, H(X) >= H(X | Z): `lower_bits` is a
    lower bound on the expected size of any code for this workload, even one that knows
    the model.  `two_part_bits` adds a description of the part of Z the data needs (which
    blocks are selected, the class of every block holding a kept item, a size of up to
    log2(block range) bits per selected block): a code of about that size exists for a
    coder told the model, an upper reference for what an adaptive coder can hope for.
    """
    if w.family != "clustered":
        raise ValueError("clustered workloads only")
    reg = REGIMES[w.regime]
    bounds, sel, _, k_cl, k_bg = _clustered_plan(w)
    sizes = np.diff(bounds)
    s_items = int(sizes[sel].sum())
    c = w.classes
    q = reg.purity + (1 - reg.purity) / c
    r = (1 - reg.purity) / c
    h = -(q * math.log2(q) + ((c - 1) * r * math.log2(r) if r > 0 else 0.0))
    lower = log2_binom(s_items, k_cl) + log2_binom(w.n - s_items, k_bg) + w.k * h
    if idx is None:
        idx, _ = w.generate()
    blocks_hit = int(np.unique(np.searchsorted(bounds, idx, side="right") - 1).size)
    nsel = int(sel.sum())
    z = (log2_binom(sizes.size, nsel) + blocks_hit * math.log2(c)
         + nsel * math.log2(reg.block_max - reg.block_min + 1))
    return {"lower_bits": lower, "two_part_bits": lower + z, "label_bits_per_item": h,
            "selected_blocks": nsel, "blocks_with_items": blocks_hit}


# --------------------------------------------------------------------------- real
SCORE_GLOBS = ("reference_pipeline/**/*score*.npz", "reference_pipeline/**/*energ*.npz",
               "runs/**/*score*.npz")


def find_score_files(root: str) -> list[str]:
    out = []
    env = os.environ.get("PLADA_SCORES")
    if env:
        out += [p for p in env.split(os.pathsep) if p]
    for g in SCORE_GLOBS:
        out += glob.glob(os.path.join(root, g), recursive=True)
    # reference_pipeline.demo caches score_pool output as <PLADA_CACHE>/scores/<key>.npz
    cache = os.environ.get("PLADA_CACHE", os.path.join(os.path.expanduser("~"), ".cache",
                                                       "pladafmt"))
    out += glob.glob(os.path.join(cache, "scores", "*.npz"))
    return sorted(set(out))


def _score_arrays(path: str):
    z = np.load(path, allow_pickle=False)
    keys = set(z.files)
    score = next((z[k] for k in ("energy", "energies", "scores", "score") if k in keys), None)
    label = next((z[k] for k in ("labels", "label", "pseudo_labels", "pred", "preds")
                  if k in keys), None)
    if score is None or label is None:
        raise KeyError(f"{path}: need an energy/score array and a label array, has {sorted(keys)}")
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    label = np.asarray(label).reshape(-1).astype(np.int64)
    if score.size != label.size:
        raise ValueError(f"{path}: score and label lengths differ")
    return score, label


def real_workloads(root: str, keeps=(0.01, 0.05, 0.10, 0.25, 0.50)) -> tuple[list, str]:
    """Workloads from score files; returns (workloads, reason-if-none)."""
    files = find_score_files(root)
    if not files:
        return [], ("no reference-pipeline score files found (searched "
                    + ", ".join(SCORE_GLOBS) + ", $PLADA_CACHE/scores/*.npz (default "
                    "~/.cache/pladafmt) and $PLADA_SCORES)")
    out, errs = [], []
    for f in files:
        try:
            score, label = _score_arrays(f)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            errs.append(str(e))
            continue
        n = score.size
        c = int(label.max()) + 1 if label.size else 1
        for p in keeps:
            k = int(math.floor(p * n))
            out.append(Workload("real", os.path.splitext(os.path.basename(f))[0], n, p, c,
                                labels="real", source=f, extra={"k": k}))
    return out, ("; ".join(errs) if not out else "")


def _real(w: Workload):
    score, label = _score_arrays(w.source)
    k = w.k
    # Lowest energy first (the paper keeps the lowest-energy p %); ties by pool order.
    keep = np.lexsort((np.arange(score.size), score))[:k]
    idx = np.sort(keep).astype(np.int64)
    return idx, label[idx]


# ------------------------------------------------------------------- IN-21K-like
IN21K_LIKE_RULES = ("stratified", "lowest-energy", "random")
IN21K_LIKE_CLASSES = (101, 1000)


def in21k_like_workloads(keep: float = 0.01) -> list[Workload]:
    """The reference pipeline's selection rules on synthetic IN-21K-sized scores."""
    return [Workload("in21k-like", "IN-21K", N_IN21K, keep, c, "synth_scores", rule)
            for c in IN21K_LIKE_CLASSES for rule in IN21K_LIKE_RULES]


def _in21k_like(w: Workload):
    from reference_pipeline.selection import select
    from reference_pipeline.synth_scores import synth_scores
    scores = synth_scores(w.n, w.classes, w.seed)
    idx = np.sort(select(w.regime, scores, w.keep, seed=w.seed)).astype(np.int64)
    return idx, scores["labels"][idx].astype(np.int64)


# ------------------------------------------------------------------------ matrices
def full_matrix() -> list[Workload]:
    ws: list[Workload] = []
    # Keep sweep, every pool, C = 101 uniform labels.
    for pool, n in POOLS.items():
        for p in KEEPS:
            ws.append(Workload("uniform", pool, n, p, 101, "uniform"))
    # Label sweep at 1 % keep: every C, uniform and Zipf labels, on 60K and IN-1K; on
    # IN-21K (a minute of encodes per case) C in {2, 10, 1000} uniform, {10, 1000} Zipf.
    for pool, n in POOLS.items():
        for dist in ("uniform", "zipf"):
            for c in CLASS_COUNTS:
                if pool == "IN-21K" and (c == 101 or (dist == "zipf" and c == 2)):
                    continue
                w = Workload("uniform", pool, n, 0.01, c, dist)
                if w not in ws:
                    ws.append(w)
    # Clustered regimes on IN-21K (synset order): the calibrated one over 0.1-10 %,
    # the other two at 0.1, 1 and 10 %.
    for reg in REGIMES:
        keeps = (0.001, 0.005, 0.01, 0.05, 0.10) if reg == "caltech" else (0.001, 0.01, 0.10)
        for p in keeps:
            ws.append(Workload("clustered", "IN-21K", N_IN21K, p, 101, "block", reg))
    # The calibrated regime on IN-1K as well (the paper reports both pools).
    for p in (0.001, 0.01, 0.10):
        ws.append(Workload("clustered", "IN-1K", N_IN1K, p, 101, "block", "caltech"))
    return ws


def quick_matrix() -> list[Workload]:
    ws = []
    for p in (0.001, 0.01, 0.10, 0.50):
        ws.append(Workload("uniform", "60K", N_MNIST, p, 10, "uniform"))
    ws.append(Workload("uniform", "60K", N_MNIST, 0.05, 1000, "zipf"))
    ws.append(Workload("uniform", "60K", N_MNIST, 0.05, 2, "zipf"))
    ws.append(Workload("uniform", "IN-1K", N_IN1K, 0.01, 101, "uniform"))
    for reg in REGIMES:  # a 300K pool keeps the quick run quick
        ws.append(Workload("clustered", "300K", 300_000, 0.01, 101, "block", reg))
    return ws


def label_entropy(labels: np.ndarray) -> float:
    """Empirical zeroth-order entropy H0 in bits per label."""
    if labels.size == 0:
        return 0.0
    cnt = np.bincount(labels)
    p = cnt[cnt > 0] / labels.size
    return float(-(p * np.log2(p)).sum())


def log2_binom(n: int, k: int) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)


def bound_bits(n: int, labels: np.ndarray) -> float:
    """Uniform-model bound: log2 C(N, k) + k * H0(labels)."""
    k = labels.size
    return log2_binom(n, k) + k * label_entropy(labels)
