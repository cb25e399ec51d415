"""encode / decode / inspect: the container of SPEC.md around the stream modes.

decode() checks a payload in THE check order of SPEC.md ("Errors"), stopping at the
first failed check, with exactly one error per rejection:

 1. Magic: the first min(len, 8) bytes differ from Magic's prefix -> FormatError; they
    match but the input is shorter than 8 bytes -> TruncatedError.
 2. Version_Major: missing -> TruncatedError; != 2 -> UnsupportedVersionError.
 3. Header syntax, field by field (Version_Minor, Header_Flags, the five varints,
    Pool_Digest only if POOL_DIGEST_PRESENT, Content_Checksum, Header_CRC32): the input
    ends -> TruncatedError; a varint non-minimal or >= 2^63 -> FormatError.
 4. Header_CRC32 -> ChecksumError.
 5. Header values, in field order: a reserved Header_Flags bit -> FormatError;
    Required_Features != 0 -> UnsupportedVersionError; Pool_Size 0 -> FormatError,
    > 2^48 or > max_pool_size -> LimitError; Item_Count > Pool_Size -> FormatError,
    > max_items -> LimitError; Class_Count 0 -> FormatError, > 2^20 -> LimitError;
    Section_Count < 2 -> FormatError, > 64 -> LimitError.
 6. Decoded-memory budget (a MAY; budget.py): 16 bytes per item -> LimitError.
 7. Pool_Digest, only when the caller gives one: absent or different -> PoolMismatchError.
 8. Section headers, every section in order: the input ends inside one, or a varint
    error as in 3; Section_Length > the bytes left -> TruncatedError; Section_CRC32 ->
    ChecksumError. Then bytes after the last section -> TrailingDataError.
 9. Layout, every section in order: an unknown critical type -> UnsupportedVersionError;
    a critical type not above the previous critical one, or a second METADATA ->
    FormatError; for a known type: a reserved Section_Flags bit -> FormatError;
    Section_Mode != 0 for the class table or metadata -> FormatError; an unknown stream
    mode -> UnsupportedVersionError. Then a missing index or label stream -> FormatError.
    Unknown ancillary sections are skipped, never read.
10. Bodies, every known section in payload order: if ZSTD, the Zstd checks (zstd.py);
    else a body longer than the section's raw size bound -> FormatError.
11. The index stream decodes (its mode's checks, in stream order), then the label stream.
12. The class table parses, then the metadata.
13. Content_Checksum: the indices' part, then the labels' part -> ChecksumError.
The budget may also be charged at steps 10-12 (decompressed bodies, the modes' decode
memory at the start of 11, class names at 12): LimitError, the MAY of step 6.
"""
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

from .. import _constants as K
from .._coders.leb128 import read_varint_twin, write_varint_twin
from .._crc import crc32
from .._errors import (ChecksumError, EncodeError, FormatError, PladaError,
                       PoolMismatchError, TruncatedError, varint_error)
from .._jit import python_if_small
from .._modes import INDEX_MODES, LABEL_MODES
from .auto import candidates, choose_stream
from .budget import NAME_OBJECT_BYTES, Budget
from .header import read_header, write_header
from .sections import check_layout, read_sections, write_section
from .zstd import zstd_unwrap, zstd_wrap

PARALLEL_MIN_ITEMS = 1 << 15     # below this a second thread costs more than it saves
CHECKSUM_CHUNK = 1 << 20         # items per slice: hashing never copies the whole output
STREAM_TABLES = {K.INDEX_STREAM: INDEX_MODES, K.LABEL_STREAM: LABEL_MODES}
# the public mode names, in Section_Mode id order
INDEX_MODE_NAMES = tuple(INDEX_MODES[i].name for i in sorted(INDEX_MODES))
LABEL_MODE_NAMES = tuple(LABEL_MODES[i].name for i in sorted(LABEL_MODES))


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


