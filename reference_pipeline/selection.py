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

Usage:  python -m reference_pipeline.selection --scores scores.npz --rule stratified --keep 0.01 --out keep.npz
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from .common import PipelineError, check_keep, write_json

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


def budget(p: float, n: int) -> int:
    p = check_keep(p)
    if n <= 0:
        raise PipelineError("the pool is empty")
    return max(1, min(n, math.floor(p * n + 0.5)))


def _order(score, descending=False) -> np.ndarray:
    """Indices by score (ascending or descending), ties by lower index."""
    score = np.asarray(score, np.float64)
    idx = np.arange(len(score))
    return np.lexsort((idx, -score if descending else score))


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
    labels = np.asarray(labels)
    n_c = np.bincount(labels, minlength=num_classes)
    r = math.floor(reserve * k + 0.5)
    q = quotas(class_weights(n_c, alpha), r, n_c)
    order = _order(energy)
    taken = np.zeros(len(labels), bool)
    lab_sorted = labels[order]
    for c in range(num_classes):
        taken[order[lab_sorted == c][: q[c]]] = True
    rest = order[~taken[order]][: k - int(q.sum())]
    taken[rest] = True
    return np.flatnonzero(taken)


def stratified(labels, energy, k: int, num_classes: int, ref_energy, ref_labels, *, alpha: float = ALPHA,
               q: float = REL_QUANTILE, min_factor: int = MIN_POOL_FACTOR, seed: int = SEED) -> np.ndarray:
    labels = np.asarray(labels)
    energy = np.asarray(energy, np.float64)
    ref_energy = np.asarray(ref_energy, np.float64)
    ref_labels = np.asarray(ref_labels)
    rng = np.random.default_rng(seed)
    order = _order(energy)
    order_labels = labels[order]
    by_class = [order[order_labels == c] for c in range(num_classes)]  # each sorted by energy
    # 1. per-class in-distribution thresholds; a class absent from target-train has none
    cand_n = np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        ref = ref_energy[ref_labels == c]
        if len(ref):
            tau = np.quantile(ref, q)
            cand_n[c] = np.searchsorted(energy[by_class[c]], tau, side="right")
    # 2. quotas over candidate counts (a class with no candidate still gets its share of
    #    what it has: weights use max(M_c, 1) so a strict threshold cannot erase a class)
    sizes = np.array([len(b) for b in by_class])
    w = class_weights(np.maximum(cand_n, (sizes > 0).astype(np.int64)), alpha)
    kq = quotas(w, k, sizes)
    picks = []
    for c in range(num_classes):
        if kq[c] == 0:
            continue
        # 3. grow thin candidate sets; 4. systematic sampling along the energy order
        m = int(min(sizes[c], max(cand_n[c], min_factor * kq[c])))
        u = rng.random()
        pos = np.floor((np.arange(kq[c]) + u) * (m / kq[c])).astype(np.int64)
        picks.append(by_class[c][pos])
    sel = np.zeros(len(labels), bool)
    if picks:
        sel[np.concatenate(picks)] = True
    short = k - int(sel.sum())   # only if the pool has fewer than k labelled items overall
    if short > 0:
        sel[order[~sel[order]][:short]] = True
    return np.flatnonzero(sel)


def select(rule: str, scores: dict, p: float, *, seed: int = SEED, reserve: float = RESERVE, alpha: float = ALPHA,
           rel_quantile: float = REL_QUANTILE) -> np.ndarray:
    """Sorted int64 pool indices kept by `rule` at keep rate p. `scores` is a score_pool result."""
    labels = np.asarray(scores["labels"])
    n = len(labels)
    k = budget(p, n)
    num_classes = int(scores.get("num_classes", labels.max() + 1 if n else 0))
    if rule == "random":
        idx = np.random.default_rng(seed).choice(n, size=k, replace=False)
    elif rule == "lowest-energy":
        idx = _order(scores["energy"])[:k]
    elif rule == "highest-energy":
        idx = _order(scores["energy"], descending=True)[:k]
    elif rule == "lowest-entropy":
        idx = _order(scores["entropy"])[:k]
    elif rule == "safety-net":
        idx = safety_net(labels, scores["energy"], k, num_classes, reserve, alpha)
    elif rule == "stratified":
        if "ref_energy" not in scores:
            raise PipelineError("rule 'stratified' needs ref_energy/ref_labels in the scores file (score_pool writes them)")
        idx = stratified(labels, scores["energy"], k, num_classes, scores["ref_energy"], scores["ref_labels"],
                         alpha=alpha, q=rel_quantile, seed=seed)
    else:
        raise PipelineError(f"unknown selection rule {rule!r}; choose one of {', '.join(RULES)}")
    idx = np.sort(np.asarray(idx, np.int64))
    assert len(idx) == k and len(np.unique(idx)) == k
    return idx


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
    scores = dict(np.load(a.scores))
    idx = select(a.rule, scores, a.keep, seed=a.seed, reserve=a.reserve, alpha=a.alpha, rel_quantile=a.rel_quantile)
    np.savez(a.out, indices=idx, labels=scores["labels"][idx])
    write_json(a.out + ".json", dict(rule=a.rule, keep=a.keep, reserve=a.reserve, alpha=a.alpha,
                                     rel_quantile=a.rel_quantile, seed=a.seed, k=len(idx)))
    print(f"{a.rule} at p={a.keep}: kept {len(idx)} of {len(scores['labels'])} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
