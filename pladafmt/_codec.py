"""encode / decode / inspect: the container of SPEC.md around the stream modes."""
import functools
import json
import math
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field

import numpy as np

from . import _constants as K
from ._crc import crc32
from ._jit import python_if_small
from ._errors import (ChecksumError, EncodeError, FormatError, LimitError, PladaError,
                      PoolMismatchError, TrailingDataError, TruncatedError,
                      UnsupportedVersionError)
from ._modes import INDEX_MODE_TABLE, LABEL_MODE_TABLE, mode_by_name
from ._leb128 import read_varint_twin, write_varint_twin
from ._zstd import zstd_unwrap, zstd_wrap

HEADER = struct.Struct("<8sBBBBIIQQII32s8sI")          # 88 bytes, SPEC.md "Header"
SECTION = struct.Struct("<HBBII")                       # 12 bytes, SPEC.md "Sections"
assert HEADER.size == K.HEADER_SIZE and SECTION.size == K.SECTION_HEADER_SIZE

AUTO_BITMAP_MAX_BYTES = 64 << 20       # "auto" skips bitmaps larger than this (never smallest)
NAME_OBJECT_BYTES = 64                 # budget charged per class name object
# "auto" takes a candidate of a costlier decode (auto_choice: the mode's decode class, plus
# one for a Zstd wrapper) only when its stream is at least this much smaller than the best
# candidate of each cheaper one.  At 1 % of a uniform IN-21K selection: ctx-rans indices
# are 0.06 % smaller than rice and decode 2.5x slower; with C = 1000, huffman+zstd labels
# are 0.15 % smaller than rans and the payload decodes 1.3x slower (0.88 against 0.67 ms).
# On clustered selections the context modes save 20-25 %.
AUTO_MIN_GAIN = 0.005
PARALLEL_MIN_ITEMS = 1 << 15           # below this a second thread costs more than it saves


@dataclass(frozen=True)
class Payload:
    """A decoded task payload."""
    indices: np.ndarray
    labels: np.ndarray
    pool_size: int
    class_count: int
    classes: tuple
    pool_digest: bytes | None
    metadata: dict = field(default_factory=dict)
    index_mode: str = ""
    label_mode: str = ""
    version: tuple = (K.FORMAT_MAJOR, K.FORMAT_MINOR)


CHECKSUM_CHUNK = 1 << 20     # items per slice: hashing never copies the whole output


def _crc_of(values, dtype):
    dtype = np.dtype(dtype)
    if values.dtype.kind in "iu" and values.dtype.itemsize == dtype.itemsize \
            and values.dtype.byteorder in ("<", "=") and values.flags.c_contiguous \
            and np.little_endian:
        # decoded indices are non-negative int64: their bytes are already the u64 LE form
        return struct.pack("<I", crc32(values.view(np.uint8)))
    crc = 0
    for s in range(0, len(values), CHECKSUM_CHUNK):     # never copies the whole output
        crc = crc32(np.ascontiguousarray(values[s:s + CHECKSUM_CHUNK], dtype=dtype), crc)
    return struct.pack("<I", crc)


def content_checksum(indices, labels):
    """CRC-32 of the indices as u64 LE, then CRC-32 of the labels as u32 LE (8 bytes).

    CRC-32 rather than SHA-256: it is in every standard library and runs at 3 GB/s (zlib)
    to 24 GB/s (isal) here against 0.2 GB/s for SHA-256, which would dominate decode time.
    """
    return _crc_of(indices, "<u8") + _crc_of(labels, "<u4")


def _mode_string(mode, flags):
    return mode.name + ("+zstd" if flags & K.SECTION_FLAG_ZSTD else "")


# ==== encode ======================================================================

