"""Shared machinery for the hostile-input tests and fuzzers (issue 6).

Imported by ``tests/fuzz/fuzz_decode.py`` (atheris), ``tests/fuzz/test_mutator.py``
(hypothesis) and ``tests/test_hostile.py``. Nothing here imports atheris or pytest.

Three things live here:

* seed payloads: small valid payloads for every index mode x label mode, with and
  without the ``+zstd`` wrapper, plus the conformance vectors when they exist;
* a container walker (the 2.0 layout of tests/payloads.py: a header of varints ending in
  Header_CRC32, then sections of u8 type, mode, flags, a varint length and a CRC-32 of
  the section header's bytes and the body), so that mutations can be structural (edit a
  length field, reorder sections, edit a Zstd frame) and can re-seal the CRCs to reach
  the stream decoders;
* the oracle: only ``PladaError`` may escape ``decode``, and a payload that decodes
  must decode to what was encoded (the content checksum makes any other answer a bug).
"""

from __future__ import annotations

import os
import pathlib
import struct
import sys
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

import pladafmt
from pladafmt import PladaError

REPO = pathlib.Path(__file__).resolve().parents[2]
# Extra seeds: the conformance vectors (regression inputs come from regression_payloads()).
VECTOR_DIRS = [REPO / "conformance" / "vectors"]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# Limits used by the fuzzers: low, like libpng's 8 MB malloc ceiling in its fuzzers, so
# that "declared sizes cannot make decode allocate more than max_decoded_bytes" is
# exercised on every input, not only on terabyte declarations.
FUZZ_LIMITS = dict(max_decoded_bytes=1 << 24, max_items=1 << 20, max_pool_size=1 << 40)


# --------------------------------------------------------------------------- seeds

@dataclass
class Seed:
    name: str
    data: bytes
    indices: np.ndarray
    labels: np.ndarray
    kwargs: dict = field(default_factory=dict)


def gap_context(count: int) -> np.ndarray:
    """A fixed index sequence for label modes whose contexts read the kept indices
    (Mode.needs_indices) when a stream is fuzzed on its own: gaps 1, 2^7, 2^14, 2^0, ...
    (every few gap buckets, up to 2^20)."""
    return np.cumsum(np.int64(1) << (np.arange(count, dtype=np.int64) * 7 % 21)) - 1


def base_modes(kind: str) -> list[str]:
    names = pladafmt.INDEX_MODES if kind == "index" else pladafmt.LABEL_MODES
    return [str(m) for m in names]


def mode_variants(kind: str) -> list[str]:
    out = []
    for m in base_modes(kind):
        out += [m, m + "+zstd"]
    return out


def _task(rng, pool_size, k, classes, clustered=False, skew=False):
    if clustered:
        start = int(rng.integers(0, max(1, pool_size - 4 * k)))
        idx = np.sort(rng.choice(np.arange(start, min(pool_size, start + 4 * k)), k,
                                 replace=False))
    else:
        idx = np.sort(rng.choice(pool_size, k, replace=False))
    if skew:
        p = np.array([0.85] + [0.15 / (classes - 1)] * (classes - 1)) if classes > 1 else None
        lab = rng.choice(classes, k, p=p)
    else:
        lab = rng.integers(0, classes, k)
    return idx.astype(np.int64), lab.astype(np.int64)


def encode_seed(idx, lab, *, pool_size, classes, index_mode, label_mode, **kw) -> bytes:
    return pladafmt.encode(idx, lab, pool_size=pool_size, classes=classes,
                           index_mode=index_mode, label_mode=label_mode, **kw)


