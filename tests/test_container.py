"""Format 2.0 container: round trips and edge cases, encode-side errors, THE check order
step by step (one payload per step that fails exactly there), hostile Zstd frames, the
19 answers that are container rules, and a container fuzz against an independent
reference of the check order (written here from FORMAT2.md, not from pladafmt)."""
import hashlib
import json
import math
import re
import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest
import zstandard

import pladafmt
from pladafmt import (ChecksumError, EncodeError, FormatError, LimitError, PladaError,
                      PoolMismatchError, TrailingDataError, TruncatedError,
                      UnsupportedVersionError)
from pladafmt._modes import INDEX_MODES as INDEX_TABLE
from pladafmt._modes import LABEL_MODES as LABEL_TABLE

import payloads as P
from payloads import CLASS_TABLE, INDEX_STREAM, LABEL_STREAM, METADATA


def roundtrip(idx, lab, n, c, **kw):
    data = pladafmt.encode(idx, lab, pool_size=n, classes=c, **kw)
    p = pladafmt.decode(data)
    assert p.indices.dtype == np.int64 and p.labels.dtype == np.int64
    assert p.indices.tolist() == sorted(int(i) for i in idx)
    order = np.argsort(np.asarray(idx, dtype=np.int64), kind="stable")
    assert p.labels.tolist() == np.asarray(lab, dtype=np.int64)[order].tolist()
    assert p.pool_size == n and p.class_count == (c if isinstance(c, int) else len(c))
    assert p.version == (2, 0)
    assert pladafmt.encode(idx, lab, pool_size=n, classes=c, **kw) == data   # deterministic
    return data, p


def outcome(data, **kw):
    """The exact error class decode raises (None when it decodes)."""
    try:
        pladafmt.decode(data, **kw)
    except PladaError as e:
        return type(e)
    return None


def reject(data, cls, pattern="", **kw):
    """decode raises exactly `cls` (not a subclass) with a message matching `pattern`."""
    with pytest.raises(PladaError) as ei:
        pladafmt.decode(data, **kw)
    assert type(ei.value) is cls, f"{type(ei.value).__name__}: {ei.value}"
    assert re.search(pattern, str(ei.value)), str(ei.value)
    return ei.value


# ---- public API, round trips, edge cases --------------------------------------------

def test_public_api():
    assert (pladafmt.FORMAT_MAJOR, pladafmt.FORMAT_MINOR, pladafmt.__version__) == (2, 0, "2.0.0")
    assert pladafmt.INDEX_MODES == ("bitmap", "varint", "rice", "ctx-rans")
    assert pladafmt.LABEL_MODES == ("packed", "rans", "ctx-rans")
    assert pladafmt.INDEX_MODES == tuple(INDEX_TABLE[i].name for i in sorted(INDEX_TABLE))


@pytest.mark.parametrize("im", list(pladafmt.INDEX_MODES) + ["auto", "smallest"])
@pytest.mark.parametrize("lm", list(pladafmt.LABEL_MODES) + ["auto"])
@pytest.mark.parametrize("case", ["k0", "kN", "N1", "C1", "ends", "single", "C65536"])
def test_edge_cases(im, lm, case):
    n, idx, c, lab = {
        "k0": (50, [], 5, []),
        "kN": (64, list(range(64)), 4, [i % 4 for i in range(64)]),
        "N1": (1, [0], 2, [1]),
        "C1": (100, [1, 50, 99], 1, [0, 0, 0]),
        "ends": (1000, [0, 999], 3, [2, 0]),
        "single": (500, list(range(0, 500, 7)), 9, [4] * len(range(0, 500, 7))),
        "C65536": (300, [0, 1, 299], 65536, [65535, 0, 12345]),
    }[case]
    data, p = roundtrip(np.array(idx, dtype=np.int64), np.array(lab, dtype=np.int64), n, c,
                        index_mode=im, label_mode=lm)
    if case == "k0":        # the k = 0 rule: every stream body is empty
        assert [len(s.body) for s in P.parse(data).sections] == [0, 0]


@pytest.mark.parametrize("im", pladafmt.INDEX_MODES)
@pytest.mark.parametrize("lm", pladafmt.LABEL_MODES)
def test_zstd_wrapped_modes_roundtrip(im, lm):
    rng = np.random.default_rng(3)
    idx = np.sort(rng.choice(5000, 300, replace=False))
    lab = rng.integers(0, 7, 300)
    data, p = roundtrip(idx, lab, 5000, 7, index_mode=im + "+zstd", label_mode=lm + "+zstd")
    assert (p.index_mode, p.label_mode) == (im + "+zstd", lm + "+zstd")
    assert all(s.section_flags == 1 for s in P.parse(data).sections)


def test_huge_pool_and_maximal_gap():
    n = 2**40 + 17
    roundtrip([0, n - 1], [0, 1], n, 2, index_mode="varint")
    roundtrip([n - 2, n - 1], [1, 1], n, 2)


def test_unsorted_input_is_sorted_with_labels():
    data, p = roundtrip([9, 1, 5], [2, 0, 1], 10, 3)
    assert p.labels.tolist() == [0, 1, 2]


def test_class_names_empty_and_non_ascii():
    names = ["", "émeu", "猫", "🙂 smile", "a\nb"]
    p = pladafmt.decode(pladafmt.encode([1, 2, 3, 4, 5], [0, 1, 2, 3, 4], pool_size=9,
                                        classes=names))
    assert p.classes == tuple(names)


def test_unnamed_classes_decode_to_decimal_names():
    assert pladafmt.decode(pladafmt.encode([1], [2], pool_size=9, classes=3)).classes == \
        ("0", "1", "2")


def test_metadata_and_digest_roundtrip():
    digest = hashlib.sha256(b"pool").digest()
    meta = {"rule": "energy", "keep": 0.01, "alpha": -0.2, "nested": {"ü": [1, 2]}}
    data = pladafmt.encode([5], [0], pool_size=9, classes=1, pool_digest=digest, metadata=meta)
    p = pladafmt.decode(data, pool_digest=digest)
    assert p.metadata == meta and p.pool_digest == digest
    assert P.parse(data).head.header_flags == 1


def test_header_layout_and_size_at_k60():
    """No digest, N = 60,000, k = 60, C = 101: the header is 30 bytes (8 magic, 3 u8,
    varints 1 + 3 + 1 + 1 + 1, 8 checksum, 4 CRC) and each stream's section header 8."""
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(60_000, 60, replace=False))
    lab = rng.integers(0, 101, 60)
    data = pladafmt.encode(idx, lab, pool_size=60_000, classes=101)
    info = pladafmt.inspect(data)
    assert info["header_bytes"] == 30
    assert [s["bytes"] - s["body_bytes"] for s in info["sections"]] == [8, 8]
    assert data[:11] == P.MAGIC + bytes((2, 0, 0))
    assert data[11:18] == bytes([0]) + P.varint(60_000) + bytes([60, 101, 2])