def _as_int_array(values, name):
    arr = np.asarray(values)
    if arr.ndim != 1:
        if arr.size == 0:
            arr = arr.reshape(0)
        else:
            raise EncodeError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) \
                and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise EncodeError(f"{name}: expected integers, got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and arr.max() > np.iinfo(np.int64).max:
        raise EncodeError(f"{name}: value {int(arr.max())} exceeds 2^63-1")
    return arr.astype(np.int64, copy=False)


def _candidates(table, spec, kind, applicable):
    if spec in ("auto", "smallest"):
        return [(m, z) for m in table.values() if applicable(m) for z in (False, True)]
    if not isinstance(spec, str):
        raise EncodeError(f"{kind}_mode: expected a mode name, got {spec!r}")
    base, _, suffix = spec.partition("+")
    m = mode_by_name(table, base)
    if m is None or suffix not in ("", "zstd"):
        names = ", ".join(sorted(x.name for x in table.values()))
        raise EncodeError(f"{kind}_mode: expected 'auto', 'smallest' or one of {names} "
                          f"(optionally +zstd), got {spec!r}")
    return [(m, suffix == "zstd")]


def _smallest_stream(cands, values, size, zstd_level, indices=None, strict=False):
    """Encode with every candidate and keep the smallest body (ties: lower mode id, raw).
    Unless strict, a candidate of a costlier decode class must also be AUTO_MIN_GAIN
    smaller than the best of each cheaper class (auto_choice).

    `indices` goes to the label modes whose contexts read them (Mode.needs_indices)."""
    raws, bodies = {}, []
    for mode, use_zstd in cands:
        if mode.id not in raws:
            ctx = (indices,) if mode.needs_indices else ()
            raws[mode.id] = mode.encode(values, size, *ctx)
        body = zstd_wrap(raws[mode.id], zstd_level) if use_zstd else raws[mode.id]
        bodies.append((mode, use_zstd, body))
    sizes = [(len(b), m.id, z, m.decode_class) for m, z, b in bodies]
    pick = auto_choice(sizes, 0.0 if strict else AUTO_MIN_GAIN)
    mode, use_zstd, body = bodies[pick]
    return mode, (K.SECTION_FLAG_ZSTD if use_zstd else 0), body


def auto_choice(sizes, min_gain=AUTO_MIN_GAIN):
    """The rule of "auto", on (bytes, mode id, zstd, decode class) per candidate.

    A candidate's decode cost is its mode's decode class (PLAIN 0, CONTEXT 2) plus one when
    it is Zstd-wrapped.  Start from the smallest candidate (ties: lower mode id, raw before
    Zstd).  While the choice is not (1 - min_gain) x smaller than the smallest candidate of
    some cheaper cost, move to that candidate (the cheapest such cost first).  Deterministic,
    and it ends: the cost only goes down.  Benchmarks reuse it."""
    cost = [s[3] + s[2] for s in sizes]
    order = sorted(range(len(sizes)), key=lambda j: sizes[j][:3])
    pick = order[0]
    while True:
        for c in sorted({cost[j] for j in order if cost[j] < cost[pick]}):
            best = next(j for j in order if cost[j] == c)
            if sizes[pick][0] > (1 - min_gain) * sizes[best][0]:
                pick = best
                break
        else:
            return pick


def _maybe_zstd(raw, zstd_level):
    z = zstd_wrap(raw, zstd_level)
    return (K.SECTION_FLAG_ZSTD, z) if len(z) < len(raw) else (0, raw)


def _section(stype, mode_id, flags, body):
    head = SECTION.pack(stype, mode_id, flags, len(body), 0)[:8]
    return head + struct.pack("<I", crc32(body, crc32(head))) + body


def encode(indices, labels, *, pool_size, classes, pool_digest=None, metadata=None,
           index_mode="auto", label_mode="auto", zstd_level=19):
    """Encode a task payload.

    Parameters
    ----------
    indices : array-like of int
        Kept pool indices in [0, pool_size), unique; any order (sorted with `labels`).
    labels : array-like of int
        One class id in [0, C) per index.
    pool_size : int
        N, the number of items in the reference pool.
    classes : int or sequence of str
        C, or the C class names (written as a class table).
    pool_digest : bytes, optional
        32-byte SHA-256 of the canonical pool manifest (see `pool_digest()`).
    metadata : dict, optional
        JSON-safe metadata, stored as canonical JSON in an ancillary section.
    index_mode, label_mode : str
        "auto" (smallest, deterministic) or a mode name, optionally with "+zstd".
    zstd_level : int
        1..19.

    Examples
    --------
    >>> import pladafmt
    >>> data = pladafmt.encode([3, 1], [0, 1], pool_size=10, classes=["cat", "dog"])
    >>> p = pladafmt.decode(data)
    >>> p.indices.tolist(), p.labels.tolist(), p.classes
    ([1, 3], [1, 0], ('cat', 'dog'))
    """
    if isinstance(pool_size, bool) or not isinstance(pool_size, (int, np.integer)):
        raise EncodeError(f"pool_size: expected an int, got {type(pool_size).__name__}")
    pool_size = int(pool_size)
    if not 1 <= pool_size <= K.MAX_POOL_SIZE:
        raise EncodeError(f"pool_size: expected 1..{K.MAX_POOL_SIZE}, got {pool_size}")
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
        class_count, names = int(classes), None
    elif isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__"):
        raise EncodeError(f"classes: expected an int or a sequence of str, got {classes!r:.60}")
    else:
        names = list(classes)
        class_count = len(names)
        for i, n in enumerate(names):
            if not isinstance(n, str):
                raise EncodeError(f"classes[{i}]: expected str, got {type(n).__name__}")
            if len(n.encode("utf-8", "surrogatepass")) > K.MAX_CLASS_NAME_BYTES:
                raise EncodeError(f"classes[{i}]: expected <= {K.MAX_CLASS_NAME_BYTES} "
                                  f"UTF-8 bytes, got {len(n.encode('utf-8', 'surrogatepass'))}")
    if not 1 <= class_count <= K.MAX_CLASS_COUNT:
        raise EncodeError(f"classes: expected 1..{K.MAX_CLASS_COUNT} classes, got {class_count}")
    if not isinstance(zstd_level, int) or not 1 <= zstd_level <= 19:
        raise EncodeError(f"zstd_level: expected 1..19, got {zstd_level!r}")

    idx = _as_int_array(indices, "indices")
    lab = _as_int_array(labels, "labels")
    if len(idx) != len(lab):
        raise EncodeError(f"labels: expected one per index ({len(idx)}), got {len(lab)}")
    k = len(idx)
    if k:
        if idx.min() < 0 or idx.max() >= pool_size:
            bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
            raise EncodeError(f"indices: expected 0 <= index < pool_size {pool_size}, got {bad}")
        if lab.min() < 0 or lab.max() >= class_count:
            bad = int(lab.min()) if lab.min() < 0 else int(lab.max())
            raise EncodeError(f"labels: expected 0 <= label < C {class_count}, got {bad}")
        if np.any(np.diff(idx) <= 0):
            order = np.argsort(idx, kind="stable")
            idx, lab = idx[order], lab[order]
            dup = np.flatnonzero(np.diff(idx) == 0)
            if len(dup):
                raise EncodeError(f"indices: expected unique values, got {int(idx[dup[0]])} twice")
    idx = np.ascontiguousarray(idx)
    lab = np.ascontiguousarray(lab)

    if pool_digest is not None:
        pool_digest = bytes(pool_digest)
        if len(pool_digest) != 32:
            raise EncodeError(f"pool_digest: expected 32 bytes, got {len(pool_digest)}")

    sections = []
    if names is not None:
        raw = b"".join(write_varint_twin(len(b)) + b
                       for b in (n.encode("utf-8") for n in names))
        flags, body = _maybe_zstd(raw, zstd_level)
        sections.append(_section(K.SECTION_CLASS_TABLE, 0, flags, body))

    bitmap_ok = lambda m: m.name != "bitmap" or (pool_size + 7) // 8 <= AUTO_BITMAP_MAX_BYTES
    # small (items, and work as decode's budget counts it), before Numba is loaded: the
    # kernels run as Python, the same bytes without a compile (_jit.python_if_small)
    with python_if_small(k, 16 * k + NAME_OBJECT_BYTES * class_count):
        imode, flags, body = _smallest_stream(
            _candidates(INDEX_MODE_TABLE, index_mode, "index", bitmap_ok), idx, pool_size,
            zstd_level, strict=index_mode == "smallest")
        sections.append(_section(K.SECTION_INDEX_STREAM, imode.id, flags, body))
        lmode, flags, body = _smallest_stream(
            _candidates(LABEL_MODE_TABLE, label_mode, "label", lambda m: True), lab, class_count,
            zstd_level, idx, strict=label_mode == "smallest")
    sections.append(_section(K.SECTION_LABEL_STREAM, lmode.id, flags, body))

    if metadata is not None:
        if not isinstance(metadata, dict):
            raise EncodeError(f"metadata: expected a dict, got {type(metadata).__name__}")
        try:
            raw = json.dumps(metadata, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"metadata: expected JSON-safe values: {exc}") from exc
        if len(raw) > K.MAX_METADATA_BYTES:
            raise EncodeError(f"metadata: expected <= {K.MAX_METADATA_BYTES} bytes of JSON, "
                              f"got {len(raw)}")
        flags, body = _maybe_zstd(raw, zstd_level)
        sections.append(_section(K.SECTION_METADATA, 0, flags, body))

    # the oldest minor that defines every mode used (never below 1.2, what this codec
    # wrote before 1.3), so that a payload without 1.3 modes still says 1.2
    minor = max(K.WRITE_MINOR_MIN, imode.min_minor, lmode.min_minor)
    head = HEADER.pack(K.MAGIC, K.FORMAT_MAJOR, minor,
                       K.FLAG_POOL_DIGEST if pool_digest is not None else 0, 0, 0, 0,
                       pool_size, k, class_count, len(sections), pool_digest or bytes(32),
                       content_checksum(idx, lab), 0)[:-4]
    return head + struct.pack("<I", crc32(head)) + b"".join(sections)


# ==== decode ======================================================================

@dataclass
class _Header:
    major: int
    minor: int
    flags: int
    required: int
    optional: int
    pool_size: int
    count: int
    class_count: int
    section_count: int
    digest: bytes | None
    checksum: bytes


@dataclass
class _Section:
    type: int
    mode: int
    flags: int
    offset: int          # of the body within the payload
    length: int


def _read_header(buf, max_pool_size, max_items):
    n = len(buf)
    if n < len(K.MAGIC):
        raise TruncatedError(f"Magic: expected {len(K.MAGIC)} bytes, got {n}")
    if bytes(buf[:8]) != K.MAGIC:
        raise FormatError(f"Magic: expected {K.MAGIC.hex()}, got {bytes(buf[:8]).hex()}")
    if n < 10:
        raise TruncatedError(f"header: expected {K.HEADER_SIZE} bytes, got {n}")
    if buf[8] != K.FORMAT_MAJOR:
        raise UnsupportedVersionError(f"Version_Major: expected {K.FORMAT_MAJOR}, got {buf[8]}")
    if n < K.HEADER_SIZE:
        raise TruncatedError(f"header: expected {K.HEADER_SIZE} bytes, got {n}")
    (_, major, minor, flags, reserved, required, optional, pool_size, count, class_count,
     section_count, digest, checksum, crc) = HEADER.unpack_from(buf, 0)
    actual = crc32(buf[:K.HEADER_SIZE - 4])
    if crc != actual:
        raise ChecksumError(f"Header_CRC32: expected {crc:08x} (stored), got {actual:08x}")
    if flags & ~K.HEADER_FLAGS_KNOWN:
        raise FormatError(f"Header_Flags: reserved bits expected 0, got 0x{flags:02x}")
    if reserved:
        raise FormatError(f"Reserved: expected 0, got {reserved}")
    if required & ~K.REQUIRED_FEATURES_KNOWN:
        raise UnsupportedVersionError(
            f"Required_Features: unknown bits 0x{required & ~K.REQUIRED_FEATURES_KNOWN:08x} "
            f"(this decoder knows 0x{K.REQUIRED_FEATURES_KNOWN:08x})")
    if pool_size == 0:
        raise FormatError("Pool_Size: expected >= 1, got 0")
    if pool_size > K.MAX_POOL_SIZE or pool_size > max_pool_size:
        raise LimitError(f"Pool_Size: expected <= {min(K.MAX_POOL_SIZE, max_pool_size)}, "
                         f"got {pool_size}")
    if count > pool_size:
        raise FormatError(f"Item_Count: expected <= Pool_Size {pool_size}, got {count}")
    if count > max_items:
        raise LimitError(f"Item_Count: expected <= max_items {max_items}, got {count}")
    if not 1 <= class_count <= K.MAX_CLASS_COUNT:
        raise (FormatError if class_count == 0 else LimitError)(
            f"Class_Count: expected 1..{K.MAX_CLASS_COUNT}, got {class_count}")
    if section_count > K.MAX_SECTIONS:
        raise LimitError(f"Section_Count: expected <= {K.MAX_SECTIONS}, got {section_count}")
    if section_count < 2:
        raise FormatError(f"Section_Count: expected >= 2 (index and label streams), "
                          f"got {section_count}")
    if not flags & K.FLAG_POOL_DIGEST:
        if any(digest):
            raise FormatError("Pool_Digest: expected 32 zero bytes when Header_Flags bit 0 "
                              "is clear, got non-zero bytes")
        digest = None
    return _Header(major, minor, flags, required, optional, pool_size, count, class_count,
                   section_count, digest, checksum)


def _read_sections(buf, head):
    pos = K.HEADER_SIZE
    n = len(buf)
    out = []
    for i in range(head.section_count):
        if n - pos < K.SECTION_HEADER_SIZE:
            raise TruncatedError(f"section {i} header: expected {K.SECTION_HEADER_SIZE} bytes "
                                 f"at offset {pos}, got {n - pos}")
        stype, mode, flags, length, crc = SECTION.unpack_from(buf, pos)
        if length > n - pos - K.SECTION_HEADER_SIZE:
            raise TruncatedError(f"section {i} Section_Length: expected <= "
                                 f"{n - pos - K.SECTION_HEADER_SIZE} (bytes left), got {length}")
        body_at = pos + K.SECTION_HEADER_SIZE
        actual = crc32(buf[body_at:body_at + length], crc32(buf[pos:pos + 8]))
        if actual != crc:
            raise ChecksumError(f"section {i} Section_CRC32: expected {crc:08x} (stored), "
                                f"got {actual:08x}")
        out.append(_Section(stype, mode, flags, body_at, length))
        pos = body_at + length
    if pos != n:
        raise TrailingDataError(f"payload: expected to end after {head.section_count} "
                                f"sections at byte {pos}, got {n - pos} trailing bytes")
    return out


def _check_layout(sections):
    seen = {}
    last_critical = 0
    for i, s in enumerate(sections):
        if s.type & K.ANCILLARY_BIT:
            if s.type in seen and s.type in K.SECTION_NAMES:
                raise FormatError(f"section {i}: {K.SECTION_NAMES[s.type]} expected at most "
                                  "once, got twice")
        else:
            if s.type not in K.SECTION_NAMES:
                raise UnsupportedVersionError(f"section {i} Section_Type: unknown critical "
                                              f"type 0x{s.type:04x}")
            if s.type <= last_critical:
                raise FormatError(f"section {i} Section_Type: critical sections expected in "
                                  f"increasing type order and once each, got 0x{s.type:04x} "
                                  f"after 0x{last_critical:04x}")
            last_critical = s.type
        if s.type in K.SECTION_NAMES:
            if s.flags & ~K.SECTION_FLAGS_KNOWN:
                raise FormatError(f"section {i} Section_Flags: reserved bits expected 0, "
                                  f"got 0x{s.flags:02x}")
            if s.type in (K.SECTION_CLASS_TABLE, K.SECTION_METADATA) and s.mode:
                raise FormatError(f"section {i} Section_Mode: expected 0 for "
                                  f"{K.SECTION_NAMES[s.type]}, got {s.mode}")
        seen[s.type] = s
    for t in (K.SECTION_INDEX_STREAM, K.SECTION_LABEL_STREAM):
        if t not in seen:
            raise FormatError(f"sections: {K.SECTION_NAMES[t]} expected exactly once, got none")
    return seen


class _Budget:
    """max_decoded_bytes, spent as the decoder allocates."""

    def __init__(self, limit):
        self.left = limit

    def spend(self, nbytes, what):
        if nbytes > self.left:
            raise LimitError(f"{what}: needs {nbytes} bytes, expected <= the remaining "
                             f"max_decoded_bytes budget {self.left}")
        self.left -= nbytes


def _body(buf, sec, field, bound, budget):
    body = buf[sec.offset:sec.offset + sec.length]
    if sec.flags & K.SECTION_FLAG_ZSTD:
        raw = zstd_unwrap(body, field, bound, budget.left)
        budget.spend(len(raw), field)
        return np.frombuffer(raw, dtype=np.uint8)
    if sec.length > bound:
        raise FormatError(f"{field}: length expected <= {bound} for this header, "
                          f"got {sec.length}")
    return np.frombuffer(body, dtype=np.uint8)


def _prepare_stream(buf, sec, table, kind, size, count, budget):
    """Validate a stream section and return (mode, raw body); spends the budget."""
    mode = table.get(sec.mode)
    if mode is None:
        raise UnsupportedVersionError(f"{kind} Section_Mode: unknown mode {sec.mode} "
                                      f"(this decoder knows {sorted(table)})")
    raw = _body(buf, sec, f"{kind} {mode.name}", mode.bound(size, count), budget)
    if kind == "index_stream" and mode.name == "bitmap":
        budget.spend(size, "index_stream bitmap unpacking")
    if kind == "label_stream" and mode.name == "rans":
        # its slot tables: 2^P entries of int32 + int64, with 2^P <= 4k + 4096 (_rans.decode)
        budget.spend(12 * (4 * count + 4096), "label_stream rans decode tables")
    if mode.segments is not None:
        # its slot tables, at most 2^p_limit slots per table at 12 B (+ 8 B of the index
        # mode's chain words), aligned copies of the word areas, and for the index stream
        # also the stream as 64-bit words for its raw bits (+ 2 slack words)
        per_slot, copies, extra = (20, 2, 24) if kind == "index_stream" else (12, 1, 0)
        budget.spend(per_slot * mode.segments.slot_bound(size) + copies * raw.shape[0] + extra,
                     f"{kind} {mode.name} decode tables")
    if kind == "label_stream" and mode.decode_u32 is not None:
        budget.spend(4 * count, f"label_stream {mode.name} labels as uint32 (checksum form)")
    return mode, raw


_POOL = []
_POOL_LOCK = threading.Lock()


def _second_thread():
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="pladafmt"))
        return _POOL[0]


