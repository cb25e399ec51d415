"""The 7 stream modes of format 2.0, through the mode checker of tests/common.py: the two
tables, round trips (kernel == twin), the k = 0 rule, the garbage differential, worked
examples, the rANS lane rule, every rejection rule with its error and message, and the
check order inside streams."""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import (as_raw, check_garbage, check_k0, check_round_trip, check_same_outcome,
                    extra)
from pladafmt._coders import rans as ra
from pladafmt._coders import segments as sg
from pladafmt._coders.bitio import BitWriter
from pladafmt._coders.leb128 import write_varint_twin
from pladafmt._modes import (CONTEXT, INDEX_MODES, LABEL_MODES, PLAIN, Mode, index_bitmap,
                             index_ctx_rans, index_rice, index_varint, label_ctx_rans,
                             label_packed, label_rans, mode_by_name)

ALL = [*INDEX_MODES.values(), *LABEL_MODES.values()]
IDS = [f"{m.kind}-{m.name}" for m in ALL]
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
L = ra.RANS_L
IDX6, LAB6 = [2, 3, 7, 20, 21, 22], [0, 0, 1, 0, 2, 0]      # the spec's worked examples


@pytest.fixture
def small_segments(monkeypatch):
    """About one segment per 4 items, so that small inputs get several segments."""
    monkeypatch.setattr(sg, "SEGMENT_ITEMS", 4)