def test_k60_payload_is_at_most_the_papers_190_bytes():
    """Issue #15 item 6: 60 uniform indices of N = 60,000 with C = 101 (the paper's
    format: 190 B) fit in <= 190 bytes, on every seed tried."""
    sizes = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(60_000, 60, replace=False))
        sizes.append(len(pladafmt.encode(idx, rng.integers(0, 101, 60), pool_size=60_000,
                                         classes=101)))
    assert max(sizes) <= 190, sizes


# ---- encode-side errors ----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(indices=[1, 1], labels=[0, 0]), r"indices: expected unique values, got 1 twice"),
    (dict(indices=[10], labels=[0]), r"indices: expected 0 <= index < pool_size 10, got 10"),
    (dict(indices=[-1], labels=[0]), r"index < pool_size 10, got -1"),
    (dict(indices=[1], labels=[3]), r"labels: expected 0 <= label < C 3, got 3"),
    (dict(indices=[1, 2], labels=[0]), r"labels: expected one per index \(2\), got 1"),
    (dict(indices=[1.5], labels=[0]), r"indices: expected integers, got dtype float64"),
    (dict(indices=[1], labels=[0], index_mode="runs"), r"index_mode: expected 'auto', 'smallest' or one of bitmap, varint, rice, ctx-rans"),
    (dict(indices=[1], labels=[0], label_mode="huffman"), r"label_mode: expected .* packed, rans, ctx-rans"),
    (dict(indices=[1], labels=[0], index_mode="rice+lz4"), r"index_mode: expected"),
    (dict(indices=[1], labels=[0], zstd_level=22), r"zstd_level: expected 1..19, got 22"),
    (dict(indices=[1], labels=[0], pool_digest=b"x"), r"pool_digest: expected 32 bytes, got 1"),
    (dict(indices=[1], labels=[0], metadata={"x": float("nan")}), r"metadata: expected JSON-safe"),
    (dict(indices=[1], labels=[0], metadata=[1]), r"metadata: expected a dict, got list"),
    (dict(indices=[1], labels=[0], classes=["a", 3, "c"]), r"classes\[1\]: expected str, got int"),
    (dict(indices=[1], labels=[0], classes=["a", "\ud800", "c"]), r"classes\[1\]: expected valid Unicode"),
    (dict(indices=[1], labels=[0], classes=["a", "b" * 4097, "c"]), r"classes\[1\]: expected <= 4096 UTF-8 bytes, got 4097"),
    (dict(indices=[1], labels=[0], classes=0), r"classes: expected 1..1048576 classes, got 0"),
    (dict(indices=[1], labels=[0], pool_size=0), r"pool_size: expected 1..281474976710656, got 0"),
])
def test_encode_rejects(kwargs, match):
    args = dict(pool_size=10, classes=3)
    args.update(kwargs)
    with pytest.raises(EncodeError) as ei:
        pladafmt.encode(args.pop("indices"), args.pop("labels"), **args)
    assert re.search(match, str(ei.value)), str(ei.value)
    assert isinstance(ei.value, ValueError)


# ---- THE check order, step by step ------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    """Class table, both streams (raw), metadata; 5 of 20 items, 3 classes."""
    return pladafmt.encode([2, 3, 4, 9, 19], [0, 0, 1, 2, 2], pool_size=20,
                           classes=["cat", "dog", "émeu"], metadata={"task": "demo"},
                           index_mode="varint", label_mode="packed")


def edit_head(data, **fields):
    p = P.parse(data)
    p.head = replace(p.head, **fields)
    return p.bytes(fix_count="section_count" not in fields)


def edit_sections(data, fn):
    p = P.parse(data)
    p.sections = fn(p.sections)
    return p.bytes()


def with_section(data, which, **fields):
    """`data` with the fields of its section of type `which` replaced."""
    def fn(secs):
        return [replace(s, **fields) if s.section_type == which else s for s in secs]
    return edit_sections(data, fn)


def test_step1_magic():
    reject(b"\x89PLX\r\n\x1a\n" + bytes(40), FormatError, r"Magic: expected 89504c440d0a1a0a")
    reject(b"GIF89a", FormatError, r"Magic")                 # short, not a prefix (Q6)
    reject(b"\x89PLD", TruncatedError, r"Magic")             # a true prefix (Q6)
    reject(b"", TruncatedError, r"Magic")


def test_step2_version_major(sample):
    reject(P.MAGIC, TruncatedError, r"Version_Major")
    reject(sample[:8] + b"\x01" + sample[9:], UnsupportedVersionError,
           r"Version_Major: expected 2, got 1")
    # a 1.x payload is rejected by its version, before its (1.x) CRC or any other field
    reject(P.MAGIC + bytes([1, 3]) + bytes(78), UnsupportedVersionError, "got 1")
    reject(P.MAGIC + bytes([3]), UnsupportedVersionError, "got 3")   # before truncation


def test_step3_header_syntax(sample):
    end = P.header_end(sample)
    for cut in range(9, end):          # the input ends inside every header field
        reject(sample[:cut], TruncatedError)
    # varint rule: non-minimal, 10 bytes, >= 2^63 -- before Header_CRC32 is looked at
    reject(edit_head(sample, raw={"pool_size": b"\x94\x00"}), FormatError,
           r"Pool_Size: expected a minimal varint")
    reject(edit_head(sample, raw={"item_count": b"\x80" * 9 + b"\x01"}), FormatError,
           r"Item_Count: expected a varint < 2\^63|Item_Count: expected a varint < 9223372036854775808")
    reject(edit_head(sample, raw={"class_count": b"\xff" * 8 + b"\x80"}), FormatError,
           r"Class_Count")
    reject(edit_head(sample, raw={"section_count": b"\x80" * 9})[:20], TruncatedError)
    # Pool_Digest is read only when its flag is set: flag set, input ends inside it
    head = replace(P.parse(sample).head, header_flags=1).body()
    reject(head[:30], TruncatedError, r"Pool_Digest")


def test_step4_header_crc_before_values(sample):
    b = bytearray(sample)
    b[P.header_end(sample) - 1] ^= 1
    reject(bytes(b), ChecksumError, r"Header_CRC32")
    # a reserved flag bit in a header whose CRC is wrong: the CRC is reported
    bad = bytearray(edit_head(sample, header_flags=0x80))
    bad[P.header_end(bytes(bad)) - 1] ^= 1
    reject(bytes(bad), ChecksumError)