def make_seeds(size: str = "tiny", *, seed: int = 6) -> list[Seed]:
    """Valid payloads covering every (index mode, label mode, zstd) combination.

    ``tiny``: pool 40, 6 kept, 3 classes -- small enough to flip every bit of every
    payload in a test. ``small``: pool 3000, ~150 kept, 7 classes, clustered and
    skewed variants -- enough symbols for the entropy coders to build real tables.
    Combinations the encoder refuses (EncodeError) are skipped, not failed: the
    round-trip tests own that.
    """
    rng = np.random.default_rng(seed)
    if size == "tiny":
        shapes = [dict(pool_size=40, k=6, classes=3)]
    elif size == "small":
        shapes = [dict(pool_size=3000, k=150, classes=7, clustered=True, skew=True),
                  dict(pool_size=3000, k=90, classes=2)]
    else:
        raise ValueError(size)
    seeds = []
    for shape in shapes:
        idx, lab = _task(rng, shape["pool_size"], shape["k"], shape["classes"],
                         shape.get("clustered", False), shape.get("skew", False))
        for im in mode_variants("index"):
            for lm in mode_variants("label"):
                kw = dict(pool_size=shape["pool_size"], classes=shape["classes"],
                          index_mode=im, label_mode=lm)
                try:
                    data = encode_seed(idx, lab, **kw)
                except pladafmt.EncodeError:
                    continue
                seeds.append(Seed(f"{size}-{im}-{lm}-k{len(idx)}", data, idx, lab, kw))
    return seeds


def edge_seeds() -> list[Seed]:
    """Legal but unusual payloads: empty task, single class, full pool, index 0 and N-1,
    metadata and pool digest present."""
    out = []
    cases = [
        ("empty", np.zeros(0, np.int64), np.zeros(0, np.int64), 10, 2, {}),
        ("one", np.array([9]), np.array([0]), 10, 1, {}),
        ("full", np.arange(16), np.arange(16) % 4, 16, 4, {}),
        ("ends", np.array([0, 999]), np.array([1, 0]), 1000, 2, {}),
        ("meta", np.array([1, 5, 7]), np.array([0, 1, 1]), 10, ["cat", "dog"],
         dict(metadata={"note": "x"}, pool_digest=bytes(range(32)))),
    ]
    for name, idx, lab, n, c, extra in cases:
        for im in ("auto",) + tuple(base_modes("index")):
            try:
                data = pladafmt.encode(np.asarray(idx, np.int64), np.asarray(lab, np.int64),
                                       pool_size=n, classes=c, index_mode=im, **extra)
            except (PladaError, TypeError):
                continue
            out.append(Seed(f"edge-{name}-{im}", data, np.asarray(idx, np.int64),
                            np.asarray(lab, np.int64), dict(pool_size=n, classes=c, **extra)))
    return out


def _with_section(data: bytes, stype: int, body: bytes, flags: int | None = None) -> bytes:
    lay = find_layout(data, check_crc=True)
    header, secs = split(data, lay)
    secs = [(t, m, f if (flags is None or t != stype) else flags, body if t == stype else b)
            for t, m, f, b in secs]
    return rebuild(header, secs)


# Regression inputs whose bug is still open: kept out of the fuzz seeds (they would stop
# every fuzz run at its first input) but tested by their xfail(strict) test in
# tests/test_hostile.py. Remove a name here when its fix lands.
# Value: how the bug shows -- "boundscheck" (only under NUMBA_BOUNDSCHECK=1) or "oracle"
# (decode returns an invalid task in any build).
OPEN_BUGS: dict[str, str] = {}      # all found so far are fixed (BUG-6/7 in 68bcc6d)


def regression_payloads(include_open: bool = True) -> dict[str, bytes]:
    """Inputs that once broke the decoder (issue 6 findings, issue 15's accepted Zstd
    frames), built with the current encoder so they track format changes. Each must be
    rejected (with the small budget the tests use); they also seed the atheris corpus."""
    out = {}
    # BUG-1: Class_Count 2^20, no class table, k = 0: 2^20 default names were built
    # outside the budget.
    out["bug1_class_count_2p20_no_table"] = pladafmt.encode(
        [], [], pool_size=10, classes=1 << 20, index_mode="varint", label_mode="packed")
    # BUG-4: Zstd window 2^41: reported as TruncatedError (an EOFError).
    base = pladafmt.encode(np.array([1, 5, 9]), np.array([0, 1, 1]), pool_size=2 ** 40,
                           classes=2, index_mode="varint+zstd", label_mode="packed")
    out["bug4_zstd_window_2tb"] = _with_section(
        base, INDEX, zstd_frame(3, b"\1\1\1", window_log=41))
    # the FORMAT-NOTES 5.1 bomb: 18-byte frame declaring 1 TB
    out["zstd_fcs_1tb"] = _with_section(base, INDEX, zstd_frame(10 ** 12, b"\0"))
    # BUG-6: rice fast path read past the padded word buffer on an empty rice body, k > 0
    rice = pladafmt.encode(np.array([1, 5, 9]), np.array([0, 1, 1]), pool_size=40, classes=2,
                           index_mode="rice", label_mode="packed")
    out["bug6_rice_empty_body"] = _with_section(rice, INDEX, b"")
    # BUG-5: metadata number 1e999 overflowed to inf and was accepted
    meta = pladafmt.encode([1], [0], pool_size=4, classes=2, metadata={"a": 1})
    out["bug5_metadata_float_overflow"] = _with_section(meta, METADATA, b'{"a":1e999}', flags=0)
    # issue 15: damaged Zstd frames declaring empty content on a k = 0 stream were
    # accepted without being decompressed (a dictionary id, a corrupt block)
    empty = pladafmt.encode([], [], pool_size=10, classes=2, index_mode="rice")
    out["i15_empty_frame_dictionary_id"] = _with_section(
        empty, INDEX, zstd_frame(0, b"", dict_id=5), flags=1)
    out["i15_empty_frame_corrupt_block"] = _with_section(
        empty, INDEX, zstd_frame(0, b"", block="reserved"), flags=1)
    if not include_open:
        out = {k: v for k, v in out.items() if k not in OPEN_BUGS}
    return out


