"""Label mode 2: `ctx-rans` (SPEC.md "Label mode 2: ctx-rans"): same/back/new events under
static context rANS, in the index stream's segments.

Per label, one *event* through rANS: same as the previous label (0), back to the label of
the run before (1), or new (2), with the table of context min(run, 3) * 16 + gap bucket
(the bucket of the index step before the label); a new label is then coded with the
literal table (context 64). The first label of each segment is a literal with no event.
Why: these contexts capture how labels repeat inside a synset-ordered pool, and static
two-pass tables code them at one or two table lookups per label.

Stream: Segment_Count | 65 context tables | padding | directory (word_bytes per segment)
| the word areas (R = 1 lane below 2048 items in the segment, else 4; symbol n of the
segment in lane n mod R). Segment s holds the labels of the index stream's segment s and
reads the indices of the same items (and the one before them for the gap bucket).
"""

from __future__ import annotations

import functools

import numpy as np

from .._coders import rans as ra
from .._coders import segments as sg
from .._coders.bitio import BitReader, BitWriter
from .._coders.gaps import GAP_BUCKETS, gap_bucket, gap_bucket_kernel
from .._coders.leb128 import write_varint_twin
from .._errors import FormatError
from .._jit import njit
from .contract import CONTEXT, Mode, Segments

STREAM = "ctx-rans labels"
RUN_CTX = 4                       # event context: min(run, 3) * 16 + gap bucket
EVENTS = 3
SAME, BACK, NEW = 0, 1, 2
LITERAL = RUN_CTX * GAP_BUCKETS   # table 64: the literal labels


def alphabets(class_count: int) -> np.ndarray:
    a = np.full(LITERAL + 1, EVENTS, dtype=np.int64)
    a[LITERAL] = class_count
    return a


# The two bounds below are Python sums over the 65 contexts, called on every decode (raw
# size bound, memory budget): ~0.1 ms a decode uncached, as much as 10 % of decoding a
# 1 %-of-IN-21K payload, so they are kept per class count.
@functools.lru_cache(maxsize=64)
def slot_bound(class_count: int) -> int:
    """Most slots the decode tables can have (for the decoder's memory budget)."""
    return ra.context_slots_bound(alphabets(class_count))


@functools.lru_cache(maxsize=64)
def _tables_bytes_bound(class_count: int) -> int:
    return (ra.context_tables_bits_bound(alphabets(class_count)) + 7) // 8


# ---------------------------------------------------------------------------------------
# the model (twin and kernel)

def events_twin(labels, indices, lo, hi):
    """(context, symbol) pairs of labels lo..hi-1 (one segment), in decode order."""
    pairs = []
    prev, back, run = -1, -1, 0
    for j in range(lo, hi):
        lab = int(labels[j])
        if j > lo:
            t = min(run, RUN_CTX - 1) * GAP_BUCKETS + gap_bucket(indices[j] - indices[j - 1])
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
                t = (min(run, RUN_CTX - 1) * GAP_BUCKETS
                     + gap_bucket_kernel(indices[j] - indices[j - 1]))
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
    k = labels.size
    if k == 0:
        return b""
    segs = sg.segment_count(k)
    starts = sg.segment_starts(k, segs)
    tids = np.empty(2 * k, dtype=np.int64)
    syms = np.empty(2 * k, dtype=np.int64)
    pstarts = _events(labels, indices, starts, tids, syms)
    m = int(pstarts[-1])
    tids, syms = tids[:m], syms[:m]
    alph = alphabets(class_count)
    tables = ra.choose_context_tables(tids, syms, alph)
    w = BitWriter()
    w.write(segs, 8)
    ra.write_context_tables(w, tables, alph)
    off, freq, cum, prec = ra.dense_tables(tables, alph)
    directory, data = [], []
    for s in range(segs):
        lo, hi = int(pstarts[s]), int(pstarts[s + 1])
        words = ra.encode_words(tids[lo:hi], syms[lo:hi], off, freq, cum, prec,
                                ra.lane_count(int(starts[s + 1] - starts[s])))
        directory.append(write_varint_twin(len(words)))
        data.append(words)
    return w.getvalue() + b"".join(directory) + b"".join(data)


def encode_twin(labels, class_count: int, indices) -> bytes:
    k = len(labels)
    if k == 0:
        return b""
    labels, indices = [int(v) for v in labels], [int(v) for v in indices]
    segs = sg.segment_count(k)
    starts = sg.segment_starts(k, segs).tolist()
    seg_pairs = [events_twin(labels, indices, starts[s], starts[s + 1]) for s in range(segs)]
    every = [p for sp in seg_pairs for p in sp]
    alph = alphabets(class_count)
    tables = ra.choose_context_tables(np.array([t for t, _ in every]),
                                      np.array([y for _, y in every]), alph)
    w = BitWriter()
    w.write(segs, 8)
    ra.write_context_tables(w, tables, alph)
    areas = [ra.encode_words_twin(sp, tables, ra.lane_count(starts[s + 1] - starts[s]))
             for s, sp in enumerate(seg_pairs)]
    return (w.getvalue() + b"".join(write_varint_twin(len(a)) for a in areas)
            + b"".join(areas))