def label_case(c, k, seed, shape="uniform"):
    """(labels, indices): indices with mixed gaps, labels by shape."""
    rng = np.random.default_rng(seed)
    idx = np.cumsum(np.int64(1) << rng.integers(0, 12, k)) - 1
    lab = rng.integers(0, c, k)
    if shape == "blocks":
        lab = np.where(rng.random(k) < 0.9, (idx // 64) % c, lab)
    elif shape == "constant":
        lab = np.full(k, c - 1)
    return lab.astype(np.int64), idx.astype(np.int64)


def index_case(n, k, seed):
    rng = np.random.default_rng(seed)
    if n < 2**31:
        return np.sort(rng.choice(n, k, replace=False)).astype(np.int64)
    return np.unique(rng.integers(0, n, k)).astype(np.int64)


# ---------------------------------------------------------------------------------------
# the tables

def test_tables_hold_the_seven_modes_of_format_2():
    assert {i: (m.name, m.decode_class) for i, m in INDEX_MODES.items()} == {
        0: ("bitmap", PLAIN), 1: ("varint", PLAIN), 2: ("rice", PLAIN), 3: ("ctx-rans", CONTEXT)}
    assert {i: (m.name, m.decode_class) for i, m in LABEL_MODES.items()} == {
        0: ("packed", PLAIN), 1: ("rans", PLAIN), 2: ("ctx-rans", CONTEXT)}
    assert all(m.kind == "index" for m in INDEX_MODES.values())
    assert all(m.kind == "label" for m in LABEL_MODES.values())
    assert [m.name for m in ALL if m.needs_indices] == ["ctx-rans"] == \
        [m.name for m in LABEL_MODES.values() if m.segments]
    assert mode_by_name(LABEL_MODES, "rans") is LABEL_MODES[1]
    assert mode_by_name(INDEX_MODES, "runs") is None


@pytest.mark.parametrize("module", [index_bitmap, index_varint, index_rice, index_ctx_rans,
                                    label_packed, label_rans, label_ctx_rans])
def test_each_mode_module_exports_one_mode_and_it_is_in_a_table(module):
    modes = [v for v in vars(module).values() if isinstance(v, Mode)]
    assert modes == [module.MODE]
    table = INDEX_MODES if module.MODE.kind == "index" else LABEL_MODES
    assert table[module.MODE.id] is module.MODE


# ---------------------------------------------------------------------------------------
# round trips (kernel == twin), k = 0, garbage

INDEX_EDGES = [(1, [0]), (2, [1]), (5, [4]), (7, list(range(7))), (2**40, [0, 2**40 - 1]),
               (2**48, [2**48 - 1]), (2**48, [0, 1, 2**47, 2**48 - 1]),
               (1000, list(range(0, 1000, 3))), (2000, list(range(300, 1900))),
               (10**6, None)]


@pytest.mark.parametrize("mode", INDEX_MODES.values(), ids=IDS[:4])
@pytest.mark.parametrize("n, idx", INDEX_EDGES)
def test_index_round_trip_edges(mode, n, idx):
    if mode.name == "bitmap" and n > 10**7:
        pytest.skip("a bitmap of 2^40 bits")
    if idx is None:                        # around the lane rule: 2047, 2048, 2049 items
        for k in (2047, 2048, 2049):
            check_round_trip(mode, index_case(n, k, k), n)
        return
    check_round_trip(mode, idx, n)


@pytest.mark.parametrize("mode", LABEL_MODES.values(), ids=IDS[4:])
@pytest.mark.parametrize("c, k, shape", [
    (1, 5, "uniform"), (2, 1, "uniform"), (3, 6, "uniform"), (10, 300, "blocks"),
    (1000, 300, "uniform"), (65536, 40, "uniform"), (2**20, 30, "uniform"),
    (7, 2047, "blocks"), (7, 2048, "blocks"), (101, 2049, "uniform"), (5, 3000, "constant")])
def test_label_round_trip_edges(mode, c, k, shape):
    lab, idx = label_case(c, k, c + k, shape)
    check_round_trip(mode, lab, c, idx)


@pytest.mark.parametrize("mode", ALL, ids=IDS)
def test_round_trip_with_several_segments(mode, small_segments):
    """Segments matter only to ctx-rans; every mode must not care."""
    for k in (1, 3, 9, 40):
        if mode.kind == "index":
            check_round_trip(mode, index_case(400, k, k), 400)
        else:
            lab, idx = label_case(6, k, k, "blocks")
            check_round_trip(mode, lab, 6, idx)


@st.composite
def index_sets(draw):
    if draw(st.booleans()):
        n = draw(st.integers(1, 3000))
        mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return n, [i for i, m in enumerate(mask) if m]
    n = draw(st.sampled_from([2**20, 2**32 + 7, 2**48]))
    return n, sorted(draw(st.lists(st.integers(0, n - 1), max_size=200, unique=True)))


@pytest.mark.parametrize("mode", INDEX_MODES.values(), ids=IDS[:4])
@FAST
@given(case=index_sets(), segments=st.sampled_from([4, 1 << 16]))
def test_index_round_trip_property(mode, case, segments, monkeypatch):
    n, idx = case
    if mode.name == "bitmap" and n > 10**7:      # a bitmap of N bits: keep N small
        n, idx = 5000, sorted({i % 5000 for i in idx})
    monkeypatch.setattr(sg, "SEGMENT_ITEMS", segments)
    check_round_trip(mode, idx, n)


@pytest.mark.parametrize("mode", LABEL_MODES.values(), ids=IDS[4:])
@FAST
@given(c=st.sampled_from([1, 2, 3, 10, 101, 1000, 65536, 2**20]), k=st.integers(1, 300),
       seed=st.integers(0, 2**32 - 1), shape=st.sampled_from(["uniform", "blocks",
                                                              "constant"]),
       segments=st.sampled_from([4, 1 << 16]))
def test_label_round_trip_property(mode, c, k, seed, shape, segments, monkeypatch):
    monkeypatch.setattr(sg, "SEGMENT_ITEMS", segments)
    lab, idx = label_case(c, k, seed, shape)
    check_round_trip(mode, lab, c, idx)


@pytest.mark.parametrize("mode", ALL, ids=IDS)
@pytest.mark.parametrize("size", [1, 2, 3, 9, 1000, 2**20])
def test_k0_every_body_is_empty(mode, size):
    check_k0(mode, size)


@pytest.mark.parametrize("mode", ALL, ids=IDS)
def test_garbage_differential(mode, small_segments):
    """Damaged bodies: kernel and twin give the same values or the same error and message
    (one lane: short areas; four lanes: 2,100 items; several segments: 40 items)."""
    for k, n, seed in ((40, 300, 1), (7, 20, 2)):
        if mode.kind == "index":
            check_garbage(mode, index_case(n, k, seed), n, n=80, seed=seed)
        else:
            lab, idx = label_case(5, k, seed, "blocks")
            check_garbage(mode, lab, 5, idx, n=80, seed=seed)
    sg.SEGMENT_ITEMS = 1 << 16
    if mode.kind == "index":
        check_garbage(mode, index_case(50_000, 2100, 3), 50_000, n=12, seed=3)
    else:
        lab, idx = label_case(37, 2100, 3, "blocks")
        check_garbage(mode, lab, 37, idx, n=12, seed=3)


@pytest.mark.parametrize("mode", ALL, ids=IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=64), k=st.integers(0, 12), size=st.integers(1, 70))
def test_random_bodies_kernel_equals_twin(mode, body, k, size):
    if mode.kind == "index":
        k = min(k, size)
    check_same_outcome(mode, body, size, k, np.arange(k, dtype=np.int64) * 3)


def test_encoders_are_deterministic():
    idx = index_case(10**6, 5000, 5)
    lab, _ = label_case(50, 5000, 5)
    for m in INDEX_MODES.values():
        assert m.encode(idx, 10**6) == m.encode(idx.copy(), 10**6)
    for m in LABEL_MODES.values():
        assert m.encode(lab, 50, *extra(m, idx)) == m.encode(lab.copy(), 50, *extra(m, idx))


# ---------------------------------------------------------------------------------------
# worked examples (the bytes SPEC.md shows; 2.0: one lane below 2048 items)

def test_worked_examples():
    idx, lab = np.array(IDX6), np.array(LAB6)
    assert index_bitmap.encode(idx, 32).hex(" ") == "8c 00 70 00"
    assert index_varint.encode(idx, 32).hex(" ") == "02 00 03 0c 00 00"
    # gaps 2 0 3 12 0 0, one block, same_r = 1 (r = 0): 1 | 001 | 1 | 0001 | 0^12 1 | 1 | 1
    assert index_rice.encode(idx, 32).hex(" ") == "19 01 e0"
    assert label_packed.encode(lab, 3).hex(" ") == "10 02"
    # table 42 00 b2 05 (P = 2, f = 2 1 1), then one lane: x = 2^39 + 88, coded by hand
    # from L = 2^31 over the labels last to first, no renormalisation word
    assert label_rans.encode(lab, 3).hex(" ") == "42 00 b2 05 58 00 00 00 80 00 00 00"
    assert index_ctx_rans.encode(idx, 32).hex(" ") == (
        "01 85 00 80 d4 06 00 00 1a 00 04 50 03 00 00 05 00 08 01 0e 00 00 00 10 00 00 00 02")
    assert label_ctx_rans.encode(lab, 3, idx).hex(" ") == (
        "01 85 00 64 4b 00 00 0a 00 04 00 40 01 00 00 00 00 40 21 00 d9 02 08 f8 02 00 00 00 "
        "02 00 00")
    assert label_ctx_rans.events_twin(LAB6, IDX6, 0, 6) == [
        (64, 0), (0, 0), (18, 2), (64, 1), (3, 1), (0, 2), (64, 2), (0, 1)]
    for m in ALL:
        check_round_trip(m, lab if m.kind == "label" else idx, 3 if m.kind == "label" else 32,
                         idx)


def test_gap_classes():
    gc = index_ctx_rans.gap_class
    assert [gc(v)[:2] for v in (1, 2, 3, 4, 6, 7, 13, 2**48)] == \
        [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (4, 2), (6, 3), (95, 48)]
    assert gc(13)[2] == 1 and gc(2**48 - 1)[0] == 94


def test_segment_rule():
    assert [sg.segment_count(k) for k in (0, 1, 2**17 - 1, 2**17, 3 * 2**16, 2**18,
                                          141_971, 1_419_712, 2**40)] == \
        [1, 1, 1, 2, 2, 4, 2, 16, 16]
    assert sg.segment_starts(10, 3).tolist() == [0, 3, 6, 10]


@pytest.mark.parametrize("k", [1, 2, 3, 5, 9, 64, 65, 200])
def test_decoders_accept_every_segment_count(k, monkeypatch):
    """Any Segment_Count 1..min(64, k) decodes, not only the encoder's choice."""
    lab, idx = label_case(5, k, k, "blocks")
    for s in sorted({1, 2, 3, min(k, 64)}):
        if s <= min(k, 64):
            monkeypatch.setattr(sg, "segment_count", lambda count, s=s: s)
            body = check_round_trip(INDEX_MODES[3], idx, int(idx[-1]) + 1)
            assert body[0] == s
            assert check_round_trip(LABEL_MODES[2], lab, 5, idx)[0] == s


# ---------------------------------------------------------------------------------------
# the rANS lane rule: R = 1 below 2048 items, else 4

def _states(*xs):
    return b"".join(x.to_bytes(8, "little") for x in xs)


@pytest.mark.parametrize("k, lanes", [(1, 1), (2047, 1), (2048, 4), (5000, 4)])
def test_lane_rule_rans(k, lanes):
    """C = 1: P = 0, every state stays L, so the area is exactly the R initial states."""
    body = check_round_trip(LABEL_MODES[1], np.zeros(k, dtype=np.int64), 1)
    assert body[-8 * lanes:] == _states(*[L] * lanes)
    assert len(body) == len(check_round_trip(LABEL_MODES[1], np.zeros(1, np.int64), 1)) \
        + 8 * (lanes - 1)


@pytest.mark.parametrize("k, lanes", [(2047, 1), (2048, 4)])
def test_lane_rule_ctx_rans(k, lanes):
    """Every gap 0 and every label the same: one P = 0 table each, the word areas are
    the R initial states; the lane count follows the segment's items."""
    idx = np.arange(k, dtype=np.int64)
    i = check_round_trip(INDEX_MODES[3], idx, k)
    lab = check_round_trip(LABEL_MODES[2], np.zeros(k, dtype=np.int64), 2, idx)
    assert i.endswith(bytes([8 * lanes, 0]) + _states(*[L] * lanes))      # raw_bytes 0
    assert lab.endswith(bytes([8 * lanes]) + _states(*[L] * lanes))


def test_lane_rule_size_gain_at_k_1200():
    """Why the rule: 4 lanes cost 24 bytes of states more per area."""
    lab, _ = label_case(10, 1200, 9, "uniform")
    body = check_round_trip(LABEL_MODES[1], lab, 10)
    table = ra.choose_table(np.bincount(lab, minlength=10), ra.P_MAX)
    w = BitWriter()
    ra.write_table(w, table, 10)
    four = ra.encode_words(np.zeros(1200, np.int64), lab, *ra.dense_tables([table], [10]), 4)
    assert 16 <= len(four) - (len(body) - len(w.getvalue())) <= 32


# ---------------------------------------------------------------------------------------
# rejections (kernel and twin alike, error class and message)

def bits(*fields):
    w = BitWriter()
    for value, width in fields:
        w.write(value, width)
    return w.getvalue()


RICE = INDEX_MODES[2]


@pytest.mark.parametrize("body, n, k, err, match", [
    (bits((0, 1), (48, 6), (1, 1)), 100, 1, "FormatError", r"r of block 0 must be <= 47, got 48"),
    (bits((1, 1), (0, 5), (1, 1)), 5, 1, "FormatError",
     r"gap 0 must be <= 4 so that index 0 stays below pool_size 5"),
    (bits((1, 1), (1, 1)) + b"\x00", 5, 1, "FormatError",
     r"trailing bytes: expected 1 bytes, got 2"),
    (bytes([0b0111]), 5, 1, "FormatError", r"padding bits must be zero, got 0x1"),
    (b"", 5, 1, "TruncatedError", r"same_r of block 0: needs 1 bits, 0 left"),
    (bytes([0b0]), 5, 1, "TruncatedError", r"gap 0 \(unary part\): unary run of 1 zero bits"),
    (bytes([1]), 5, 1, "TruncatedError", r"gap 0 \(unary part\): unary run of 7 zero bits"),
    (b"\x01", 5, 0, "FormatError", r"trailing bytes"),
])
def test_rice_rejections(body, n, k, err, match):
    kind, message = check_same_outcome(RICE, body, n, k)
    assert kind == err and re.search(match, message), message


def test_rice_unary_run_consumes_one_input_bit_per_counted_zero():
    """1 MiB of zero bits: the decoder counts them all (linear in the input), then says
    how many: every counted zero consumed an input bit."""
    raw = np.zeros(1 << 20, dtype=np.uint8)
    kind, message = check_same_outcome(RICE, raw[:4096].tobytes(), 2**48, 1)
    assert kind == "TruncatedError" and f"unary run of {8 * 4096 - 7} zero bits" in message
    with pytest.raises(Exception) as info:
        RICE.decode(as_raw(raw.tobytes()), 2**48, 1)
    assert f"unary run of {8 * (1 << 20) - 7} zero bits" in str(info.value)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rice_fast_kernel_never_accepts_what_the_careful_kernel_rejects(data):
    """_decode_fast checks ranges and the stream end per block, not per gap: on valid
    streams it must succeed, and on mutated ones it may only say "valid" when the careful
    kernel accepts the same stream with the same indices."""
    n = data.draw(st.sampled_from([1, 2, 300, 10**6, 2**40]))
    k = data.draw(st.integers(0, min(n, 700)))
    idx = index_case(n, k, data.draw(st.integers(0, 2**32 - 1)))
    k = idx.size
    raw = np.frombuffer(index_rice.encode(idx, n), np.uint8)
    out = np.empty(k, np.int64)
    assert index_rice._decode_fast(index_rice._words_of(raw), 8 * raw.size, n, k, out)
    np.testing.assert_array_equal(out, idx)
    mutated = bytearray(raw.tobytes())
    how = data.draw(st.sampled_from(["flip", "cut", "append", "count", "pool"]))
    kk = k
    if how == "pool" and k:
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
    fast_ok = index_rice._decode_fast(index_rice._words_of(m), 8 * m.size, n, kk, fast_out)
    slow_out = np.empty(kk, np.int64)
    status = index_rice._decode_kernel(m, n, kk, slow_out, np.zeros(4, np.int64))
    if fast_ok:
        assert status == index_rice._OK
        np.testing.assert_array_equal(fast_out, slow_out)


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


S1, S4 = [L, 0], [L, 0] * 4          # one lane (k < 2048), four lanes, all at L


def lanes(*states):
    return [w for x in states for w in (x & 0xFFFFFFFF, x >> 32)]


RANS = LABEL_MODES[1]
ONE = [(0, 1)]


@pytest.mark.parametrize("c, body, count, err, match", [
    (1, rans_stream(1, 0, ONE, S1), 3, None, None),
    (1, rans_stream(1, 0, ONE, S4), 2048, None, None),
    (4, rans_stream(4, 25, ONE, S1), 1, "FormatError", r"^rans: precision must be <= 24, got 25"),
    (3, rans_stream(3, 1, ONE, S1, d=4), 1, "FormatError",
     r"symbol_count must be <= class_count 3, got 4"),
    (4, rans_stream(4, 1, [(0, 1), (3, 1)], S1), 1, "FormatError",
     r"symbol 1 of the table must be < class_count 4"),
    (4, rans_stream(4, 1, [(0, 0), (0, 2)], S1), 1, "FormatError",
     r"frequency of symbol 0 must be >= 1, got 0"),
    (4, rans_stream(4, 2, [(0, 1), (0, 2)], S1), 1, "FormatError",
     r"frequencies must sum to 2\^precision = 4, got 3"),
    (4, rans_stream(4, 1, [(0, 1), (0, 2)], S1), 1, "FormatError",
     r"frequencies must sum to 2\^precision = 2, exceeded at table entry 1"),
    (1, rans_stream(1, 0, ONE, S1)[:-1], 1, "FormatError",
     r"word area must be a multiple of 4 bytes, got 7"),
    (1, rans_stream(1, 0, ONE, [L]), 1, "TruncatedError",
     r"stream ends inside initial states: needs 2 words, 1 left"),
    (1, rans_stream(1, 0, ONE, []), 1, "TruncatedError", r"needs 2 words, 0 left"),
    (1, rans_stream(1, 0, ONE, S1), 2048, "TruncatedError", r"needs 8 words, 2 left"),
    (1, rans_stream(1, 0, ONE, S4[:7]), 4000, "TruncatedError", r"needs 8 words, 7 left"),
    (1, rans_stream(1, 0, ONE, lanes(L - 1)), 1, "FormatError",
     r"initial state of lane 0 must be in \[2\^31, 2\^63\), got 0x7fffffff"),
    (1, rans_stream(1, 0, ONE, lanes(1 << 63)), 1, "FormatError",
     r"initial state of lane 0 must be in \[2\^31, 2\^63\), got 0x8000000000000000"),
    (1, rans_stream(1, 0, ONE, lanes(L, L, (1 << 64) - 1, L)), 2048, "FormatError",
     r"initial state of lane 2 must be in \[2\^31, 2\^63\), got 0xffffffffffffffff"),
    (1, rans_stream(1, 0, ONE, S1 + [5]), 1, "FormatError",
     r"unconsumed words: expected 2 words, got 3"),
    (1, rans_stream(1, 0, ONE, lanes(L + 1)), 1, "FormatError",
     r"final state of lane 0 must equal the initial state 0x80000000, got 0x80000001"),
    (1, rans_stream(1, 0, ONE, lanes(L, L, L, L + 7)), 2049, "FormatError",
     r"final state of lane 3 must equal the initial state 0x80000000, got 0x80000007"),
    (2, rans_stream(2, 1, [(0, 1), (0, 1)], S1), 1, "TruncatedError",
     r"^rans: stream ends inside label 0: needs a word, 0 left"),
    (1, b"\x00", 1, "TruncatedError", r"stream ends inside"),
    (1, b"\x05", 0, "FormatError", r"trailing bytes: expected 0 bytes, got 1"),
])
def test_rans_rejections(c, body, count, err, match):
    kind, message = check_same_outcome(RANS, body, c, count)
    if err is None:
        assert (kind, message) == ("ok", [0] * count)
        return
    assert kind == err and re.search(match, message), message


def test_rans_table_padding():
    good = label_rans.encode(np.array([0, 1, 1, 2]), 3)
    bad = bytearray(good)
    bad[3] |= 0x80                          # the table is 26 bits: bits 26-31 are padding
    kind, message = check_same_outcome(RANS, bytes(bad), 3, 4)
    assert kind == "FormatError" and "table padding bits must be zero, got 0x" in message


@pytest.mark.parametrize("cut_words", [1, 2, 3, 4, 5, 9])
def test_rans_truncation_near_the_end_of_the_word_area(cut_words):
    """The group loop stops 4 words before the end; the checked loop then finds the cut."""
    lab, _ = label_case(50, 4000, cut_words)
    good = label_rans.encode(lab, 50)
    kind, message = check_same_outcome(RANS, good[:len(good) - 4 * cut_words], 50, lab.size)
    assert kind == "TruncatedError" and "needs a word, 0 left" in message


@FAST
@given(c=st.integers(1, 70_000), k=st.integers(1, 600), seed=st.integers(0, 2**32 - 1),
       skewed=st.booleans())
def test_rans_slot_table_and_bisection_agree(c, k, seed, skewed, monkeypatch):
    """The slot tables (fast path) and the bisection of cum (used when 2^P is too large
    for a table) decode the same labels."""
    rng = np.random.default_rng(seed)
    lab = ((rng.zipf(1.3, k) - 1) % c if skewed else rng.integers(0, c, k)).astype(np.int64)
    raw = as_raw(label_rans.encode(lab, c))
    np.testing.assert_array_equal(label_rans.decode(raw, c, k), lab)
    monkeypatch.setattr(label_rans, "LUT_MAX_P", -1)
    np.testing.assert_array_equal(label_rans.decode(raw, c, k), lab)


# ---- ctx-rans: streams written field by field -------------------------------------------

def ctx_stream(segs, tables, alphabets, directory, areas):
    """Segment_Count, the tables ({context: (P, symbols, freqs)}, others absent), the
    directory's varints and the segment data."""
    w = BitWriter()
    w.write(segs, 8)
    for t, a in enumerate(alphabets):
        w.write(t in tables, 1)
        if t in tables:
            ra.write_table(w, tables[t], int(a))
    return (w.getvalue() + b"".join(write_varint_twin(v) for v in directory)
            + b"".join(areas))


CI, CL = INDEX_MODES[3], LABEL_MODES[2]
IA = index_ctx_rans.ALPHABETS
GOOD_I = index_ctx_rans.encode(np.array(IDX6), 32)
GOOD_L = label_ctx_rans.encode(np.array(LAB6), 3, np.array(IDX6))


@pytest.mark.parametrize("name, body, n, k, err, match", [
    ("segcount0", bytes([0]) + GOOD_I[1:], 32, 6, "FormatError",
     r"Segment_Count must be in \[1, min\(64, count = 6\)\], got 0"),
    ("segcount_gt_k", bytes([7]) + GOOD_I[1:], 32, 6, "FormatError", "got 7"),
    ("empty", b"", 32, 6, "TruncatedError", "Segment_Count"),
    ("precision", ctx_stream(1, {0: (11, [0, 2, 3], [1024, 512, 512])}, IA, [], []), 32, 6,
     "FormatError", "table 0: precision must be <= 10, got 11"),
    ("symbol_count", ctx_stream(1, {0: (2, list(range(98)), [1] * 98)}, IA, [], []), 32, 6,
     "FormatError", "table 0: symbol_count must be <= class_count 97, got 98"),
    ("table_trunc", GOOD_I[:3], 32, 6, "TruncatedError",
     "table 0: stream ends inside rs: needs 5 bits, 3 left"),
    ("absent_table", ctx_stream(1, {0: (0, [2], [1])}, IA, [8, 0], [_states(L)]), 32, 2,
     "FormatError", r"gap 1 \(segment 0\) needs table 1, which is absent"),
    ("trailing", GOOD_I + b"\x00", 32, 6, "FormatError",
     "trailing bytes: expected 28 bytes, got 29"),
    ("truncated", GOOD_I[:-1], 32, 6, "TruncatedError", "segment data needs 9 bytes, 8 left"),
    ("dir_nonminimal", GOOD_I[:17] + b"\x88\x00" + GOOD_I[18:], 32, 6, "FormatError",
     "word_bytes of segment 0 must be a minimal varint"),
    ("words_not_4", ctx_stream(1, {0: (0, [0], [1])}, IA, [7, 0], [_states(L)[:7]]), 32, 1,
     "FormatError", "word area of segment 0 must be a multiple of 4 bytes, got 7"),
    ("words_short", ctx_stream(1, {0: (0, [0], [1])}, IA, [4, 0], [_states(L)[:4]]), 32, 1,
     "TruncatedError", "segment 0 ends inside initial states: needs 2 words, 1 left"),
    ("initial_state", ctx_stream(1, {0: (0, [0], [1])}, IA, [8, 0], [_states(5)]), 32, 1,
     "FormatError", r"initial state of lane 0 of segment 0 must be in \[2\^31, 2\^63\)"),
    ("final_state", ctx_stream(1, {0: (0, [0], [1])}, IA, [8, 0], [_states(L + 1)]), 32, 1,
     "FormatError", "final state of lane 0 of segment 0 must equal the initial state"),
    ("unconsumed", ctx_stream(1, {0: (0, [0], [1])}, IA, [12, 0], [_states(L) + bytes(4)]),
     32, 1, "FormatError", "unconsumed words in segment 0: expected 2 words, got 3"),
    ("gap_range", GOOD_I, 22, 6, "FormatError",
     "gap 5 must be <= -1 so that index 5 stays below pool_size 22"),
    ("raw_long", ctx_stream(1, {0: (0, [0], [1])}, IA, [8, 1], [_states(L), b"\x00"]), 32, 1,
     "FormatError", "trailing bytes: raw area of segment 0 expected 0 bytes, got 1"),
    ("raw_padding", ctx_stream(1, {0: (0, [5], [1])}, IA, [8, 1], [_states(L), b"\x04"]), 32,
     1, "FormatError", "padding bits of the raw area of segment 0 must be zero"),
    ("raw_trunc", ctx_stream(1, {0: (0, [5], [1])}, IA, [8, 0], [_states(L)]), 32, 1,
     "TruncatedError", "raw bits of gap 0: needs 2 bits, 0 left"),
    ("base_big", ctx_stream(2, {0: (0, [0], [1])}, IA, [8, 0, 399, 8, 0],
                            [_states(L), _states(L)]), 400, 2, "FormatError",
     "base of segment 1 must be <= pool_size - 2 = 398, got 399"),
    ("base_mismatch", ctx_stream(2, {0: (0, [0], [1])}, IA, [8, 0, 5, 8, 0],
                                 [_states(L), _states(L)]), 400, 2, "FormatError",
     "base of segment 1 must equal the last index of segment 0, 0, got 5"),
])
def test_ctx_index_rejections(name, body, n, k, err, match):
    kind, message = check_same_outcome(CI, body, n, k)
    assert kind == err and re.search(match, message), (kind, message)
    assert message.startswith("ctx-rans index: ")


LA = label_ctx_rans.alphabets(3)


@pytest.mark.parametrize("name, body, c, k, err, match", [
    ("segcount0", bytes([0]) + GOOD_L[1:], 3, 6, "FormatError", "got 0"),
    ("no_back", ctx_stream(1, {0: (0, [1], [1]), 64: (0, [2], [1])}, LA, [8],
                           [_states(L)]), 3, 2, "FormatError",
     "label 1: back event with no earlier run"),
    ("literal_eq_prev", ctx_stream(1, {0: (0, [2], [1]), 64: (0, [2], [1])}, LA, [8],
                                   [_states(L)]), 3, 2, "FormatError",
     "label 1 coded in full must differ from the previous label 2 and the one before the "
     "run -1, got 2"),
    ("literal_ge_c", GOOD_L, 2, 6, "FormatError", "table 64: symbol 0 of the table must be < "
     "class_count 2"),
    ("absent_literal", ctx_stream(1, {0: (0, [0], [1])}, LA, [8], [_states(L)]), 3, 1,
     "FormatError", r"label 0 \(segment 0\) needs table 64, which is absent"),
    ("event_precision", ctx_stream(1, {0: (11, [0, 1, 2], [1024, 512, 512])}, LA, [], []), 3,
     6, "FormatError", "table 0: precision must be <= 10, got 11"),
    ("final_state", ctx_stream(1, {64: (0, [2], [1])}, LA, [8], [_states(L + 7)]), 3, 1,
     "FormatError", "final state of lane 0 of segment 0"),
    ("trailing", GOOD_L + b"\x00", 3, 6, "FormatError", "trailing bytes"),
])
def test_ctx_label_rejections(name, body, c, k, err, match):
    idx = np.array(IDX6[:k], dtype=np.int64)
    kind, message = check_same_outcome(CL, body, c, k, idx)
    assert kind == err and re.search(match, message), (kind, message)
    assert message.startswith("ctx-rans labels: ")


# ---- the check order inside streams -----------------------------------------------------

def test_word_area_multiple_of_4_is_checked_before_its_length():
    """7 bytes are both too short (8 R) and not words: FormatError (question 4)."""
    kind, message = check_same_outcome(RANS, rans_stream(1, 0, ONE, S1)[:-1], 1, 1)
    assert kind == "FormatError" and "multiple of 4" in message


def test_symbol_count_is_checked_before_the_entries():
    """D > the alphabet right after its field, though the stream ends there (question 7)."""
    body = bits((1, 5), (3, 2))                 # P = 1, D - 1 = 3 > C - 1 = 2; then nothing
    kind, message = check_same_outcome(RANS, body, 3, 1)
    assert (kind, message) == ("FormatError",
                               "rans: symbol_count must be <= class_count 3, got 4")
    ctx = bits((1, 8), (1, 1), (2, 5), (97, 7))  # context table 0: D = 98 > 97
    kind, message = check_same_outcome(CI, ctx, 32, 1)
    assert kind == "FormatError" and "table 0: symbol_count must be <= class_count 97" in message


def test_context_precision_is_checked_right_after_its_field():
    body = bits((1, 8), (1, 1), (11, 5))        # present, P = 11 > 10, then nothing
    kind, message = check_same_outcome(CI, body, 32, 1)
    assert (kind, message) == ("FormatError",
                               "ctx-rans index: table 0: precision must be <= 10, got 11")


def test_label_value_error_comes_before_the_renormalisation_word():
    """Label 1 is a literal equal to label 0 and its state step would need a word that is
    not there: the value error wins (question 13). C = 2^20 allows P = 20 literals, so that
    one step takes the state below L: x = 2^31 -> 2^11 (word 1023 read) -> event new
    (x = 2^33) -> literal 0 again, whose step would give 2^13 < L."""
    c = 2**20
    body = ctx_stream(1, {0: (10, [0, 2], [1023, 1]), 64: (20, [0, 1], [1, 2**20 - 1])},
                      label_ctx_rans.alphabets(c), [12],
                      [_states(L) + (1023).to_bytes(4, "little")])
    kind, message = check_same_outcome(CL, body, c, 2, np.array([0, 1]))
    assert (kind, message) == ("FormatError", "ctx-rans labels: label 1 coded in full must "
                               "differ from the previous label 0 and the one before the run "
                               "-1, got 0")


def test_index_range_error_comes_before_the_renormalisation_word():
    """Gap 0 of class 2 (v = 3) in a pool of 2 is out of range, and its step (P = 10,
    f = 1: x = 2^31 -> 2^21) would need a word that is not there: FormatError."""
    body = ctx_stream(1, {0: (10, [2, 3], [1, 1023])}, IA, [8, 0], [_states(L)])
    assert check_same_outcome(CI, body, 2, 1) == (
        "FormatError", "ctx-rans index: gap 0 must be <= 1 so that index 0 stays below "
        "pool_size 2")
    kind, message = check_same_outcome(CI, body, 4, 1)      # in range: now the word is missing
    assert kind == "TruncatedError" and "segment 0 ends inside gap 0: needs a word" in message


@pytest.mark.parametrize("mode", [INDEX_MODES[0], LABEL_MODES[0]], ids=["bitmap", "packed"])
def test_fixed_size_bodies_short_is_truncated_long_is_format(mode):
    size, k = (20, 3) if mode.kind == "index" else (5, 8)
    vals = np.array([1, 5, 19]) if mode.kind == "index" else np.arange(8) % 5
    body = check_round_trip(mode, vals, size)
    assert check_same_outcome(mode, body[:-1], size, k)[0] == "TruncatedError"
    assert check_same_outcome(mode, body + b"\x00", size, k)[0] == "FormatError"


# ---------------------------------------------------------------------------------------
# sizes

def test_rice_within_2_percent_of_the_bound():
    from math import lgamma, log
    rng = np.random.default_rng(0)
    n = 2_000_000
    for p in (0.001, 0.01, 0.1, 0.5):
        k = int(n * p)
        idx = np.sort(rng.choice(n, k, replace=False))
        bound = (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)) / log(2)
        assert len(index_rice.encode(idx, n)) * 8 <= 1.02 * bound + 64


