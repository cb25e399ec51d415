"""Format 1.3 ctx-rans (index mode 5, label mode 6): round trips, kernel == twin == the
conformance writer, segments and the paired two-thread decode, every rejection rule with
its error and message, and hostile input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pladafmt
from conformance import generate as G
from pladafmt import _codec, _modes
from pladafmt import _ctx_index as ci
from pladafmt import _ctx_labels as cl
from pladafmt import _ctxrans as cr
from pladafmt._errors import EncodeError, FormatError, PladaError, TruncatedError
from pladafmt._zstd import zstd_wrap
from common import as_raw

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                HealthCheck.function_scoped_fixture])
IDX11, LAB11 = [2, 3, 7, 20, 21, 22], [0, 0, 1, 0, 2, 0]


@pytest.fixture
def small_segments(monkeypatch):
    """Segments of ~4 items, so that small inputs exercise several segments."""
    monkeypatch.setattr(cr, "SEGMENT_ITEMS", 4)


def index_roundtrip(idx, n):
    idx = np.asarray(idx, dtype=np.int64)
    raw = ci.encode(idx, n)
    assert raw == ci.encode_twin(idx.tolist(), n)
    assert len(raw) <= ci.raw_size_bound(n, idx.size)
    np.testing.assert_array_equal(ci.decode(as_raw(raw), n, idx.size), idx)
    assert ci.decode_twin(raw, n, idx.size) == idx.tolist()
    return raw


def label_roundtrip(lab, c, idx):
    lab = np.asarray(lab, dtype=np.int64)
    idx = np.asarray(idx, dtype=np.int64)
    raw = cl.encode(lab, c, idx)
    assert raw == cl.encode_twin(lab, c, idx)
    assert len(raw) <= cl.raw_size_bound(c, lab.size)
    got, got32 = cl.decode_with_u32(as_raw(raw), c, lab.size, idx)
    np.testing.assert_array_equal(got, lab)
    np.testing.assert_array_equal(got32, lab.astype(np.uint32))
    assert cl.decode_twin(raw, c, lab.size, idx) == lab.tolist()
    return raw


@st.composite
def index_cases(draw):
    n = draw(st.sampled_from([1, 2, 64, 1000, 2**20, 2**40, 2**48]) | st.integers(1, 5000))
    k = min(n, draw(st.sampled_from([0, 1, 2]) | st.integers(0, 300)))
    if n <= 300 and draw(st.booleans()):
        k = n                                        # k = N: every gap 0
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = draw(st.sampled_from(["uniform", "clustered", "all", "ends"]))
    if shape == "all" or k == n:
        idx = np.arange(k)
    elif shape == "ends" and k >= 2:
        idx = np.concatenate([np.arange(k - 1), [n - 1]])
    elif shape == "clustered" and n > 10 * k:
        starts = np.sort(rng.choice(n - 8 * k, max(1, k // 20), replace=False))
        idx = np.unique(np.concatenate([s + rng.choice(8 * 20, 20, replace=False)
                                        for s in starts]))[:k]
    else:
        idx = np.sort(rng.choice(n, k, replace=False)) if n < 2**31 else \
            np.unique(rng.integers(0, n, k))
    return n, idx.astype(np.int64)


@st.composite
def label_cases(draw):
    c = draw(st.sampled_from([1, 2, 3, 10, 101, 1000, 1025, 65536, 2**20]))
    k = draw(st.sampled_from([0, 1, 2, 5]) | st.integers(0, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = draw(st.sampled_from(["uniform", "dominant", "runs", "constant", "blocks"]))
    lab = rng.integers(0, c, k)
    if shape == "dominant":
        lab = np.where(rng.random(k) < 0.97, c - 1, lab)
    elif shape == "runs":
        lab = np.repeat(lab[: k // 10 + 1], 10)[:k]
    elif shape == "constant":
        lab = np.full(k, rng.integers(0, c))
    gaps = draw(st.sampled_from(["ones", "mixed", "huge"]))
    g = {"ones": np.ones(k, dtype=np.int64),
         "mixed": np.int64(1) << rng.integers(0, 21, k),
         "huge": rng.integers(1, 2**44, k)}[gaps]
    idx = np.cumsum(g) - 1
    if shape == "blocks" and k:
        lab = np.where(rng.random(k) < 0.95, (idx // 50) % c, lab)
    return c, lab.astype(np.int64), idx.astype(np.int64)


@FAST
@given(index_cases(), st.booleans())
def test_index_roundtrip(small_segments, case, several):
    n, idx = case
    if not several:
        cr.SEGMENT_ITEMS = 1 << 16
    raw = index_roundtrip(idx, n)
    if idx.size:
        s = cr.segment_count(idx.size)
        assert raw[0] == s
        assert raw == G.s_ctx_index(idx.tolist(), n, S=s)     # the independent writer


@FAST
@given(label_cases(), st.booleans())
def test_label_roundtrip(small_segments, case, several):
    c, lab, idx = case
    if not several:
        cr.SEGMENT_ITEMS = 1 << 16
    raw = label_roundtrip(lab, c, idx)
    if lab.size:
        assert raw == G.s_ctx_labels(lab.tolist(), c, idx.tolist(),
                                     S=cr.segment_count(lab.size))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 200])
def test_any_segment_count_decodes(k):
    """Decoders accept every Segment_Count 1..min(64, k), not only the encoder's."""
    rng = np.random.default_rng(k)
    n = 10 * k + 3
    idx = np.sort(rng.choice(n, k, replace=False)).tolist()
    lab = rng.integers(0, 5, k).tolist()
    for s in sorted({1, 2, 3, min(k, 64), max(1, k // 2) if k <= 128 else 64}):
        if s > min(k, 64):
            continue
        a, b = G.s_ctx_index(idx, n, S=s), G.s_ctx_labels(lab, 5, idx, S=s)
        assert ci.decode(as_raw(a), n, k).tolist() == idx == ci.decode_twin(a, n, k)
        assert cl.decode(as_raw(b), 5, k, np.array(idx)).tolist() == lab
        assert cl.decode_twin(b, 5, k, idx) == lab


def test_segment_rule():
    assert [cr.segment_count(k) for k in (0, 1, 2**17 - 1, 2**17, 3 * 2**16, 2**18,
                                          141_971, 1_419_712, 2**40)] == \
        [1, 1, 1, 2, 2, 4, 2, 16, 16]
    assert cr.segment_starts(10, 3).tolist() == [0, 3, 6, 10]


def test_worked_examples_of_the_spec():
    a = ci.encode(np.array(IDX11), 32)
    assert a.hex(" ") == ("01 85 00 80 d4 06 00 00 1a 00 04 50 03 00 00 05 00 20 01 02 00 00 "
                          "00 02 00 00 00 00 00 00 00 01 00 00 00 03 00 00 00 02 00 00 00 00 "
                          "00 00 80 00 00 00 00 02")
    b = cl.encode(np.array(LAB11), 3, np.array(IDX11))
    assert b.hex(" ") == ("01 85 00 64 4b 00 00 0a 00 04 00 40 01 00 00 00 00 40 21 00 d9 02 "
                          "20 00 00 00 00 01 00 00 00 05 00 00 00 04 00 00 00 03 00 00 00 02 "
                          "00 00 00 0a 00 00 00 08 00 00 00")
    assert cl.events_twin(LAB11, IDX11, 0, 6) == [(64, 0), (0, 0), (18, 2), (64, 1), (3, 1),
                                                   (0, 2), (64, 2), (0, 1)]


def test_gap_classes():
    assert [ci.gap_class(v)[:2] for v in (1, 2, 3, 4, 6, 7, 13, 2**48)] == \
        [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (4, 2), (6, 3), (95, 48)]
    assert ci.gap_class(13)[2] == 1 and ci.gap_class(2**48 - 1)[0] == 94


def test_encode_rejects_bad_input():
    with pytest.raises(EncodeError, match="strictly increasing"):
        ci.encode(np.array([3, 3]), 10)
    with pytest.raises(EncodeError, match=r"labels must lie in \[0, 3\)"):
        cl.encode(np.array([0, 3]), 3, np.array([0, 1]))
    with pytest.raises(EncodeError, match="one index per label"):
        cl.encode(np.array([0, 1]), 3, np.array([0]))


def test_static_tables_beat_the_adaptive_modes_on_blocks():
    """A synset-like selection (blocks of a pool, one class per block): the static
    context models cost no more than the adaptive modes 4 and 5 (measured at 1 % of the
    clustered IN-21K workload: 118.7 KB against 120.2 KB; benchmarks/RESULTS.md)."""
    rng = np.random.default_rng(9)
    idx, lab = [], []
    for b in rng.choice(20000, 150, replace=False):
        m = int(rng.integers(100, 300))
        pos = np.sort(rng.choice(650, m, replace=False)) + 650 * int(b)
        idx += pos.tolist()
        lab += np.where(rng.random(m) < 0.95, int(b) % 101, rng.integers(0, 101, m)).tolist()
    bg = rng.choice(650 * 20000, 8000, replace=False)
    order = np.argsort(np.concatenate([idx, bg]))
    idx = np.concatenate([idx, bg])[order]
    keep = np.concatenate([[True], np.diff(idx) > 0])
    lab = np.concatenate([lab, rng.integers(0, 101, bg.size)])[order][keep]
    idx = idx[keep]
    n = 650 * 20000
    ours = len(ci.encode(idx, n)) + len(cl.encode(lab, 101, idx))
    adaptive = len(pladafmt._modes.INDEX_MODE_TABLE[4].encode(idx, n)) + \
        len(pladafmt._modes.LABEL_MODE_TABLE[5].encode(lab, 101, idx))
    assert ours < adaptive
    data = pladafmt.encode(idx, lab, pool_size=n, classes=101)
    p = pladafmt.decode(data)
    assert (p.index_mode, p.label_mode, p.version) == ("ctx-rans", "ctx-rans", (1, 3))


# ---------------------------------------------------------------------------------------
# the container: paired two-thread decode

def _payload(k, n, c, seed, **kw):
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = np.where(rng.random(k) < 0.8, (idx // 300) % c, rng.integers(0, c, k))
    return idx, lab, pladafmt.encode(idx, lab, pool_size=n, classes=c, index_mode="ctx-rans",
                                     label_mode="ctx-rans", **kw)


def test_paired_decode_equals_in_order_decode(monkeypatch):
    monkeypatch.setattr(cr, "SEGMENT_ITEMS", 2048)
    idx, lab, data = _payload(40_000, 4_000_000, 37, 1)
    assert data[_codec.HEADER.size + 12] == 16          # Segment_Count of the index stream
    calls = []
    real = _codec._decode_segmented
    monkeypatch.setattr(_codec, "_decode_segmented",
                        lambda *a: calls.append(1) or real(*a))
    p = pladafmt.decode(data)
    assert calls and np.array_equal(p.indices, idx) and np.array_equal(p.labels, lab)
    monkeypatch.setattr(_codec, "PARALLEL_MIN_ITEMS", 1 << 40)
    q = pladafmt.decode(data)
    assert len(calls) == 1 and np.array_equal(q.indices, idx) and np.array_equal(q.labels, lab)


@pytest.mark.parametrize("parallel", [True, False])
def test_paired_decode_reports_errors_in_stream_order(monkeypatch, parallel):
    """An index error in a late segment wins over a label error in segment 0, as when the
    streams decode one after the other."""
    monkeypatch.setattr(cr, "SEGMENT_ITEMS", 2048)
    if not parallel:
        monkeypatch.setattr(_codec, "PARALLEL_MIN_ITEMS", 1 << 40)
    rng = np.random.default_rng(2)
    n, k, c = 4_000_000, 40_000, 37
    idx = np.sort(rng.choice(n, k, replace=False)).tolist()
    lab = rng.integers(0, c, k).tolist()
    S = 16
    _, segs = G.ctx_index_parts(idx, S)
    good_i = G.s_ctx_index(idx, n, S=S)
    wrong_base = G.s_ctx_index(idx, n, S=S, rows={13: (segs[13][0] + 1, None, None)})
    pairs = [G.ctx_label_pairs(lab, idx, lo, hi) for lo, hi in G.ctx_segments(k, S)]
    first = pairs[0][1]
    pairs[0][1] = (first[0], 1)          # label 1: a back event before any run
    bad_l = G.s_ctx_labels(lab, c, idx, S=S, pairs=pairs)
    good_l = G.s_ctx_labels(lab, c, idx, S=S)

    def payload(ib, lb):
        return G.build(idx, lab, n, c, imode=5, lmode=6, ibody=ib, lbody=lb,
                       hdr={"minor": 3})
    p = pladafmt.decode(payload(good_i, good_l))
    assert p.labels.tolist() == lab
    with pytest.raises(FormatError, match="base of segment 13 must equal the last index of "
                                          "segment 12"):
        pladafmt.decode(payload(wrong_base, bad_l))
    with pytest.raises(FormatError, match="label 1: back event with no earlier run"):
        pladafmt.decode(payload(good_i, bad_l))


# ---------------------------------------------------------------------------------------
# rejections: every rule, the twin and the kernels alike

N0 = 32
GOOD_I = G.s_ctx_index(IDX11, N0)
GOOD_L = G.s_ctx_labels(LAB11, 3, IDX11)
IDX40 = list(range(0, 400, 10))
IDX_TABLES = G.ctx_tables([p for sg in G.ctx_index_parts(IDX40, 2)[1] for p in sg[1]],
                          [97] * 16)


def _seg_edit(s, fn):
    def edit(data):
        data[s] = fn(data[s])
    return edit


def _index_cases():
    t0 = G.ctx_tables([p for sg in G.ctx_index_parts(IDX11, 1)[1] for p in sg[1]], [97] * 16)
    p11 = (11, [0, 2, 3], [1024, 512, 512])
    L = G.RANS_L
    return [
        ("segcount0", bytes([0]) + GOOD_I[1:], N0, 6, FormatError,
         r"Segment_Count must be in \[1, min\(64, count = 6\)\], got 0"),
        ("segcount_gt_k", bytes([7]) + GOOD_I[1:], N0, 6, FormatError, "got 7"),
        ("empty", b"", N0, 6, TruncatedError, "Segment_Count"),
        ("k0_nonempty", b"\x01", N0, 0, FormatError, "trailing bytes: expected 0 bytes, got 1"),
        ("precision", G.s_ctx_index(IDX11, N0, override={0: p11}), N0, 6, FormatError,
         "table 0: precision must be <= 10, got 11"),
        ("absent_table", G.s_ctx_index(IDX11, N0, present_over={3: 0}), N0, 6, FormatError,
         r"gap 4 \(segment 0\) needs table 3, which is absent"),
        ("table_padding", G.s_ctx_index(IDX11, N0, pad=1), N0, 6, FormatError,
         "table padding bits must be zero"),
        ("table_zero_freq", G.s_ctx_index(IDX11, N0,
                                                   write_over={0: (2, [0, 2, 3], [4, 0, 0])}),
         N0, 6, FormatError, "table 0: frequency of symbol 2 must be >= 1, got 0"),
        ("table_sum", G.s_ctx_index(IDX11, N0,
                                             write_over={0: (3, [0, 2, 3], [2, 1, 1])}), N0,
         6, FormatError, r"table 0: frequencies must sum to 2\^precision = 8, got 4"),
        ("table_trunc", GOOD_I[:3], N0, 6, TruncatedError,
         "table 0: stream ends inside rs: needs 5 bits, 3 left"),
        ("dir_nonminimal", GOOD_I[:17] + b"\xa0\x00" + GOOD_I[18:] + b"", N0, 6, FormatError,
         "word_bytes of segment 0 must be a minimal varint"),
        ("trailing", GOOD_I + b"\x00", N0, 6, FormatError, "trailing bytes: expected 52 bytes, "
         "got 53"),
        ("truncated", GOOD_I[:-1], N0, 6, TruncatedError, "segment data needs 33 bytes, 32 left"),
        ("words_not_4", G.s_ctx_index(IDX11, N0, rows={0: (-1, 31, 2)}), N0, 6, FormatError,
         "word area of segment 0 must be a multiple of 4 bytes, got 31"),
        ("words_short", G.s_ctx_index(IDX11, N0, rows={0: (-1, 28, 5)}), N0, 6, TruncatedError,
         "segment 0 ends inside initial states: needs 8 words, 7 left"),
        ("initial_state", G.s_ctx_index(IDX11, N0, x0={0: (L, L, 5, L)}), N0, 6, FormatError,
         r"initial state of lane 2 of segment 0 must be in \[2\^31, 2\^63\)"),
        ("final_state", G.s_ctx_index(IDX11, N0, x0={0: (L, L + 1, L, L)}), N0, 6,
         FormatError, "final state of lane 1 of segment 0 must equal the initial state"),
        ("unconsumed", G.s_ctx_index(IDX11, N0, rows={0: (-1, 36, 1)},
                                     edit=_seg_edit(0, lambda d: [d[0] + bytes(4), d[1]])),
         N0, 6, FormatError, "unconsumed words in segment 0: expected 8 words, got 9"),
        ("gap_range", GOOD_I, 22, 6, FormatError,
         "gap 5 must be <= -1 so that index 5 stays below pool_size 22"),
        ("raw_long", G.s_ctx_index(IDX11, N0, rows={0: (-1, 32, 2)},
                                   edit=_seg_edit(0, lambda d: [d[0], d[1] + b"\x00"])),
         N0, 6, FormatError, "trailing bytes: raw area of segment 0 expected 1 bytes, got 2"),
        ("raw_padding", G.s_ctx_index(IDX11, N0, raw_pad={0: 1}), N0, 6, FormatError,
         "padding bits of the raw area of segment 0 must be zero"),
        ("raw_trunc", G.s_ctx_index(IDX11, N0, rows={0: (-1, 32, 0)},
                                    edit=_seg_edit(0, lambda d: [d[0], b""])),
         N0, 6, TruncatedError, "raw bits of gap 2"),
        ("base_big", G.s_ctx_index(IDX40, 400, S=2, rows={1: (399, None, None)}), 400, 40,
         FormatError, "base of segment 1 must be <= pool_size - 2 = 398, got 399"),
        ("base_mismatch", G.s_ctx_index(IDX40, 400, S=2, rows={1: (189, None, None)}), 400, 40,
         FormatError, "base of segment 1 must equal the last index of segment 0, 190, got "
         "189"),
    ], t0


INDEX_CASES, _ = _index_cases()


@pytest.mark.parametrize("name, raw, n, k, err, match", INDEX_CASES,
                         ids=[c[0] for c in INDEX_CASES])
@pytest.mark.parametrize("path", ["kernel", "twin"])
def test_index_rejections(name, raw, n, k, err, match, path):
    dec = (lambda: ci.decode(as_raw(raw), n, k)) if path == "kernel" else \
        (lambda: ci.decode_twin(raw, n, k))
    with pytest.raises(err, match=match) as info:
        dec()
    assert str(info.value).startswith("ctx-rans index: ")


def _label_cases():
    L = G.RANS_L
    first = G.ctx_label_pairs(LAB11, IDX11, 0, 6)
    no_back = [[(64, 0), (0, 1)] + first[2:]]
    eq_prev = [[(64, 0), (0, 2), (64, 0)] + first[2:]]
    eq_back = [first[:3] + [(64, 1), (3, 2), (64, 0)] + first[5:]]
    return [
        ("segcount0", bytes([0]) + GOOD_L[1:], 3, 6, FormatError, "got 0"),
        ("k0_nonempty", b"\x00", 3, 0, FormatError, "trailing bytes"),
        ("no_back", G.s_ctx_labels(LAB11, 3, IDX11, pairs=no_back), 3, 6, FormatError,
         "label 1: back event with no earlier run"),
        ("literal_eq_prev", G.s_ctx_labels(LAB11, 3, IDX11, pairs=eq_prev), 3, 6, FormatError,
         "label 1 coded in full must differ from the previous label 0 and the one before the "
         "run -1, got 0"),
        ("literal_eq_back", G.s_ctx_labels(LAB11, 3, IDX11, pairs=eq_back), 3, 6, FormatError,
         "label 3 coded in full must differ from the previous label 1 and the one before the "
         "run 0, got 0"),
        ("literal_ge_c", GOOD_L, 2, 6, FormatError, r"table 64: symbol \d+ of the table must be < "
         "class_count 2"),
        ("absent_literal", G.s_ctx_labels(LAB11, 3, IDX11, present_over={64: 0}), 3, 6,
         FormatError, r"label 0 \(segment 0\) needs table 64, which is absent"),
        ("event_precision", G.s_ctx_labels(LAB11, 3, IDX11, override={
            0: (11, [0, 1, 2], [1024, 512, 512])}), 3, 6, FormatError,
         "table 0: precision must be <= 10, got 11"),
        ("truncated_words", G.s_ctx_labels(LAB11, 3, IDX11, sizes={0: 28},
                                           edit=lambda d: d.__setitem__(0, d[0][:28])),
         3, 6, TruncatedError, "needs 8 words, 7 left"),
        ("final_state", G.s_ctx_labels(LAB11, 3, IDX11, x0={0: (L, L, L, L + 7)}), 3, 6,
         FormatError, "final state of lane 3 of segment 0"),
        ("trailing", GOOD_L + b"\x00", 3, 6, FormatError, "trailing bytes"),
    ]


LABEL_CASES = _label_cases()


@pytest.mark.parametrize("name, raw, c, k, err, match", LABEL_CASES,
                         ids=[c[0] for c in LABEL_CASES])
@pytest.mark.parametrize("path", ["kernel", "twin"])
def test_label_rejections(name, raw, c, k, err, match, path):
    idx = IDX11[:k]
    dec = (lambda: cl.decode(as_raw(raw), c, k, np.array(idx, dtype=np.int64))) \
        if path == "kernel" else (lambda: cl.decode_twin(raw, c, k, idx))
    with pytest.raises(err, match=match) as info:
        dec()
    assert str(info.value).startswith("ctx-rans labels: ")


def test_absent_table_is_reported_by_the_fast_index_path_with_its_context():
    raw = G.s_ctx_index(IDX11, N0, present_over={1: 0})
    with pytest.raises(FormatError, match=r"gap 1 \(segment 0\) needs table 1"):
        ci.decode(as_raw(raw), N0, 6)


@pytest.mark.parametrize("kind", ["index", "labels"])
@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fuzz_kernel_and_twin_agree(kind, data):
    """Bit flips, cuts and appended bytes: only PladaErrors, and the kernels accept exactly
    what the twins accept, with the same values and the same error type."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k = data.draw(st.integers(1, 120))
    n = 4 * k + 10
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = np.where(rng.random(k) < 0.7, idx // 20 % 5, rng.integers(0, 5, k))
    s = data.draw(st.integers(1, min(k, 5)))
    raw = bytearray(G.s_ctx_index(idx.tolist(), n, S=s) if kind == "index" else
                    G.s_ctx_labels(lab.tolist(), 5, idx.tolist(), S=s))
    op = data.draw(st.sampled_from(["flip", "cut", "append"]))
    if op == "flip":
        for _ in range(data.draw(st.integers(1, 3))):
            j = data.draw(st.integers(0, len(raw) - 1))
            raw[j] ^= 1 << data.draw(st.integers(0, 7))
    elif op == "cut":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    else:
        raw += bytes(data.draw(st.binary(min_size=1, max_size=8)))
    raw = bytes(raw)
    if kind == "index":
        fast = lambda: ci.decode(as_raw(raw), n, k).tolist()        # noqa: E731
        twin = lambda: ci.decode_twin(raw, n, k)                    # noqa: E731
    else:
        fast = lambda: cl.decode(as_raw(raw), 5, k, idx).tolist()   # noqa: E731
        twin = lambda: cl.decode_twin(raw, 5, k, idx.tolist())      # noqa: E731
    results = []
    for f in (fast, twin):
        try:
            results.append(("ok", f()))
        except PladaError as e:
            results.append((type(e).__name__, None))
    assert results[0] == results[1]


def test_auto_counts_zstd_as_decode_cost():
    """1000 i.i.d. classes: Huffman+Zstd labels are a little smaller than every raw plain
    mode (Zstd squeezes the byte-aligned Huffman output a bit), but the Zstd pass makes the
    decode ~1.3x slower; auto keeps the smallest raw plain mode unless the wrapper saves
    0.5 %."""
    rng = np.random.default_rng(5)
    k, c = 60_000, 1000
    idx = np.sort(rng.choice(6_000_000, k, replace=False))
    lab = rng.integers(0, c, k)
    table = _modes.LABEL_MODE_TABLE
    raw = sorted((len(m.encode(lab, c)), m.id, m.name) for m in table.values()
                 if m.decode_class == _modes.PLAIN and not m.needs_indices)
    hz = len(zstd_wrap(table[1].encode(lab, c), 19))
    assert hz < raw[0][0]                             # the case the rule is about
    gain = 1 - hz / raw[0][0]
    got = pladafmt.decode(pladafmt.encode(idx, lab, pool_size=6_000_000, classes=c)).label_mode
    assert got == ("huffman+zstd" if gain >= _codec.AUTO_MIN_GAIN else raw[0][2])
    strict = pladafmt.decode(pladafmt.encode(idx, lab, pool_size=6_000_000, classes=c,
                                             label_mode="smallest")).label_mode
    assert strict == "huffman+zstd"


def test_auto_rule_weighs_decode_cost():
    """auto takes a costlier decode (a context-modelled mode, a Zstd wrapper) only when it
    saves >= 0.5 % of the stream (AUTO_MIN_GAIN); "smallest" takes the smallest stream
    whatever its mode."""
    choice = _codec.auto_choice
    assert choice([(1000, 3, False, False), (996, 5, False, True)], 0.005) == 0
    assert choice([(1000, 3, False, False), (994, 5, False, True)], 0.005) == 1
    assert choice([(1000, 3, False, False), (996, 5, False, True)], 0.0) == 1
    assert choice([(996, 5, False, True), (1000, 4, False, True)], 0.005) == 0   # no plain one
    assert choice([(50, 1, True, False), (50, 1, False, False)], 0.005) == 1     # raw first
    # a Zstd wrapper costs one more: huffman+zstd must save 0.5 % over raw rans ...
    P, X = _modes.PLAIN, _modes.CONTEXT
    assert choice([(1000, 3, False, P), (998, 1, True, P)], 0.005) == 0
    assert choice([(1000, 3, False, P), (994, 1, True, P)], 0.005) == 1
    assert choice([(1000, 3, False, P), (998, 1, True, P)], 0.0) == 1
    # ... but less than a context model: ctx-rans (cost 2) must save 0.5 % over rice+zstd
    assert choice([(1000, 5, False, X), (1003, 3, True, P), (1100, 3, False, P)], 0.005) == 1
    # a context mode with Zstd (cost 3) moves to the cheapest cost within 0.5 % first
    # (raw plain, cost 0), not to the costs in between
    assert choice([(1000, 5, True, X), (1003, 5, False, X), (1004, 3, False, P)], 0.005) == 2
    # the cost-2 candidate when the cost-0 one is more than 0.5 % larger, and it stays there
    assert choice([(1000, 5, True, X), (1003, 5, False, X), (1010, 3, False, P)], 0.005) == 1
    # uniform gaps, 10 % of a pool: ctx-rans is 0.7 % smaller than rice, so auto takes it;
    # at 1 % of 2M it is larger, so rice
    rng = np.random.default_rng(3)
    idx = np.sort(rng.choice(400_000, 40_000, replace=False))
    lab = rng.integers(0, 7, idx.size)
    rice, ctx = len(pladafmt._modes.INDEX_MODE_TABLE[3].encode(idx, 400_000)), \
        len(ci.encode(idx, 400_000))
    assert ctx < rice
    gain = 1 - ctx / rice
    got = pladafmt.decode(pladafmt.encode(idx, lab, pool_size=400_000, classes=7)).index_mode
    assert got == ("ctx-rans" if gain >= _codec.AUTO_MIN_GAIN else "rice")
    strict = pladafmt.decode(pladafmt.encode(idx, lab, pool_size=400_000, classes=7,
                                             index_mode="smallest")).index_mode
    assert strict == "ctx-rans"