def _run_job(mode, raw, size, count, dtype, indices=None):
    ctx = (indices,) if mode.needs_indices else ()
    if mode.decode_u32 is not None and dtype == "<u4":
        values, as_u32 = mode.decode_u32(raw, size, count, *ctx)
        return values, _crc_of(as_u32, dtype)
    values = mode.decode(raw, size, count, *ctx)
    return values, _crc_of(values, dtype)


def _decode_streams(index_job, label_job, count):
    """Decode both streams and their content CRCs: ((indices, crc), (labels, crc)).

    The kernels release the GIL (nogil), and so does crc32 (isal's and zlib's), so the
    index and label streams, which are independent, decode on two threads when the payload
    is large enough to gain. Errors are reported as if decoded in order: an index-stream error
    wins over a label-stream error. A label mode whose contexts read the indices
    (Mode.needs_indices) decodes after the index stream, on the calling thread, unless
    both streams are segmented alike (format 1.3 ctx-rans): then each thread decodes index
    segment s and label segment s in turn (_decode_segmented).
    """
    parallel = count >= PARALLEL_MIN_ITEMS and (os.cpu_count() or 1) >= 2
    if label_job[0].needs_indices:
        if parallel and index_job[0].segments and label_job[0].segments:
            paired = _decode_segmented(index_job, label_job, count)
            if paired is not None:
                return paired
        indices = _run_job(*index_job, "<u8")
        return indices, _run_job(*label_job, "<u4", indices[0])
    if not parallel:
        return _run_job(*index_job, "<u8"), _run_job(*label_job, "<u4")
    future = _second_thread().submit(_run_job, *label_job, "<u4")
    try:
        indices = _run_job(*index_job, "<u8")
    finally:
        if not future.done():
            futures_wait([future])
    return indices, future.result()