# ---------------------------------------------------------------------------------------
# decoding

def _read_directory(raw, pos, segs):
    names = [f"word_bytes of segment {s}" for s in range(segs)]
    sizes, pos = sg.read_varints(raw, pos, names, STREAM)
    sg.check_data_length(raw, pos, sum(sizes), STREAM)
    return sizes, pos


def _empty_stream(n):
    if n:
        raise FormatError(f"{STREAM}: trailing bytes: expected 0 bytes, got {n}")


def _not_canonical(j, lab, prev, back):
    return FormatError(f"{STREAM}: label {j} coded in full must differ from the previous "
                       f"label {prev} and the one before the run {back}, got {lab}")


def _no_back(j):
    return FormatError(f"{STREAM}: label {j}: back event with no earlier run")


def decode_twin(raw: bytes, class_count: int, count: int, indices) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        _empty_stream(len(raw))
        return []
    indices = [int(v) for v in indices]
    segs = sg.read_segment_count(raw, count, STREAM)
    alph = alphabets(class_count)
    rd = BitReader(raw, STREAM)
    rd.bitpos = 8
    tables = ra.read_context_tables_twin(rd, alph, STREAM)
    pos = ra.table_padding(raw, rd.bitpos, STREAM)
    sizes, pos = _read_directory(raw, pos, segs)
    starts = sg.segment_starts(count, segs).tolist()
    out = []
    for s in range(segs):
        lo, hi = starts[s], starts[s + 1]
        area = ra.WordsTwin(raw[pos:pos + sizes[s]], tables, ra.lane_count(hi - lo), STREAM, s)
        pos += sizes[s]
        prev, back, run = -1, -1, 0
        for j in range(lo, hi):
            what = f"label {j}"
            if j > lo:
                t = min(run, RUN_CTX - 1) * GAP_BUCKETS + gap_bucket(indices[j] - indices[j - 1])
                e = area.symbol(t, what)
                if e == BACK and back < 0:
                    raise _no_back(j)
                area.step(what)
                if e == SAME:
                    out.append(prev)
                    run += 1
                    continue
                if e == BACK:
                    back, prev, run = prev, back, 0
                    out.append(prev)
                    continue
            lab = area.symbol(LITERAL, what)
            if lab == prev or lab == back:
                raise _not_canonical(j, lab, prev, back)
            area.step(what)
            back, prev, run = prev, lab, 0
            out.append(lab)
        area.finish()
    return out


_ABSENT, _NO_BACK, _NOT_CANONICAL = 5, 6, 7


@njit(cache=True, nogil=True)
def _decode_segment(words, lanes, cinfo, symlut, fblut, indices, lo, hi, out, out32, info):
    """Decode labels lo..hi-1 of one segment (indices: all decoded indices). Per symbol,
    as the twin: its slot's symbol (absent table), its value checks, then the state step
    and its word. Returns 0, a rans.W_* status, _ABSENT (info[0] = label, info[1] =
    table), _NO_BACK (info[0] = label) or _NOT_CANONICAL (info[0] = label, info[1] =
    literal, info[2] = prev, info[3] = back). A step with table t: slot i = base +
    (x & mask) from cinfo[t], then one load each of fblut and symlut (the helper functions
    are written out: Numba's inlining of array arguments cost ~5x here)."""
    nwords = words.shape[0]
    xs = np.full(ra.WIDE_LANES, ra.RANS_L, dtype=np.int64)
    st = ra.load_states(words, xs, lanes, info)
    if st:
        return st
    wide = lanes == ra.WIDE_LANES
    x0, x1, x2, x3 = xs[0], xs[1], xs[2], xs[3]
    wp = 2 * lanes
    m = 0                                   # symbols decoded (for the lane rotation)
    low = np.int64(ra.WORD_MASK)
    lit = cinfo[LITERAL]
    prev = np.int64(-1)
    back = np.int64(-1)
    run = 0
    for j in range(lo, hi):
        if j > lo:
            t = min(run, RUN_CTX - 1) * GAP_BUCKETS + gap_bucket_kernel(indices[j] - indices[j - 1])
            ci = cinfo[t]
            i = (ci >> 32) + (x0 & ci & low)
            f = fblut[i]
            if f == 0:                      # the sentinel: table t is absent
                info[0] = j
                info[1] = t
                return _ABSENT
            e = symlut[i]
            if e == BACK and back < 0:
                info[0] = j
                return _NO_BACK
            x = (f >> 40) * (x0 >> ((f >> 32) & 63)) + (f & low)
            if x < ra.RANS_L:
                if wp >= nwords:
                    info[0] = j
                    return ra.W_TRUNCATED
                x = (x << 32) | np.int64(words[wp])
                wp += 1
            if wide:
                x0, x1, x2, x3 = x1, x2, x3, x
            else:
                x0 = x
            m += 1
            if e == SAME:
                out[j] = prev
                out32[j] = prev
                run += 1
                continue
            if e == BACK:
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
            return _ABSENT
        lab = np.int64(symlut[i])
        if lab == prev or lab == back:
            info[0] = j
            info[1] = lab
            info[2] = prev
            info[3] = back
            return _NOT_CANONICAL
        x = (f >> 40) * (x0 >> ((f >> 32) & 63)) + (f & low)
        if x < ra.RANS_L:
            if wp >= nwords:
                info[0] = j
                return ra.W_TRUNCATED
            x = (x << 32) | np.int64(words[wp])
            wp += 1
        if wide:
            x0, x1, x2, x3 = x1, x2, x3, x
        else:
            x0 = x
        m += 1
        back = prev
        prev = lab
        run = 0
        out[j] = lab
        out32[j] = lab
    xs[0], xs[1], xs[2], xs[3] = x0, x1, x2, x3
    return ra.end_states(xs, m, lanes, wp, nwords, info)


