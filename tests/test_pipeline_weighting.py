"""Importance weighting (reference_pipeline/weighting.py): the weights reach the loss, the class
weights sum as documented, and the confidence weight stream round-trips near its entropy and
travels as an ancillary section that today's decoder skips.

Tiny linear models and one optimizer step each: these check the mechanics, not accuracy
(WEIGHTING_RESULTS.md has the measurements).
"""

import struct
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import pladafmt  # noqa: E402
from reference_pipeline import common, data, train_student, weighting  # noqa: E402
from reference_pipeline.common import PipelineError  # noqa: E402


# -----------------------------------------------------------------------------
# the weights reach the loss: gradients of fit's first step

def _first_step_grads(images, labels, weights=None, indices=None):
    """The gradient of fit's first (and only) step, one batch holding every item, no augmentation.

    A linear model without batch norm: the per-item losses do not depend on which other items
    share the batch, so a weighted batch can be compared with an unweighted subset.
    """
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(images[0].size, 3))
    grads = []
    for prm in model.parameters():
        prm.register_hook(lambda g: grads.append(g.detach().clone()))
    ds = data.PoolDataset(common.ArrayPool(images), indices)
    common.fit(model, ds, labels, steps=1, batch_size=len(ds), lr=1e-3, weight_decay=0.0, img_size=images.shape[1],
               max_shift=0, hflip=False, seed=0, device="cpu", weights=weights)
    return grads


@pytest.fixture(scope="module")
def items():
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (12, 6, 6), dtype=np.uint8), rng.integers(0, 3, 12)


def test_weights_change_the_gradient(items):
    x, y = items
    plain = _first_step_grads(x, y)
    # a weight 0 drops an item: weighting a subset S to 1 (rest 0) gives the gradient of S alone
    subset = np.array([0, 2, 3, 7, 11])
    w = np.zeros(len(y))
    w[subset] = 1.0
    for g, h in zip(_first_step_grads(x, y, weights=w), _first_step_grads(x, y[subset], indices=subset)):
        assert torch.allclose(g, h, atol=1e-6)
    # unequal weights change the gradient ...
    skew = np.linspace(0.1, 3.0, len(y))
    assert any(not torch.allclose(g, h, atol=1e-4) for g, h in zip(_first_step_grads(x, y, weights=skew), plain))
    # ... equal weights (any scale: fit rescales to mean 1) give the plain loss's gradient
    for g, h in zip(_first_step_grads(x, y, weights=np.full(len(y), 3.0)), plain):
        assert torch.allclose(g, h, atol=1e-6)


def test_fit_refuses_bad_weights(items):
    x, y = items
    for w, msg in ((np.ones(5), r"one weight per training item \(12\), got shape \(5,\)"),
                   (np.r_[np.ones(11), -1.0], "weight of item 11 is -1.0"),
                   (np.r_[np.nan, np.ones(11)], "weight of item 0 is nan"),
                   (np.zeros(12), "all 12 weights are 0")):
        with pytest.raises(PipelineError, match=msg):
            _first_step_grads(x, y, weights=w)


# -----------------------------------------------------------------------------
# zero-byte schemes

def test_class_balanced_weights_sum_as_documented():
    y = np.array([0, 0, 0, 0, 1, 3, 3, 0, 1, 0])   # counts 6, 2, 0 (absent), 2
    w = weighting.class_weights(y)
    assert w.sum() == pytest.approx(len(y))                 # the weights sum to k ...
    for c in (0, 1, 3):                                      # ... each present class to k / C'
        assert w[y == c].sum() == pytest.approx(len(y) / 3)
    sq = weighting.class_weights(y, 0.5)
    assert sq.sum() == pytest.approx(len(y))
    assert sq[y == 1][0] / sq[y == 0][0] == pytest.approx(np.sqrt(3))
    # balanced counts: all weights equal, returned as None (the plain loss, bit for bit)
    assert weighting.class_weights([2, 0, 1, 1, 0, 2]) is None
    assert weighting.client_weights("class-balanced", [2, 0, 1, 1, 0, 2]) is None


def test_client_weights_refuse_mismatched_options():
    with pytest.raises(PipelineError, match="expected one of none, class-balanced"):
        weighting.client_weights("uniform", [0, 1])
    with pytest.raises(PipelineError, match="required"):
        weighting.client_weights("confidence", [0, 1])
    with pytest.raises(PipelineError, match="used only by 'confidence'"):
        weighting.client_weights("none", [0, 1], stream=b"x")


def test_train_student_passes_weights_to_fit():
    rng = np.random.default_rng(2)
    pool = common.ArrayPool(rng.integers(0, 256, (40, 28, 28), dtype=np.uint8))
    skewed = SimpleNamespace(indices=np.arange(0, 40, 2), labels=np.r_[np.zeros(15, int), np.ones(5, int)],
                             classes=("a", "b"))
    kw = dict(steps=1, batch_size=8, verbose=False)
    assert train_student.WEIGHTING == "class-sqrt"           # the decision rule's choice (WEIGHTING_RESULTS.md)
    assert train_student.train_student(skewed, pool, **kw)["weighted"]
    assert train_student.train_student(skewed, pool, weighting="class-balanced", **kw)["weighted"]
    assert not train_student.train_student(skewed, pool, weighting="none", **kw)["weighted"]
    balanced = SimpleNamespace(indices=skewed.indices, labels=np.arange(20) % 2, classes=("a", "b"))
    assert not train_student.train_student(balanced, pool, **kw)["weighted"]


# -----------------------------------------------------------------------------
# the confidence weight stream