def _decode_segmented(index_job, label_job, count):
    """Index segment s, then label segment s, the first half of the segments on the
    calling thread and the rest on the second thread; None when the streams' segments
    differ (the caller then decodes them in order).  Errors come out in stream order:
    every base check and index error (in segment order) before any label error."""
    ix, lx = index_job[0].segments, label_job[0].segments
    ipl = ix.prepare(index_job[1], index_job[2], count)
    try:
        lpl = lx.prepare(label_job[1], label_job[2], count)
    except PladaError:
        return None                         # an index segment error must win: decode in order
    if ipl.segs != lpl.segs or ipl.segs < 2:
        return None
    indices = np.empty(count, dtype=np.int64)
    labels = np.empty(count, dtype=np.int64)
    labels32 = np.empty(count, dtype=np.uint32)
    errors = {}                             # (stream 0/1, segment) -> the exception

    def job(segs):
        labels_ok = True
        for s in segs:
            try:
                ix.decode_segment(ipl, s, indices)
            except PladaError as e:
                errors[0, s] = e
                return                      # a later segment's errors come after this one
            if labels_ok:
                try:
                    lx.decode_segment(lpl, s, indices, labels, labels32)
                except PladaError as e:
                    errors[1, s] = e
                    labels_ok = False       # the index stream may still fail first

    half = (ipl.segs + 1) // 2
    future = _second_thread().submit(job, range(half, ipl.segs))
    try:
        job(range(half))
    finally:
        if not future.done():
            futures_wait([future])
    future.result()
    for s in range(ipl.segs):
        if (0, s) in errors:
            raise errors[0, s]
        if s + 1 < ipl.segs:
            ix.check_base(ipl, indices, s + 1)
    for s in range(ipl.segs):
        if (1, s) in errors:
            raise errors[1, s]
    return (indices, _crc_of(indices, "<u8")), (labels, _crc_of(labels32, "<u4"))


