"""Selection rules: exact picks on hand-built score arrays, the same picks as the pre-14.2 M code on
synthetic IN-21K-like scores, the keep file, bad scores; and the synthetic score generator."""

import json
from pathlib import Path

import numpy as np
import pytest

from reference_pipeline import selection as S
from reference_pipeline.common import PipelineError
from reference_pipeline.npzio import save_npz
from reference_pipeline.synth_scores import synset_sizes, synth_scores

# ten pool items: class 0 = items 0-5 (easiest), class 1 = 6-7, class 2 = 8-9
LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2])
ENERGY = np.array([-9, -8, -7, -6, -5, -4, -3, -2, -1, 0], np.float32)
ENTROPY = np.array([5, 4, 3, 2, 1, 0, 6, 7, 8, 9], np.float32)
SCORES = dict(labels=LABELS, energy=ENERGY, entropy=ENTROPY, num_classes=3)


@pytest.mark.parametrize("rule, p, expected", [
    ("lowest-energy", 0.3, [0, 1, 2]),
    ("highest-energy", 0.3, [7, 8, 9]),
    ("lowest-entropy", 0.3, [3, 4, 5]),
    ("lowest-energy", 1.0, list(range(10))),
    ("lowest-energy", 0.01, [0]),        # k = max(1, floor(0.1 + 1/2)) = 1
    ("lowest-energy", 0.25, [0, 1, 2]),  # floor(2.5 + 1/2) = 3: halves round up
])
def test_ranking_rules(rule, p, expected):
    assert S.select(rule, SCORES, p).tolist() == expected


def test_ties_break_by_lower_index():
    scores = dict(labels=np.zeros(5, int), energy=np.array([1, 0, 1, 0, 1.0]), entropy=np.zeros(5), num_classes=1)
    assert S.select("lowest-energy", scores, 0.6).tolist() == [0, 1, 3]
    assert S.select("highest-energy", scores, 0.4).tolist() == [0, 2]


def test_random_is_seeded_and_distinct():
    a = S.select("random", SCORES, 0.5, seed=3)
    assert a.tolist() == S.select("random", SCORES, 0.5, seed=3).tolist()
    assert len(set(a.tolist())) == 5 and a.tolist() == sorted(a.tolist())
    assert a.tolist() == sorted(np.random.default_rng(3).choice(10, 5, replace=False).tolist())


def test_safety_net_balanced():
    # k = 6, reserve 3 -> quotas [1, 1, 1]: items 0, 6, 8; then global lowest 1, 2, 3
    got = S.select("safety-net", SCORES, 0.6, reserve=0.5, alpha=0.0)
    assert got.tolist() == [0, 1, 2, 3, 6, 8]


def test_safety_net_proportional_tie_to_lower_class():
    # alpha 1: shares 3 * [0.6, 0.2, 0.2] = [1.8, 0.6, 0.6] -> [1, 0, 0] + 2 leftovers:
    # class 0 (.8), then the .6 tie goes to class 1 -> quotas [2, 1, 0]
    assert S.quotas([6, 2, 2], 3, [6, 2, 2]).tolist() == [2, 1, 0]
    got = S.select("safety-net", SCORES, 0.6, reserve=0.5, alpha=1.0)
    assert got.tolist() == [0, 1, 2, 3, 4, 6]


def test_safety_net_negative_alpha_favours_small_classes():
    # alpha -1: weights [1/6, 1/2, 1/2]; reserve 4 of k = 8 -> raw [0.57, 1.71, 1.71] -> [0, 2, 2]
    assert S.quotas(S.class_weights([6, 2, 2], -1.0), 4, [6, 2, 2]).tolist() == [0, 2, 2]
    got = S.select("safety-net", SCORES, 0.8, reserve=0.5, alpha=-1.0)
    assert got.tolist() == [0, 1, 2, 3, 6, 7, 8, 9]


def test_quotas_cap_small_classes_and_sum_exactly():
    # balanced 10 over caps [6, 2, 2]: classes 1 and 2 are capped at 2, class 0 takes the rest
    assert S.quotas([1, 1, 1], 10, [6, 2, 2]).tolist() == [6, 2, 2]
    assert S.quotas([1, 1, 1], 4, [10, 10, 10]).tolist() == [2, 1, 1]
    assert S.quotas([1, 1], 10, [2, 3]).tolist() == [2, 3]          # not enough items at all
    assert S.quotas([1, 0, 1], 5, [9, 9, 9]).tolist() == [3, 0, 2]  # zero weight: no quota
    rng = np.random.default_rng(0)
    for _ in range(200):
        w = rng.random(7) * (rng.random(7) > 0.2)
        caps = rng.integers(0, 30, 7)
        total = int(rng.integers(0, 120))
        q = S.quotas(w, total, caps)
        assert q.sum() == min(total, caps[(w > 0) & (caps > 0)].sum())
        assert (q <= caps).all() and (q >= 0).all() and (q[w == 0] == 0).all()