def _crc_of(values, dtype):
    dtype = np.dtype(dtype)
    if values.dtype.kind in "iu" and values.dtype.itemsize == dtype.itemsize \
            and values.dtype.byteorder in ("<", "=") and values.flags.c_contiguous \
            and np.little_endian:
        # decoded indices are non-negative int64: their bytes are already the u64 LE form
        return struct.pack("<I", crc32(values.view(np.uint8)))
    crc = 0
    for s in range(0, len(values), CHECKSUM_CHUNK):
        crc = crc32(np.ascontiguousarray(values[s:s + CHECKSUM_CHUNK], dtype=dtype), crc)
    return struct.pack("<I", crc)


def content_checksum(indices, labels):
    """CRC-32 of the indices as u64 LE, then CRC-32 of the labels as u32 LE (8 bytes).

    CRC-32 rather than SHA-256: it is in every standard library and runs at 3 GB/s (zlib)
    to 24 GB/s (isal) here against 0.2 GB/s for SHA-256, which would dominate decode time.
    """
    return _crc_of(np.asarray(indices), "<u8") + _crc_of(np.asarray(labels), "<u4")


def _mode_string(mode, section_flags):
    return mode.name + ("+zstd" if section_flags & K.ZSTD else "")


_POOL = []
_POOL_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _cpus():
    # os.cpu_count() costs ~15 us a call (sysconf), a few % of decoding a 1 % selection
    return os.cpu_count() or 1


def _second_thread():
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="pladafmt"))
        return _POOL[0]


def _both(first, second, parallel):
    """(first(), second()); on two threads when parallel. The kernels and zstd release
    the GIL. An error of first() wins over one of second(), as if run in order."""
    if not parallel:
        return first(), second()
    future = _second_thread().submit(second)
    try:
        a = first()
    finally:
        if not future.done():
            futures_wait([future])
    return a, future.result()


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


def _check_args(indices, labels, pool_size, classes, pool_digest, zstd_level):
    """Every encode argument checked once, here (the modes trust what they get)."""
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
            try:
                size = len(n.encode("utf-8"))
            except UnicodeEncodeError:
                raise EncodeError(f"classes[{i}]: expected valid Unicode (no lone "
                                  f"surrogate), got {n!r:.60}") from None
            if size > K.MAX_CLASS_NAME_BYTES:
                raise EncodeError(f"classes[{i}]: expected <= {K.MAX_CLASS_NAME_BYTES} "
                                  f"UTF-8 bytes, got {size}")
    if not 1 <= class_count <= K.MAX_CLASS_COUNT:
        raise EncodeError(f"classes: expected 1..{K.MAX_CLASS_COUNT} classes, got {class_count}")
    if isinstance(zstd_level, bool) or not isinstance(zstd_level, int) \
            or not 1 <= zstd_level <= 19:
        raise EncodeError(f"zstd_level: expected 1..19, got {zstd_level!r}")
    if pool_digest is not None:
        pool_digest = bytes(pool_digest)
        if len(pool_digest) != K.POOL_DIGEST_SIZE:
            raise EncodeError(f"pool_digest: expected {K.POOL_DIGEST_SIZE} bytes, "
                              f"got {len(pool_digest)}")

    idx = _as_int_array(indices, "indices")
    lab = _as_int_array(labels, "labels")
    if len(idx) != len(lab):
        raise EncodeError(f"labels: expected one per index ({len(idx)}), got {len(lab)}")
    if len(idx):
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
    return (np.ascontiguousarray(idx), np.ascontiguousarray(lab), pool_size, class_count,
            names, pool_digest)


def _optional_body(raw, zstd_level):
    """Class table and metadata: Zstd-wrapped only when that is smaller."""
    z = zstd_wrap(raw, zstd_level)
    return (K.ZSTD, z) if len(z) < len(raw) else (0, raw)