def _class_table(buf, sec, class_count, budget):
    bound = class_count * (2 + K.MAX_CLASS_NAME_BYTES)
    raw = bytes(_body(buf, sec, "class_table", bound, budget))
    names, pos = [], 0
    for i in range(class_count):
        try:
            ln, pos = read_varint_twin(raw, pos, K.MAX_CLASS_NAME_BYTES + 1)
        except ValueError as exc:
            kind = str(exc)
            cls = TruncatedError if kind == "truncated" else FormatError
            raise cls(f"class_table: name {i} length: expected a minimal varint <= "
                      f"{K.MAX_CLASS_NAME_BYTES}, got {kind}") from None
        if ln > len(raw) - pos:
            raise TruncatedError(f"class_table: name {i} expected {ln} bytes, got {len(raw) - pos}")
        try:
            names.append(raw[pos:pos + ln].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise FormatError(f"class_table: name {i} expected valid UTF-8: {exc}") from None
        pos += ln
    if pos != len(raw):
        raise FormatError(f"class_table: expected {class_count} names ending at byte {pos}, "
                          f"got {len(raw) - pos} trailing bytes")
    return tuple(names)


def _metadata(buf, sec, budget):
    raw = bytes(_body(buf, sec, "metadata", K.MAX_METADATA_BYTES, budget))

    def no_constants(name):
        raise ValueError(f"non-standard JSON constant {name}")

    def finite(text):                       # 1e999 parses to inf, which is not JSON
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"number {text} overflows a double")
        return value
    try:
        meta = json.loads(raw.decode("utf-8"), parse_constant=no_constants, parse_float=finite)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormatError(f"metadata: expected a UTF-8 JSON object: {exc}") from None
    if not isinstance(meta, dict):
        raise FormatError(f"metadata: expected a JSON object, got {type(meta).__name__}")
    return meta


