"""Selection rules and Safety-Net quotas on hand-built score arrays (exact expected indices)."""

import numpy as np
import pytest

from reference_pipeline import selection as S
from reference_pipeline.common import PipelineError

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