def _metadata_bytes(metadata):
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
    return raw


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
        "auto" (small and quick to decode, deterministic), "smallest" (pure size), or a
        mode name, optionally with "+zstd".
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
    idx, lab, pool_size, class_count, names, pool_digest = _check_args(
        indices, labels, pool_size, classes, pool_digest, zstd_level)
    meta = _metadata_bytes(metadata) if metadata is not None else None
    icands = candidates(INDEX_MODES, index_mode, "index", pool_size)
    lcands = candidates(LABEL_MODES, label_mode, "label", class_count)
    k = len(idx)

    sections = []
    if names is not None:
        raw = b"".join(write_varint_twin(len(b)) + b for b in (n.encode("utf-8") for n in names))
        sections.append(write_section(K.CLASS_TABLE, 0, *_optional_body(raw, zstd_level)))
    # small work (items, and bytes as decode's budget counts them) runs the kernels as
    # Python before Numba is loaded: the same bytes without a compile (_jit.python_if_small)
    work = 16 * k + NAME_OBJECT_BYTES * class_count

    def stream(cands, values, size, spec, ctx=None):
        with python_if_small(k, work):      # one per thread: it saves thread-local state
            return choose_stream(cands, values, size, zstd_level, ctx,
                                 strict=spec == "smallest")
    (imode, iz, ibody), (lmode, lz, lbody) = _both(
        lambda: stream(icands, idx, pool_size, index_mode),
        lambda: stream(lcands, lab, class_count, label_mode, idx),
        k >= PARALLEL_MIN_ITEMS and _cpus() >= 2)
    sections.append(write_section(K.INDEX_STREAM, imode.id, K.ZSTD if iz else 0, ibody))
    sections.append(write_section(K.LABEL_STREAM, lmode.id, K.ZSTD if lz else 0, lbody))
    if meta is not None:
        sections.append(write_section(K.METADATA, 0, *_optional_body(meta, zstd_level)))
    head = write_header(pool_size, k, class_count, len(sections), pool_digest,
                        content_checksum(idx, lab))
    return head + b"".join(sections)


# ==== decode ======================================================================

def _body(buf, sec, field, bound, budget):
    """10. A section's raw body: the Zstd checks, or the raw size bound."""
    body = buf[sec.offset:sec.offset + sec.section_length]
    if sec.section_flags & K.ZSTD:
        raw = zstd_unwrap(body, field, bound, budget.left)
        budget.spend(len(raw), f"{field} (decompressed body)")
        return np.frombuffer(raw, dtype=np.uint8)
    if sec.section_length > bound:
        raise FormatError(f"{field}: Section_Length expected <= {bound} (the raw size bound "
                          f"for this header), got {sec.section_length}")
    return np.frombuffer(body, dtype=np.uint8)


def _run_job(mode, raw, size, count, dtype, indices=None):
    ctx = (indices,) if mode.needs_indices else ()
    if mode.decode_u32 is not None and dtype == "<u4":
        values, as_u32 = mode.decode_u32(raw, size, count, *ctx)
        return values, _crc_of(as_u32, dtype)
    values = mode.decode(raw, size, count, *ctx)
    return values, _crc_of(values, dtype)


def _decode_streams(index_job, label_job, count):
    """11. Both streams and their content CRCs: ((indices, crc), (labels, crc)).

    The kernels release the GIL (nogil), and so does crc32, so the two streams, which are
    independent, decode on two threads when the payload is large enough to gain. Errors
    are reported as if decoded in order: an index-stream error wins. A label mode whose
    contexts read the indices (Mode.needs_indices) decodes after the index stream, unless
    both modes are segmented alike (Mode.segments): then each thread decodes index
    segment s and label segment s in turn (_decode_segmented)."""
    parallel = count >= PARALLEL_MIN_ITEMS and _cpus() >= 2
    if label_job[0].needs_indices:
        if parallel and index_job[0].segments and label_job[0].segments:
            paired = _decode_segmented(index_job, label_job, count)
            if paired is not None:
                return paired
        indices = _run_job(*index_job, "<u8")
        if parallel and label_job[0].segments:
            return indices, _decode_label_segments(label_job, indices[0], count)
        return indices, _run_job(*label_job, "<u4", indices[0])
    return _both(lambda: _run_job(*index_job, "<u8"), lambda: _run_job(*label_job, "<u4"),
                 parallel)