def test_rans_size_matches_constriction():
    constriction = pytest.importorskip("constriction")
    rng = np.random.default_rng(2)
    for c, k in ((10, 100_000), (1000, 100_000)):
        lab = rng.integers(0, c, k)
        probs = np.bincount(lab, minlength=c).astype(np.float64) / k
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(lab.astype(np.int32),
                             constriction.stream.model.Categorical(probs, perfect=False))
        ref = coder.get_compressed().size * 4
        ours = len(label_rans.encode(lab, c))   # includes our table; constriction's has none
        assert abs(ours - ref) / ref < 0.005, (c, ours, ref)


def test_decode_memory_is_charged_for_every_allocating_mode():
    """The container charges Mode.decode_memory: the modes that build tables or copies say
    so (1.3's container formulas; rans now also counts its sentinel slot), the others
    need nothing beyond the output."""
    n, c, k, raw = 10**6, 1000, 5000, 4000
    assert INDEX_MODES[0].decode_memory(n, k, raw) == n
    assert INDEX_MODES[1].decode_memory(n, k, raw) == INDEX_MODES[2].decode_memory(n, k, raw) == 0
    assert INDEX_MODES[3].decode_memory(n, k, raw) == 20 * (16 * 1024 + 1) + 2 * raw + 24
    assert LABEL_MODES[0].decode_memory(c, k, raw) == 4 * k
    assert LABEL_MODES[1].decode_memory(c, k, raw) == 12 * (4 * k + 4097) + 4 * k
    assert LABEL_MODES[2].decode_memory(c, k, raw) == 12 * (64 * 1024 + 1024 + 1) + raw + 4 * k
