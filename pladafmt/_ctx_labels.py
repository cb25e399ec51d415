"""Label mode 6: `ctx-rans` (format 1.3) -- label mode 5's model with static tables.

SPEC.md "Label mode 6: ctx-rans".  Per label, one *event* through rANS: same as the
previous label (0), back to the label of the run before (1), or new (2), with the table
of context min(run, 3) * 16 + gap bucket (the bucket of the index gap before the label,
as in mode 5); a new label is then coded with the literal table (context 64).  The first
label of each segment is a literal with no event.  Why: mode 5's contexts capture how
labels repeat inside a synset-ordered pool, and static two-pass tables code them in as
few bits (measured: 30.9 KB against 31.5 KB at 1 % of a clustered IN-21K selection) at
one or two table lookups per label instead of an adaptive decision per bit.

Segments are the index stream's: segment s of this stream holds the labels of items
floor(s k / S) ... and reads the indices of the same items (and the one before them for
the gap bucket), so a decoder can decode index segment s and then label segment s on one
thread while other threads take other segments.
"""

from __future__ import annotations

import numpy as np

from . import _ctxrans as cr
from ._bitio import BitReader, BitWriter
from ._errors import EncodeError, FormatError, TruncatedError
from ._jit import intrinsic, njit
from ._leb128 import write_varint_twin

MODE_ID = 6
NAME = "ctx-rans"
KIND = "label"
MIN_MINOR = 3
DECODE_CLASS = 2          # CONTEXT (_modes): "auto" weighs its decode cost (_codec.auto_choice)
NEEDS_INDICES = True
STREAM = "ctx-rans labels"

RUN_CTX = 4                       # event context: min(run, 3) * 16 + gap bucket
GAP_CTX = 16                      # gap bucket: min(bitlen(d) - 1, 15), d = i_j - i_(j-1)
EVENTS = 3                        # 0 same, 1 back, 2 new
SAME, BACK, NEW = 0, 1, 2
LITERAL = RUN_CTX * GAP_CTX       # table 64: the literal labels


def alphabets(class_count: int) -> np.ndarray:
    a = np.full(LITERAL + 1, EVENTS, dtype=np.int64)
    a[LITERAL] = class_count
    return a


def gap_bucket(d: int) -> int:
    return min(int(d).bit_length() - 1, GAP_CTX - 1)


