"""Near-entropy 1.x modes: index 3 "rice", index 4 "adaptive", label 3 "rans",
label 4 "adaptive" (and label 5 "adaptive-gap" in the fuzz cases; the rest of it is in
tests/test_adaptive_gap.py).  Round trips, kernel == twin, every rejection rule, fuzzed
streams."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pladafmt import _adaptive, _adaptive_gap_labels, _adaptive_labels, _rans, _rice
from pladafmt._bitio import BitWriter
from pladafmt._errors import FormatError, PladaError, TruncatedError
from common import as_raw

INDEX_MODES = [_rice, _adaptive]
LABEL_MODES = [_rans, _adaptive_labels]
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def roundtrip_index(mod, idx, n):
    idx = np.asarray(idx, dtype=np.int64)
    raw = mod.encode(idx, n)
    assert raw == mod.encode_twin(idx.tolist(), n)
    assert len(raw) <= mod.raw_size_bound(n, idx.size)
    np.testing.assert_array_equal(mod.decode(as_raw(raw), n, idx.size), idx)
    assert mod.decode_twin(raw, n, idx.size) == idx.tolist()
    return raw


def roundtrip_labels(mod, lab, c):
    lab = np.asarray(lab, dtype=np.int64)
    raw = mod.encode(lab, c)
    assert raw == mod.encode_twin(lab.tolist(), c)
    assert len(raw) <= mod.raw_size_bound(c, lab.size)
    np.testing.assert_array_equal(mod.decode(as_raw(raw), c, lab.size), lab)
    assert mod.decode_twin(raw, c, lab.size) == lab.tolist()
    return raw


# ---------------------------------------------------------------------------------------
# round trips

@st.composite
def index_sets(draw):
    if draw(st.booleans()):
        n = draw(st.integers(1, 3000))
        mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return n, [i for i, m in enumerate(mask) if m]
    n = draw(st.sampled_from([2**20, 2**32 + 7, 2**40, 2**48]))
    idx = draw(st.lists(st.integers(0, n - 1), max_size=300, unique=True))
    return n, sorted(idx)


@pytest.mark.parametrize("mod", INDEX_MODES, ids=lambda m: m.NAME)
@FAST
@given(index_sets())
def test_index_roundtrip(mod, case):
    roundtrip_index(mod, case[1], case[0])


@pytest.mark.parametrize("mod", INDEX_MODES, ids=lambda m: m.NAME)
@pytest.mark.parametrize("n, idx", [
    (1, []), (1, [0]), (5, [4]), (7, list(range(7))), (2**40, [0, 2**40 - 1]),
    (2**48, [2**48 - 1]), (1000, list(range(0, 1000, 3))), (2000, list(range(300, 1900))),
])
def test_index_edges(mod, n, idx):
    roundtrip_index(mod, idx, n)


@pytest.mark.parametrize("mod", INDEX_MODES, ids=lambda m: m.NAME)
def test_index_large_uniform_and_rice_blocks(mod):
    rng = np.random.default_rng(7)
    n = 200_000
    # density changes every few blocks: exercises same_r = 1 and explicit r
    idx = np.flatnonzero(rng.random(n) < np.repeat([0.01, 0.3, 0.001, 0.5], n // 4))
    roundtrip_index(mod, idx, n)


@st.composite
def label_arrays(draw):
    c = draw(st.sampled_from([1, 2, 3, 10, 101, 1000, 65536, 2**20]))
    k = draw(st.integers(0, 400))
    kind = draw(st.sampled_from(["uniform", "dominant", "runs", "constant"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lab = rng.integers(0, c, k)
    if kind == "dominant":
        lab = np.where(rng.random(k) < 0.97, c - 1, lab)
    elif kind == "runs":
        lab = np.repeat(lab[: max(1, k // 20)], 20)[:k]
    elif kind == "constant":
        lab = np.full(k, rng.integers(0, c))
    return c, lab


@pytest.mark.parametrize("mod", LABEL_MODES, ids=lambda m: m.NAME)
@FAST
@given(label_arrays())
def test_label_roundtrip(mod, case):
    roundtrip_labels(mod, case[1], case[0])


@pytest.mark.parametrize("mod", LABEL_MODES, ids=lambda m: m.NAME)
def test_label_all_equally_likely(mod):
    rng = np.random.default_rng(1)
    roundtrip_labels(mod, rng.permutation(np.tile(np.arange(1024), 3)), 1024)
    lab = rng.permutation(np.tile(np.arange(65536), 2))     # kernels only: twin is slow
    np.testing.assert_array_equal(mod.decode(as_raw(mod.encode(lab, 65536)), 65536,
                                             lab.size), lab)


def test_deterministic():
    rng = np.random.default_rng(5)
    idx = np.sort(rng.choice(10**6, 5000, replace=False))
    lab = rng.integers(0, 50, 5000)
    for mod in INDEX_MODES:
        assert mod.encode(idx, 10**6) == mod.encode(idx.copy(), 10**6)
    for mod in LABEL_MODES:
        assert mod.encode(lab, 50) == mod.encode(lab.copy(), 50)


# ---------------------------------------------------------------------------------------
# sizes

def test_rice_near_bound():
    from math import lgamma, log
    rng = np.random.default_rng(0)
    n = 2_000_000
    for p in (0.001, 0.01, 0.1, 0.5):
        k = int(n * p)
        idx = np.sort(rng.choice(n, k, replace=False))
        bound = (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)) / log(2)
        assert len(_rice.encode(idx, n)) * 8 <= 1.02 * bound + 64


def test_rans_size_matches_constriction():
    constriction = pytest.importorskip("constriction")
    rng = np.random.default_rng(2)
    for c, k in ((10, 100_000), (1000, 100_000)):
        lab = rng.integers(0, c, k).astype(np.int32)
        probs = np.bincount(lab, minlength=c).astype(np.float64) / k
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(lab, constriction.stream.model.Categorical(probs, perfect=False))
        ref = coder.get_compressed().size * 4
        ours = len(_rans.encode(lab, c))   # includes our table; constriction's has none
        assert abs(ours - ref) / ref < 0.005, (c, ours, ref)


def test_adaptive_labels_exploit_runs():
    rng = np.random.default_rng(3)
    lab = np.repeat(rng.integers(0, 1000, 500), 200)
    assert len(_adaptive_labels.encode(lab, 1000)) * 8 / lab.size < 0.2


# ---------------------------------------------------------------------------------------
# rejection rules (assert after the raises block)

def bits(*fields):
    w = BitWriter()
    for value, width in fields:
        w.write(value, width)
    return w.getvalue()


def check_both(mod, raw, *args, err, match):
    """Kernel path and twin raise the same error type and message."""
    with pytest.raises(err) as e1:
        mod.decode(as_raw(raw), *args)
    with pytest.raises(err) as e2:
        mod.decode_twin(raw, *args)
    assert e1.match(match)
    assert str(e1.value) == str(e2.value)


def test_rice_rejects_r_above_47():
    raw = bits((0, 1), (48, 6), (1, 1))
    check_both(_rice, raw, 100, 1, err=FormatError, match=r"r of block 0 must be <= 47, got 48")


def test_rice_rejects_index_past_pool():
    raw = bits((1, 1), (0, 5), (1, 1))            # r = 0, gap 5 in a pool of 5
    check_both(_rice, raw, 5, 1, err=FormatError,
               match=r"gap 0 must be <= 4 so that index 0 stays below pool_size 5")


def test_rice_rejects_trailing_and_padding_and_truncation():
    check_both(_rice, bits((1, 1), (1, 1)) + b"\x00", 5, 1, err=FormatError,
               match=r"trailing bytes: expected 1 bytes, got 2")
    check_both(_rice, bytes([0b0111]), 5, 1, err=FormatError,
               match=r"padding bits must be zero, got 0x1")
    check_both(_rice, b"", 5, 1, err=TruncatedError,
               match=r"same_r of block 0: needs 1 bits, 0 left")
    check_both(_rice, bytes([0b0]), 5, 1, err=TruncatedError,
               match=r"gap 0 \(unary part\): unary run of 1 zero bits")
    check_both(_rice, bytes([1]), 5, 1, err=TruncatedError,
               match=r"gap 0 \(unary part\): unary run of 7 zero bits")
    check_both(_rice, b"\x01", 5, 0, err=FormatError, match=r"trailing bytes")


def rans_stream(c, precision, entries, words, rs=0, rf=0, d=None):
    w = BitWriter()
    w.write(precision, 5)
    w.write((len(entries) if d is None else d) - 1, (c - 1).bit_length())
    w.write(rs, 5)
    w.write(rf, 5)
    for gap, f in entries:
        w.write_rice(gap, rs)
        w.write_rice(f, rf)
    return w.getvalue() + b"".join(x.to_bytes(4, "little") for x in words)


L = 1 << 31
S = [L, 0] * 4          # the 4 lane states, all L (lane 0 first, low word first)


def lanes(*states):
    """Word list of the 4 initial lane states."""
    return [w for x in states for w in (x & 0xFFFFFFFF, x >> 32)]


@pytest.mark.parametrize("c, raw, count, err, match", [
    (1, rans_stream(1, 0, [(0, 1)], S), 3, None, None),                       # valid
    (1, rans_stream(1, 0, [(0, 1)], S), 6, None, None),                       # valid
    (4, rans_stream(4, 25, [(0, 1)], S), 1, FormatError, r"precision must be <= 24, got 25"),
    (3, rans_stream(3, 1, [(0, 1)], S, d=4), 1, FormatError,
     r"symbol_count must be <= class_count 3, got 4"),
    (4, rans_stream(4, 1, [(0, 1), (3, 1)], S), 1, FormatError,
     r"symbol 1 of the table must be < class_count 4"),
    (4, rans_stream(4, 1, [(0, 0), (0, 2)], S), 1, FormatError,
     r"frequency of symbol 0 must be >= 1, got 0"),
    (4, rans_stream(4, 2, [(0, 1), (0, 2)], S), 1, FormatError,
     r"frequencies must sum to 2\^precision = 4, got 3"),
    (4, rans_stream(4, 1, [(0, 1), (0, 2)], S), 1, FormatError,
     r"frequencies must sum to 2\^precision = 2, exceeded at table entry 1"),
    (1, rans_stream(1, 0, [(0, 1)], S)[:-1], 1, FormatError,
     r"word area must be a multiple of 4 bytes, got 31"),
    (1, rans_stream(1, 0, [(0, 1)], [L, 0]), 1, TruncatedError,
     r"initial states: needs 8 words, 2 left"),
    (1, rans_stream(1, 0, [(0, 1)], S[:7]), 1, TruncatedError,
     r"initial states: needs 8 words, 7 left"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L - 1, L, L, L)), 1, FormatError,
     r"initial state of lane 0 must be in \[2\^31, 2\^63\), got 0x7fffffff"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L, L, L - 1, L)), 1, FormatError,
     r"initial state of lane 2 must be in \[2\^31, 2\^63\), got 0x7fffffff"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L, L, 1 << 63, L)), 1, FormatError,
     r"initial state of lane 2 must be in \[2\^31, 2\^63\), got 0x8000000000000000"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L, L, L, (1 << 64) - 1)), 1, FormatError,
     r"initial state of lane 3 must be in \[2\^31, 2\^63\), got 0xffffffffffffffff"),
    (1, rans_stream(1, 0, [(0, 1)], S + [5]), 1, FormatError,
     r"unconsumed words: expected 8 words, got 9"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L + 1, L, L, L)), 1, FormatError,
     r"final state of lane 0 must equal the initial state 0x80000000, got 0x80000001"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L, L, L, L + 7)), 9, FormatError,
     r"final state of lane 3 must equal the initial state 0x80000000, got 0x80000007"),
    (1, rans_stream(1, 0, [(0, 1)], lanes(L, L, L, L + 7)), 2, FormatError,  # lane unused
     r"final state of lane 3 must equal the initial state 0x80000000, got 0x80000007"),
    (2, rans_stream(2, 1, [(0, 1), (0, 1)], S), 1, TruncatedError,
     r"stream ends inside label 0: needs a word, 0 left"),
    (2, rans_stream(2, 1, [(0, 1), (0, 1)], S + [0, 0, 0]), 4, TruncatedError,
     r"stream ends inside label 3: needs a word, 0 left"),                 # grouped path
    (2, rans_stream(2, 1, [(0, 1), (0, 1)], S + [0, 0]), 3, TruncatedError,
     r"stream ends inside label 2: needs a word, 0 left"),                 # tail path
    (1, b"\x00", 1, TruncatedError, r"stream ends inside"),
    (1, b"\x05", 0, FormatError, r"trailing bytes: expected 0 bytes, got 1"),
])
def test_rans_rejections(c, raw, count, err, match):
    if err is None:
        assert _rans.decode(as_raw(raw), c, count).tolist() == [0] * count
        assert _rans.decode_twin(raw, c, count) == [0] * count
        return
    check_both(_rans, raw, c, count, err=err, match=match)


def test_rans_worked_example():
    """SPEC.md "Label mode 3: rans" worked example, byte for byte."""
    want = bytes.fromhex("4200b205" "0500000004000000" "0000000002000000"
                         "0200000002000000" "0000000001000000")
    lab = [0, 0, 1, 0, 2, 0]
    assert _rans.encode(np.array(lab), 3) == want
    assert roundtrip_labels(_rans, lab, 3) == want


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17])
@pytest.mark.parametrize("c", [1, 3, 1000])
def test_rans_small_k_lanes(k, c):
    """k < 4 leaves lanes at L (still written); k = 4, 5 ... exercise group and tail."""
    rng = np.random.default_rng(100 * k + c)
    lab = rng.integers(0, c, k)
    raw = roundtrip_labels(_rans, lab, c)
    words = np.frombuffer(raw[len(raw) - 4 * (len(raw) // 4):], dtype="<u4")
    assert len(raw) >= 32
    if k < 4 and c == 1:                     # P = 0: states never change
        assert raw[-32:] == b"".join(int(x).to_bytes(8, "little") for x in [L] * 4)
    assert words.size >= 8


def test_rans_lanes_independent():
    """Label i goes to lane i mod 4: lanes 1-3 see the same labels, lane 0 others."""
    lab = [0, 1, 1, 1] * 3
    raw = roundtrip_labels(_rans, lab, 2)
    st = np.frombuffer(raw[-32:], dtype="<u8")   # no renormalisation words at this size
    assert st[1] == st[2] == st[3] != st[0]


def test_rans_rejects_table_padding():
    from pladafmt._bitio import BitReader
    good = _rans.encode(np.array([0, 1, 1, 2]), 3)
    rd = BitReader(good, "rans")
    _rans._read_table(rd, 3)
    assert rd.bitpos & 7                     # the table ends inside a byte
    bad = bytearray(good)
    bad[rd.bitpos >> 3] |= 0x80
    check_both(_rans, bytes(bad), 3, 4, err=FormatError,
               match=r"table padding bits must be zero, got 0x")


@pytest.mark.parametrize("mod, n_or_c", [(_adaptive, 1000), (_adaptive_labels, 100)],
                         ids=["index", "labels"])
def test_range_coder_rejections(mod, n_or_c):
    good = (mod.encode(np.arange(0, 1000, 7), n_or_c) if mod is _adaptive
            else mod.encode(np.arange(143) % 100, n_or_c))
    k = 143
    check_both(mod, b"\x01" + good[1:], n_or_c, k, err=FormatError,
               match=r"first byte must be 0, got 0x01")
    check_both(mod, good[:4], n_or_c, k, err=TruncatedError,
               match=r"first 5 bytes: needs 5 bytes, 4 left")
    check_both(mod, good[:-3], n_or_c, k, err=TruncatedError, match=r"stream ends inside")
    check_both(mod, good + b"\x00", n_or_c, k, err=FormatError,
               match=r"unconsumed bytes: expected \d+ bytes, got \d+")
    # a low bit of the last byte only moves the final code (unless the last decisions
    # change too): find such a flip
    for bit in range(8):
        bad = good[:-1] + bytes([good[-1] ^ (1 << bit)])
        try:
            mod.decode(as_raw(bad), n_or_c, k)
        except FormatError as e:
            if "final range-coder code" in str(e):
                break
    check_both(mod, bad, n_or_c, k, err=FormatError,
               match=r"final range-coder code must be 0, got 0x[1-9a-f]")
    check_both(mod, b"\x00\xff\xff\xff\xff", n_or_c, k, err=FormatError,
               match=r"initial code must be < 0xffffffff")


def test_adaptive_rejects_index_past_pool():
    raw = _adaptive.encode(np.array([0, 5, 999]), 1000)
    check_both(_adaptive, raw, 999, 3, err=FormatError,
               match=r"gap 2 must be <= 992 so that index 2 stays below pool_size 999")


def test_adaptive_labels_reject_bad_labels():
    raw = _adaptive_labels.encode(np.array([0, 5, 7]), 8)
    check_both(_adaptive_labels, raw, 6, 3, err=FormatError,
               match=r"label 2 must be < class_count 6, got 7")
    raw = _adaptive_labels.encode_twin([1, 1, 1], 4)
    # a full-coded label equal to the previous one is not canonical
    from pladafmt import _rangecoder as rc
    probs = [rc.PROB_INIT] * (2 * _adaptive_labels._contexts(4))
    enc = rc.RangeEncoder()
    node = 1                                           # label 0 = 1 (tree bits 0, 1)
    for bit in (0, 1):
        enc.encode_bit(probs, _adaptive_labels.TREE_BASE + node, bit)
        node = 2 * node + bit
    enc.encode_bit(probs, 0, 0)                        # not same
    node = 1
    for bit in (0, 1):                                 # ...but codes 1 again
        enc.encode_bit(probs, _adaptive_labels.TREE_BASE + node, bit)
        node = 2 * node + bit
    check_both(_adaptive_labels, enc.finish(), 4, 2, err=FormatError,
               match=r"label 1 coded in full must differ from the previous label 1")
    assert raw


# ---------------------------------------------------------------------------------------
# fuzz: truncations and bit flips only ever raise pladafmt errors, kernel == twin

def _fuzz_cases():
    """(module, valid stream, N or C, k, extra decode arguments)."""
    rng = np.random.default_rng(11)
    idx = np.sort(rng.choice(5000, 300, replace=False))
    lab = np.repeat(rng.integers(0, 37, 30), 10)
    blocks = np.cumsum(np.where(rng.random(300) < 0.1, 600, rng.integers(1, 4, 300)))
    return [(_rice, _rice.encode(idx, 5000), 5000, 300, ()),
            (_adaptive, _adaptive.encode(idx, 5000), 5000, 300, ()),
            (_rans, _rans.encode(lab, 37), 37, 300, ()),
            (_adaptive_labels, _adaptive_labels.encode(lab, 37), 37, 300, ()),
            (_adaptive_gap_labels, _adaptive_gap_labels.encode(lab, 37, blocks), 37, 300,
             (blocks,))]


@pytest.mark.parametrize("case", range(5), ids=["rice", "adaptive", "rans", "adaptive-labels",
                                                "adaptive-gap"])
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fuzz_only_pladaf_errors(case, data):
    mod, good, arg, k, ctx = _FUZZ[case]
    raw = bytearray(good)
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            p = data.draw(st.integers(0, 8 * len(raw) - 1))
            raw[p >> 3] ^= 1 << (p & 7)
    raw = bytes(raw)
    try:
        got = mod.decode(as_raw(raw), arg, k, *ctx)
    except PladaError as e:
        with pytest.raises(type(e)) as e2:
            mod.decode_twin(raw, arg, k, *ctx)
        assert str(e2.value) == str(e)
        return
    assert mod.decode_twin(raw, arg, k, *ctx) == got.tolist()
    if mod.KIND == "index":
        assert np.all(np.diff(got) > 0) and got[-1] < arg and got[0] >= 0
    else:
        assert got.min() >= 0 and got.max() < arg


_FUZZ = _fuzz_cases()


@FAST
@given(st.integers(1, 70_000), st.integers(0, 600), st.integers(0, 2**32 - 1),
       st.booleans())
def test_rans_lut_and_bisect_paths_agree(c, k, seed, skewed):
    """The slot tables (fast group loop) and the bisection of cum (used when 2^P is too
    large for a table) decode the same labels, and decode_with_u32's second array is the
    labels as uint32 (the form the container checksums)."""
    rng = np.random.default_rng(seed)
    lab = (rng.zipf(1.3, k) - 1) % c if skewed else rng.integers(0, c, k)
    raw = as_raw(_rans.encode(lab, c))
    with_lut, as_u32 = _rans.decode_with_u32(raw, c, k)
    np.testing.assert_array_equal(with_lut, lab)
    assert as_u32.dtype == np.uint32
    np.testing.assert_array_equal(as_u32, lab)
    saved = _rans.LUT_MAX_P
    try:
        _rans.LUT_MAX_P = -1
        np.testing.assert_array_equal(_rans.decode(raw, c, k), lab)
    finally:
        _rans.LUT_MAX_P = saved


@pytest.mark.parametrize("cut_words", [1, 2, 3, 4, 5, 9])
def test_rans_truncation_near_the_end_of_the_word_area(cut_words):
    """The group loop stops 4 words before the end; the checked loop then finds the cut."""
    lab = np.random.default_rng(cut_words).integers(0, 50, 4000)
    good = _rans.encode(lab, 50)
    bad = good[:len(good) - 4 * cut_words]
    check_both(_rans, bad, 50, lab.size, err=PladaError, match=r"rans: ")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rice_fast_path_never_accepts_what_the_careful_kernel_rejects(data):
    """_decode_fast checks ranges and the stream end per block, not per gap: on valid
    streams it must succeed, and on mutated ones it may only say "valid" when the careful
    kernel accepts the same stream with the same indices."""
    n = data.draw(st.sampled_from([1, 2, 300, 10**6, 2**40]))
    k = data.draw(st.integers(0, min(n, 700)))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if n <= 10**6:
        idx = np.sort(rng.choice(n, k, replace=False))
    else:                                   # huge gaps: large r, long unary runs
        idx = np.unique(rng.integers(0, n, k))
        k = idx.size
    raw = np.frombuffer(_rice.encode(idx, n), np.uint8)
    out = np.empty(k, np.int64)
    assert _rice._decode_fast(_rice._words_of(raw), 8 * raw.size, n, k, out)
    np.testing.assert_array_equal(out, idx)
    mutated = bytearray(raw.tobytes())
    how = data.draw(st.sampled_from(["flip", "cut", "append", "count", "pool"]))
    kk = k
    if how == "pool" and k:                 # the last index (or more) now out of range
        n = max(1, int(idx[-1]) - data.draw(st.integers(0, 3)))
    if how == "flip" and mutated:
        bit = data.draw(st.integers(0, 8 * len(mutated) - 1))
        mutated[bit >> 3] ^= 1 << (bit & 7)
    elif how == "cut" and mutated:
        del mutated[data.draw(st.integers(0, len(mutated) - 1)):]
    elif how == "append":
        mutated += bytes([data.draw(st.integers(0, 255))])
    else:
        kk = data.draw(st.integers(0, min(n, k + 5)))
    m = np.frombuffer(bytes(mutated), np.uint8)
    fast_out = np.empty(kk, np.int64)
    fast_ok = _rice._decode_fast(_rice._words_of(m), 8 * m.size, n, kk, fast_out)
    slow_out = np.empty(kk, np.int64)
    status = _rice._decode_kernel(m, n, kk, slow_out, np.zeros(4, np.int64))
    if fast_ok:
        assert status == _rice._OK
        np.testing.assert_array_equal(fast_out, slow_out)