class Plan:
    __slots__ = ("tables", "sizes", "offsets", "raw", "segs", "starts", "count")


def prepare(raw, class_count: int, count: int) -> Plan:
    pl = Plan()
    pl.segs = sg.read_segment_count(raw, count, STREAM)
    pl.tables = ra.read_context_tables(raw, alphabets(class_count), STREAM)
    pos = ra.table_padding(raw, pl.tables.end_bit, STREAM)
    pl.sizes, data_pos = _read_directory(raw, pos, pl.segs)
    pl.offsets = np.cumsum([data_pos] + pl.sizes).tolist()
    pl.raw, pl.count = raw, count
    pl.starts = sg.segment_starts(count, pl.segs)
    return pl


def decode_segment(pl: Plan, s: int, indices, out, out32) -> None:
    lo, hi = int(pl.starts[s]), int(pl.starts[s + 1])
    lanes = ra.lane_count(hi - lo)
    words = ra.words_area(pl.raw, pl.offsets[s], pl.sizes[s], lanes, STREAM, s)
    tb = pl.tables
    info = np.zeros(4, dtype=np.int64)
    st = _decode_segment(words, lanes, tb.cinfo, tb.symlut, tb.fblut, indices, lo, hi, out,
                         out32, info)
    if st == 0:
        return
    if st < _ABSENT:
        ra.raise_words_status(st, info, STREAM, s, lambda j: f"label {j}")
    if st == _ABSENT:
        raise ra.absent_table_error(STREAM, s, int(info[1]), f"label {int(info[0])}")
    if st == _NO_BACK:
        raise _no_back(int(info[0]))
    raise _not_canonical(int(info[0]), int(info[1]), int(info[2]), int(info[3]))


def decode_u32(raw, class_count: int, count: int, indices):
    """(labels as int64, the same as uint32: the Content_Checksum form) in one pass."""
    if count == 0:
        _empty_stream(raw.shape[0])
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    pl = prepare(raw, class_count, count)
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    for s in range(pl.segs):
        decode_segment(pl, s, indices, out, out32)
    return out, out32


def decode(raw, class_count: int, count: int, indices) -> np.ndarray:
    return decode_u32(raw, class_count, count, indices)[0]


def raw_size_bound(class_count: int, count: int) -> int:
    """Segment_Count, the tables, S = min(64, k) directory varints, and words: the state
    words of S areas, and at most one more per symbol (two symbols per label)."""
    if count == 0:
        return 0
    segs = min(sg.SEGMENT_COUNT_MAX, count)
    return (1 + _tables_bytes_bound(class_count) + 10 * segs
            + 4 * (2 * count + ra.state_words_bound(count, segs)))


MODE = Mode(2, "ctx-rans", "label", encode, decode, encode_twin, decode_twin, raw_size_bound,
            # slot tables at 12 B per slot, the aligned copies of the word areas, and the
            # uint32 labels
            decode_memory=lambda size, count, raw_len: 12 * slot_bound(size) + raw_len
            + 4 * count if count else 0,
            decode_class=CONTEXT, needs_indices=True, decode_u32=decode_u32,
            segments=Segments(prepare, decode_segment, None))