@pytest.mark.parametrize("fields, cls, pattern", [
    (dict(header_flags=0x02), FormatError, r"Header_Flags: reserved bits"),
    (dict(header_flags=0x02, required_features=1), FormatError, r"Header_Flags"),
    (dict(required_features=1), UnsupportedVersionError, r"Required_Features"),
    (dict(required_features=1, pool_size=0), UnsupportedVersionError, r"Required_Features"),
    (dict(pool_size=0), FormatError, r"Pool_Size: expected >= 1, got 0"),
    (dict(pool_size=2**48 + 1), LimitError, r"Pool_Size: expected <= 281474976710656"),
    (dict(item_count=21), FormatError, r"Item_Count: expected <= Pool_Size 20, got 21"),
    (dict(item_count=21, class_count=0), FormatError, r"Item_Count"),
    (dict(class_count=0), FormatError, r"Class_Count: expected >= 1, got 0"),
    (dict(class_count=2**20 + 1), LimitError, r"Class_Count: expected <= 1048576"),
    (dict(class_count=2**20 + 1, section_count=1), LimitError, r"Class_Count"),
    (dict(section_count=1), FormatError, r"Section_Count: expected >= 2"),
    (dict(section_count=65), LimitError, r"Section_Count: expected <= 64"),
])
def test_step5_header_values_in_field_order(sample, fields, cls, pattern):
    reject(edit_head(sample, **fields), cls, pattern)


def test_step5_caller_limits_at_and_past(sample):
    assert outcome(sample, max_pool_size=20, max_items=5) is None
    reject(sample, LimitError, r"Pool_Size: expected <= 19", max_pool_size=19)
    reject(sample, LimitError, r"Item_Count: expected <= max_items 4", max_items=4)


def test_step6_budget_before_pool_digest(sample):
    assert outcome(sample, max_decoded_bytes=10_000) is None
    reject(sample, LimitError, r"Item_Count \(decoded indices and labels\)",
           max_decoded_bytes=16 * 5 - 1, pool_digest=bytes(32))
    # the budget is charged for names too (a MAY): default names of a huge C, k = 0
    big_c = pladafmt.encode([], [], pool_size=10, classes=1 << 20)
    reject(big_c, LimitError, r"class names", max_decoded_bytes=1 << 20)


def test_step7_pool_digest(sample):
    digest = hashlib.sha256(b"pool").digest()
    with_digest = pladafmt.encode([1, 2], [0, 1], pool_size=5, classes=2, pool_digest=digest)
    assert pladafmt.decode(with_digest, pool_digest=digest).pool_digest == digest
    assert pladafmt.decode(with_digest).pool_digest == digest        # not asked: not checked
    reject(with_digest, PoolMismatchError, r"Pool_Digest: expected .* got " + digest.hex(),
           pool_digest=bytes(32))
    reject(sample, PoolMismatchError, r"got absent", pool_digest=digest)
    # before any section is read: a broken section CRC behind a foreign digest
    b = bytearray(with_digest)
    b[-1] ^= 1
    reject(bytes(b), PoolMismatchError, pool_digest=bytes(32))
    reject(bytes(b), ChecksumError, pool_digest=digest)


def test_step8_section_headers(sample):
    end = P.header_end(sample)
    secs_at = [end]
    p = P.parse(sample)
    for s in p.sections:
        secs_at.append(secs_at[-1] + len(s.bytes()))
    for cut in range(end, len(sample)):
        reject(sample[:cut], TruncatedError)               # every cut inside the sections
    reject(edit_head(sample, section_count=5), TruncatedError, r"section 4")
    reject(with_section(sample, INDEX_STREAM, length=10**6), TruncatedError,
           r"Section_Length: expected <= \d+ \(the bytes left\), got 1000000")
    reject(with_section(sample, LABEL_STREAM, bad_crc=True), ChecksumError,
           r"section 2 Section_CRC32")
    reject(sample + b"\x00", TrailingDataError, r"got 1 more bytes")
    reject(edit_head(sample, section_count=3), TrailingDataError)
    # a bad CRC in section 3 comes before a layout error in section 0 (step 8 before 9)
    def fn(secs):
        secs[0] = replace(secs[0], section_flags=0x40)
        secs[3] = replace(secs[3], bad_crc=True)
        return secs
    reject(edit_sections(sample, fn), ChecksumError, r"section 3")
    # non-minimal Section_Length varint
    b = P.parse(sample).section(INDEX_STREAM)
    head = bytes((2, b.section_mode, 0)) + bytes([0x80 | len(b.body), 0x00])
    raw = head + struct.pack("<I", zlib.crc32(b.body, zlib.crc32(head))) + b.body
    at = secs_at[1]
    reject(sample[:at] + raw + sample[secs_at[2]:], FormatError, r"Section_Length: expected a minimal")


def test_step9_layout(sample):
    swap = lambda secs: [secs[0], secs[2], secs[1], secs[3]]
    reject(edit_sections(sample, swap), FormatError, r"critical sections expected in increasing")
    dup = lambda secs: secs[:2] + [secs[1]] + secs[2:]
    reject(edit_sections(sample, dup), FormatError, r"increasing type order")
    meta2 = lambda secs: secs + [secs[3]]                  # Q5: a second METADATA
    reject(edit_sections(sample, meta2), FormatError, r"metadata\).*at most once")
    reject(with_section(sample, CLASS_TABLE, section_type=0x04), UnsupportedVersionError,
           r"known critical type, got 0x04")
    reject(with_section(sample, INDEX_STREAM, section_flags=0x02), FormatError,
           r"Section_Flags: reserved bits")
    reject(with_section(sample, CLASS_TABLE, section_mode=1), FormatError, r"Section_Mode: expected 0")
    reject(with_section(sample, METADATA, section_mode=1), FormatError, r"Section_Mode: expected 0")
    reject(with_section(sample, INDEX_STREAM, section_mode=len(INDEX_TABLE)),
           UnsupportedVersionError, r"Section_Mode: expected a known mode")
    reject(with_section(sample, LABEL_STREAM, section_mode=200), UnsupportedVersionError)
    reject(with_section(sample, LABEL_STREAM, section_type=0x90), FormatError,
           r"label_stream expected exactly once, got none")
    # order inside step 9: the first section's problem is reported
    both = lambda secs: [replace(secs[0], section_mode=1), replace(secs[1], section_mode=99)] \
        + secs[2:]
    reject(edit_sections(sample, both), FormatError, r"section 0")
    # an unknown ancillary section is skipped unread, even with reserved flags or twice
    anc = lambda secs: secs[:1] + [P.Sec(0x90, 7, 0xFF, b"\xff" * 5)] * 2 + secs[1:]
    assert pladafmt.decode(edit_sections(sample, anc)).classes == ("cat", "dog", "émeu")


