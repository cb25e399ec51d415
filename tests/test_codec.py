"""Format 1.x container and the 1.0 stream modes: round trips, edge cases, rejections."""
import hashlib
import math
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pladafmt
from pladafmt import _constants as K
from pladafmt._modes import INDEX_MODE_TABLE, LABEL_MODE_TABLE
from common import (header, make_section, patch_header, rebuild, replace_section,
                    section_index, sections)

ROOT = Path(__file__).resolve().parents[1]
INDEX_MODES = [m.name for m in INDEX_MODE_TABLE.values()]
LABEL_MODES = [m.name for m in LABEL_MODE_TABLE.values()]
BASE_INDEX = ["bitmap", "varint", "runs"]
BASE_LABEL = ["packed", "huffman", "rle"]


def roundtrip(idx, lab, n, c, **kw):
    data = pladafmt.encode(idx, lab, pool_size=n, classes=c, **kw)
    p = pladafmt.decode(data)
    assert p.indices.dtype == np.int64 and p.labels.dtype == np.int64
    assert p.indices.tolist() == sorted(int(i) for i in idx)
    order = np.argsort(np.asarray(idx, dtype=np.int64), kind="stable")
    assert p.labels.tolist() == np.asarray(lab, dtype=np.int64)[order].tolist()
    assert p.pool_size == n and p.class_count == (c if isinstance(c, int) else len(c))
    assert pladafmt.encode(idx, lab, pool_size=n, classes=c, **kw) == data   # deterministic
    return data, p


# ---- strategies ------------------------------------------------------------------

