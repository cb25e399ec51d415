"""Label mode 5 "adaptive-gap" (format 1.2): round trips, kernel == twin, its contexts,
every rejection rule, and its place in the container (decoded after the indices)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pladafmt
from pladafmt import _adaptive_gap_labels as ag
from pladafmt import _adaptive_labels as al
from pladafmt._errors import EncodeError, FormatError, PladaError, TruncatedError
from conformance.generate import s_adaptive_gap_labels
from common import as_raw

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(lab, c, idx):
    lab = np.asarray(lab, dtype=np.int64)
    idx = np.asarray(idx, dtype=np.int64)
    raw = ag.encode(lab, c, idx)
    assert raw == ag.encode_twin(lab.tolist(), c, idx.tolist())
    assert len(raw) <= ag.raw_size_bound(c, lab.size)
    np.testing.assert_array_equal(ag.decode(as_raw(raw), c, lab.size, idx), lab)
    assert ag.decode_twin(raw, c, lab.size, idx) == lab.tolist()
    return raw


@st.composite
def cases(draw):
    """(C, labels, indices): k from 0 to 400 with k = N (all gaps 1) sometimes, gaps up to
    2^44 (every bucket, capped ones too), C from 1 to 2^20, the label shapes of the spec."""
    c = draw(st.sampled_from([1, 2, 3, 10, 101, 1000, 65536, 2**20]))
    k = draw(st.sampled_from([0, 1, 2]) | st.integers(0, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = draw(st.sampled_from(["uniform", "dominant", "runs", "constant", "blocks"]))
    lab = rng.integers(0, c, k)
    if shape == "dominant":
        lab = np.where(rng.random(k) < 0.97, c - 1, lab)
    elif shape == "runs":
        lab = np.repeat(lab[: k // 20 + 1], 20)[:k]
    elif shape == "constant":
        lab = np.full(k, rng.integers(0, c))
    gaps = draw(st.sampled_from(["ones", "mixed", "huge", "blocks"]))
    if gaps == "ones":                               # k = N: every gap 1, bucket 0
        idx = np.arange(k)
    elif gaps == "huge":
        idx = np.cumsum(rng.integers(1, 2**44, k))
    else:
        g = np.int64(1) << rng.integers(0, 21, k) if gaps == "mixed" else \
            np.where(rng.random(k) < 0.05, 700, rng.integers(1, 5, k))
        idx = np.cumsum(g) - 1
    if shape == "blocks" and k:
        # one class per block of the index layout, 5 % outliers
        blk = idx // 1000
        lab = np.where(rng.random(k) < 0.95, (blk * 37) % c, rng.integers(0, c, k))
    return c, lab.astype(np.int64), idx.astype(np.int64)


@FAST
@given(cases())
def test_roundtrip_kernel_and_twin(case):
    c, lab, idx = case
    roundtrip(lab, c, idx)


def test_all_equally_likely_and_c_65536():
    rng = np.random.default_rng(1)
    lab = rng.permutation(np.tile(np.arange(1024), 3))
    roundtrip(lab, 1024, np.arange(lab.size) * 3)
    lab = rng.permutation(np.tile(np.arange(65536), 2))     # kernels only: twin is slow
    idx = np.cumsum(rng.integers(1, 1000, lab.size))
    np.testing.assert_array_equal(ag.decode(as_raw(ag.encode(lab, 65536, idx)), 65536,
                                            lab.size, idx), lab)


def test_spec_worked_example():
    raw = roundtrip([0, 0, 1, 0, 2, 0], 3, [2, 3, 7, 20, 21, 22])
    assert raw.hex(" ") == "00 25 6d 31 30 3f"
    assert al.encode(np.array([0, 0, 1, 0, 2, 0]), 3).hex(" ") == "00 25 62 fa ac 39"


def test_gap_bucket():
    idx = [0, 1, 3, 7, 15, 2**15 + 15, 2**40]
    assert [al.gap_bucket_twin(idx, i, 16) for i in range(1, len(idx))] == [0, 1, 2, 3, 15, 15]
    assert al.gap_bucket_twin(idx, 5, 1) == 0


def test_contexts_follow_the_gaps():
    """Same labels, other gaps: other bytes; a stream decoded against other indices does
    not come back silently unchanged (range-coder checks or other labels)."""
    lab = np.array([0, 0, 1, 1, 0, 2, 2, 2, 1, 0] * 30)
    idx_a = np.arange(lab.size)
    idx_b = np.cumsum(np.where(np.arange(lab.size) % 3 == 0, 500, 1))
    ra, rb = ag.encode(lab, 3, idx_a), ag.encode(lab, 3, idx_b)
    assert ra != rb
    try:
        got = ag.decode(as_raw(rb), 3, lab.size, idx_a)
    except PladaError:
        return
    assert not np.array_equal(got, lab)


def test_beats_mode_4_on_blocks_and_costs_little_on_iid():
    """Where short gaps mean 'same block' the gap context pays; on i.i.d. labels over
    uniform gaps it only pays for learning more contexts."""
    rng = np.random.default_rng(7)
    starts = np.sort(rng.choice(10**7, 3000, replace=False)) * 50
    cls = rng.integers(0, 101, starts.size)
    # per block: 1-8 kept items at gaps 1-4, one class, 5 % outliers
    idx, lab = [], []
    for s, c in zip(starts, cls):
        m = int(rng.integers(1, 9))
        idx.extend(s + np.cumsum(rng.integers(1, 5, m)))
        lab.extend(np.where(rng.random(m) < 0.95, c, rng.integers(0, 101, m)))
    idx, lab = np.array(idx), np.array(lab)
    m5, m4 = len(ag.encode(lab, 101, idx)), len(al.encode(lab, 101))
    assert m5 < 0.9 * m4, (m5, m4)
    iid = rng.integers(0, 101, 20000)
    uidx = np.sort(rng.choice(2 * 10**6, 20000, replace=False))
    m5, m4 = len(ag.encode(iid, 101, uidx)), len(al.encode(iid, 101))
    assert m5 < 1.01 * m4, (m5, m4)


# ---------------------------------------------------------------------------------------
# rejections: kernel and twin raise the same type and message

def check_both(raw, c, k, idx, *, err, match):
    with pytest.raises(err) as e1:
        ag.decode(as_raw(raw), c, k, idx)
    with pytest.raises(err) as e2:
        ag.decode_twin(raw, c, k, idx)
    assert e1.match(match)
    assert str(e1.value) == str(e2.value)


IDX = [2, 3, 7, 20, 21, 22]


def _stream(labels, c, idx, full=()):
    """Mode 5 as the conformance generator writes it from the spec text (an implementation
    independent of pladafmt's), with positions forced to full coding."""
    return s_adaptive_gap_labels(labels, c, idx, full=full)


def test_spec_writer_equals_encoder():
    lab = [0, 0, 1, 0, 2, 0]
    assert _stream(lab, 3, IDX) == ag.encode(np.array(lab), 3, np.array(IDX))


def test_rejects_label_ge_c():
    check_both(_stream([0, 0, 1, 0, 3, 0], 3, IDX), 3, 6, IDX, err=FormatError,
               match=r"^adaptive-gap labels: label 4 must be < class_count 3, got 3$")


@pytest.mark.parametrize("pos, other", [(1, "previous label 0 and the label before it -1"),
                                        (3, "previous label 1 and the label before it 0")])
def test_rejects_full_coded_repeat(pos, other):
    check_both(_stream([0, 0, 1, 0, 2, 0], 3, IDX, full={pos}), 3, 6, IDX, err=FormatError,
               match=rf"^adaptive-gap labels: label {pos} coded in full must differ from the "
                     rf"{other}, got 0$")


def test_range_coder_rejections():
    idx = np.cumsum(np.arange(143) % 7 + 1)
    good = ag.encode(np.arange(143) % 100, 100, idx)
    k = 143
    check_both(b"\x01" + good[1:], 100, k, idx, err=FormatError,
               match=r"^adaptive-gap labels: first byte must be 0, got 0x01$")
    check_both(good[:4], 100, k, idx, err=TruncatedError,
               match=r"first 5 bytes: needs 5 bytes, 4 left")
    check_both(good[:-3], 100, k, idx, err=TruncatedError, match=r"stream ends inside label")
    check_both(good + b"\x00", 100, k, idx, err=FormatError,
               match=r"unconsumed bytes: expected \d+ bytes, got \d+")
    check_both(b"\x00\xff\xff\xff\xff", 100, k, idx, err=FormatError,
               match=r"initial code must be < 0xffffffff")
    check_both(bytes(5), 100, 0, idx[:0], err=FormatError,
               match=r"^adaptive-gap labels: trailing bytes: expected 0 bytes, got 5$")


def test_encoder_needs_matching_indices():
    lab = np.array([0, 1, 1])
    with pytest.raises(EncodeError, match=r"needs the kept indices"):
        ag.encode(lab, 2, None)
    with pytest.raises(EncodeError, match=r"expected 3, got \(2,\)"):
        ag.encode(lab, 2, np.array([1, 2]))
    with pytest.raises(EncodeError, match=r"strictly increasing"):
        ag.encode(lab, 2, np.array([1, 1, 2]))


# ---------------------------------------------------------------------------------------
# in the container

def _blocks(n_blocks=400, seed=3):
    rng = np.random.default_rng(seed)
    idx, lab = [], []
    for b in range(n_blocks):
        m = int(rng.integers(5, 40))
        pos = b * 1000 + np.sort(rng.choice(600, m, replace=False))
        idx.extend(pos)
        lab.extend(np.where(rng.random(m) < 0.9, (b * 13) % 50, rng.integers(0, 50, m)))
    return np.array(idx), np.array(lab)


def test_auto_picks_it_on_blocks_and_writes_minor_2():
    # the index mode is pinned to a 1.1 mode: with a 1.3 mode the payload says 1.3
    idx, lab = _blocks()
    data = pladafmt.encode(idx, lab, pool_size=400_000, classes=50, index_mode="adaptive")
    p = pladafmt.decode(data)
    assert p.label_mode == "adaptive-gap" and p.version == (1, 2)
    np.testing.assert_array_equal(p.indices, idx)
    np.testing.assert_array_equal(p.labels, lab)
    assert pladafmt.inspect(data)["format_version"] == "1.2"
    assert data == pladafmt.encode(idx, lab, pool_size=400_000, classes=50,
                                   index_mode="adaptive")


@pytest.mark.parametrize("index_mode", ["bitmap", "varint", "runs", "rice", "adaptive+zstd"])
def test_after_every_index_mode(index_mode):
    idx, lab = _blocks(60)
    for k in (0, 1, len(idx)):
        p = pladafmt.decode(pladafmt.encode(idx[:k], lab[:k], pool_size=60_000, classes=50,
                                            index_mode=index_mode, label_mode="adaptive-gap"))
        np.testing.assert_array_equal(p.labels, lab[:k])


def test_large_payload_decodes_in_order():
    """Above the two-thread threshold the label stream still waits for the indices."""
    idx, lab = _blocks(3000)
    assert len(idx) >= 2**15
    data = pladafmt.encode(idx, lab, pool_size=3_000_000, classes=50,
                           label_mode="adaptive-gap")
    p = pladafmt.decode(data)
    np.testing.assert_array_equal(p.labels, lab)


def test_index_error_is_reported_first():
    """A corrupt index stream is what the decoder names, not the label stream it feeds."""
    idx, lab = _blocks(20)
    data = bytearray(pladafmt.encode(idx, lab, pool_size=20_000, classes=50,
                                     index_mode="rice", label_mode="adaptive-gap"))
    good = pladafmt.decode(bytes(data))
    assert good.label_mode == "adaptive-gap"
    # truncate the index section's body by one byte and repair its length and CRC
    import struct
    import zlib
    pos = 88
    while True:
        stype, mode, flags, length = struct.unpack_from("<HBBI", data, pos)
        if stype == 2:
            break
        pos += 12 + length
    body = bytes(data[pos + 12:pos + 12 + length - 1])
    head = struct.pack("<HBBI", stype, mode, flags, length - 1)
    sec = head + struct.pack("<I", zlib.crc32(head + body)) + body
    bad = bytes(data[:pos]) + sec + bytes(data[pos + 12 + length:])
    with pytest.raises(PladaError, match=r"^rice: "):
        pladafmt.decode(bad)