def _decode_segmented(index_job, label_job, count):
    """Index segment s, then label segment s, the first half of the segments on the
    calling thread and the rest on the second thread (all on the calling thread when
    there is one segment, with the plans already made); None when the streams' segments
    differ (the caller then decodes them in order).  Errors come out in stream order:
    every base check and index error (in segment order) before any label error."""
    ix, lx = index_job[0].segments, label_job[0].segments
    ipl = ix.prepare(index_job[1], index_job[2], count)
    try:
        lpl = lx.prepare(label_job[1], label_job[2], count)
    except PladaError:
        return None                         # an index segment error must win: decode in order
    if ipl.segs != lpl.segs:
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
    _both(lambda: job(range(half)), lambda: job(range(half, ipl.segs)), ipl.segs >= 2)
    for s in range(ipl.segs):
        if (0, s) in errors:
            raise errors[0, s]
        if s + 1 < ipl.segs:
            ix.check_base(ipl, indices, s + 1)
    for s in range(ipl.segs):
        if (1, s) in errors:
            raise errors[1, s]
    return (indices, _crc_of(indices, "<u8")), (labels, _crc_of(labels32, "<u4"))


def _decode_label_segments(label_job, indices, count):
    """A segmented label stream after an index stream that is not segmented alike (e.g.
    rice indices, ctx-rans labels): once the indices are known every label segment is
    independent, so the first half decodes on the calling thread and the rest on the
    second thread (measured at 1 % of an IN-21K-like selection, rice | ctx-rans: the
    labels were ~2/3 of the decode time on one thread); one segment decodes on the calling
    thread with the plan already made. Errors come out in segment order, as decoding in
    order gives them."""
    lx = label_job[0].segments
    lpl = lx.prepare(label_job[1], label_job[2], count)
    labels = np.empty(count, dtype=np.int64)
    labels32 = np.empty(count, dtype=np.uint32)
    errors = {}

    def job(segs):
        for s in segs:
            try:
                lx.decode_segment(lpl, s, indices, labels, labels32)
            except PladaError as e:
                errors[s] = e
                return

    half = (lpl.segs + 1) // 2
    _both(lambda: job(range(half)), lambda: job(range(half, lpl.segs)), lpl.segs >= 2)
    for s in range(lpl.segs):
        if s in errors:
            raise errors[s]
    return labels, _crc_of(labels32, "<u4")


def _class_table(raw, class_count):
    """12a. C names, each a varint Name_Length <= 4096 then that many UTF-8 bytes."""
    raw = bytes(raw)
    names, pos = [], 0
    for i in range(class_count):
        field = f"class_table: name {i} Name_Length"
        try:
            size, pos = read_varint_twin(raw, pos, K.MAX_CLASS_NAME_BYTES + 1)
        except ValueError as exc:
            raise varint_error(str(exc), field, K.MAX_CLASS_NAME_BYTES + 1) from None
        if size > len(raw) - pos:
            raise TruncatedError(f"class_table: name {i} expected {size} bytes, "
                                 f"got {len(raw) - pos}")
        try:
            names.append(raw[pos:pos + size].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise FormatError(f"class_table: name {i} expected valid UTF-8: {exc}") from None
        pos += size
    if pos != len(raw):
        raise FormatError(f"class_table: expected {class_count} names ending at byte {pos}, "
                          f"got {len(raw) - pos} more bytes")
    return tuple(names)


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r}")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _finite_float(text):                    # 1e999 parses to inf, which is not a double
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} overflows a double")
    return value


