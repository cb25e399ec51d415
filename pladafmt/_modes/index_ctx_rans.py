"""Index mode 3: `ctx-rans` (SPEC.md "Index mode 3: ctx-rans"): gap classes under static
context rANS, in segments.

Each gap is coded as v = g + 1 = 2^n + m: its *class* (n and the mantissa bit below the
leading one) through rANS with the table of context min(n_prev, 15), n_prev being the
previous gap's n in the segment, and the n - 1 lower mantissa bits as raw bits in the
segment's raw area. Why: clustered selections have short gaps after short gaps and long
jumps between clusters, which the n_prev context captures, at one table lookup per gap.

Stream: Segment_Count (1 byte) | 16 context tables (bit-packed, _coders.rans) | padding |
directory (per segment: base for s >= 1, word_bytes, raw_bytes) | per segment its word
area (R = 1 lane below 2048 items, else 4) and its raw area. Segments start with
n_prev = 0 and carry `base`, the index before their first item, so that they decode
independently; the decoder checks each base against the previous segment's last index.
"""

from __future__ import annotations

import numpy as np

from .._coders import rans as ra
from .._coders import segments as sg
from .._coders.bitio import BitReader, BitWriter, peek64, words_of
from .._coders.gaps import gaps as index_gaps
from .._coders.leb128 import write_varint_twin
from .._errors import FormatError, TruncatedError
from .._jit import njit
from .contract import CONTEXT, Mode, Segments

STREAM = "ctx-rans index"
N_MAX = 48                         # gaps < 2^48, so v = g + 1 <= 2^48 and n <= 48
CLASSES = 2 * N_MAX + 1            # class 0: n = 0; class 2n - 1 + top for n >= 1
CONTEXTS = 16                      # table min(n_prev, 15)
ALPHABETS = np.full(CONTEXTS, CLASSES, dtype=np.int64)
DIR_FIELDS = ("base", "word_bytes", "raw_bytes")
# the decode tables' slots (for the memory budget): every table at its largest P
SLOT_BOUND = ra.context_slots_bound(ALPHABETS)
# the tables' bit bound, once: a Python sum over the contexts cost ~25 us per decode
TABLES_BITS_BOUND = ra.context_tables_bits_bound(ALPHABETS)


def gap_class(v: int) -> tuple[int, int, int]:
    """(class, n, raw bits) of v = g + 1 >= 1: v = 2^n + m, class 0 for n = 0, else
    2n - 1 + (bit n - 1 of v); the raw field is the low n - 1 bits of v."""
    n = v.bit_length() - 1
    if n == 0:
        return 0, 0, 0
    return 2 * n - 1 + ((v >> (n - 1)) & 1), n, v & ((1 << (n - 1)) - 1) if n >= 2 else 0


def _classes(gaps: np.ndarray):
    """Vectorised gap_class: (class, n) per gap."""
    v = gaps + 1
    n = np.frexp(v.astype(np.float64))[1].astype(np.int64) - 1   # exact: v <= 2^48
    top = (v >> np.maximum(n - 1, 0)) & 1
    return np.where(n == 0, 0, 2 * n - 1 + top), n


def _contexts(n: np.ndarray, starts: np.ndarray) -> np.ndarray:
    nprev = np.empty_like(n)
    nprev[0] = 0
    nprev[1:] = n[:-1]
    nprev[starts[:-1]] = 0              # each segment starts afresh
    return np.minimum(nprev, CONTEXTS - 1)


@njit(cache=True, nogil=True)
def _pack_raw(gaps, n, lo, hi, out):
    """The raw fields of gaps lo..hi-1 (low n - 1 bits of g + 1 where n >= 2), LSB-first;
    returns the bytes written."""
    acc = np.uint64(0)
    nacc = 0
    pos = 0
    for j in range(lo, hi):
        w = n[j] - 1
        if w <= 0:
            continue
        v = np.uint64(gaps[j] + 1) & ((np.uint64(1) << np.uint64(w)) - np.uint64(1))
        acc |= v << np.uint64(nacc)
        nacc += w
        while nacc >= 8:
            out[pos] = acc & np.uint64(0xFF)
            pos += 1
            acc >>= np.uint64(8)
            nacc -= 8
        # nacc < 8 and w <= 47: acc never holds more than 55 bits
    if nacc:
        out[pos] = acc & np.uint64(0xFF)
        pos += 1
    return pos