def test_class_weights_zero_count_classes_get_nothing():
    w = S.class_weights([4, 0, 1], -0.5)
    assert w.tolist() == [0.5, 0.0, 1.0]


def test_safety_net_class_with_fewer_items_than_quota():
    # class 2 has one item; balanced quotas of 6 would give it 2: it gets 1, the others share
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 0])
    energy = np.arange(10, dtype=np.float32)
    got = S.safety_net(labels, energy, 6, 3, reserve=1.0, alpha=0.0)
    # quotas: caps [5, 4, 1] -> class 2 capped at 1, 5 left split [3, 2]... -> [3, 2, 1]
    assert got.tolist() == [0, 1, 2, 4, 5, 8]


# stratified: class 0 = items 0-9 with energies -10..-1, class 1 = items 10-19 with -5..4
LAB2 = np.repeat([0, 1], 10)
EN2 = np.concatenate([np.arange(-10, 0), np.arange(-5, 5)]).astype(np.float32)


def test_stratified_exact():
    # thresholds: class 0 at -6 -> candidates 0-4 (M=5); class 1 at 0 -> candidates 10-15 (M=6)
    # k = 4 -> quotas [2, 2]; offsets u from default_rng(0): 0.63696..., 0.26978...
    # class 0: floor((j + u) * 5/2) = 1, 4; class 1: floor((j + u) * 6/2) = 0, 3
    got = S.stratified(LAB2, EN2, 4, 2, ref_energy=[-6, -6, 0, 0], ref_labels=[0, 0, 1, 1], min_factor=2, seed=0)
    assert got.tolist() == [1, 4, 10, 13]


def test_stratified_grows_thin_candidate_sets():
    # thresholds below every pool energy: each class samples from its lowest 2*2 = 4 items
    # class 0: floor((j + 0.637) * 4/2) = 1, 3; class 1: floor((j + 0.270) * 4/2) = 0, 2
    got = S.stratified(LAB2, EN2, 4, 2, ref_energy=[-99, -99], ref_labels=[0, 1], min_factor=2, seed=0)
    assert got.tolist() == [1, 3, 10, 12]


def test_stratified_via_select_needs_reference_energies():
    with pytest.raises(PipelineError) as exc:
        S.select("stratified", SCORES, 0.5)
    exc.match("ref_energy")


@pytest.mark.parametrize("p", [0, -0.1, 1.0001, 2, float("nan")])
def test_keep_rate_outside_unit_interval(p):
    with pytest.raises(PipelineError) as exc:
        S.select("random", SCORES, p)
    exc.match(r"keep rate p must be in \(0, 1\]")


def test_unknown_rule():
    with pytest.raises(PipelineError) as exc:
        S.select("best", SCORES, 0.5)
    exc.match("unknown selection rule 'best'")


# -----------------------------------------------------------------------------
# every rule on synthetic IN-21K-like scores: the same picks as the pre-14.2 M code
# (commit 08ba78e), which sorted the whole pool with lexsort and masked it once per class

def _old_order(score, descending=False):
    score = np.asarray(score, np.float64)
    idx = np.arange(len(score))
    return np.lexsort((idx, -score if descending else score))


def _old_safety_net(labels, energy, k, num_classes, reserve, alpha):
    n_c = np.bincount(labels, minlength=num_classes)
    q = S.quotas(S.class_weights(n_c, alpha), int(np.floor(reserve * k + 0.5)), n_c)
    order = _old_order(energy)
    taken = np.zeros(len(labels), bool)
    lab_sorted = labels[order]
    for c in range(num_classes):
        taken[order[lab_sorted == c][: q[c]]] = True
    taken[order[~taken[order]][: k - int(q.sum())]] = True
    return np.flatnonzero(taken)