def test_step10_raw_bodies_against_their_bound(sample):
    reject(with_section(sample, METADATA, body=b" " * (2**20 + 1)), FormatError,
           r"metadata: Section_Length expected <= 1048576")            # Q11
    table = P.parse(sample).section(CLASS_TABLE)
    reject(with_section(sample, CLASS_TABLE, body=table.body + b"x" * (3 * 4098)), FormatError,
           r"class_table: Section_Length expected <= 12294")
    bitmap = pladafmt.encode([2, 3], [0, 1], pool_size=20, classes=2, index_mode="bitmap")
    reject(with_section(bitmap, INDEX_STREAM, body=bytes(4)), FormatError,
           r"Section_Length expected <= 3")                             # Q10: longer
    reject(with_section(bitmap, INDEX_STREAM, body=bytes(2)), TruncatedError)  # Q10: shorter
    empty = pladafmt.encode([], [], pool_size=20, classes=2, index_mode="rice")
    reject(with_section(empty, INDEX_STREAM, body=b"\x00"), FormatError,
           r"expected <= 0")                                            # Q15, k = 0
    # bodies in payload order, all before any stream decodes (step 10 before 11): a
    # short bitmap (a stream error) behind a metadata body over its bound
    short = with_section(bitmap, INDEX_STREAM, body=bytes(2))
    meta = P.parse(pladafmt.encode([1], [0], pool_size=4, classes=1, metadata={"a": 1}))
    both = edit_sections(short, lambda s: s + [replace(meta.section(METADATA),
                                                       body=b"[" * (2**20 + 1))])
    reject(both, FormatError, r"metadata")


def zstd_case(sample, section_type, body):
    return with_section(sample, section_type, section_flags=1, body=body)


@pytest.mark.parametrize("name, body, cls, pattern", [
    ("empty body (Q6)", b"", FormatError, r"frame magic expected 28b52ffd, got an empty body"),
    ("3 bytes", b"\x28\xb5\x2f", FormatError, r"frame magic"),
    ("skippable frame", b"\x50\x2a\x4d\x18" + bytes(4), FormatError, r"frame magic"),
    ("incomplete header", b"\x28\xb5\x2f\xfd\x00", FormatError, r"frame header expected complete"),
    ("reserved header bit", b"\x28\xb5\x2f\xfd\x28\x05\x01\x00\x00", FormatError, r"reserved bit"),
    ("window 2^41", P.zstd_frame(3, b"\x01" * 3, window_log=41), LimitError, r"Window_Size"),
    ("no content size", P.zstd_frame(None, b"\x01"), FormatError, r"Frame_Content_Size expected present"),
    ("dictionary id, empty", P.zstd_frame(0, b"", dict_id=7), FormatError, r"Dictionary_ID expected 0, got 7"),
    ("above the bound (Q2)", P.zstd_frame(1000, b"\x01"), FormatError, r"expected <= \d+ \(the raw size bound\)"),
    ("1 TB above the bound", P.zstd_frame(10**12, b"\x01"), FormatError, r"raw size bound"),
    ("window 2^30", P.zstd_frame(5, b"\x01" * 5, window_log=30), LimitError, r"Window_Size expected <= 8388608"),
    ("corrupt block, empty content", P.zstd_frame(0, b"", block="reserved"), FormatError, r"frame expected valid"),
    ("corrupt block", P.zstd_frame(5, b"\x01" * 5, block="reserved"), FormatError, r"frame expected valid"),
    ("checksum wrong, empty", P.zstd_frame(0, b"", checksum=True), FormatError, r"frame expected valid"),
    ("frame ends early", P.zstd_frame(5, b"\x01" * 5)[:-2], FormatError, r"ends early"),
    ("extra bytes", P.zstd_frame(5, b"\x01" * 5) + b"\x00", FormatError, r"1 more bytes"),
    ("two frames", P.zstd_frame(5, b"\x01" * 5) * 2, FormatError, r"more bytes"),
    ("content shorter than declared", P.zstd_frame(6, b"\x01" * 5), FormatError, r"ends early|expected valid|Frame_Content_Size"),
    ("content longer than declared", P.zstd_frame(4, b"\x01" * 5), FormatError, r"expected valid"),
])
def test_step10_zstd_frames_never_accepted_damaged(sample, name, body, cls, pattern):
    reject(zstd_case(sample, INDEX_STREAM, body), cls, pattern)


def test_step10_zstd_empty_frames_on_an_empty_stream():
    """Q12 and issue #15's 1,605 accepted frames: k = 0, bound 0; a frame declaring 0
    bytes is decompressed in full, so any damage in it is seen."""
    empty = pladafmt.encode([], [], pool_size=20, classes=2, index_mode="rice")
    good = P.zstd_compress(b"")
    assert outcome(with_section(empty, INDEX_STREAM, section_flags=1, body=good)) is None
    checked = P.zstd_compress(b"", checksum=True)
    assert outcome(with_section(empty, INDEX_STREAM, section_flags=1, body=checked)) is None
    bad = bytearray(checked)
    bad[-1] ^= 1                                       # the Zstd content checksum
    for body in (bytes(bad), good + b"\x00", good[:-1], P.zstd_frame(0, b"", dict_id=3),
                 P.zstd_frame(0, b"", block="reserved"), P.zstd_frame(1, b"\x00")):
        reject(with_section(empty, INDEX_STREAM, section_flags=1, body=body), FormatError)


def test_step10_zstd_budget(sample):
    """Declared content above the remaining budget: LimitError, before decompressing."""
    body = P.zstd_compress(b'{"a":' + b" " * 5000 + b"1}")
    data = zstd_case(sample, METADATA, body)
    assert pladafmt.decode(data).metadata == {"a": 1}
    reject(data, LimitError, r"metadata: Zstd Frame_Content_Size 5007 expected <= the "
           r"remaining max_decoded_bytes budget", max_decoded_bytes=5000)


def test_step11_index_stream_error_wins_over_label_stream_error():
    data = pladafmt.encode([2, 3], [0, 1], pool_size=20, classes=2, index_mode="bitmap",
                           label_mode="packed")
    short_index = with_section(data, INDEX_STREAM, body=bytes(2))          # TruncatedError
    reject(short_index, TruncatedError)
    bad_label = with_section(data, LABEL_STREAM, body=b"\xff")              # a label >= C
    assert outcome(bad_label) is FormatError
    both = with_section(short_index, LABEL_STREAM, body=b"\xff")
    reject(both, TruncatedError)


def test_step12_class_table_then_metadata_after_the_streams(sample):
    bad_names = with_section(sample, CLASS_TABLE, body=b"\x03ca\xff\x03dog\x02em")
    reject(bad_names, FormatError, r"class_table: name 0 expected valid UTF-8")
    short_names = with_section(sample, CLASS_TABLE, body=b"\x03cat\x03dog\x09em")
    reject(short_names, TruncatedError, r"class_table: name 2 expected 9 bytes, got 2")
    reject(with_section(sample, CLASS_TABLE, body=b"\x03cat\x03dog\x02em!"), FormatError,
           r"1 more bytes")
    long_name = b"\x81\x20" + b"a" * 4097                                   # Q1
    reject(with_section(sample, CLASS_TABLE, body=long_name + b"\x01b\x01c"), FormatError,
           r"Name_Length: expected a varint < 4097")
    # the label stream (step 11) before the class table (12)
    short_labels = with_section(bad_names, LABEL_STREAM, body=b"\x00")
    reject(short_labels, TruncatedError)
    # class table before metadata
    both = with_section(short_names, METADATA, body=b"[]")
    reject(both, TruncatedError, r"class_table")
    # metadata before the content checksum (12 before 13)
    p = P.parse(with_section(sample, METADATA, body=b"[]"))
    p.head = replace(p.head, content_checksum=bytes(8))
    reject(p.bytes(), FormatError, r"metadata: expected a strict UTF-8 JSON object")