def encode(indices: np.ndarray, pool_size: int) -> bytes:
    k = indices.size
    if k == 0:
        return b""
    gaps = index_gaps(indices)
    segs = sg.segment_count(k)
    starts = sg.segment_starts(k, segs)
    cls, n = _classes(gaps)
    tids = _contexts(n, starts)
    tables = ra.choose_context_tables(tids, cls, ALPHABETS)
    w = BitWriter()
    w.write(segs, 8)
    ra.write_context_tables(w, tables, ALPHABETS)
    off, freq, cum, prec = ra.dense_tables(tables, ALPHABETS)
    directory, data = [], []
    rawbuf = np.zeros(6 * k + 8, dtype=np.uint8)
    for s in range(segs):
        lo, hi = int(starts[s]), int(starts[s + 1])
        words = ra.encode_words(tids[lo:hi], cls[lo:hi], off, freq, cum, prec,
                                ra.lane_count(hi - lo))
        nraw = _pack_raw(gaps, n, lo, hi, rawbuf)
        if s:
            directory.append(write_varint_twin(int(indices[lo - 1])))
        directory += [write_varint_twin(len(words)), write_varint_twin(nraw)]
        data += [words, rawbuf[:nraw].tobytes()]
    return w.getvalue() + b"".join(directory) + b"".join(data)


def encode_twin(indices: list[int], pool_size: int) -> bytes:
    k = len(indices)
    if k == 0:
        return b""
    gaps = index_gaps(np.asarray(indices, dtype=np.int64)).tolist()
    segs = sg.segment_count(k)
    starts = sg.segment_starts(k, segs).tolist()
    pairs, raws = [], []              # per gap: (context, class); (raw value, width)
    for s in range(segs):
        n_prev = 0
        for g in gaps[starts[s]:starts[s + 1]]:
            c, n, m = gap_class(g + 1)
            pairs.append((min(n_prev, CONTEXTS - 1), c))
            raws.append((m, max(n - 1, 0)))
            n_prev = n
    tables = ra.choose_context_tables(np.array([t for t, _ in pairs]),
                                      np.array([c for _, c in pairs]), ALPHABETS)
    w = BitWriter()
    w.write(segs, 8)
    ra.write_context_tables(w, tables, ALPHABETS)
    directory, data = b"", b""
    for s in range(segs):
        lo, hi = starts[s], starts[s + 1]
        words = ra.encode_words_twin(pairs[lo:hi], tables, ra.lane_count(hi - lo))
        rw = BitWriter()
        for m, width in raws[lo:hi]:
            rw.write(m, width)
        raw = rw.getvalue()
        if s:
            directory += write_varint_twin(indices[lo - 1])
        directory += write_varint_twin(len(words)) + write_varint_twin(len(raw))
        data += words + raw
    return w.getvalue() + directory + data


# ---------------------------------------------------------------------------------------
# decoding

def _read_directory(raw, pos, segs, pool_size):
    """Rows (base, word_bytes, raw_bytes) per segment (base -1 for segment 0) and the
    offset of the segment data; every base must leave room for its segment (<= N - 2)."""
    rows = []
    for s in range(segs):
        names = [f"{f} of segment {s}" for f in DIR_FIELDS[(0 if s else 1):]]
        vals, pos = sg.read_varints(raw, pos, names, STREAM)
        if s == 0:
            vals = [-1] + vals
        elif vals[0] > pool_size - 2:
            raise FormatError(f"{STREAM}: base of segment {s} must be <= pool_size - 2 = "
                              f"{pool_size - 2}, got {vals[0]}")
        rows.append(vals)
    sg.check_data_length(raw, pos, sum(r[1] + r[2] for r in rows), STREAM)
    return rows, pos


def _empty_stream(n):
    if n:
        raise FormatError(f"{STREAM}: trailing bytes: expected 0 bytes, got {n}")


