"""Stage 3 (server): choose which pool items to keep from the teacher's scores.

Budget: k = max(1, floor(p*N + 1/2)) items out of a pool of N, for keep rate p in (0, 1].
Every rule returns k distinct pool indices, sorted ascending (the payload's order).
Ties are broken by pool index (lower first), so a rule is a pure function of the
scores, the knobs and the seed.

Rules
  random          k items uniformly at random (numpy Generator(seed)): the baseline
  lowest-energy   the k lowest energies: the paper's rule (Eq. 5)
  highest-energy  the k highest energies: the paper's far-OOD ("opposite") rule
  lowest-entropy  the k lowest softmax entropies (the paper's Table 7 alternative)
  safety-net      the paper's Safety-Net (Eq. 6): a reserve R = floor(s*k + 1/2) is split
                  into per-class quotas K_c proportional to N_c**alpha, where N_c is the
                  number of pool items the teacher labels c; each class fills its quota
                  with its lowest-energy items; the other k - sum(K_c) items are the
                  lowest energies among the rest, regardless of class.
  stratified      ours (the default): energy as a per-class relevance filter, class
                  quotas against collapse, and energy-stratified sampling for diversity:
                    1. candidates of class c = pool items labelled c whose energy is at
                       most the q-quantile of the teacher's energies on its own labelled
                       target-train images of class c (an in-distribution threshold per
                       class: energy scales differ between classes);
                    2. quotas K_c proportional to M_c**alpha over the candidate counts M_c
                       (alpha = 0: balanced), largest remainder as below;
                    3. if class c has fewer than MIN_POOL_FACTOR*K_c candidates, its
                       candidate set grows to its lowest-energy MIN_POOL_FACTOR*K_c items
                       (so a strict threshold still leaves room to sample from);
                    4. inside each class, systematic sampling over the candidates sorted by
                       energy (one random offset per class from the seed): the picks spread
                       evenly from the most to the least confident candidate, instead of
                       piling up on the most confident, least diverse images.

Quotas (safety-net and stratified) sum exactly to their target R: the ideal shares
R*w_c/sum(w) are floored and the leftover units go to the largest fractional parts,
ties to the lower class index. A class cannot get more than the items it has
(N_c, or M_c): such a class is capped at its size and the excess is shared among the
other classes by the same rule, repeatedly (water-filling). If all classes together
have fewer items than R, the quotas are the class sizes and the global fill makes up
the rest. Classes with no items get quota 0 (also for alpha < 0).

Input and output: the CLI reads only the keys of the scores file its rule needs
(labels and num_classes, plus energy, entropy or ref_energy/ref_labels) and refuses a
label outside [0, num_classes) or a non-finite score, naming the item. It writes the
keep file (indices and labels, int64) with npzio.save_npz, deterministic and atomic,
and the knobs next to it in <keep>.json.

Scale: the ranking rules partition instead of sorting (O(N)); safety-net and
stratified group the pool by class with one radix sort of 16-bit labels and sort
only each class's lowest energies that they use. At ImageNet-21K's 14,197,122 items
(python -m reference_pipeline.scale_selection) every rule peaks at 0.18-0.35 GB and
takes 0.4-1.6 s on 2 cores; the same picks as the earlier full lexsort, which peaked at
0.65-0.76 GB and took up to 16 s with 1,000 classes.

Usage:  python -m reference_pipeline.selection --scores scores.npz --rule stratified --keep 0.01 --out keep.npz
"""

from __future__ import annotations

import argparse
import math
import sys
import zipfile

import numpy as np

from .common import PipelineError, check_keep, write_json
from .npzio import save_npz

# -----------------------------------------------------------------------------
# knobs

RULES = ("stratified", "random", "lowest-energy", "highest-energy", "lowest-entropy", "safety-net")
DEFAULT_RULE = "stratified"
RESERVE = 0.5           # Safety-Net: fraction s of the budget reserved for class quotas (not stated in the paper)
ALPHA = 0.0             # quota exponent: 1 proportional, 0 balanced, <0 favours small classes
REL_QUANTILE = 0.5      # stratified: q of the per-class in-distribution energy threshold (the median;
                        # measured on fashion at 1 %: q=0.5 -> 81.6 %, q=0.8 -> 81.2 %; q=0.95 lets ~5 % glyphs in)