@pytest.mark.parametrize("body, pattern", [
    (b'{"a":1,"a":2}', r"duplicate key 'a'"),
    (b'{"a":"\\ud800"}', r"lone surrogate"),
    (b'{"a":"\\ud800x"}', r"lone surrogate"),
    (b'{"\\udc00":1}', r"lone surrogate"),
    (b'\xef\xbb\xbf{"a":1}', r"BOM"),
    (b'x{"a":1}', r"Expecting value"),
    (b'{"a":' + b"[" * 64 + b"]" * 64 + b"}", r"nesting depth expected <= 64"),
    (b'{"a":NaN}', r"NaN"),
    (b'{"a":-Infinity}', r"Infinity"),
    (b'{"a":1e999}', r"overflows a double"),
    (b'{"a":' + b"9" * 400 + b"}", r"overflows a double"),
    (b'{"a":' + str(2 ** 1024 - 2 ** 970).encode() + b"}", r"overflows a double"),
    (b'{"a":"\xff"}', r"invalid start byte"),
    (b'[1]', r"expected a JSON object at the top, got list"),
    (b'"a"', r"got str"),
    (b'{"a":1} x', r"Extra data"),
    (b'', r"Expecting value"),
])
def test_step12_metadata_json_is_strict(sample, body, pattern):
    """Q19: RFC 8259 strict, every failure a FormatError."""
    reject(with_section(sample, METADATA, body=body), FormatError, pattern)


def test_step12_metadata_limits_that_pass(sample):
    deep = b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"                   # depth 64
    assert outcome(with_section(sample, METADATA, body=deep)) is None
    top = 2 ** 1024 - 2 ** 971                                       # the largest double
    ok = b' \t\r\n{"a":"\\ud83d\\ude00","b":1e308,"c":-0,"d":%d}\n' % top
    assert pladafmt.decode(with_section(sample, METADATA, body=ok)).metadata == \
        {"a": "😀", "b": 1e308, "c": 0, "d": top}


def test_step13_content_checksum(sample):
    p = P.parse(sample)
    for lo, part in ((0, "indices"), (4, "labels")):
        cs = bytearray(p.head.content_checksum)
        cs[lo] ^= 1
        reject(replace(p, head=replace(p.head, content_checksum=bytes(cs))).bytes(),
               ChecksumError, rf"Content_Checksum \({part}\)")
    cs = bytes(b ^ 1 for b in p.head.content_checksum)                 # both: indices first
    reject(replace(p, head=replace(p.head, content_checksum=cs)).bytes(), ChecksumError,
           r"\(indices\)")


def test_any_minor_version_is_accepted(sample):
    """Q9: 2.0 writes 0; a decoder never rejects a payload for its minor version."""
    for minor in (1, 7, 255):
        assert pladafmt.decode(edit_head(sample, version_minor=minor)).version == (2, minor)


def test_reject_non_bytes():
    reject(12345, FormatError, r"expected a bytes-like object, got int")


def test_decode_accepts_bytes_likes(sample):
    for data in (bytearray(sample), memoryview(sample), np.frombuffer(sample, np.uint8)):
        assert pladafmt.decode(data).indices.tolist() == [2, 3, 4, 9, 19]


# ---- the container fuzz: pladafmt against an independent reference of steps 1-10 --------

def _ref_varint(buf, pos):
    """The varint rule: (value, pos), or the error class."""
    value = 0
    for i in range(10):
        if pos + i >= len(buf):
            return TruncatedError
        if i == 9:
            return FormatError                       # a 10th byte
        b = buf[pos + i]
        value |= (b & 0x7F) << (7 * i)
        if value >= 2**63:
            return FormatError
        if b < 0x80:
            return FormatError if (b == 0 and i) else (value, pos + i + 1)


def _ref_frame_header(body):
    """RFC 8878 3.1.1.1: (content size or None, window size, dictionary id) or None."""
    if len(body) < 5 or body[4] & 0x08:
        return None
    fhd = body[4]
    single = fhd >> 5 & 1
    fcs_len = [single, 2, 4, 8][fhd >> 6]
    did_len = [0, 1, 2, 4][fhd & 3]
    at = 5 + (not single)
    if len(body) < at + did_len + fcs_len:
        return None
    window = None if single else (1 << (10 + (body[5] >> 3))) * (8 + (body[5] & 7)) // 8
    did = int.from_bytes(body[at:at + did_len], "little")
    fcs = int.from_bytes(body[at + did_len:at + did_len + fcs_len], "little") \
        + (256 if fcs_len == 2 else 0) if fcs_len else None
    return fcs, (fcs if single else window), did


def _ref_zstd(body, bound, budget):
    if len(body) < 4 or body[:4] != P.ZSTD_MAGIC:
        return FormatError, 0
    header = _ref_frame_header(body)
    if header is None or header[0] is None or header[2]:
        return FormatError, 0
    size, window, _ = header
    if size > bound:
        return FormatError, 0
    if size > budget or window > 1 << 23:
        return LimitError, 0
    d = zstandard.ZstdDecompressor(max_window_size=1 << 23).decompressobj(
        read_across_frames=False)
    try:
        out = d.decompress(body)
    except zstandard.ZstdError:
        return FormatError, 0
    if not d.eof or d.unused_data or len(out) != size:
        return FormatError, 0
    return None, len(out)