def _finish_raw(bits: BitReader, nraw: int, s: int) -> None:
    """The raw area ends in the byte holding its last bit, with zero padding."""
    used = (bits.bitpos + 7) >> 3
    if used != nraw:
        raise _raw_long_error(s, bits.bitpos, nraw)
    if bits.bitpos & 7 and bits.raw[-1] >> (bits.bitpos & 7):
        raise _raw_padding_error(s)


def _raw_long_error(s, used_bits, nraw):
    return FormatError(f"{STREAM}: trailing bytes: raw area of segment {s} expected "
                       f"{(used_bits + 7) >> 3} bytes, got {nraw}")


def _raw_padding_error(s):
    return FormatError(f"{STREAM}: padding bits of the raw area of segment {s} must be zero")


def _base_error(s, base, last):
    return FormatError(f"{STREAM}: base of segment {s} must equal the last index of segment "
                       f"{s - 1}, {last}, got {base}")


def _range_error(j, limit, pool_size):
    return FormatError(f"{STREAM}: gap {j} must be <= {limit} so that index {j} stays below "
                       f"pool_size {pool_size}")


def decode_twin(raw: bytes, pool_size: int, count: int) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        _empty_stream(len(raw))
        return []
    segs = sg.read_segment_count(raw, count, STREAM)
    rd = BitReader(raw, STREAM)
    rd.bitpos = 8
    tables = ra.read_context_tables_twin(rd, ALPHABETS, STREAM)
    pos = ra.table_padding(raw, rd.bitpos, STREAM)
    rows, pos = _read_directory(raw, pos, segs, pool_size)
    starts = sg.segment_starts(count, segs).tolist()
    out = []
    for s, (base, nwords, nraw) in enumerate(rows):
        if s and out[-1] != base:
            raise _base_error(s, base, out[-1])
        lo, hi = starts[s], starts[s + 1]
        area = ra.WordsTwin(raw[pos:pos + nwords], tables, ra.lane_count(hi - lo), STREAM, s)
        bits = BitReader(raw[pos + nwords:pos + nwords + nraw], STREAM)
        pos += nwords + nraw
        prev, n_prev = base, 0
        for j in range(lo, hi):
            c = area.symbol(min(n_prev, CONTEXTS - 1), f"gap {j}")
            if c == 0:
                n, v = 0, 1
            else:
                n, top = (c + 1) >> 1, (c + 1) & 1
                m = bits.read(n - 1, f"raw bits of gap {j}") if n >= 2 else 0
                v = ((2 | top) << (n - 1)) | m
            limit = pool_size - 2 - prev
            if v - 1 > limit:
                raise _range_error(j, limit, pool_size)
            area.step(f"gap {j}")           # the gap's value is checked: now its word
            prev += v
            out.append(prev)
            n_prev = n
        area.finish()
        _finish_raw(bits, nraw, s)
    return out


_ABSENT, _RAW_TRUNC, _RANGE, _RAW_LONG, _RAW_PAD = 5, 6, 7, 8, 9