def _old_stratified(labels, energy, k, num_classes, ref_energy, ref_labels, alpha, q, seed, min_factor=4):
    energy = np.asarray(energy, np.float64)
    ref_energy = np.asarray(ref_energy, np.float64)
    rng = np.random.default_rng(seed)
    order = _old_order(energy)
    order_labels = labels[order]
    by_class = [order[order_labels == c] for c in range(num_classes)]
    cand_n = np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        ref = ref_energy[ref_labels == c]
        if len(ref):
            cand_n[c] = np.searchsorted(energy[by_class[c]], np.quantile(ref, q), side="right")
    sizes = np.array([len(b) for b in by_class])
    kq = S.quotas(S.class_weights(np.maximum(cand_n, (sizes > 0).astype(np.int64)), alpha), k, sizes)
    sel = np.zeros(len(labels), bool)
    for c in range(num_classes):
        if kq[c]:
            m = int(min(sizes[c], max(cand_n[c], min_factor * kq[c])))
            sel[by_class[c][np.floor((np.arange(kq[c]) + rng.random()) * (m / kq[c])).astype(np.int64)]] = True
    short = k - int(sel.sum())
    if short > 0:
        sel[order[~sel[order]][:short]] = True
    return np.flatnonzero(sel)


def _old_select(rule, s, p, seed=0, reserve=S.RESERVE, alpha=S.ALPHA, rel_quantile=S.REL_QUANTILE):
    labels, n = s["labels"], len(s["labels"])
    k, c = S.budget(p, n), int(s["num_classes"])
    idx = {"random": lambda: np.random.default_rng(seed).choice(n, size=k, replace=False),
           "lowest-energy": lambda: _old_order(s["energy"])[:k],
           "highest-energy": lambda: _old_order(s["energy"], descending=True)[:k],
           "lowest-entropy": lambda: _old_order(s["entropy"])[:k],
           "safety-net": lambda: _old_safety_net(labels, s["energy"], k, c, reserve, alpha),
           "stratified": lambda: _old_stratified(labels, s["energy"], k, c, s["ref_energy"], s["ref_labels"],
                                                 alpha, rel_quantile, seed)}[rule]()
    return np.sort(idx)


@pytest.fixture(scope="module")
def synth():
    """200k items in ~300 synsets; C = 101 as Caltech-101, and C = 7 with scores rounded to
    0.5 (ties by the thousand: the tie rule decides most picks)."""
    fine = synth_scores(200_000, 101, seed=5)
    coarse = synth_scores(200_000, 7, seed=6)
    for key in ("energy", "entropy"):
        coarse[key] = np.round(coarse[key] * 2) / 2
    return {"fine": fine, "coarse": coarse}


@pytest.mark.parametrize("which", ["fine", "coarse"])
@pytest.mark.parametrize("rule", S.RULES)
@pytest.mark.parametrize("p", [0.001, 0.01, 0.1])
def test_rules_unchanged_on_synthetic_pool(synth, which, rule, p):
    s = synth[which]
    got = S.select(rule, s, p)
    k = S.budget(p, len(s["labels"]))
    assert got.dtype == np.int64 and len(got) == k and (np.diff(got) > 0).all()
    assert np.array_equal(got, _old_select(rule, s, p))


@pytest.mark.parametrize("rule, kw", [
    ("safety-net", dict(alpha=-0.2)), ("safety-net", dict(alpha=0.5, reserve=0.2)), ("safety-net", dict(reserve=1.0)),
    ("stratified", dict(alpha=-0.2, seed=3)), ("stratified", dict(alpha=0.5, rel_quantile=0.8)),
    ("random", dict(seed=9)),
])
def test_rule_knobs_unchanged_on_synthetic_pool(synth, rule, kw):
    for s in synth.values():
        assert np.array_equal(S.select(rule, s, 0.02, **kw), _old_select(rule, s, 0.02, **kw))


def test_keep_file_is_deterministic_and_matches_select(synth, tmp_path):
    scores = tmp_path / "scores.npz"
    save_npz(scores, **synth["fine"])
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"keep-{name}.npz"
        assert S.main(["--scores", str(scores), "--rule", "stratified", "--keep", "0.01", "--out", str(out)]) == 0
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    with np.load(outs[0]) as f:
        idx, lab = f["indices"], f["labels"]
    assert np.array_equal(idx, S.select("stratified", synth["fine"], 0.01))
    assert lab.dtype == np.int64 and np.array_equal(lab, synth["fine"]["labels"][idx])
    meta = json.loads(Path(str(outs[0]) + ".json").read_text())
    assert meta["rule"] == "stratified" and meta["k"] == len(idx) == 2000