@st.composite
def selections(draw, max_n=2**40, max_k=300, dense_n=3000):
    """(pool_size, sorted indices): sparse over huge pools or dense over small ones."""
    if draw(st.booleans()):
        n = draw(st.integers(1, dense_n))
        p = draw(st.sampled_from([0.0, 0.01, 0.3, 0.9, 1.0]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        idx = np.flatnonzero(rng.random(n) < p)
    else:
        n = draw(st.integers(1, max_n))
        idx = np.array(sorted(draw(st.sets(st.integers(0, n - 1), max_size=min(n, max_k)))),
                       dtype=np.int64)
        if draw(st.booleans()) and n > 1:      # always hit the two ends sometimes
            idx = np.union1d(idx, [0, n - 1])
    return n, idx


@st.composite
def label_arrays(draw, k):
    c = draw(st.sampled_from([1, 2, 3, 10, 101, 1000, 65536]) | st.integers(1, 70000))
    kind = draw(st.sampled_from(["uniform", "dominant", "runs", "single"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "uniform":
        lab = rng.integers(0, c, k)
    elif kind == "dominant":
        lab = np.where(rng.random(k) < 0.95, c - 1, rng.integers(0, c, k))
    elif kind == "runs":
        lab = np.repeat(rng.integers(0, c, k), rng.integers(1, 50, k))[:k]
    else:
        lab = np.full(k, draw(st.integers(0, c - 1)))
    return c, lab.astype(np.int64)


@st.composite
def gap_contexts(draw, k):
    """k strictly increasing indices whose gaps hit every gap bucket (1 up to 2^40)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    top = draw(st.sampled_from([1, 4, 41]))
    gaps = (np.int64(1) << rng.integers(0, top, k)) + rng.integers(0, 2, k)
    return np.cumsum(gaps) - 1


# ---- round trips -----------------------------------------------------------------

@pytest.mark.parametrize("index_mode", BASE_INDEX)
@pytest.mark.parametrize("zstd", [False, True])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_index_modes_roundtrip(index_mode, zstd, data):
    n, idx = data.draw(selections(max_n=2**16 if index_mode == "bitmap" else 2**40))
    lab = np.zeros(len(idx), dtype=np.int64)
    mode = index_mode + ("+zstd" if zstd else "")
    _, p = roundtrip(idx, lab, n, 1, index_mode=mode, label_mode="packed")
    assert p.index_mode == mode


@pytest.mark.parametrize("label_mode", BASE_LABEL)
@pytest.mark.parametrize("zstd", [False, True])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_label_modes_roundtrip(label_mode, zstd, data):
    k = data.draw(st.integers(0, 400))
    c, lab = data.draw(label_arrays(k))
    idx = np.arange(k, dtype=np.int64) * 3
    mode = label_mode + ("+zstd" if zstd else "")
    _, p = roundtrip(idx, lab, 3 * k + 1, c, index_mode="varint", label_mode=mode)
    assert p.label_mode == mode


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_auto_roundtrip_any_selection(data):
    n, idx = data.draw(selections())
    c, lab = data.draw(label_arrays(len(idx)))
    names = data.draw(st.booleans())
    classes = [f"class {i} é" for i in range(c)] if names and c <= 2000 else c
    data_, p = roundtrip(idx, lab, n, classes)
    if not isinstance(classes, int):
        assert p.classes == tuple(classes)


def test_unsorted_input_is_sorted_with_labels():
    p = pladafmt.decode(pladafmt.encode([9, 2, 5], [1, 2, 0], pool_size=10, classes=3))
    assert p.indices.tolist() == [2, 5, 9] and p.labels.tolist() == [2, 0, 1]


# ---- kernels and their readable twins -----------------------------------------------

@pytest.mark.parametrize("mode", list(INDEX_MODE_TABLE.values()), ids=lambda m: m.name)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_index_kernel_matches_twin(mode, data):
    n, idx = data.draw(selections(max_n=2**16 if mode.name == "bitmap" else 2**40, max_k=100,
                                  dense_n=500))
    raw = mode.encode(idx, n)
    assert mode.encode_twin([int(i) for i in idx], n) == raw
    assert mode.decode(np.frombuffer(raw, np.uint8), n, len(idx)).tolist() == idx.tolist()
    assert mode.decode_twin(raw, n, len(idx)) == idx.tolist()
    assert len(raw) <= mode.bound(n, len(idx))


@pytest.mark.parametrize("mode", list(LABEL_MODE_TABLE.values()), ids=lambda m: m.name)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_label_kernel_matches_twin(mode, data):
    k = data.draw(st.integers(0, 200))
    c, lab = data.draw(label_arrays(k))
    # modes whose contexts read the kept indices get a selection with every gap size
    ctx = (data.draw(gap_contexts(k)),) if mode.needs_indices else ()
    raw = mode.encode(lab, c, *ctx)
    assert mode.encode_twin([int(v) for v in lab], c, *ctx) == raw
    assert mode.decode(np.frombuffer(raw, np.uint8), c, k, *ctx).tolist() == lab.tolist()
    assert mode.decode_twin(raw, c, k, *ctx) == lab.tolist()
    assert len(raw) <= mode.bound(c, k)


@pytest.mark.parametrize("mode", [INDEX_MODE_TABLE[i] for i in (0, 1, 2)], ids=lambda m: m.name)
@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=40), n=st.integers(1, 300), k=st.integers(0, 40))
def test_index_kernel_and_twin_agree_on_garbage(mode, raw, n, k):
    """The fast path and the readable path accept and reject the same streams."""
    k = min(k, n)
    try:
        fast = mode.decode(np.frombuffer(raw, np.uint8), n, k).tolist()
    except pladafmt.PladaError:
        fast = None
    try:
        slow = mode.decode_twin(raw, n, k)
    except ValueError:
        slow = None
    assert fast == slow


@settings(max_examples=80, deadline=None)
@given(width=st.integers(1, 20), data=st.data())
def test_packed_fast_kernel_every_width(width, data):
    """The peek-per-label kernel against the twin at every label width, with its uint32
    copy (the checksum form) equal to the labels, and the first label >= C rejected."""
    c = data.draw(st.integers((1 << (width - 1)) + 1, 1 << width))
    k = data.draw(st.integers(0, 300))
    lab = data.draw(st.lists(st.integers(0, c - 1), min_size=k, max_size=k))
    mode = LABEL_MODE_TABLE[0]
    raw = mode.encode(np.asarray(lab, dtype=np.int64), c)
    assert raw == mode.encode_twin(lab, c)
    out, out32 = mode.decode_u32(np.frombuffer(raw, np.uint8), c, k)
    assert out.tolist() == lab == mode.decode_twin(raw, c, k)
    assert out32.dtype == np.uint32 and out32.tolist() == lab
    if k and c < (1 << width):                       # a value in [C, 2^w) is rejected
        j = data.draw(st.integers(0, k - 1))
        bad = lab[:j] + [c] + lab[j + 1:]
        raw = mode.encode_twin(bad, 1 << width)
        with pytest.raises(pladafmt.FormatError,
                           match=rf"label_stream packed: label {j} expected < class_count {c}$"):
            mode.decode_u32(np.frombuffer(raw, np.uint8), c, k)


@pytest.mark.parametrize("mode", [LABEL_MODE_TABLE[i] for i in (0, 1, 2)], ids=lambda m: m.name)
@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=40), c=st.integers(1, 300), k=st.integers(0, 40))
def test_label_kernel_and_twin_agree_on_garbage(mode, raw, c, k):
    try:
        fast = mode.decode(np.frombuffer(raw, np.uint8), c, k).tolist()
    except pladafmt.PladaError:
        fast = None
    try:
        slow = mode.decode_twin(raw, c, k)
    except (ValueError, KeyError, IndexError):
        slow = None
    assert fast == slow


# ---- edge cases --------------------------------------------------------------------

@pytest.mark.parametrize("im", BASE_INDEX)
@pytest.mark.parametrize("lm", BASE_LABEL)
@pytest.mark.parametrize("case", ["k0", "kN", "N1", "C1", "ends", "maxgap", "single", "C65536"])
def test_edge_cases(im, lm, case):
    n, idx, c, lab = {
        "k0": (50, [], 5, []),
        "kN": (64, list(range(64)), 4, [i % 4 for i in range(64)]),
        "N1": (1, [0], 2, [1]),
        "C1": (100, [1, 50, 99], 1, [0, 0, 0]),
        "ends": (1000, [0, 999], 3, [2, 0]),
        "maxgap": (2**16, [2**16 - 1], 7, [6]),
        "single": (500, list(range(0, 500, 7)), 9, [4] * len(range(0, 500, 7))),
        "C65536": (300, [0, 1, 299], 65536, [65535, 0, 12345]),
    }[case]
    roundtrip(np.array(idx, dtype=np.int64), np.array(lab, dtype=np.int64), n, c,
              index_mode=im, label_mode=lm)


def test_huge_pool_and_maximal_gap():
    n = 2**40 + 17
    roundtrip([0, n - 1], [0, 1], n, 2, index_mode="varint")
    roundtrip([n - 1], [0], n, 2, index_mode="runs")
    data, _ = roundtrip([n - 2, n - 1], [1, 1], n, 2)
    assert pladafmt.decode(data).index_mode in ("varint", "runs")


def test_class_names_empty_and_non_ascii():
    names = ["", "émeu", "猫", "🙂 smile", "a\nb"]
    p = pladafmt.decode(pladafmt.encode([1, 2, 3, 4, 5], [0, 1, 2, 3, 4], pool_size=9,
                                        classes=names))
    assert p.classes == tuple(names)


def test_unnamed_classes_decode_to_decimal_names():
    p = pladafmt.decode(pladafmt.encode([1], [2], pool_size=9, classes=3))
    assert p.classes == ("0", "1", "2")


def test_metadata_and_digest_roundtrip():
    digest = hashlib.sha256(b"pool").digest()
    meta = {"rule": "energy", "keep": 0.01, "alpha": -0.2, "nested": {"ü": [1, 2]}}
    data = pladafmt.encode([5], [0], pool_size=9, classes=1, pool_digest=digest, metadata=meta)
    p = pladafmt.decode(data, pool_digest=digest)
    assert p.metadata == meta and p.pool_digest == digest


# ---- encode-side errors --------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(indices=[1, 1], labels=[0, 0]), r"indices: expected unique values, got 1 twice"),
    (dict(indices=[10], labels=[0]), r"indices: expected 0 <= index < pool_size 10, got 10"),
    (dict(indices=[-1], labels=[0]), r"index < pool_size 10, got -1"),
    (dict(indices=[1], labels=[3]), r"labels: expected 0 <= label < C 3, got 3"),
    (dict(indices=[1, 2], labels=[0]), r"labels: expected one per index \(2\), got 1"),
    (dict(indices=[1.5], labels=[0]), r"indices: expected integers, got dtype float64"),
    (dict(indices=[1], labels=[0], index_mode="zip"), r"index_mode: expected 'auto', 'smallest' or one of"),
    (dict(indices=[1], labels=[0], zstd_level=22), r"zstd_level: expected 1..19, got 22"),
    (dict(indices=[1], labels=[0], pool_digest=b"x"), r"pool_digest: expected 32 bytes, got 1"),
    (dict(indices=[1], labels=[0], metadata={"x": float("nan")}), r"metadata: expected JSON-safe"),
    (dict(indices=[1], labels=[0], classes=["a", 3, "c"]), r"classes\[1\]: expected str, got int"),
    (dict(indices=[1], labels=[0], classes=0), r"classes: expected 1..1048576 classes, got 0"),
    (dict(indices=[1], labels=[0], pool_size=0), r"pool_size: expected 1..281474976710656, got 0"),
])
def test_encode_rejects(kwargs, match):
    args = dict(pool_size=10, classes=3)
    args.update(kwargs)
    with pytest.raises(pladafmt.EncodeError) as ei:
        pladafmt.encode(args.pop("indices"), args.pop("labels"), **args)
    assert re.search(match, str(ei.value)), str(ei.value)
    assert isinstance(ei.value, ValueError)


# ---- decode-side rejections: one test per rule of SPEC.md ---------------------------

@pytest.fixture(scope="module")
def sample():
    return pladafmt.encode([2, 3, 4, 9, 19], [0, 0, 1, 2, 2], pool_size=20,
                           classes=["cat", "dog", "émeu"], metadata={"task": "demo"},
                           index_mode="varint", label_mode="packed")


def reject(data, cls, pattern, **kw):
    with pytest.raises(cls) as ei:
        pladafmt.decode(data, **kw)
    assert re.search(pattern, str(ei.value)), str(ei.value)
    assert isinstance(ei.value, pladafmt.PladaError)
    return ei.value


def test_reject_bad_magic(sample):
    for i in range(8):
        bad = bytearray(sample)
        bad[i] ^= 0x20
        reject(bytes(bad), pladafmt.FormatError, r"Magic: expected 89504c440d0a1a0a, got")
    reject(sample.replace(b"\r\n", b"\n", 1), pladafmt.FormatError, "Magic")


def test_reject_unknown_major(sample):
    reject(patch_header(sample, major=2), pladafmt.UnsupportedVersionError,
           r"Version_Major: expected 1, got 2")


def test_newer_minor_is_accepted(sample):
    p = pladafmt.decode(patch_header(sample, minor=7))
    assert p.version == (1, 7) and p.indices.tolist() == [2, 3, 4, 9, 19]


def test_reject_header_crc(sample):
    reject(patch_header(sample, fix_crc=False, pool_size=21), pladafmt.ChecksumError,
           r"Header_CRC32: expected [0-9a-f]{8} \(stored\), got [0-9a-f]{8}")


def test_reject_reserved_bits(sample):
    reject(patch_header(sample, flags=0x80), pladafmt.FormatError,
           r"Header_Flags: reserved bits expected 0, got 0x80")
    reject(patch_header(sample, reserved=1), pladafmt.FormatError, r"Reserved: expected 0, got 1")
    reject(replace_section(sample, 1, flags=0x02), pladafmt.FormatError,
           r"Section_Flags: reserved bits expected 0, got 0x02")


def test_unknown_optional_feature_ignored_required_rejected(sample):
    assert pladafmt.decode(patch_header(sample, optional=0x80000001)).labels.tolist() == [0, 0, 1, 2, 2]
    reject(patch_header(sample, required=0x4), pladafmt.UnsupportedVersionError,
           r"Required_Features: unknown bits 0x00000004")


def test_reject_digest_without_flag(sample):
    reject(patch_header(sample, digest=b"\x01" * 32), pladafmt.FormatError,
           r"Pool_Digest: expected 32 zero bytes")


def test_reject_counts(sample):
    reject(patch_header(sample, count=21), pladafmt.FormatError,
           r"Item_Count: expected <= Pool_Size 20, got 21")
    reject(patch_header(sample, pool_size=0), pladafmt.FormatError, r"Pool_Size: expected >= 1, got 0")
    reject(patch_header(sample, pool_size=2**48 + 1), pladafmt.LimitError,
           r"Pool_Size: expected <= 281474976710656, got 281474976710657")
    reject(patch_header(sample, class_count=0), pladafmt.FormatError, r"Class_Count: expected 1..")
    reject(patch_header(sample, class_count=2**20 + 1), pladafmt.LimitError,
           r"Class_Count: expected 1..1048576, got 1048577")
    reject(patch_header(sample, section_count=65), pladafmt.LimitError,
           r"Section_Count: expected <= 64, got 65")
    reject(patch_header(sample, section_count=1), pladafmt.FormatError,
           r"Section_Count: expected >= 2")


def test_limits_at_and_past(sample):
    assert pladafmt.decode(sample, max_pool_size=20).pool_size == 20
    reject(sample, pladafmt.LimitError, r"Pool_Size: expected <= 19, got 20", max_pool_size=19)
    assert len(pladafmt.decode(sample, max_items=5).indices) == 5
    reject(sample, pladafmt.LimitError, r"Item_Count: expected <= max_items 4, got 5", max_items=4)
    # 16 bytes per item, 64 per class name and 4 per label for the packed labels' uint32
    # copy (the checksum form): the exact budget passes, one byte less fails.
    need = 16 * 5 + 64 * 3 + 4 * 5
    assert pladafmt.decode(sample, max_decoded_bytes=need).indices.tolist() == [2, 3, 4, 9, 19]
    reject(sample, pladafmt.LimitError, r"label_stream packed labels as uint32 \(checksum "
           r"form\): needs 20 bytes, expected <= the remaining max_decoded_bytes budget 19",
           max_decoded_bytes=need - 1)
    reject(sample, pladafmt.LimitError, r"Class_Count \(class names\): needs 192 bytes, "
           r"expected <= the remaining max_decoded_bytes budget 191",
           max_decoded_bytes=16 * 5 + 64 * 3 - 1)
    reject(sample, pladafmt.LimitError, r"Item_Count \(decoded indices and labels\): needs 80 "
           r"bytes", max_decoded_bytes=79)


def test_reject_pool_mismatch(sample):
    digest = hashlib.sha256(b"a").digest()
    reject(sample, pladafmt.PoolMismatchError, r"Pool_Digest: expected [0-9a-f]{64} \(local "
           r"pool\), got none", pool_digest=digest)
    data = pladafmt.encode([1], [0], pool_size=4, classes=1, pool_digest=digest)
    reject(data, pladafmt.PoolMismatchError, "got " + digest.hex(),
           pool_digest=hashlib.sha256(b"b").digest())


def test_pool_mismatch_is_raised_before_streams(sample):
    i = section_index(sample, K.SECTION_INDEX_STREAM)
    broken = replace_section(sample, i, body=b"\xff\xff")          # garbage stream
    reject(broken, pladafmt.PoolMismatchError, "Pool_Digest", pool_digest=bytes(32))


def test_reject_truncation_at_every_offset(sample):
    for cut in range(len(sample)):
        with pytest.raises(pladafmt.PladaError) as ei:
            pladafmt.decode(sample[:cut])
        assert isinstance(ei.value, (pladafmt.TruncatedError, pladafmt.FormatError)), cut
    reject(sample[:50], pladafmt.TruncatedError, r"header: expected 88 bytes, got 50")
    assert isinstance(pladafmt.TruncatedError("x"), EOFError)


def test_reject_trailing_bytes(sample):
    reject(sample + b"\x00", pladafmt.TrailingDataError,
           r"expected to end after 4 sections at byte 172, got 1 trailing bytes")


def test_reject_section_length_past_end(sample):
    off = sections(sample)[-1][0]
    bad = bytearray(sample)
    struct.pack_into("<I", bad, off + 4, 1000)
    reject(bytes(bad), pladafmt.TruncatedError, r"Section_Length: expected <= 15 \(bytes left\), got 1000")


def test_reject_section_crc(sample):
    bad = bytearray(sample)
    bad[-1] ^= 1
    reject(bytes(bad), pladafmt.ChecksumError, r"section 3 Section_CRC32: expected")


def test_reject_content_checksum(sample):
    good = header(sample)["checksum"]
    reject(patch_header(sample, checksum=bytes(4) + good[4:]), pladafmt.ChecksumError,
           r"Content_Checksum \(indices\): expected 00000000 \(stored\), got e342b188")
    reject(patch_header(sample, checksum=good[:4] + bytes(4)), pladafmt.ChecksumError,
           r"Content_Checksum \(labels\): expected 00000000 \(stored\), got 7c5c1814")


def test_reject_index_out_of_range_and_order(sample):
    i = section_index(sample, K.SECTION_INDEX_STREAM)
    reject(replace_section(sample, i, body=bytes([2, 0, 0, 4, 10])), pladafmt.FormatError,
           r"index_stream varint: gap at byte 4 runs past the end of the range")
    # A raw stream longer than the mode's bound for the header is rejected before decoding.
    reject(replace_section(sample, i, body=bytes([2, 0, 0, 4, 9, 0])), pladafmt.FormatError,
           r"index_stream varint: length expected <= 5 for this header, got 6")
    wide = pladafmt.encode([2, 3, 4, 9, 19], [0] * 5, pool_size=1000, classes=1,
                           index_mode="varint")
    i = section_index(wide, K.SECTION_INDEX_STREAM)
    # a decreasing index cannot be written as a gap; the nearest thing, a gap that wraps
    # through 2^64, is rejected as out of range.
    wrap = bytes([2]) + b"\xff" * 8 + b"\x01"
    reject(replace_section(wide, i, body=wrap), pladafmt.FormatError, r"runs past the end")
    reject(replace_section(wide, i, body=bytes([2, 0, 0, 4, 9, 0])), pladafmt.FormatError,
           r"expected the stream to end after 5 items, got trailing bytes from byte 5")
    reject(replace_section(wide, i, body=bytes([2, 0x80, 0, 0, 4, 9])), pladafmt.FormatError,
           r"gap at byte 1 is not a minimal LEB128 varint")
    reject(replace_section(wide, i, body=bytes([2, 0, 0, 4])), pladafmt.TruncatedError,
           r"stream ends inside gap at byte 4: expected 5 items")


def test_reject_duplicate_index_in_bitmap_and_runs():
    data = pladafmt.encode([1, 2, 3], [0, 0, 0], pool_size=12, classes=1, index_mode="runs")
    i = section_index(data, K.SECTION_INDEX_STREAM)
    # runs (1, len 2) then (gap 0 -> start 4... ) : run lengths past k
    reject(replace_section(data, i, body=bytes([1, 1, 0, 1])), pladafmt.FormatError,
           r"run lengths add up past item_count 3")
    data = pladafmt.encode([1, 2, 3], [0, 0, 0], pool_size=12, classes=1, index_mode="bitmap")
    i = section_index(data, K.SECTION_INDEX_STREAM)
    reject(replace_section(data, i, body=bytes([0x0E, 0x10])), pladafmt.FormatError,
           r"padding bits past pool_size 12 expected 0, got 0x01")
    reject(replace_section(data, i, body=bytes([0x0E, 0x01])), pladafmt.FormatError,
           r"set bits expected item_count 3, got 4")


def test_reject_label_out_of_range(sample):
    i = section_index(sample, K.SECTION_LABEL_STREAM)
    reject(replace_section(sample, i, body=bytes([0x90 | 0x0C, 0x02])), pladafmt.FormatError,
           r"label_stream packed: label 1 expected < class_count 3")
    reject(replace_section(sample, i, body=bytes([0x90, 0x06])), pladafmt.FormatError,
           r"padding bits expected 0")


def test_reject_bad_huffman_tables():
    data = pladafmt.encode([0, 1, 2], [0, 1, 1], pool_size=3, classes=2, label_mode="huffman")
    i = section_index(data, K.SECTION_LABEL_STREAM)
    # two symbols of length 2: Kraft sum 1/2, incomplete
    reject(replace_section(data, i, body=bytes([2, 0, 2, 0, 2, 0x00])), pladafmt.FormatError,
           r"complete prefix code \(Kraft sum 1\), got 0.5")
    reject(replace_section(data, i, body=bytes([1, 0, 1])), pladafmt.FormatError,
           r"Code_Length of a single symbol expected 0, got 1")
    reject(replace_section(data, i, body=bytes([2, 0, 1, 0, 25, 0])), pladafmt.FormatError,
           r"Code_Length expected 1..24, got 25")
    reject(replace_section(data, i, body=bytes([2, 0, 1, 5, 1, 0])), pladafmt.FormatError,
           r"Symbol_Gap at byte 3 invalid")
    reject(replace_section(data, i, body=bytes([2, 0, 1, 0, 1])), pladafmt.TruncatedError,
           r"bitstream ends before item_count 3 labels")


def test_reject_rle_repeated_label():
    data = pladafmt.encode([0, 1, 2], [1, 1, 0], pool_size=3, classes=2, label_mode="rle")
    i = section_index(data, K.SECTION_LABEL_STREAM)
    reject(replace_section(data, i, body=bytes([1, 0, 1, 1])), pladafmt.FormatError,
           r"repeats the previous run's label")


def test_reject_unknown_modes_and_sections(sample):
    i = section_index(sample, K.SECTION_INDEX_STREAM)
    reject(replace_section(sample, i, mode=99), pladafmt.UnsupportedVersionError,
           r"index_stream Section_Mode: unknown mode 99")
    reject(replace_section(sample, 0, stype=0x0042), pladafmt.UnsupportedVersionError,
           r"unknown critical type 0x0042")


def test_unknown_ancillary_section_is_skipped(sample):
    secs = [make_section(s[1], s[2], s[3], s[6]) for s in sections(sample)]
    extra = make_section(0x8077, 5, 0xFF, b"anything at all")
    p = pladafmt.decode(rebuild(sample, secs[:2] + [extra] + secs[2:]))
    assert p.labels.tolist() == [0, 0, 1, 2, 2] and p.metadata == {"task": "demo"}


def test_reject_section_layout(sample):
    secs = [make_section(s[1], s[2], s[3], s[6]) for s in sections(sample)]
    reject(rebuild(sample, [secs[0], secs[2], secs[1], secs[3]]), pladafmt.FormatError,
           r"critical sections expected in increasing type order")
    reject(rebuild(sample, [secs[0], secs[1], secs[3]]), pladafmt.FormatError,
           r"label_stream expected exactly once, got none")
    reject(rebuild(sample, secs + [secs[3]]), pladafmt.FormatError,
           r"metadata expected at most once, got twice")
    reject(replace_section(sample, 0, mode=1), pladafmt.FormatError,
           r"Section_Mode: expected 0 for class_table, got 1")


def test_reject_bad_class_table_and_metadata(sample):
    reject(replace_section(sample, 0, body=b"\x03cat\x03dog\x02\xc3("), pladafmt.FormatError,
           r"class_table: name 2 expected valid UTF-8")
    reject(replace_section(sample, 0, body=b"\x03cat\x03dog"), pladafmt.TruncatedError,
           r"class_table: name 2 length")
    reject(replace_section(sample, 0, body=b"\x03cat\x03dog\x01a\x00"), pladafmt.FormatError,
           r"expected 3 names ending at byte 10, got 1 trailing bytes")
    reject(replace_section(sample, 3, body=b"[1, 2]"), pladafmt.FormatError,
           r"metadata: expected a JSON object, got list")
    reject(replace_section(sample, 3, body=b'{"a": NaN}'), pladafmt.FormatError,
           r"metadata: expected a UTF-8 JSON object")


def _zstd_frame_declaring(size):
    """A Zstd frame header declaring `size` content bytes, followed by a 1-byte raw block."""
    fhd = 0b11000000 | 0b00100000          # FCS field 8 bytes, single segment
    return (b"\x28\xb5\x2f\xfd" + bytes([fhd]) + struct.pack("<Q", size)
            + bytes([0x09, 0x00, 0x00]) + b"\x00")


def test_reject_zstd_bomb(sample):
    i = section_index(sample, K.SECTION_INDEX_STREAM)
    bomb = replace_section(sample, i, flags=K.SECTION_FLAG_ZSTD, body=_zstd_frame_declaring(10**12))
    reject(bomb, pladafmt.LimitError, r"index_stream varint: Zstd Frame_Content_Size expected "
           r"<= 5 \(the mode's bound for this header\), got 1000000000000")


def test_reject_zstd_structure(sample):
    i = section_index(sample, K.SECTION_INDEX_STREAM)
    raw = bytes([2, 0, 0, 4, 9])
    frame = zstandard.ZstdCompressor(level=3).compress(raw)
    ok = replace_section(sample, i, flags=K.SECTION_FLAG_ZSTD, body=frame)
    assert pladafmt.decode(ok).indices.tolist() == [2, 3, 4, 9, 19]
    reject(replace_section(sample, i, flags=K.SECTION_FLAG_ZSTD, body=frame + b"\x00"),
           pladafmt.FormatError, r"Zstd frame invalid")
    reject(replace_section(sample, i, flags=K.SECTION_FLAG_ZSTD, body=frame + frame),
           pladafmt.FormatError, r"Zstd frame invalid")
    reject(replace_section(sample, i, flags=K.SECTION_FLAG_ZSTD, body=b"\x50\x2a\x4d\x18" + frame[4:]),
           pladafmt.FormatError, r"Zstd frame magic expected 28b52ffd")
    no_size = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
    stream = no_size.compress(raw) + no_size.flush()
    reject(replace_section(sample, i, flags=K.SECTION_FLAG_ZSTD, body=stream),
           pladafmt.FormatError, r"Frame_Content_Size expected present, got absent")


def test_reject_non_bytes():
    with pytest.raises(pladafmt.FormatError) as ei:
        pladafmt.decode(12345)
    assert "expected a bytes-like object, got int" in str(ei.value)


# ---- the worked example in SPEC.md ---------------------------------------------------

def spec_example_bytes():
    text = (ROOT / "SPEC.md").read_text(encoding="utf-8")
    block = text.split("## Worked example", 1)[1].split("```", 2)[1]
    out = bytearray()
    for line in block.splitlines():
        m = re.match(r"^([0-9a-f]{4})    (.*)$", line)
        if not m:
            continue
        field = re.split(r"\s{2,}", m.group(2).strip())[0]
        expect = int(m.group(1), 16)
        assert len(out) == expect, f"offset {m.group(1)} but {len(out)} bytes so far"
        rep = re.fullmatch(r"([0-9a-f]{2}) x (\d+)", field)
        if rep:
            out += bytes([int(rep.group(1), 16)]) * int(rep.group(2))
        else:
            out += bytes(int(t, 16) for t in field.replace("|", " ").split())
    return bytes(out)


def test_spec_worked_example_byte_for_byte(sample):
    example = spec_example_bytes()
    assert example == sample
    p = pladafmt.decode(example)
    assert p.indices.tolist() == [2, 3, 4, 9, 19] and p.labels.tolist() == [0, 0, 1, 2, 2]
    assert p.classes == ("cat", "dog", "émeu") and p.metadata == {"task": "demo"}
    assert (p.index_mode, p.label_mode, p.pool_digest) == ("varint", "packed", None)
    assert header(example)["crc"] == 0xBDDD9CF9


# ---- pool digest, inspect --------------------------------------------------------------

def test_pool_digest_canonical_bytes():
    items = [("a.png", hashlib.sha256(b"A").digest()), ("dir/é.png", hashlib.sha256(b"B").digest())]
    manual = hashlib.sha256(
        b"PLADA-POOL-MANIFEST\x00\x01"
        + b"".join(struct.pack("<I", len(n.encode())) + n.encode() + d for n, d in items)
        + struct.pack("<Q", 2)).digest()
    assert pladafmt.pool_digest(items) == manual
    assert pladafmt.pool_digest(items[::-1]) != manual          # order matters
    with pytest.raises(pladafmt.EncodeError) as ei:
        pladafmt.pool_digest([("a", b"short")])
    assert "content_sha256 expected 32 bytes, got 5" in str(ei.value)


def test_inspect_reports_sizes_and_bound(sample):
    info = pladafmt.inspect(sample)
    assert info["payload_bytes"] == len(sample) == 172
    assert info["item_count"] == 5 and info["pool_size"] == 20 and info["class_count"] == 3
    assert [s["name"] for s in info["sections"]] == ["class_table", "index_stream",
                                                     "label_stream", "metadata"]
    assert sum(s["bytes"] for s in info["sections"]) + 88 == len(sample)
    h0 = -(2 * math.log2(2 / 5) + math.log2(1 / 5) + 2 * math.log2(2 / 5))
    assert info["bound_bits"] == pytest.approx(math.log2(math.comb(20, 5)) + h0)
    assert info["ratio_to_bound"] == pytest.approx(8 * 172 / info["bound_bits"])


# ---- smaller than the paper's format ---------------------------------------------------

def paper_formats(idx, lab, n):
    """The paper's payloads (Appendix E): compact deltas + u8 labels, or bitmap + labels,
    Zstd-19 (deltas interleaved with labels as the paper did, and separated)."""
    z = zstandard.ZstdCompressor(level=19)
    gaps = np.diff(idx, prepend=0)
    dt = np.uint16 if gaps.max() < 2**16 else np.uint32
    lab8 = lab.astype(np.uint8)
    rec = np.zeros(len(idx), dtype=[("d", dt), ("l", np.uint8)])
    rec["d"], rec["l"] = gaps, lab8
    bits = np.zeros(n, dtype=np.uint8)
    bits[idx] = 1
    return {
        "delta_interleaved": len(z.compress(rec.tobytes())),
        "delta_separate": len(z.compress(gaps.astype(dt).tobytes() + lab8.tobytes())),
        "bitmap": len(z.compress(np.packbits(bits).tobytes() + lab8.tobytes())),
    }


def test_smaller_than_paper_format_on_uniform_1pct_imagenet21k(capsys):
    n, c = 14_197_122, 101
    rng = np.random.default_rng(2026)
    k = n // 100
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = rng.integers(0, c, k)
    ours = pladafmt.encode(idx, lab, pool_size=n, classes=c)
    paper = paper_formats(idx, lab, n)
    with capsys.disabled():
        print(f"\n[uniform 1% of IN-21K, C=101] pladafmt auto {len(ours)} B "
              f"({pladafmt.decode(ours).index_mode}/{pladafmt.decode(ours).label_mode}); "
              f"paper {paper}")
    assert len(ours) < min(paper.values())


# ---- Numba cache hygiene -------------------------------------------------------------

def test_kernel_cache_is_dropped_when_any_module_changes(tmp_path):
    """A cached kernel must not outlive a change to a function it calls in another module."""
    from pladafmt._jitcache import refresh_kernel_cache
    (tmp_path / "a.py").write_text("x = 1\n")
    cache = tmp_path / "__pycache__"
    refresh_kernel_cache(tmp_path)
    (cache / "a.k-1.py311.nbi").write_bytes(b"index")
    (cache / "a.k-1.py311.1.nbc").write_bytes(b"code")
    (cache / "a.cpython-311.pyc").write_bytes(b"pyc")
    refresh_kernel_cache(tmp_path)                      # nothing changed: cache kept
    assert (cache / "a.k-1.py311.nbi").exists()
    (tmp_path / "b.py").write_text("y = 2\n")           # another module changed
    refresh_kernel_cache(tmp_path)
    assert not (cache / "a.k-1.py311.nbi").exists() and not (cache / "a.k-1.py311.1.nbc").exists()
    assert (cache / "a.cpython-311.pyc").exists()       # only Numba's files go


def test_crc32_is_zlibs():
    """pladafmt's CRC-32 (isal when installed) is exactly zlib's, seeded or not."""
    import zlib

    from pladafmt._crc import crc32
    rng = np.random.default_rng(4)
    for n in (0, 1, 7, 64, 4096, 1 << 20):
        b = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32(b) == zlib.crc32(b)
        assert crc32(b, 0xDEADBEEF) == zlib.crc32(b, 0xDEADBEEF)
    idx = np.sort(rng.choice(2**40, 5000, replace=False))
    lab = rng.integers(0, 1000, 5000)
    want = struct.pack("<II", zlib.crc32(idx.astype("<u8").tobytes()),
                       zlib.crc32(lab.astype("<u4").tobytes()))
    assert pladafmt.content_checksum(idx, lab) == want
    assert pladafmt.content_checksum(idx.astype(np.uint64), lab.astype(np.int32)) == want