def reference(data, pool_digest=None, max_decoded_bytes=1 << 31):
    """FORMAT2.md section 3, steps 1-10, read from the document: the error class, or None
    when the payload reaches the streams."""
    n = len(data)
    if data[:8] != P.MAGIC[:min(n, 8)]:
        return FormatError
    if n < 9:
        return TruncatedError
    if data[8] != 2:
        return UnsupportedVersionError
    if n < 11:
        return TruncatedError
    flags, pos, vals = data[10], 11, []
    for _ in range(5):
        r = _ref_varint(data, pos)
        if not isinstance(r, tuple):
            return r
        vals.append(r[0])
        pos = r[1]
    need = (32 if flags & 1 else 0) + 8 + 4
    if n - pos < need:
        return TruncatedError
    digest = data[pos:pos + 32] if flags & 1 else None
    pos += need
    if struct.unpack_from("<I", data, pos - 4)[0] != zlib.crc32(data[:pos - 4]):
        return ChecksumError
    required, N, k, C, S = vals
    if flags & 0xFE:
        return FormatError
    if required:
        return UnsupportedVersionError
    for bad, cls in ((N == 0, FormatError), (N > 2**48, LimitError), (k > N, FormatError),
                     (k > 2**32, LimitError), (C == 0, FormatError), (C > 2**20, LimitError),
                     (S < 2, FormatError), (S > 64, LimitError)):
        if bad:
            return cls
    budget = max_decoded_bytes - 16 * k
    if budget < 0:
        return LimitError
    if pool_digest is not None and digest != pool_digest:
        return PoolMismatchError
    secs = []
    for _ in range(S):
        if n - pos < 3:
            return TruncatedError
        r = _ref_varint(data, pos + 3)
        if not isinstance(r, tuple):
            return r
        length, crc_at = r
        if n - crc_at < 4:
            return TruncatedError
        body_at = crc_at + 4
        if length > n - body_at:
            return TruncatedError
        crc = zlib.crc32(data[body_at:body_at + length], zlib.crc32(data[pos:crc_at]))
        if struct.unpack_from("<I", data, crc_at)[0] != crc:
            return ChecksumError
        secs.append((data[pos], data[pos + 1], data[pos + 2], data[body_at:body_at + length]))
        pos = body_at + length
    if pos != n:
        return TrailingDataError
    known = {1: "class", 2: "index", 3: "label", 0x81: "meta"}
    seen, last = {}, 0
    for t, m, f, body in secs:
        if not t & 0x80:
            if t not in known:
                return UnsupportedVersionError
            if t <= last:
                return FormatError
            last = t
        elif t in seen:
            return FormatError
        if t not in known:
            continue
        if f & 0xFE:
            return FormatError
        if t in (1, 0x81) and m:
            return FormatError
        if (t == 2 and m not in INDEX_TABLE) or (t == 3 and m not in LABEL_TABLE):
            return UnsupportedVersionError
        seen[t] = (m, f, body)
    if 2 not in seen or 3 not in seen:
        return FormatError
    for t, m, f, body in secs:
        if t not in seen:
            continue
        bound = {1: C * 4098, 0x81: 1 << 20}.get(t) or (
            INDEX_TABLE[m].raw_size_bound(N, k) if t == 2 else LABEL_TABLE[m].raw_size_bound(C, k))
        if f & 1:
            err, size = _ref_zstd(body, bound, budget)
            if err:
                return err
            budget -= size
        elif len(body) > bound:
            return FormatError
    return None


def _seeds():
    rng = np.random.default_rng(15)
    out = []
    for im in pladafmt.INDEX_MODES:
        for lm in pladafmt.LABEL_MODES:
            z = rng.random() < 0.5
            n = int(rng.integers(20, 3000))
            k = int(rng.integers(0, 40))
            idx = np.sort(rng.choice(n, k, replace=False))
            lab = rng.integers(0, 5, k)
            extra = {}
            if rng.random() < 0.5:
                extra = dict(classes=["a", "bb", "c", "dd", "é"], metadata={"r": [1, 2]},
                             pool_digest=bytes(range(32)))
            out.append(pladafmt.encode(idx, lab, pool_size=n, classes=extra.pop("classes", 5),
                                       index_mode=im + ("+zstd" if z else ""),
                                       label_mode=lm + ("+zstd" if not z else ""), **extra))
    return out


def _mutate(data, rng):
    p = P.parse(data)
    what = rng.integers(0, 9)
    if what == 0:                                  # a header field to a boundary value
        field = ["version_major", "version_minor", "header_flags", "required_features",
                 "pool_size", "item_count", "class_count", "section_count"][rng.integers(0, 8)]
        values = {"version_major": [0, 1, 3, 255], "version_minor": [1, 255],
                  "header_flags": [1, 2, 0x80, 0xFF], "required_features": [1, 2**62],
                  "pool_size": [0, 1, p.head.item_count, 2**48, 2**48 + 1, 2**63 - 1],
                  "item_count": [0, p.head.pool_size, p.head.pool_size + 1, 2**32 + 1],
                  "class_count": [0, 1, 2**20, 2**20 + 1],
                  "section_count": [0, 1, 2, 3, 64, 65]}[field]
        p.head = replace(p.head, **{field: int(rng.choice(values))})
        return p.bytes(fix_count=False)
    if what == 1:                                  # a non-minimal or overlong header varint
        field = ["pool_size", "item_count", "class_count", "section_count"][rng.integers(0, 4)]
        raw = [P.varint(getattr(p.head, field))[:-1] + bytes([P.varint(getattr(p.head, field))[-1] | 0x80, 0]),
               b"\x80" * 9 + b"\x01", b"\xff" * 9][rng.integers(0, 3)]
        p.head = replace(p.head, raw={field: raw})
        return p.bytes()
    if what == 2 and p.sections:                   # a section's type, mode or flags
        i = rng.integers(0, len(p.sections))
        f = ["section_type", "section_mode", "section_flags"][rng.integers(0, 3)]
        v = int(rng.choice({"section_type": [0, 1, 2, 3, 4, 0x7F, 0x80, 0x81, 0x90, 0xFF],
                            "section_mode": [0, 1, 2, 3, 4, 255],
                            "section_flags": [0, 1, 2, 3, 0x80]}[f]))
        p.sections[i] = replace(p.sections[i], **{f: v})
        return p.bytes()
    if what == 3 and p.sections:                   # drop, duplicate or swap sections
        secs = list(p.sections)
        i, j = rng.integers(0, len(secs), 2)
        op = rng.integers(0, 3)
        if op == 0:
            del secs[i]
        elif op == 1:
            secs.insert(j, secs[i])
        else:
            secs[i], secs[j] = secs[j], secs[i]
        p.sections = secs
        return p.bytes()
    if what == 4 and p.sections:                   # a body replaced by a (hostile) Zstd frame
        i = rng.integers(0, len(p.sections))
        raw = p.sections[i].body
        frames = [P.zstd_compress(raw), P.zstd_compress(raw, checksum=True),
                  P.zstd_compress(raw)[:-1], P.zstd_compress(raw) + b"\0", b"",
                  P.zstd_frame(len(raw), raw), P.zstd_frame(len(raw) + 1, raw),
                  P.zstd_frame(0, b"", dict_id=1), P.zstd_frame(0, b"", block="reserved"),
                  P.zstd_frame(None, raw), P.zstd_frame(10**12, raw),
                  P.zstd_frame(len(raw), raw, window_log=27), b"\x50\x2a\x4d\x18" + bytes(4)]
        p.sections[i] = replace(p.sections[i], section_flags=1,
                                body=frames[rng.integers(0, len(frames))])
        return p.bytes()
    if what == 5 and p.sections:                   # a body cut or extended
        i = rng.integers(0, len(p.sections))
        b = p.sections[i].body
        cut = int(rng.integers(0, len(b) + 1))
        p.sections[i] = replace(p.sections[i], body=b[:cut] if rng.random() < 0.5
                                else b + bytes(rng.integers(0, 256, 1 + cut % 5, dtype=np.uint8)))
        return p.bytes()
    if what == 6:                                  # the input cut, or bytes appended
        return data[:rng.integers(0, len(data))] if rng.random() < 0.7 else data + b"\x00"
    b = bytearray(data)                            # random bytes changed, CRCs re-fixed
    for _ in range(int(rng.integers(1, 4))):
        b[rng.integers(0, len(b))] = int(rng.integers(0, 256))
    return P.reseal(bytes(b))