MIN_POOL_FACTOR = 4     # stratified: each class samples from at least this many candidates per pick
SEED = 0
# the scores-file keys each rule reads besides labels (and num_classes)
RULE_KEYS = {"random": (), "lowest-energy": ("energy",), "highest-energy": ("energy",), "lowest-entropy": ("entropy",),
             "safety-net": ("energy",), "stratified": ("energy", "ref_energy", "ref_labels")}


def budget(p: float, n: int) -> int:
    p = check_keep(p)
    if n <= 0:
        raise PipelineError("the pool is empty")
    return max(1, min(n, math.floor(p * n + 0.5)))


def _lowest(score, k: int) -> np.ndarray:
    """Sorted indices of the k lowest scores, ties by lower index.

    The same set as the first k of a stable ascending sort, in O(n) instead of
    O(n log n): the k-th smallest value v splits the pool into the items below v (all
    kept) and the items equal to v (kept in pool order until k are kept).
    """
    score = np.asarray(score)
    v = np.partition(score, k - 1)[k - 1]
    below = np.flatnonzero(score < v)
    ties = np.flatnonzero(score == v)[:k - len(below)]
    return np.sort(np.concatenate([below, ties]))


def _highest(score, k: int) -> np.ndarray:
    """Sorted indices of the k highest scores, ties by lower index (as _lowest)."""
    score = np.asarray(score)
    v = np.partition(score, len(score) - k)[len(score) - k]
    above = np.flatnonzero(score > v)
    ties = np.flatnonzero(score == v)[:k - len(above)]
    return np.sort(np.concatenate([above, ties]))


def _by_class(labels, num_classes: int):
    """(grouped, starts): pool indices grouped by class, in pool order inside a class, and
    where class c starts in grouped (starts[c]:starts[c + 1]).

    One stable sort of 16-bit labels (numpy sorts those by radix, in one pass) instead of
    a boolean mask of the whole pool per class: at 14.2 M items and C = 1,000 the masks
    were 1,000 passes over the pool.
    """
    grouped = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=num_classes))])
    return grouped, starts


def _fill(sel, energy, short: int) -> None:
    """Also select the `short` lowest energies among the unselected items, ties by lower
    index: the first `short` unselected items of the global energy order."""
    if short > 0:
        sel[_lowest(np.where(sel, np.inf, energy), short)] = True


def quotas(weights, total: int, caps) -> np.ndarray:
    """Split `total` into integers proportional to `weights`, capped by `caps` (see module doc)."""
    w = np.asarray(weights, np.float64)
    caps = np.asarray(caps, np.int64)
    q = np.zeros(len(w), np.int64)
    active = (w > 0) & (caps > 0)
    left = int(min(total, caps[active].sum()))
    while left > 0 and active.any():
        raw = left * w / w[active].sum()
        full = active & (raw >= caps - q)   # would reach its cap: give it everything it has
        if full.any():
            left -= int((caps - q)[full].sum())
            q[full] = caps[full]
            active &= ~full
            continue
        fl = np.floor(raw).astype(np.int64) * active
        q += fl
        rest = left - int(fl.sum())
        frac = np.where(active, raw - np.floor(raw), -1.0)
        order = np.lexsort((np.arange(len(w)), -frac))  # largest fraction first, then lower class
        q[order[:rest]] += 1
        left = 0
    return q


def class_weights(counts, alpha: float) -> np.ndarray:
    counts = np.asarray(counts, np.float64)
    w = np.zeros_like(counts)
    nz = counts > 0
    w[nz] = counts[nz] ** alpha
    return w