def _check(labels, class_count, indices, error=EncodeError):
    labels = np.asarray(labels, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    if not 1 <= class_count <= (1 << 20):
        raise error(f"{STREAM}: class_count must be in [1, 2^20], got {class_count}")
    if labels.size and (labels.min() < 0 or labels.max() >= class_count):
        raise error(f"{STREAM}: labels must lie in [0, {class_count}), got "
                    f"[{int(labels.min())}, {int(labels.max())}]")
    if indices.shape != labels.shape:
        raise error(f"{STREAM}: expected one index per label ({labels.size}), got "
                    f"{indices.size}")
    if indices.size > 1 and np.any(np.diff(indices) <= 0):
        raise error(f"{STREAM}: indices must be strictly increasing")
    return labels, indices


# ---------------------------------------------------------------------------------------
# the model (twin and kernel)

def events_twin(labels, indices, lo, hi):
    """(context, symbol) pairs of labels lo..hi-1 (one segment), in decode order."""
    pairs = []
    prev, back, run = -1, -1, 0
    for j in range(lo, hi):
        lab = int(labels[j])
        if j > lo:
            t = min(run, RUN_CTX - 1) * GAP_CTX + gap_bucket(indices[j] - indices[j - 1])
            if lab == prev:
                pairs.append((t, SAME))
                run += 1
                continue
            if lab == back:
                pairs.append((t, BACK))
                back, prev, run = prev, back, 0
                continue
            pairs.append((t, NEW))
        pairs.append((LITERAL, lab))
        back, prev, run = prev, lab, 0
    return pairs


def _clz_python(v):
    """Leading zeros of a uint64; 64 for zero, like lzcnt."""
    return 64 - int(v).bit_length()


# LLVM's ctlz is one instruction; it only exists compiled, so the kernels run as Python
# use _clz_python (_jit.intrinsic).
_clz = intrinsic("leading_zeros", _clz_python)


@njit(cache=True, nogil=True, inline="always")
def _bucket(d):
    """min(bitlen(d) - 1, 15) for d >= 1."""
    b = 63 - np.int64(_clz(np.uint64(d)))
    return min(b, GAP_CTX - 1)


@njit(cache=True, nogil=True)
def _events(labels, indices, starts, tids, syms):
    """events_twin over all segments into tids/syms; returns each segment's first pair
    position, then the pair count."""
    m = 0
    segs = starts.shape[0] - 1
    pstarts = np.zeros(segs + 1, dtype=np.int64)
    for s in range(segs):
        pstarts[s] = m
        prev = -1
        back = -1
        run = 0
        for j in range(starts[s], starts[s + 1]):
            lab = labels[j]
            if j > starts[s]:
                t = min(run, RUN_CTX - 1) * GAP_CTX + _bucket(indices[j] - indices[j - 1])
                tids[m] = t
                if lab == prev:
                    syms[m] = SAME
                    m += 1
                    run += 1
                    continue
                if lab == back:
                    syms[m] = BACK
                    m += 1
                    back, prev = prev, back
                    run = 0
                    continue
                syms[m] = NEW
                m += 1
            tids[m] = LITERAL
            syms[m] = lab
            m += 1
            back = prev
            prev = lab
            run = 0
    pstarts[segs] = m
    return pstarts


def encode(labels, class_count: int, indices) -> bytes:
    labels, indices = _check(labels, class_count, indices)
    k = labels.size
    if k == 0:
        return b""
    segs = cr.segment_count(k)
    starts = cr.segment_starts(k, segs)
    tids = np.empty(2 * k, dtype=np.int64)
    syms = np.empty(2 * k, dtype=np.int64)
    pstarts = _events(labels, indices, starts, tids, syms)
    m = int(pstarts[-1])
    tids, syms = tids[:m], syms[:m]
    alph = alphabets(class_count)
    tables = cr.choose_tables(tids, syms, alph)
    w = BitWriter()
    w.write(segs, 8)
    cr.write_tables(w, tables, alph)
    off, freq, cum, prec = cr.dense_tables(tables, alph)
    directory, data = [], []
    for s in range(segs):
        lo, hi = int(pstarts[s]), int(pstarts[s + 1])
        words = cr.encode_words(tids[lo:hi], syms[lo:hi], off, freq, cum, prec)
        directory.append(write_varint_twin(len(words)))
        data.append(words)
    return w.getvalue() + b"".join(directory) + b"".join(data)


def encode_twin(labels, class_count: int, indices) -> bytes:
    labels, indices = _check(labels, class_count, indices)
    k = labels.size
    if k == 0:
        return b""
    segs = cr.segment_count(k)
    starts = cr.segment_starts(k, segs).tolist()
    seg_pairs = [events_twin(labels.tolist(), indices.tolist(), starts[s], starts[s + 1])
                 for s in range(segs)]
    every = [p for sp in seg_pairs for p in sp]
    alph = alphabets(class_count)
    tables = cr.choose_tables(np.array([t for t, _ in every]), np.array([y for _, y in every]),
                              alph)
    w = BitWriter()
    w.write(segs, 8)
    cr.write_tables(w, tables, alph)
    areas = [cr.encode_words_twin(sp, tables) for sp in seg_pairs]
    return (w.getvalue() + b"".join(write_varint_twin(len(a)) for a in areas)
            + b"".join(areas))


# ---------------------------------------------------------------------------------------
# decoding

def _read_directory(raw, pos, segs, stream):
    names = [f"word_bytes of segment {s}" for s in range(segs)]
    sizes, pos = cr.read_varints(raw, pos, segs, names, stream)
    need, have = sum(sizes), len(raw) - pos
    if need > have:
        raise TruncatedError(f"{stream}: segment data needs {need} bytes, {have} left")
    if need < have:
        raise FormatError(f"{stream}: trailing bytes: expected {pos + need} bytes, got "
                          f"{len(raw)}")
    return sizes, pos


def _not_canonical(j, lab, prev, back):
    return FormatError(f"{STREAM}: label {j} coded in full must differ from the previous "
                       f"label {prev} and the one before the run {back}, got {lab}")


def _no_back(j):
    return FormatError(f"{STREAM}: label {j}: back event with no earlier run")


def decode_twin(raw: bytes, class_count: int, count: int, indices) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        if raw:
            raise FormatError(f"{STREAM}: trailing bytes: expected 0 bytes, got {len(raw)}")
        return []
    indices = [int(v) for v in indices]
    segs = cr.read_segment_count(raw, count, STREAM)
    alph = alphabets(class_count)
    rd = BitReader(raw, STREAM)
    rd.bitpos = 8
    tables = cr.read_tables_twin(rd, alph, STREAM)
    pos = cr.table_padding(raw, rd.bitpos, STREAM)
    sizes, pos = _read_directory(raw, pos, segs, STREAM)
    starts = cr.segment_starts(count, segs).tolist()
    out = []
    for s in range(segs):
        rw = cr.WordsTwin(raw[pos:pos + sizes[s]], tables, STREAM, s)
        pos += sizes[s]
        prev, back, run = -1, -1, 0
        for j in range(starts[s], starts[s + 1]):
            if j > starts[s]:
                t = min(run, RUN_CTX - 1) * GAP_CTX + gap_bucket(indices[j] - indices[j - 1])
                e = rw.symbol(t, f"label {j}")
                if e == SAME:
                    out.append(prev)
                    run += 1
                    continue
                if e == BACK:
                    if back < 0:
                        raise _no_back(j)
                    back, prev, run = prev, back, 0
                    out.append(prev)
                    continue
            lab = rw.symbol(LITERAL, f"label {j}")
            if lab == prev or lab == back:
                raise _not_canonical(j, lab, prev, back)
            back, prev, run = prev, lab, 0
            out.append(lab)
        rw.finish()
    return out


@njit(cache=True, nogil=True)
def _decode_segment(words, cinfo, symlut, fblut, indices, lo, hi, out, out32, info):
    """Decode labels lo..hi-1 of one segment (indices: all decoded indices).  Returns 0, or
    1-4 as _ctx_index, 5 absent table (info[0] = label, info[1] = table), 6 back event with
    no earlier run (info[0] = label), 7 literal equal to prev or back (info[0] = label,
    info[1] = literal, info[2] = prev, info[3] = back).  A step with table t: slot i =
    base + (x & mask) from cinfo[t], then one load each of fblut and symlut (the helper
    functions are written out: Numba's inlining of array arguments cost ~5x here)."""
    nwords = words.shape[0]
    xs = np.empty(cr.RANS_LANES, dtype=np.int64)
    st = cr.load_states(words, xs, info)
    if st:
        return st
    x0, x1, x2, x3 = xs[0], xs[1], xs[2], xs[3]
    wp = cr.STATE_WORDS
    m = 0                                   # symbols decoded (for the lane rotation)
    low = np.int64(cr.WORD_MASK)
    lit = cinfo[LITERAL]
    prev = np.int64(-1)
    back = np.int64(-1)
    run = 0
    for j in range(lo, hi):
        if j > lo:
            t = min(run, RUN_CTX - 1) * GAP_CTX + _bucket(indices[j] - indices[j - 1])
            ci = cinfo[t]
            i = (ci >> 32) + (x0 & ci & low)
            f = fblut[i]
            if f == 0:                      # the sentinel: table t is absent
                info[0] = j
                info[1] = t
                return 5
            e = symlut[i]
            x = (f >> 40) * (x0 >> ((f >> 32) & 63)) + (f & low)
            if x < cr.RANS_L:
                if wp >= nwords:
                    info[0] = j
                    return 1
                x = (x << 32) | np.int64(words[wp])
                wp += 1
            x0, x1, x2, x3 = x1, x2, x3, x
            m += 1
            if e == SAME:
                out[j] = prev
                out32[j] = prev
                run += 1
                continue
            if e == BACK:
                if back < 0:
                    info[0] = j
                    return 6
                back, prev = prev, back
                run = 0
                out[j] = prev
                out32[j] = prev
                continue
        i = (lit >> 32) + (x0 & lit & low)
        f = fblut[i]
        if f == 0:
            info[0] = j
            info[1] = LITERAL
            return 5
        lab = np.int64(symlut[i])
        x = (f >> 40) * (x0 >> ((f >> 32) & 63)) + (f & low)
        if x < cr.RANS_L:
            if wp >= nwords:
                info[0] = j
                return 1
            x = (x << 32) | np.int64(words[wp])
            wp += 1
        x0, x1, x2, x3 = x1, x2, x3, x
        m += 1
        if lab == prev or lab == back:
            info[0] = j
            info[1] = lab
            info[2] = prev
            info[3] = back
            return 7
        back = prev
        prev = lab
        run = 0
        out[j] = lab
        out32[j] = lab
    xs[0], xs[1], xs[2], xs[3] = x0, x1, x2, x3
    return cr.end_states(xs, m, wp, nwords, info)


class Plan:
    __slots__ = ("tables", "sizes", "data_pos", "raw", "segs", "starts", "count")


def prepare(raw, class_count: int, count: int) -> Plan:
    raw = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    pl = Plan()
    pl.segs = cr.read_segment_count(raw, count, STREAM)
    pl.tables = cr.read_tables(raw, alphabets(class_count), STREAM)
    pos = cr.table_padding(raw, pl.tables.end_bit, STREAM)
    pl.sizes, pl.data_pos = _read_directory(raw, pos, pl.segs, STREAM)
    cr.finish_tables(pl.tables)
    pl.raw, pl.count = raw, count
    pl.starts = cr.segment_starts(count, pl.segs)
    return pl


def decode_segment(pl: Plan, s: int, indices, out, out32) -> None:
    pos = pl.data_pos + sum(pl.sizes[:s])
    words = cr.words_area(pl.raw, pos, pl.sizes[s], STREAM, s)
    tb = pl.tables
    info = np.zeros(4, dtype=np.int64)
    st = _decode_segment(words, tb.cinfo, tb.symlut, tb.fblut, indices, int(pl.starts[s]),
                         int(pl.starts[s + 1]), out, out32, info)
    if st == 0:
        return
    if st <= 4:
        cr.raise_words_status(st, info, STREAM, s, lambda j: f"label {j}")
    if st == 5:
        raise cr.absent_table_error(STREAM, s, int(info[1]), f"label {int(info[0])}")
    if st == 6:
        raise _no_back(int(info[0]))
    raise _not_canonical(int(info[0]), int(info[1]), int(info[2]), int(info[3]))


def decode_with_u32(raw, class_count: int, count: int, indices):
    raw = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    if count == 0:
        if raw.shape[0]:
            raise FormatError(f"{STREAM}: trailing bytes: expected 0 bytes, got "
                              f"{raw.shape[0]}")
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    pl = prepare(raw, class_count, count)
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    for s in range(pl.segs):
        decode_segment(pl, s, indices, out, out32)
    return out, out32


def decode(raw, class_count: int, count: int, indices) -> np.ndarray:
    return decode_with_u32(raw, class_count, count, indices)[0]


def raw_size_bound(class_count: int, count: int) -> int:
    """Segment_Count, the tables, 64 directory varints, and words: 8 per segment and at
    most one per symbol (two symbols per label)."""
    if count == 0:
        return 0
    segs = min(cr.SEGMENT_COUNT_MAX, count)
    return (1 + (cr.tables_bits_bound(tuple(alphabets(class_count).tolist())) + 7) // 8
            + 10 * segs
            + 4 * (2 * count + cr.STATE_WORDS * segs))


def applicable(class_count: int, count: int) -> bool:
    return 1 <= class_count <= (1 << 20)


def slot_bound(class_count: int) -> int:
    """Most slots the decode tables can have (for the decoder's memory budget)."""
    return LITERAL * (1 << cr.p_limit(EVENTS)) + (1 << cr.p_limit(class_count)) + 1