def _levels_and_labels(n, bits, seed=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    margin = rng.exponential(1.0 + y / 3)     # the confidence depends on the class: the label context pays
    return weighting.confidence_levels(margin, bits), y, margin


def test_confidence_levels_and_weights():
    m = np.array([0.0, 0.5, 1.1, 2.0, 5.0, 50.0])        # tanh(m/2): 0, .245, .5005, .76, .987, 1
    assert weighting.confidence_levels(m, 2).tolist() == [0, 0, 2, 3, 3, 3]
    assert weighting.confidence_levels(m, 1).tolist() == [0, 0, 1, 1, 1, 1]
    assert weighting.level_weights([0, 1, 2, 3], 2).tolist() == [0.125, 0.375, 0.625, 0.875]
    with pytest.raises(PipelineError, match="margin of item 1 is -0.5"):
        weighting.confidence_levels([1.0, -0.5])
    with pytest.raises(PipelineError, match="expected 1, 2 or 3, got 4"):
        weighting.confidence_levels([1.0], 4)


@pytest.mark.parametrize("n, bits", [(0, 2), (1, 1), (3000, 1), (3000, 2), (2000, 3)])
def test_stream_round_trip_near_entropy(n, bits):
    q, y, margin = _levels_and_labels(n, bits)
    blob = weighting.weight_section(margin, y, bits)
    got_bits, body = weighting.parse_section(blob)
    assert got_bits == bits and blob.endswith(body) and len(blob) - len(body) in (8, 9, 10)
    assert np.array_equal(weighting.decode_levels(body, y, bits), q)
    w = weighting.client_weights("confidence", y, blob)
    assert np.array_equal(w, weighting.level_weights(q, bits))
    if n >= 2000:   # within 3 % + 40 bytes of k * H(q | label) / 8 (the KT estimates' learning cost)
        ent = weighting.entropy_bytes(q, y)["conditional"]
        assert len(body) <= 1.03 * ent + 40, (len(body), ent)


def test_stream_errors_name_the_problem():
    q, y, margin = _levels_and_labels(500, 2)
    blob = weighting.weight_section(margin, y)
    bad = bytearray(blob)
    bad[-1] ^= 1
    with pytest.raises(PipelineError, match="CRC32 mismatch"):
        weighting.parse_section(bytes(bad))
    with pytest.raises(PipelineError, match="Section_Length"):
        weighting.parse_section(blob[:-1])
    with pytest.raises(PipelineError, match="Section_Type 0x81"):
        weighting.parse_section(b"\x81" + blob[1:])
    body = weighting.parse_section(blob)[1]
    with pytest.raises(PipelineError, match="truncated|unconsumed"):
        weighting.decode_levels(body[:-3], y)
    with pytest.raises(PipelineError, match="unconsumed"):
        weighting.decode_levels(body, y[:-100])


def test_stream_as_an_ancillary_section_is_skipped_by_the_decoder():
    """The sidecar is byte for byte one section: appended to a payload (Section_Count + 1, header
    CRC redone) the payload grows by exactly the sidecar's length and decodes to the same content."""
    q, y, margin = _levels_and_labels(300, 2)
    idx = np.sort(np.random.default_rng(4).choice(5000, 300, replace=False))
    payload = pladafmt.encode(idx, y, pool_size=5000, classes=[str(c) for c in range(10)])
    blob = weighting.weight_section(margin, y)
    # format 2.0 header without a pool digest: Magic, Version_Major, Version_Minor,
    # Header_Flags, then the varints Required_Features, Pool_Size, Item_Count, Class_Count,
    # Section_Count, then Content_Checksum (8) and Header_CRC32 (4)
    pos, fields = 11, []
    for _ in range(5):
        start = pos
        while payload[pos] & 0x80:
            pos += 1
        pos += 1
        fields.append((start, pos))
    s0, s1 = fields[4]
    assert s1 - s0 == 1 and payload[s0] < 0x7F      # Section_Count is one byte here
    head = bytearray(payload[:s1 + 8])
    head[s0] += 1
    head += struct.pack("<I", zlib.crc32(bytes(head)))
    spliced = bytes(head) + payload[s1 + 12:] + blob
    assert len(spliced) - len(payload) == len(blob)
    got = pladafmt.decode(spliced)
    assert np.array_equal(got.indices, idx) and np.array_equal(got.labels, y)
    assert np.array_equal(weighting.client_weights("confidence", got.labels, spliced[len(payload):]),
                          weighting.level_weights(q))


def test_cli_writes_the_sidecar_in_payload_order(tmp_path):
    rng = np.random.default_rng(5)
    labels, margin = rng.integers(0, 4, 100), rng.exponential(2.0, 100).astype(np.float32)
    np.savez(tmp_path / "scores.npz", labels=labels, margin=margin)
    idx = np.array([70, 3, 41, 12, 99, 58])                   # a keep file need not be sorted
    np.savez(tmp_path / "keep.npz", indices=idx, labels=labels[idx])
    assert weighting.main(["--scores", str(tmp_path / "scores.npz"), "--keep", str(tmp_path / "keep.npz"),
                           "--bits", "2", "--out", str(tmp_path / "w.bin")]) == 0
    order = np.sort(idx)
    got = weighting.client_weights("confidence", labels[order], (tmp_path / "w.bin").read_bytes())
    assert np.array_equal(got, weighting.level_weights(weighting.confidence_levels(margin[order], 2)))
    np.savez(tmp_path / "old.npz", labels=labels)
    with pytest.raises(PipelineError, match="has no 'margin'"):
        weighting.main(["--scores", str(tmp_path / "old.npz"), "--keep", str(tmp_path / "keep.npz"),
                        "--out", str(tmp_path / "w2.bin")])