DEFAULT_NAMES_CACHED = 4096    # class counts whose default names are built once and kept


@functools.lru_cache(maxsize=8)
def _cached_class_names(class_count):
    return tuple(map(str, range(class_count)))


def _default_class_names(class_count):
    """("0", "1", ...): the names when there is no class table.  Building them costs
    ~0.3 us a name, as much as decoding a small payload, so common sizes are cached
    (the tuple and its strings are immutable, so sharing them is safe)."""
    if class_count <= DEFAULT_NAMES_CACHED:
        return _cached_class_names(class_count)
    return tuple(map(str, range(class_count)))


def _as_buffer(data):
    if isinstance(data, np.ndarray):
        data = data.tobytes()
    try:
        return memoryview(data).cast("B")
    except TypeError as exc:
        raise FormatError(f"data: expected a bytes-like object, got {type(data).__name__}") from exc


def decode(data, *, pool_digest=None, max_pool_size=K.DEFAULT_MAX_POOL_SIZE,
           max_items=K.DEFAULT_MAX_ITEMS, max_decoded_bytes=K.DEFAULT_MAX_DECODED_BYTES):
    """Decode and fully validate a payload; raises a PladaError subclass on any violation.

    `pool_digest` (32 bytes), if given, must equal the payload's: PoolMismatchError is
    raised before any stream is decoded. The limits bound what a hostile payload can
    make the decoder allocate.
    """
    buf = _as_buffer(data)
    head = _read_header(buf, max_pool_size, max_items)
    budget = _Budget(max_decoded_bytes)
    budget.spend(16 * head.count, "Item_Count (decoded indices and labels)")
    # Python keeps one str object per class name (~50-60 bytes each even when short).
    budget.spend(NAME_OBJECT_BYTES * head.class_count, "Class_Count (class names)")
    if pool_digest is not None and bytes(pool_digest) != head.digest:
        have = head.digest.hex() if head.digest else "none"
        raise PoolMismatchError(f"Pool_Digest: expected {bytes(pool_digest).hex()} (local "
                                f"pool), got {have}")
    sections = _read_sections(buf, head)
    seen = _check_layout(sections)

    isec, lsec = seen[K.SECTION_INDEX_STREAM], seen[K.SECTION_LABEL_STREAM]
    before_streams = budget.left
    imode, iraw = _prepare_stream(buf, isec, INDEX_MODE_TABLE, "index_stream",
                                  head.pool_size, head.count, budget)
    lmode, lraw = _prepare_stream(buf, lsec, LABEL_MODE_TABLE, "label_stream",
                                  head.class_count, head.count, budget)
    # what the streams charged to the budget bounds the kernels' work (items, tables,
    # bodies): when small, before Numba is loaded, they run as Python (_jit)
    work = 16 * head.count + before_streams - budget.left + iraw.shape[0] + lraw.shape[0]
    with python_if_small(head.count, work):
        (indices, icrc), (labels, lcrc) = _decode_streams(
            (imode, iraw, head.pool_size, head.count),
            (lmode, lraw, head.class_count, head.count), head.count)
    index_mode, label_mode = _mode_string(imode, isec.flags), _mode_string(lmode, lsec.flags)
    if K.SECTION_CLASS_TABLE in seen:
        classes = _class_table(buf, seen[K.SECTION_CLASS_TABLE], head.class_count, budget)
    else:
        classes = _default_class_names(head.class_count)
    meta = _metadata(buf, seen[K.SECTION_METADATA], budget) if K.SECTION_METADATA in seen else {}

    actual = icrc + lcrc
    for part, lo in (("indices", 0), ("labels", 4)):
        stored, got = head.checksum[lo:lo + 4][::-1].hex(), actual[lo:lo + 4][::-1].hex()
        if stored != got:
            raise ChecksumError(f"Content_Checksum ({part}): expected {stored} (stored), "
                                f"got {got}")
    return Payload(indices, labels, head.pool_size, head.class_count, classes, head.digest,
                   meta, index_mode, label_mode, (head.major, head.minor))