def safety_net(labels, energy, k: int, num_classes: int, reserve: float = RESERVE, alpha: float = ALPHA) -> np.ndarray:
    if not 0.0 <= reserve <= 1.0:
        raise PipelineError(f"Safety-Net reserve s must be in [0, 1], got {reserve}")
    labels = _compact(labels, num_classes)
    energy = np.asarray(energy)
    grouped, starts = _by_class(labels, num_classes)
    n_c = np.diff(starts)
    q = quotas(class_weights(n_c, alpha), math.floor(reserve * k + 0.5), n_c)
    sel = np.zeros(len(labels), bool)
    for c in np.flatnonzero(q):
        members = grouped[starts[c]:starts[c + 1]]
        sel[members[_lowest(energy[members], q[c])]] = True   # class c's q[c] lowest energies
    _fill(sel, energy, k - int(q.sum()))
    return np.flatnonzero(sel)


def stratified(labels, energy, k: int, num_classes: int, ref_energy, ref_labels, *, alpha: float = ALPHA,
               q: float = REL_QUANTILE, min_factor: int = MIN_POOL_FACTOR, seed: int = SEED) -> np.ndarray:
    labels = _compact(labels, num_classes)
    energy = np.asarray(energy)
    ref_energy = np.asarray(ref_energy, np.float64)
    ref_labels = np.asarray(ref_labels)
    rng = np.random.default_rng(seed)
    grouped, starts = _by_class(labels, num_classes)
    sizes = np.diff(starts)
    # 1. per-class in-distribution thresholds; a class absent from target-train has none
    cand_n = np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        ref = ref_energy[ref_labels == c]
        if len(ref):
            members = grouped[starts[c]:starts[c + 1]]
            cand_n[c] = np.count_nonzero(energy[members].astype(np.float64) <= np.quantile(ref, q))
    # 2. quotas over candidate counts (a class with no candidate still gets its share of
    #    what it has: weights use max(M_c, 1) so a strict threshold cannot erase a class)
    w = class_weights(np.maximum(cand_n, (sizes > 0).astype(np.int64)), alpha)
    kq = quotas(w, k, sizes)
    sel = np.zeros(len(labels), bool)
    for c in range(num_classes):
        if kq[c] == 0:
            continue
        # 3. grow thin candidate sets; 4. systematic sampling along the energy order
        m = int(min(sizes[c], max(cand_n[c], min_factor * kq[c])))
        u = rng.random()
        pos = np.floor((np.arange(kq[c]) + u) * (m / kq[c])).astype(np.int64)
        # only class c's m lowest energies need sorting (by energy, then pool index)
        members = grouped[starts[c]:starts[c + 1]]
        e = energy[members]
        low = _lowest(e, m)
        low = low[np.argsort(e[low], kind="stable")]
        sel[members[low[pos]]] = True
    _fill(sel, energy, k - int(sel.sum()))   # only if the pool has fewer than k labelled items overall
    return np.flatnonzero(sel)