def _double_int(text):
    value = int(text)
    if abs(value) >= 2 ** 1024 - 2 ** 970:  # rounds to infinity as a double (ties to even)
        raise ValueError(f"number {text:.40} overflows a double")
    return value


def _check_depth_and_strings(value):
    """Nesting depth <= MAX_METADATA_DEPTH, and no lone surrogate in any string (a
    "\\ud800" escape parses to one; it has no UTF-8 form). Iterative: a hostile 1 MiB of
    nesting must not recurse."""
    stack = [(value, 1 if isinstance(value, (dict, list)) else 0)]
    while stack:
        v, depth = stack.pop()
        if depth > K.MAX_METADATA_DEPTH:
            raise ValueError(f"nesting depth expected <= {K.MAX_METADATA_DEPTH}, got more")
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) \
            else ()
        for key, item in items:
            for s in (key, item):
                if isinstance(s, str):
                    try:
                        s.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ValueError(f"a lone surrogate escape in {s!r:.40}") from None
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))


def _metadata(raw):
    """12b. One JSON object (RFC 8259, strict: see SPEC.md for every rule)."""
    try:
        text = bytes(raw).decode("utf-8")      # a BOM stays U+FEFF, which json rejects
        meta = json.loads(text, object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_double_int)
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object at the top, got {type(meta).__name__}")
        _check_depth_and_strings(meta)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormatError(f"metadata: expected a strict UTF-8 JSON object: {exc}") from None
    return meta


@functools.lru_cache(maxsize=8)
def _default_class_names(class_count):
    """("0", "1", ...): the names when there is no class table.  Building them costs
    ~0.3 us a name, as much as decoding a small payload, so recent sizes are cached (the
    tuple and its strings are immutable, so sharing them is safe)."""
    return tuple(map(str, range(class_count)))


def _as_buffer(data):
    if isinstance(data, np.ndarray):
        data = data.tobytes()
    try:
        return memoryview(data).cast("B")
    except TypeError as exc:
        raise FormatError(f"data: expected a bytes-like object, got {type(data).__name__}") \
            from exc


def _read(buf, pool_digest, max_pool_size, max_items, max_decoded_bytes):
    """Steps 1-10: (header, sections, {type: Section}, {type: raw body}, budget)."""
    head = read_header(buf, max_pool_size, max_items)                 # 1-5
    budget = Budget(max_decoded_bytes)
    budget.spend_items(head.item_count)                               # 6
    if pool_digest is not None and bytes(pool_digest) != head.pool_digest:   # 7
        have = head.pool_digest.hex() if head.pool_digest else "absent"
        raise PoolMismatchError(f"Pool_Digest: expected {bytes(pool_digest).hex()} (the "
                                f"local pool's), got {have}")
    sections = read_sections(buf, head.size, head.section_count)      # 8
    known = check_layout(sections, STREAM_TABLES)                     # 9
    n, k, c = head.pool_size, head.item_count, head.class_count
    bounds = {K.CLASS_TABLE: lambda s: c * (2 + K.MAX_CLASS_NAME_BYTES),
              K.INDEX_STREAM: lambda s: INDEX_MODES[s.section_mode].raw_size_bound(n, k),
              K.LABEL_STREAM: lambda s: LABEL_MODES[s.section_mode].raw_size_bound(c, k),
              K.METADATA: lambda s: K.MAX_METADATA_BYTES}
    raws = {}
    for s in sections:                                                # 10
        if known.get(s.section_type) is s:
            raws[s.section_type] = _body(buf, s, s.name, bounds[s.section_type](s), budget)
    return head, sections, known, raws, budget