# ==== inspect =====================================================================

def log2_binomial(n, k):
    """log2 C(n, k) via lgamma (exact enough for bounds: relative error ~1e-15)."""
    if k < 0 or k > n:
        return 0.0
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)


def entropy_bits(labels):
    """k * H0(labels) in bits (empirical order-0 entropy)."""
    if len(labels) == 0:
        return 0.0
    counts = np.bincount(labels).astype(np.float64)
    counts = counts[counts > 0]
    p = counts / counts.sum()
    return float(-(counts * np.log2(p)).sum())


def inspect(data):
    """Validate a payload and describe it as a JSON-safe dict (sizes, modes, bound)."""
    buf = _as_buffer(data)
    p = decode(buf)
    head = _read_header(buf, K.DEFAULT_MAX_POOL_SIZE, K.DEFAULT_MAX_ITEMS)
    sections = []
    for s in _read_sections(buf, head):
        table = {K.SECTION_INDEX_STREAM: INDEX_MODE_TABLE,
                 K.SECTION_LABEL_STREAM: LABEL_MODE_TABLE}.get(s.type)
        sections.append({
            "type": f"0x{s.type:04x}",
            "name": K.SECTION_NAMES.get(s.type, "unknown-ancillary"),
            "mode": _mode_string(table[s.mode], s.flags) if table else None,
            "zstd": bool(s.flags & K.SECTION_FLAG_ZSTD),
            "bytes": K.SECTION_HEADER_SIZE + s.length,
            "body_bytes": s.length,
        })
    k = head.count
    index_bits = log2_binomial(head.pool_size, k)
    label_bits = entropy_bits(p.labels)
    bound = index_bits + label_bits
    total_bits = 8 * len(buf)
    by_name = {s["name"]: s["bytes"] for s in sections}
    per = (lambda b: b / k) if k else (lambda b: None)
    return {
        "format_version": f"{head.major}.{head.minor}",
        "payload_bytes": len(buf),
        "header_bytes": K.HEADER_SIZE,
        "pool_size": head.pool_size,
        "item_count": k,
        "class_count": head.class_count,
        "keep_rate": k / head.pool_size,
        "pool_digest": head.digest.hex() if head.digest else None,
        "content_checksum": head.checksum.hex(),
        "index_mode": p.index_mode,
        "label_mode": p.label_mode,
        "sections": sections,
        "metadata": p.metadata,
        "bits_per_item": per(total_bits),
        "index_bits_per_item": per(8 * by_name.get("index_stream", 0)),
        "label_bits_per_item": per(8 * by_name.get("label_stream", 0)),
        "bound_index_bits": index_bits,
        "bound_label_bits": label_bits,
        "bound_bits": bound,
        "bound_bits_per_item": per(bound),
        "ratio_to_bound": (total_bits / bound) if bound > 0 else None,
        "index_ratio_to_bound": (8 * by_name.get("index_stream", 0) / index_bits)
                                if index_bits > 0 else None,
        "label_ratio_to_bound": (8 * by_name.get("label_stream", 0) / label_bits)
                                if label_bits > 0 else None,
    }