def conformance_files() -> list[pathlib.Path]:
    files = []
    for d in VECTOR_DIRS:
        if d.is_dir():
            files += sorted(p for p in d.rglob("*") if p.is_file()
                            and p.suffix not in (".json", ".md", ".py", ".txt"))
    return files


def write_corpus(dest: pathlib.Path) -> int:
    """Write every seed payload (and conformance vector) as one file each; returns the count."""
    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for s in make_seeds("tiny") + make_seeds("small") + edge_seeds():
        (dest / (s.name.replace("+", "_") + ".plada")).write_bytes(s.data)
        n += 1
    for p in conformance_files():
        (dest / ("cv-" + p.name)).write_bytes(p.read_bytes())
        n += 1
    for name, data in regression_payloads(include_open=False).items():
        (dest / ("reg-" + name + ".plada")).write_bytes(data)
        n += 1
    return n


# --------------------------------------------------------------------------- container

# The 2.0 layout lives in tests/payloads.py (written from the spec, not from pladafmt).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import payloads  # noqa: E402

INDEX, LABEL, METADATA = payloads.INDEX_STREAM, payloads.LABEL_STREAM, payloads.METADATA


@dataclass
class Section:
    offset: int          # offset of the section header
    type: int
    mode: int
    flags: int
    length: int
    crc: int
    body_offset: int

    @property
    def end(self) -> int:
        return self.body_offset + self.length

    @property
    def zstd(self) -> bool:
        return bool(self.flags & 1)


@dataclass
class Layout:
    """Where things are in one payload (found by walking its section lengths)."""
    header_len: int                 # the header's bytes, Header_CRC32 included
    header_crc_at: int              # offset of Header_CRC32 (covers data[:at])
    sections: list[Section]


def _walk(data: bytes, start: int, check_crc: bool) -> list[Section] | None:
    secs, p = [], start
    while p < len(data):
        r = payloads.read_varint(data, p + 3) if len(secs) <= 4096 else None
        if r is None:
            return None
        length, crc_at = r
        b = crc_at + 4
        if b + length > len(data):
            return None
        crc = struct.unpack_from("<I", data, crc_at)[0]
        if check_crc and zlib.crc32(data[b:b + length], zlib.crc32(data[p:crc_at])) != crc:
            return None
        secs.append(Section(p, data[p], data[p + 1], data[p + 2], length, crc, b))
        p = b + length
    return secs


def find_layout(data: bytes, check_crc: bool = False) -> Layout | None:
    """Header + the chain of sections that runs exactly to the end of ``data``."""
    end = payloads.header_end(data)
    if end is None:
        return None
    secs = _walk(data, end, check_crc)
    if secs is None:
        return None
    return Layout(end, end - 4, secs)