def decode(data, *, pool_digest=None, max_pool_size=K.DEFAULT_MAX_POOL_SIZE,
           max_items=K.DEFAULT_MAX_ITEMS, max_decoded_bytes=K.DEFAULT_MAX_DECODED_BYTES):
    """Decode and fully validate a payload; raises a PladaError subclass on any violation,
    in the check order of this module's docstring.

    `pool_digest` (32 bytes), if given, must equal the payload's: PoolMismatchError is
    raised before any section is read. The limits bound what a hostile payload can make
    the decoder allocate.
    """
    buf = _as_buffer(data)
    head, _, known, raws, budget = _read(buf, pool_digest, max_pool_size, max_items,
                                         max_decoded_bytes)
    n, k, c = head.pool_size, head.item_count, head.class_count
    isec, lsec = known[K.INDEX_STREAM], known[K.LABEL_STREAM]
    imode, lmode = INDEX_MODES[isec.section_mode], LABEL_MODES[lsec.section_mode]
    iraw, lraw = raws[K.INDEX_STREAM], raws[K.LABEL_STREAM]
    before = budget.left
    budget.spend_mode(imode, n, k, iraw.shape[0], "index_stream")     # 11
    budget.spend_mode(lmode, c, k, lraw.shape[0], "label_stream")
    # what the streams charged bounds the kernels' work (items, tables, bodies): when
    # small, before Numba is loaded, they run as Python (_jit.python_if_small)
    work = 16 * k + before - budget.left + iraw.shape[0] + lraw.shape[0]
    with python_if_small(k, work):
        (indices, icrc), (labels, lcrc) = _decode_streams(
            (imode, iraw, n, k), (lmode, lraw, c, k), k)
    budget.spend_names(c)                                             # 12
    classes = (_class_table(raws[K.CLASS_TABLE], c) if K.CLASS_TABLE in raws
               else _default_class_names(c))
    meta = _metadata(raws[K.METADATA]) if K.METADATA in raws else {}
    actual = icrc + lcrc                                              # 13
    for part, lo in (("indices", 0), ("labels", 4)):
        stored = head.content_checksum[lo:lo + 4][::-1].hex()
        got = actual[lo:lo + 4][::-1].hex()
        if stored != got:
            raise ChecksumError(f"Content_Checksum ({part}): expected {stored} (stored), "
                                f"got {got}")
    return Payload(indices, labels, n, c, classes, head.pool_digest, meta,
                   _mode_string(imode, isec.section_flags),
                   _mode_string(lmode, lsec.section_flags),
                   (head.version_major, head.version_minor))


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
    head, sections, _, _, _ = _read(buf, None, K.DEFAULT_MAX_POOL_SIZE, K.DEFAULT_MAX_ITEMS,
                                    K.DEFAULT_MAX_DECODED_BYTES)
    described = []
    for s in sections:
        table = STREAM_TABLES.get(s.section_type)
        described.append({
            "type": f"0x{s.section_type:02x}",
            "name": K.SECTION_NAMES.get(s.section_type, "unknown-ancillary"),
            "mode": _mode_string(table[s.section_mode], s.section_flags) if table else None,
            "zstd": bool(s.section_flags & K.ZSTD),
            "bytes": s.header_size + s.section_length,
            "body_bytes": s.section_length,
        })
    k = head.item_count
    index_bits = log2_binomial(head.pool_size, k)
    label_bits = entropy_bits(p.labels)
    bound = index_bits + label_bits
    total_bits = 8 * len(buf)
    by_name = {s["name"]: s["bytes"] for s in described}
    per = (lambda b: b / k) if k else (lambda b: None)
    return {
        "format_version": f"{head.version_major}.{head.version_minor}",
        "payload_bytes": len(buf),
        "header_bytes": head.size,
        "pool_size": head.pool_size,
        "item_count": k,
        "class_count": head.class_count,
        "keep_rate": k / head.pool_size,
        "pool_digest": head.pool_digest.hex() if head.pool_digest else None,
        "content_checksum": head.content_checksum.hex(),
        "index_mode": p.index_mode,
        "label_mode": p.label_mode,
        "sections": described,
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