def test_scores_file_missing_key(tmp_path):
    s = synth_scores(1000, 3, seed=0)
    del s["ref_energy"]
    save_npz(tmp_path / "s.npz", **s)
    with pytest.raises(PipelineError) as exc:
        S.main(["--scores", str(tmp_path / "s.npz"), "--rule", "stratified", "--keep", "0.1", "--out",
                str(tmp_path / "k.npz")])
    exc.match("lacks ref_energy \\(needed by rule 'stratified'\\)")
    assert not (tmp_path / "k.npz").exists()


@pytest.mark.parametrize("key, value, message", [
    ("energy", np.nan, r"energy\[3\] = nan; expected a finite number"),
    ("entropy", np.inf, r"entropy\[3\] = inf; expected a finite number"),
    ("labels", 4, r"labels\[3\] = 4; expected a class in \[0, 3\)"),
    ("labels", -1, r"labels\[3\] = -1; expected a class in \[0, 3\)"),
    ("ref_energy", np.nan, r"ref_energy\[3\] = nan; expected a finite number"),
])
def test_bad_scores_name_the_item(key, value, message):
    s = dict(labels=np.zeros(10, np.int64), energy=np.zeros(10, np.float32), entropy=np.zeros(10, np.float32),
             num_classes=3, ref_energy=np.zeros(6, np.float32), ref_labels=np.arange(6) % 3)
    s[key] = s[key].copy()
    s[key][3] = value
    rule = {"entropy": "lowest-entropy", "ref_energy": "stratified"}.get(key, "lowest-energy")
    with pytest.raises(PipelineError) as exc:
        S.select(rule, s, 0.5)
    exc.match(message)


# -----------------------------------------------------------------------------
# the synthetic generator

def test_synth_scores_deterministic(tmp_path):
    a, b, c = (tmp_path / f"{x}.npz" for x in "abc")
    save_npz(a, **synth_scores(30_000, 10, seed=1))
    save_npz(b, **synth_scores(30_000, 10, seed=1))
    save_npz(c, **synth_scores(30_000, 10, seed=2))
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_synth_scores_keys_and_values_like_score_pool():
    s = synth_scores(50_000, 12, seed=0)
    assert list(s) == ["labels", "energy", "entropy", "margin", "T", "num_classes", "ref_energy", "ref_labels",
                       "pool_digest", "pool_spec", "teacher_acc", "classes"]
    assert s["labels"].dtype == np.int64 and s["labels"].min() >= 0 and s["labels"].max() < 12
    assert all(s[k].dtype == np.float32 and s[k].shape == (50_000,) for k in ("energy", "entropy", "margin"))
    assert (s["entropy"] >= 0).all() and (s["entropy"] <= np.log(12) + 1e-5).all() and (s["margin"] >= 0).all()
    assert s["pool_digest"].dtype == np.uint8 and s["pool_digest"].shape == (32,)
    assert np.array_equal(np.unique(s["ref_labels"]), np.arange(12)) and len(s["classes"]) == 12
    # in-distribution reference: the teacher's own images sit below the pool's median energy
    assert np.median(s["ref_energy"]) < np.median(s["energy"])


def test_synth_scores_clustered_in_pool_order():
    """Synsets make neighbours alike; a uniform generator (or these labels shuffled) would not."""
    s = synth_scores(200_000, 101, seed=0)
    lab, en = s["labels"], s["energy"].astype(np.float64)
    same_next = np.mean(lab[1:] == lab[:-1])
    by_chance = np.sum((np.bincount(lab) / len(lab)) ** 2)   # same labels in random order
    assert same_next > 5 * by_chance
    assert np.corrcoef(en[1:], en[:-1])[0, 1] > 0.5
    # the 1 % lowest energies come in long runs of neighbouring items (related synsets)
    low = np.zeros(len(en), bool)
    low[S.select("lowest-energy", s, 0.01)] = True
    assert np.mean(low[1:][low[:-1]]) > 0.1         # P(next is low | this is low): 0.01 if uniform


def test_synth_scores_synset_sizes_sum_exactly():
    sizes = synset_sizes(14_197_122, 21_841, np.random.default_rng(0))
    assert sizes.sum() == 14_197_122 and sizes.min() >= 1 and len(sizes) == 21_841
    assert sizes.max() > 5 * np.median(sizes) > 5 * sizes.min()   # a long tail both ways