def reseal(data: bytes | bytearray, layout: Layout | None = None) -> bytes:
    """Recompute Header_CRC32 and every Section_CRC32 the length fields lead to.

    Walks section headers by their own length fields, so a payload whose lengths were
    edited is resealed as what it now says it is (stopping where a length runs past the
    end). This is what anyone can do -- CRC-32 is not a MAC -- so the decoder's behaviour
    behind the CRCs must be safe too; it is also how a fuzzer gets past them.
    """
    return payloads.reseal(bytes(data))


def rebuild(header: bytes, sections: list[tuple[int, int, int, bytes]],
            fix_count: bool = True) -> bytes:
    """Assemble header + sections (type, mode, flags, body) with fresh section CRCs.

    ``fix_count`` rewrites Section_Count and Header_CRC32 to match (a deliberate edit,
    when the header can be read); otherwise the header is kept byte for byte.
    """
    out = bytes(header)
    if fix_count and out[:8] == payloads.MAGIC and payloads.header_end(out) == len(out):
        head, _ = payloads.parse_head(out)
        out = replace(head, section_count=len(sections)).bytes()
    return out + b"".join(payloads.Sec(t, m, f, body).bytes() for t, m, f, body in sections)


def split(data: bytes, layout: Layout):
    header = data[:layout.header_len]
    secs = [(s.type, s.mode, s.flags, data[s.body_offset:s.end]) for s in layout.sections]
    return header, secs


# --------------------------------------------------------------------------- zstd frames

zstd_frame = payloads.zstd_frame         # one hand-built frame declaring any size
zstd_compress = payloads.zstd_compress   # a real frame (content size written)


def zstd_decompress(frame: bytes, limit: int = 1 << 24) -> bytes | None:
    """Bounded decompress for the harness itself (never trusts the declared size)."""
    import zstandard
    try:
        with zstandard.ZstdDecompressor(max_window_size=1 << 23).stream_reader(frame) as r:
            out = r.read(limit + 1)
    except zstandard.ZstdError:
        return None
    return out if len(out) <= limit else None


# --------------------------------------------------------------------------- oracle

class OracleFailure(AssertionError):
    pass


def payload_eq(a, b) -> bool:
    return (np.array_equal(a.indices, b.indices) and np.array_equal(a.labels, b.labels)
            and a.pool_size == b.pool_size and a.class_count == b.class_count
            and a.classes == b.classes and a.pool_digest == b.pool_digest
            and a.metadata == b.metadata)


def check_invariants(p) -> None:
    """Whatever decode returns must be a well-formed task, whatever the input was."""
    idx, lab = np.asarray(p.indices), np.asarray(p.labels)
    if idx.dtype != np.int64 or lab.dtype != np.int64:
        raise OracleFailure(f"dtypes {idx.dtype}/{lab.dtype}")
    if idx.shape != lab.shape or idx.ndim != 1:
        raise OracleFailure(f"shapes {idx.shape}/{lab.shape}")
    if idx.size:
        if idx[0] < 0 or idx[-1] >= p.pool_size or np.any(np.diff(idx) <= 0):
            raise OracleFailure("indices not strictly increasing within [0, pool_size)")
        if lab.min() < 0 or lab.max() >= p.class_count:
            raise OracleFailure("label outside [0, class_count)")


def decode_checked(data: bytes, *, original=None, strict: bool = True, **limits):
    """Decode hostile ``data``; return the Payload or the PladaError raised.

    Anything other than a PladaError propagates (a bug). If decode succeeds and
    ``original`` (a Payload or a Seed) is given: ``strict`` demands the whole task be
    equal (used for mutations that did not re-seal CRCs: an undetected accidental
    corruption); otherwise only indices and labels must match (re-sealed mutations can
    legitimately change CRC-only-protected fields; the content checksum still pins the
    decoded arrays).
    """
    try:
        p = pladafmt.decode(data, **limits)
    except PladaError as e:
        return e
    check_invariants(p)
    if original is not None:
        same_arrays = (np.array_equal(p.indices, original.indices)
                       and np.array_equal(p.labels, original.labels))
        if not same_arrays:
            raise OracleFailure("mutated payload decoded to different indices/labels")
        if strict and hasattr(original, "pool_size") and not payload_eq(p, original):
            raise OracleFailure("mutated payload decoded to a different task header")
    return p


def bundled_limits() -> dict:
    env = os.environ.get("PLADA_FUZZ_LIMITS")
    return dict(FUZZ_LIMITS) if env != "default" else {}