def _fuzz(decode_outcome, cases=600):
    """(mismatches, outcome counts) of `cases` mutated payloads: where the reference
    rejects, `decode_outcome` must name the same class."""
    rng = np.random.default_rng(2026)
    seeds = _seeds()
    digest = bytes(range(32))
    counts, mismatches = {}, []
    for case in range(cases):
        data = _mutate(seeds[case % len(seeds)], rng)
        kw = {}
        if case % 7 == 0:
            kw["pool_digest"] = digest
        if case % 11 == 0:
            kw["max_decoded_bytes"] = 1 << 12
        want = reference(data, **kw)
        got = decode_outcome(data, **kw)
        counts[want] = counts.get(want, 0) + 1
        if want is not None and got is not want:
            mismatches.append((case, data.hex(), want, got))
    return mismatches, counts


def test_container_fuzz_against_the_reference_check_order():
    """Mutated valid payloads (CRCs re-fixed): pladafmt's error class equals the
    reference's wherever the reference rejects (steps 1-10); where the reference lets
    the payload reach the streams, pladafmt decodes it or raises some PladaError."""
    mismatches, counts = _fuzz(outcome)
    assert mismatches == [], mismatches[:3]
    # the fuzz reached every container outcome and the streams
    assert {None, FormatError, TruncatedError, ChecksumError, UnsupportedVersionError,
            LimitError, TrailingDataError, PoolMismatchError} <= set(counts), counts


@pytest.mark.parametrize("wrong, right", [(UnsupportedVersionError, FormatError),
                                          (TrailingDataError, None)])
def test_container_fuzz_can_fail(wrong, right):
    """Decoders that name one rejection wrongly (an unknown version or type as a plain
    FormatError) or accept trailing bytes are caught by the same fuzz."""
    sloppy = lambda data, **kw: (lambda got: right if got is wrong else got)(
        outcome(data, **kw))
    mismatches, _ = _fuzz(sloppy, 300)
    assert mismatches


def test_reference_itself_can_fail(sample):
    """The reference is not vacuous: it rejects what it must and passes valid payloads."""
    assert reference(sample) is None
    assert reference(sample + b"\0") is TrailingDataError
    assert reference(sample[:20]) is TruncatedError
    assert reference(with_section(sample, INDEX_STREAM, section_mode=99)) is UnsupportedVersionError


# ---- pool digest, inspect, CRC, the paper's format ---------------------------------------

def test_pool_digest_canonical_bytes():
    """Q16: the manifest's last u64 is Pool_Size (N); names byte for byte, no normalisation."""
    items = [("a.png", hashlib.sha256(b"A").digest()), ("dir/é.png", hashlib.sha256(b"B").digest())]
    manual = hashlib.sha256(
        b"PLADA-POOL-MANIFEST\x00\x01"
        + b"".join(struct.pack("<I", len(n.encode())) + n.encode() + d for n, d in items)
        + struct.pack("<Q", 2)).digest()
    assert pladafmt.pool_digest(items) == manual
    assert pladafmt.pool_digest(items[::-1]) != manual                  # order matters
    nfd = [("dir/e\u0301.png", items[1][1])]
    assert pladafmt.pool_digest(nfd) != pladafmt.pool_digest(items[1:])  # no NFC
    with pytest.raises(EncodeError) as ei:
        pladafmt.pool_digest([("a", b"short")])
    assert "content_sha256 expected 32 bytes, got 5" in str(ei.value)
    with pytest.raises(EncodeError):
        pladafmt.pool_digest([("\ud800", bytes(32))])


def test_inspect_reports_sizes_and_bound(sample):
    info = pladafmt.inspect(sample)
    assert info["format_version"] == "2.0" and info["payload_bytes"] == len(sample)
    assert info["item_count"] == 5 and info["pool_size"] == 20 and info["class_count"] == 3
    assert [s["name"] for s in info["sections"]] == ["class_table", "index_stream",
                                                     "label_stream", "metadata"]
    assert [s["type"] for s in info["sections"]] == ["0x01", "0x02", "0x03", "0x81"]
    assert sum(s["bytes"] for s in info["sections"]) + info["header_bytes"] == len(sample)
    h0 = -(2 * math.log2(2 / 5) + math.log2(1 / 5) + 2 * math.log2(2 / 5))
    assert info["bound_bits"] == pytest.approx(math.log2(math.comb(20, 5)) + h0)
    assert info["ratio_to_bound"] == pytest.approx(8 * len(sample) / info["bound_bits"])
    json.dumps(info)


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


@pytest.mark.parametrize("n, k", [(60_000, 60), (60_000, 600), (1_281_167, 12_811)])
def test_smaller_than_paper_format_on_uniform_selections(n, k):
    rng = np.random.default_rng(2026)
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = rng.integers(0, 101, k)
    ours = pladafmt.encode(idx, lab, pool_size=n, classes=101)
    assert len(ours) <= min(paper_formats(idx, lab, n).values())


def test_auto_is_deterministic_and_close_to_smallest():
    """The fast search (a cheap Zstd estimate first) gives the same bytes every time and,
    on a selection where Zstd wins, what an exhaustive Zstd-19 search picks."""
    from pladafmt._container import auto
    rng = np.random.default_rng(7)
    idx = np.sort(rng.choice(200_000, 50_000, replace=False))
    lab = np.where(rng.random(50_000) < 0.9, 0, rng.integers(0, 4, 50_000))
    a = pladafmt.encode(idx, lab, pool_size=200_000, classes=4, index_mode="smallest",
                        label_mode="smallest")
    assert pladafmt.encode(idx, lab, pool_size=200_000, classes=4, index_mode="smallest",
                           label_mode="smallest") == a
    level = auto.ZSTD_ESTIMATE_LEVEL
    auto.ZSTD_ESTIMATE_LEVEL = 99                       # no estimate: every candidate at 19
    try:
        exhaustive = pladafmt.encode(idx, lab, pool_size=200_000, classes=4,
                                     index_mode="smallest", label_mode="smallest")
    finally:
        auto.ZSTD_ESTIMATE_LEVEL = level
    assert len(a) <= 1.002 * len(exhaustive)