def _compact(labels, num_classes: int) -> np.ndarray:
    """Labels checked against [0, num_classes) and held as int16 (int32 past 32,767
    classes): a quarter of int64's memory, and numpy's stable sort of 16-bit keys is a
    one-pass radix sort."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise PipelineError(f"scores: labels must be a 1-D integer array, got dtype {labels.dtype} "
                            f"and shape {labels.shape}")
    if labels.size:
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        if bad.size:
            raise PipelineError(f"scores: labels[{bad[0]}] = {labels[bad[0]]}; expected a class in "
                                f"[0, {num_classes}) (num_classes = {num_classes})")
    return labels.astype(np.int16 if num_classes <= 1 << 15 else np.int32, copy=False)


def _finite(name: str, x, n: int) -> np.ndarray:
    x = np.asarray(x)
    if x.shape != (n,) or x.dtype.kind not in "fiu":
        raise PipelineError(f"scores: {name} must be a numeric array of shape ({n},), "
                            f"got dtype {x.dtype} and shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise PipelineError(f"scores: {name}[{bad[0]}] = {x[bad[0]]}; expected a finite number")
    return x


def select(rule: str, scores: dict, p: float, *, seed: int = SEED, reserve: float = RESERVE, alpha: float = ALPHA,
           rel_quantile: float = REL_QUANTILE) -> np.ndarray:
    """Sorted int64 pool indices kept by `rule` at keep rate p. `scores` is a score_pool result
    (a dict, or an open .npz: only the keys the rule needs are read)."""
    if rule not in RULES:
        raise PipelineError(f"unknown selection rule {rule!r}; choose one of {', '.join(RULES)}")
    labels = np.asarray(scores["labels"])
    n = len(labels)
    k = budget(p, n)
    num_classes = int(scores["num_classes"]) if "num_classes" in scores else int(labels.max()) + 1
    labels = _compact(labels, num_classes)
    if rule == "random":
        idx = np.random.default_rng(seed).choice(n, size=k, replace=False)
    elif rule == "lowest-energy":
        idx = _lowest(_finite("energy", scores["energy"], n), k)
    elif rule == "highest-energy":
        idx = _highest(_finite("energy", scores["energy"], n), k)
    elif rule == "lowest-entropy":
        idx = _lowest(_finite("entropy", scores["entropy"], n), k)
    elif rule == "safety-net":
        idx = safety_net(labels, _finite("energy", scores["energy"], n), k, num_classes, reserve, alpha)
    else:
        if "ref_energy" not in scores:
            raise PipelineError("rule 'stratified' needs ref_energy/ref_labels in the scores file (score_pool writes them)")
        ref_labels = np.asarray(scores["ref_labels"])
        idx = stratified(labels, _finite("energy", scores["energy"], n), k, num_classes,
                         _finite("ref_energy", scores["ref_energy"], len(ref_labels)), ref_labels,
                         alpha=alpha, q=rel_quantile, seed=seed)
    idx = np.sort(np.asarray(idx, np.int64))
    assert len(idx) == k and (k == 1 or (np.diff(idx) > 0).all())
    return idx


def read_scores(path, rule: str) -> dict:
    """The keys of a scores file that `rule` needs, nothing else (a 14.2 M-item file holds
    ~230 MB of arrays; random needs only the labels), labels already compacted."""
    need = ("labels",) + RULE_KEYS[rule]
    try:
        f = np.load(path)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise PipelineError(f"cannot read scores file {path}: {e}") from e
    with f:
        missing = [key for key in need if key not in f]
        if missing:
            raise PipelineError(f"scores file {path} lacks {', '.join(missing)} (needed by rule {rule!r}); "
                                f"it has {', '.join(f.files)}")
        scores = {key: f[key] for key in need + ("num_classes",) if key in f}
    labels = scores["labels"]
    num_classes = int(scores.get("num_classes", labels.max() + 1 if len(labels) else 0))
    scores["labels"] = _compact(labels, num_classes)
    return scores


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.selection", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--scores", required=True, help="scores .npz from score_pool")
    ap.add_argument("--rule", default=DEFAULT_RULE, choices=RULES)
    ap.add_argument("--keep", type=float, required=True, help="keep rate p in (0, 1]")
    ap.add_argument("--reserve", type=float, default=RESERVE, help="Safety-Net reserve fraction s")
    ap.add_argument("--alpha", type=float, default=ALPHA, help="quota exponent alpha")
    ap.add_argument("--rel-quantile", type=float, default=REL_QUANTILE, help="stratified: threshold quantile q")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", required=True, help="keep file (.npz: indices, labels) to write")
    a = ap.parse_args(argv)
    check_keep(a.keep)
    scores = read_scores(a.scores, a.rule)
    idx = select(a.rule, scores, a.keep, seed=a.seed, reserve=a.reserve, alpha=a.alpha, rel_quantile=a.rel_quantile)
    save_npz(a.out, indices=idx, labels=scores["labels"][idx].astype(np.int64))
    write_json(a.out + ".json", dict(rule=a.rule, keep=a.keep, reserve=a.reserve, alpha=a.alpha,
                                     rel_quantile=a.rel_quantile, seed=a.seed, k=len(idx)))
    print(f"{a.rule} at p={a.keep}: kept {len(idx)} of {len(scores['labels'])} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