@njit(cache=True, nogil=True)
def _decode_segment(words, lanes, bits, bit_lo, bit_hi, cinfo, chain, pool_size, base, out,
                    lo, hi, info):
    """Decode items lo..hi-1 of one segment into out. bits: the whole stream as uint64
    words (words_of, 2 slack words); the segment's raw area is bits bit_lo..bit_hi-1.
    chain: one word per slot of the lookup tables (see _chain_tables) holding the rANS step
    and where the next gap's lookup goes, so that the chain from one gap's lookup to the
    next is one load, an and and an add. Per gap, as the twin: the class (absent table),
    its raw bits, the range check, then the state step and its word.
    Returns 0, a rans.W_* status, _ABSENT (info[0] = item, info[1] = table), _RAW_TRUNC
    (info[0] = item, info[1] = width, info[2] = bits left), _RANGE (info[0] = item,
    info[1] = limit), _RAW_LONG (info[0] = bits used) or _RAW_PAD."""
    nwords = words.shape[0]
    xs = np.full(ra.WIDE_LANES, ra.RANS_L, dtype=np.int64)
    st = ra.load_states(words, xs, lanes, info)
    if st:
        return st
    wide = lanes == ra.WIDE_LANES
    x0, x1, x2, x3 = xs[0], xs[1], xs[2], xs[3]
    wp = 2 * lanes
    p = bit_lo
    prev = base
    ci = cinfo[0]                          # context 0: n_prev = 0
    top_limit = pool_size - 2              # gap limit is top_limit - prev
    for j in range(lo, hi):
        i = (ci >> 47) + (x0 & ci & 0x3FF)
        e = chain[i]
        if e == 0:                         # the sentinel: this context's table is absent
            info[0] = j
            info[1] = (ci >> 43) & 15
            return _ABSENT
        # branch-free from here to the raw bits: n of clustered gaps is close to random,
        # and a branch on it would mispredict every few gaps
        ci = e
        w = (e >> 35) & 63
        v = ((2 | ((e >> 41) & 1)) << w) >> ((e >> 42) & 1)
        if p + w > bit_hi:
            info[0] = j
            info[1] = w
            info[2] = bit_hi - p
            return _RAW_TRUNC
        v |= np.int64(peek64(bits, p) & ((np.uint64(1) << np.uint64(w)) - np.uint64(1)))
        p += w
        limit = top_limit - prev
        if v - 1 > limit:
            info[0] = j
            info[1] = limit
            return _RANGE
        x = ((e >> 20) & 0x7FF) * (x0 >> ((e >> 31) & 15)) + ((e >> 10) & 0x3FF)
        if x < ra.RANS_L:
            if wp >= nwords:
                info[0] = j
                return ra.W_TRUNCATED
            x = (x << 32) | np.int64(words[wp])
            wp += 1
        if wide:                           # the next gap's lane first
            x0, x1, x2, x3 = x1, x2, x3, x
        else:
            x0 = x
        prev += v
        out[j] = prev
    xs[0], xs[1], xs[2], xs[3] = x0, x1, x2, x3
    st = ra.end_states(xs, hi - lo, lanes, wp, nwords, info)
    if st:
        return st
    used = (p - bit_lo + 7) >> 3
    if bit_lo + 8 * used != bit_hi:
        info[0] = p - bit_lo
        return _RAW_LONG
    if p != bit_hi and (peek64(bits, p) & ((np.uint64(1) << np.uint64(bit_hi - p))
                                           - np.uint64(1))) != np.uint64(0):
        return _RAW_PAD
    return 0


@njit(cache=True, nogil=True)
def _chain_tables(cinfo, symlut, fblut, ccinfo, chain):
    """The decode kernel's packed slot words. For a slot of class c (n, top), frequency
    f <= 2^10, slot - cum = u and precision P <= 10 of its table, with t' = min(n, 15) the
    next gap's context:
        bits 0-9 mask of t' | 10-19 u | 20-30 f | 31-34 P | 35-40 n - 1 (raw width, 0 for
        n = 0) | 41 top | 42 (n = 0) | 43-46 t' | 47-62 first slot of t'
    ccinfo[t] = the same for a lookup into table t (mask, t, first slot). An absent table
    has first slot = the sentinel (last slot, word 0) and mask 0. Index tables have
    P <= 10 (their alphabet has 97 classes), so the fields fit."""
    sentinel = symlut.shape[0] - 1
    for t in range(CONTEXTS):
        base = cinfo[t] >> 32
        ccinfo[t] = (base << 47) | (np.int64(t) << 43) | (cinfo[t] & 0x3FF)
    for s in range(sentinel):
        c = np.int64(symlut[s])
        e = fblut[s]
        n = (c + 1) >> 1
        nt = min(n, CONTEXTS - 1)
        chain[s] = (ccinfo[nt] | ((e & 0x3FF) << 10) | (((e >> 40) & 0x7FF) << 20)
                    | (((e >> 32) & 15) << 31) | (max(n - 1, 0) << 35)
                    | (((c + 1) & 1) << 41) | (np.int64(n == 0) << 42))
    chain[sentinel] = 0


class Plan:
    """A parsed stream: tables, directory and the arrays the segment kernel reads."""

    __slots__ = ("rows", "offsets", "data_pos", "raw", "bits", "segs", "starts", "pool_size",
                 "count", "cinfo", "chain")