def test_auto_choice_rule():
    from pladafmt._container.auto import auto_choice
    # (bytes, mode id, zstd, decode class)
    assert auto_choice([(1000, 0, False, 0), (998, 3, False, 2)]) == 0      # < 0.5 % gain
    assert auto_choice([(1000, 0, False, 0), (998, 3, False, 2)], 0.0) == 1  # smallest
    assert auto_choice([(1000, 0, False, 0), (990, 3, False, 2)]) == 1
    assert auto_choice([(1000, 0, False, 0), (1000, 0, True, 0)]) == 0      # tie: raw
    # a Zstd-wrapped plain mode (cost 1) within the gain of a smaller context mode
    assert auto_choice([(1010, 2, False, 0), (1003, 0, True, 0), (1000, 3, False, 2)]) == 1


def test_crc32_is_zlibs():
    """pladafmt's CRC-32 (isal when installed) is exactly zlib's, seeded or not."""
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


def test_kernel_cache_is_dropped_when_any_module_changes(tmp_path):
    """A cached kernel must not outlive a change to a function it calls in another module,
    in a subpackage too."""
    from pladafmt._jitcache import refresh_kernel_cache
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 1\n")
    refresh_kernel_cache(tmp_path)
    caches = [tmp_path / "__pycache__", tmp_path / "sub" / "__pycache__"]
    caches[1].mkdir()
    for c in caches:
        (c / "m.k-1.py311.nbi").write_bytes(b"index")
        (c / "m.cpython-311.pyc").write_bytes(b"pyc")
    refresh_kernel_cache(tmp_path)                      # nothing changed: cache kept
    assert all((c / "m.k-1.py311.nbi").exists() for c in caches)
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")   # a module of a subpackage changed
    refresh_kernel_cache(tmp_path)
    assert not any((c / "m.k-1.py311.nbi").exists() for c in caches)
    assert all((c / "m.cpython-311.pyc").exists() for c in caches)   # only Numba's files


def test_paired_segment_decoding_matches_decoding_in_order(monkeypatch):
    """ctx-rans indices and labels with the same segments decode segment by segment on
    two threads (codec._decode_segmented): same arrays, and an index-stream error still
    wins over a label-stream error, as in order."""
    from pladafmt._container import codec
    used = []
    real = codec._decode_segmented
    monkeypatch.setattr(codec, "_decode_segmented", lambda *a: used.append(1) or real(*a))
    rng = np.random.default_rng(12)
    n, k = 2_000_000, 140_000                   # k >= 2^17: the encoder writes 2 segments
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = rng.integers(0, 30, k)
    data = pladafmt.encode(idx, lab, pool_size=n, classes=30, index_mode="ctx-rans",
                           label_mode="ctx-rans")
    paired = pladafmt.decode(data)
    real_result = []
    monkeypatch.setattr(codec, "_decode_segmented",
                        lambda *a: real_result.append(real(*a)) or real_result[-1])
    pladafmt.decode(data)
    assert real_result[0] is not None          # the paired path ran, not the fallback
    assert used and np.array_equal(paired.indices, idx) and np.array_equal(paired.labels, lab)
    p = P.parse(data)
    ib, lb = p.section(INDEX_STREAM).body, p.section(LABEL_STREAM).body
    both = with_section(with_section(data, INDEX_STREAM, body=ib[:len(ib) // 2]),
                        LABEL_STREAM, body=lb[:len(lb) // 3])
    index_only = with_section(data, INDEX_STREAM, body=ib[:len(ib) // 2])
    labels_only = with_section(data, LABEL_STREAM, body=lb[:len(lb) // 3])
    msg = lambda d: str(pytest.raises(PladaError, pladafmt.decode, d).value)
    assert outcome(labels_only) is not None and msg(labels_only) != msg(index_only)
    assert outcome(both) is outcome(index_only) and msg(both) == msg(index_only)
    monkeypatch.setattr(codec, "PARALLEL_MIN_ITEMS", 1 << 62)       # in order, one thread
    assert msg(both) == msg(index_only)
    in_order = pladafmt.decode(data)
    assert np.array_equal(in_order.labels, paired.labels)


def test_label_segments_on_two_threads_after_plain_indices(monkeypatch):
    """rice indices with ctx-rans labels (2 segments): once the indices are decoded the
    label segments decode on two threads (codec._decode_label_segments). Same labels as
    in order, and a damaged segment gives the error decoding in order gives, the first
    segment's when both are damaged."""
    from pladafmt._container import codec
    rng = np.random.default_rng(13)
    n, k = 3_000_000, 140_000
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = np.repeat(rng.integers(0, 50, k // 100 + 1), 100)[:k]
    data = pladafmt.encode(idx, lab, pool_size=n, classes=50, index_mode="rice",
                           label_mode="ctx-rans")
    ran = []
    real = codec._decode_label_segments
    monkeypatch.setattr(codec, "_decode_label_segments",
                        lambda *a: ran.append(real(*a)) or ran[-1])
    got = pladafmt.decode(data)
    assert ran and ran[0] is not None and np.array_equal(got.labels, lab)
    body = P.parse(data).section(LABEL_STREAM).body
    plan = LABEL_TABLE[2].segments.prepare(np.frombuffer(body, np.uint8), 50, k)
    assert plan.segs == 2

    def damaged(*segments):
        b = bytearray(body)
        for s in segments:
            b[plan.offsets[s] + 9] ^= 0x5A        # a byte of the segment's first lane state
        return with_section(data, LABEL_STREAM, body=bytes(b))
    msg = lambda d: str(pytest.raises(PladaError, pladafmt.decode, d).value)
    cases = [damaged(0), damaged(1), damaged(0, 1)]
    split = [msg(d) for d in cases]
    monkeypatch.setattr(codec, "PARALLEL_MIN_ITEMS", 1 << 62)       # in order, one thread
    assert split == [msg(d) for d in cases]
    assert split[0] != split[1] and split[2] == split[0]


def test_one_segment_streams_are_prepared_once(monkeypatch):
    """A ctx-rans pair (and rice | ctx-rans) large enough for the two-thread paths but with
    one segment (32,768 <= k < 2^17) reads each stream's tables once: the plan made to
    look for segments is the one decoded with, not made again by a fallback."""
    from pladafmt._coders import rans as ra
    from pladafmt._container import codec
    rng = np.random.default_rng(14)
    n, k = 1_000_000, 40_000
    assert k >= codec.PARALLEL_MIN_ITEMS
    idx = np.sort(rng.choice(n, k, replace=False))
    lab = np.repeat(rng.integers(0, 20, k // 40 + 1), 40)[:k]
    real = ra.read_context_tables
    calls = []
    monkeypatch.setattr(ra, "read_context_tables", lambda *a: calls.append(1) or real(*a))
    for index_mode, tables in (("ctx-rans", 2), ("rice", 1)):
        data = pladafmt.encode(idx, lab, pool_size=n, classes=20, index_mode=index_mode,
                               label_mode="ctx-rans")
        calls.clear()
        got = pladafmt.decode(data)
        assert np.array_equal(got.indices, idx) and np.array_equal(got.labels, lab)
        assert len(calls) == tables, (index_mode, len(calls))