def prepare(raw, pool_size: int, count: int) -> Plan:
    """Parse Segment_Count, the tables and the directory; build the decode tables (the
    container has charged their bound, decode_memory, to its budget)."""
    pl = Plan()
    pl.segs = sg.read_segment_count(raw, count, STREAM)
    tables = ra.read_context_tables(raw, ALPHABETS, STREAM)
    pos = ra.table_padding(raw, tables.end_bit, STREAM)
    pl.rows, pl.data_pos = _read_directory(raw, pos, pl.segs, pool_size)
    pl.offsets = np.cumsum([pl.data_pos] + [r[1] + r[2] for r in pl.rows]).tolist()
    pl.cinfo = np.empty(CONTEXTS, dtype=np.int64)
    pl.chain = np.empty(tables.slots, dtype=np.int64)
    _chain_tables(tables.cinfo, tables.symlut, tables.fblut, pl.cinfo, pl.chain)
    pl.raw, pl.pool_size, pl.count = raw, pool_size, count
    pl.bits = words_of(raw, 2)
    pl.starts = sg.segment_starts(count, pl.segs)
    return pl


def decode_segment(pl: Plan, s: int, out: np.ndarray) -> None:
    """Decode segment s into out[starts[s]:starts[s + 1]] (out holds all count items)."""
    pos = pl.offsets[s]
    base, nwords, nraw = pl.rows[s]
    lo, hi = int(pl.starts[s]), int(pl.starts[s + 1])
    lanes = ra.lane_count(hi - lo)
    words = ra.words_area(pl.raw, pos, nwords, lanes, STREAM, s)
    info = np.zeros(4, dtype=np.int64)
    st = _decode_segment(words, lanes, pl.bits, 8 * (pos + nwords), 8 * (pos + nwords + nraw),
                         pl.cinfo, pl.chain, pl.pool_size, base, out, lo, hi, info)
    if st == 0:
        return
    if st < _ABSENT:
        ra.raise_words_status(st, info, STREAM, s, lambda j: f"gap {j}")
    if st == _ABSENT:
        raise ra.absent_table_error(STREAM, s, int(info[1]), f"gap {int(info[0])}")
    if st == _RAW_TRUNC:
        raise TruncatedError(f"{STREAM}: stream ends inside raw bits of gap {int(info[0])}: "
                             f"needs {int(info[1])} bits, {int(info[2])} left")
    if st == _RANGE:
        raise _range_error(int(info[0]), int(info[1]), pl.pool_size)
    if st == _RAW_LONG:
        raise _raw_long_error(s, int(info[0]), nraw)
    raise _raw_padding_error(s)


def check_base(pl: Plan, out: np.ndarray, s: int) -> None:
    """Segment s's base must equal the last index of segment s - 1 (decoded before)."""
    if s == 0:
        return
    last = int(out[pl.starts[s] - 1])
    if pl.rows[s][0] != last:
        raise _base_error(s, pl.rows[s][0], last)


def decode(raw, pool_size: int, count: int) -> np.ndarray:
    if count == 0:
        _empty_stream(raw.shape[0])
        return np.empty(0, dtype=np.int64)
    pl = prepare(raw, pool_size, count)
    out = np.empty(count, dtype=np.int64)
    for s in range(pl.segs):
        check_base(pl, out, s)
        decode_segment(pl, s, out)
    return out


def raw_size_bound(pool_size: int, count: int) -> int:
    """Segment_Count, the tables, S = min(64, k) directory rows of three 10-byte varints,
    4-byte words (the state words of S areas, at most one more per gap), and at most 47
    raw bits per gap plus a byte of padding per segment."""
    if count == 0:
        return 0
    segs = min(sg.SEGMENT_COUNT_MAX, count)
    return (1 + (TABLES_BITS_BOUND + 7) // 8 + 30 * segs
            + 4 * (count + ra.state_words_bound(count, segs)) + (47 * count + 7) // 8 + segs)


MODE = Mode(3, "ctx-rans", "index", encode, decode, encode_twin, decode_twin, raw_size_bound,
            # slot tables at 12 B + 8 B of chain words per slot, the aligned copies of the
            # word areas and the stream as 64-bit words (+ 2 slack words)
            decode_memory=lambda size, count, raw_len: 20 * SLOT_BOUND + 2 * raw_len + 24
            if count else 0,
            decode_class=CONTEXT,
            segments=Segments(prepare, decode_segment, check_base))
