"""The static rANS engine (SPEC.md "Shared coders: rANS"), used by label mode 1 `rans` and
both `ctx-rans` modes: frequency tables (the encoder's choice, the bit layout, the readers
and their errors), the lane rule, and word areas (the encoder kernel, the decoders' state
helpers, the readable twins, and their errors).

A table is `precision` P (5 bits), `symbol_count_minus_1` D - 1 (bitlen(A - 1) bits, A the
table's alphabet), Rice parameters rs and rf (5 bits each), then per present symbol
Rice_rs(symbol gap) and Rice_rf(frequency); frequencies sum to 2^P. A word area codes the
symbols of n items with R = lane_count(n) interleaved 64-bit states (item i in lane
i mod R), L = 2^31, 32-bit little-endian words: the R initial states (2 words each, lane 0
first, low word first), then the renormalisation words of all lanes in the order the
decoder reads them. Every final state must equal L.

Why R depends on n: 4 lanes let a decoder overlap four dependency chains on large streams,
but cost 24 bytes of states over one lane; on k ~ 1,200 labels that made `rans` lose to
Huffman. Below RANS_WIDE_MIN_ITEMS items one lane is both smaller and fast enough.
"""

from __future__ import annotations

import bisect

import numpy as np

from .._errors import FormatError, TruncatedError
from .._jit import njit
from .bitio import BitReader, BitWriter
from .gaps import bitlen, bitlen_kernel

P_BITS = 5              # width of the precision field
P_MAX = 24              # 2^24 slots: enough for 2^20 classes with room to spare
RICE_PARAM_BITS = 5     # width of the table's two Rice parameters
RANS_L = 1 << 31        # lower bound of the normalised state; also the initial/final state
STATE_MAX = 1 << 63     # states are < 2^63 (so int64 arithmetic never overflows)
WORD_MASK = (1 << 32) - 1
RANS_WIDE_MIN_ITEMS = 2048   # a word area of at least this many items has WIDE_LANES lanes
WIDE_LANES = 4
TABLE_FIXED_BITS = P_BITS + 20 + 2 * RICE_PARAM_BITS   # widest fixed fields (C <= 2^20)


def lane_count(items: int) -> int:
    """R, the lanes of a word area coding the symbols of `items` items."""
    return 1 if items < RANS_WIDE_MIN_ITEMS else WIDE_LANES


def state_words_bound(count: int, areas: int) -> int:
    """Most initial-state words `areas` word areas over `count` items can have: 2 per lane,
    and only areas of >= RANS_WIDE_MIN_ITEMS items have 4 lanes (for raw size bounds)."""
    return 2 * areas + 2 * (WIDE_LANES - 1) * min(areas, count // RANS_WIDE_MIN_ITEMS)


# ---------------------------------------------------------------------------------------
# encoder policy (not normative: any table that sums to 2^P and covers the symbols is valid)

def quantize(counts: np.ndarray, precision: int) -> np.ndarray:
    """Scale counts (all >= 1, in symbol order) to frequencies summing to 2^precision.

    f = max(1, floor(c * 2^P / n)); a shortfall goes +1 each to the largest remainders
    (c * 2^P mod n; ties: smaller symbol first); an excess (from raising zeros to 1) is
    taken from the largest frequencies (ties: smaller symbol first), never below 1.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    target = 1 << precision
    scaled = counts * target                         # < 2^32 * 2^24: fits int64
    f = np.maximum(scaled // total, 1)
    s = int(f.sum())
    if s < target:
        rem = scaled % total
        order = np.lexsort((np.arange(f.size), -rem))  # largest remainder, then symbol
        f[order[:target - s]] += 1
    elif s > target:
        excess = s - target
        order = np.lexsort((np.arange(f.size), -f))
        for j in order:
            d = min(excess, int(f[j]) - 1)
            f[j] -= d
            excess -= d
            if excess == 0:
                break
    return f


def _rice_bits(values: np.ndarray, r: int) -> int:
    return int((values >> r).sum()) + values.size * (r + 1)


def best_rice_param(values: np.ndarray) -> int:
    """Rice parameter in 0..31 with the fewest bits; ties: smaller r."""
    costs = [_rice_bits(values, r) for r in range(1 << RICE_PARAM_BITS)]
    return costs.index(min(costs))


def choose_table(counts: np.ndarray, p_cap: int):
    """(P, symbols, freqs) for symbol counts dense over the alphabet, or None when nothing
    is coded. P ranges over bitlen(D - 1) ... max(bitlen(D - 1), min(p_cap, bitlen(n) + 1))
    (n symbols coded: a finer table than the counts buys nothing) and is the one with the
    smallest estimated stream, sum(c * (P - log2 f)) plus the table's Rice bits; first on
    ties."""
    symbols = np.flatnonzero(counts).astype(np.int64)
    if symbols.size == 0:
        return None
    c = np.asarray(counts, dtype=np.int64)[symbols]
    p_min = bitlen(symbols.size - 1)
    p_hi = max(p_min, min(p_cap, bitlen(int(c.sum())) + 1))
    gaps = np.diff(symbols, prepend=-1) - 1
    gap_bits = _rice_bits(gaps, best_rice_param(gaps))
    best = None
    for p in range(p_min, p_hi + 1):
        f = quantize(c, p)
        cost = float((c * (p - np.log2(f))).sum()) + _rice_bits(f, best_rice_param(f)) + gap_bits
        if best is None or cost < best[0]:
            best = (cost, p, f)
    return best[1], symbols, best[2]


# ---------------------------------------------------------------------------------------
# one table: layout, twin reader, kernel reader, errors ("where" prefixes each message:
# "rans" for label mode 1, "<stream>: table t" for a context table)

def write_table(w: BitWriter, table, alphabet: int) -> None:
    precision, symbols, freqs = table
    gaps = np.diff(np.asarray(symbols, dtype=np.int64), prepend=-1) - 1
    freqs = np.asarray(freqs, dtype=np.int64)
    rs = best_rice_param(gaps)
    rf = best_rice_param(freqs)
    w.write(precision, P_BITS)
    w.write(len(symbols) - 1, bitlen(alphabet - 1))
    w.write(rs, RICE_PARAM_BITS)
    w.write(rf, RICE_PARAM_BITS)
    for g, f in zip(gaps.tolist(), freqs.tolist()):
        w.write_rice(g, rs)
        w.write_rice(f, rf)


def read_table_twin(rd: BitReader, alphabet: int, p_max: int, where: str):
    """One table, field by field: (P, symbols, freqs)."""
    precision = rd.read(P_BITS, "precision")
    if precision > p_max:
        raise precision_error(where, p_max, precision)
    d = rd.read(bitlen(alphabet - 1), "symbol_count_minus_1") + 1
    if d > alphabet:            # before any entry is read
        raise FormatError(f"{where}: symbol_count must be <= class_count {alphabet}, got {d}")
    rs = rd.read(RICE_PARAM_BITS, "rs")
    rf = rd.read(RICE_PARAM_BITS, "rf")
    total = 1 << precision
    symbols, freqs = [], []
    sym = -1
    fsum = 0
    for j in range(d):
        limit = alphabet - 2 - sym               # largest gap keeping the symbol < A
        q = rd.read_unary(f"symbol gap {j}", limit >> rs)
        if q > (limit >> rs):                    # checked before the low bits are read
            raise _symbol_error(where, j, alphabet)
        g = (q << rs) | rd.read(rs, f"symbol gap {j}")
        if g > limit:
            raise _symbol_error(where, j, alphabet)
        sym += 1 + g
        limit = total - fsum                     # largest frequency keeping sum <= 2^P
        q = rd.read_unary(f"frequency {j}", limit >> rf)
        if q > (limit >> rf):
            raise _sum_error(where, precision, j)
        f = (q << rf) | rd.read(rf, f"frequency {j}")
        if f > limit:
            raise _sum_error(where, precision, j)
        if f == 0:
            raise _zero_error(where, sym)
        fsum += f
        symbols.append(sym)
        freqs.append(f)
    if fsum != total:
        raise _final_sum_error(where, precision, fsum)
    return precision, symbols, freqs


def table_padding(raw, bitpos: int, where: str) -> int:
    """Byte offset after a bit-packed table part; its padding bits must be zero."""
    end = (bitpos + 7) >> 3
    if bitpos & 7 and int(raw[end - 1]) >> (bitpos & 7):
        raise FormatError(f"{where}: table padding bits must be zero, got "
                          f"{int(raw[end - 1]) >> (bitpos & 7):#x}")
    return end


def precision_error(where, p_max, p):
    return FormatError(f"{where}: precision must be <= {p_max}, got {p}")


def _symbol_error(where, j, alphabet):
    return FormatError(f"{where}: symbol {j} of the table must be < class_count {alphabet}, "
                       "got a larger one")


def _sum_error(where, precision, j):
    return FormatError(f"{where}: frequencies must sum to 2^precision = {1 << precision}, "
                       f"exceeded at table entry {j}")


def _final_sum_error(where, precision, fsum):
    return FormatError(f"{where}: frequencies must sum to 2^precision = {1 << precision}, "
                       f"got {fsum}")


def _zero_error(where, sym):
    return FormatError(f"{where}: frequency of symbol {sym} must be >= 1, got 0")


_OK, _TRUNC_FIELD, _TRUNC_UNARY, _PRECISION, _SYMCOUNT, _SYMBOL, _SUM, _ZERO, _FINAL_SUM = \
    range(9)
_FIELD = ("precision", "symbol_count_minus_1", "rs", "rf", "symbol gap", "frequency")


@njit(cache=True, nogil=True)
def read_table_kernel(raw, alphabet, p_max, symbols, freqs, info, bitpos0):
    """read_table_twin from bit bitpos0 of raw into symbols/freqs (room for min(A, ...)
    entries). info out: [P, D, bitpos after the table, detail...]; returns a status."""
    bitpos = bitpos0
    total_bits = 8 * raw.shape[0]
    widths = (P_BITS, bitlen_kernel(alphabet - 1), RICE_PARAM_BITS, RICE_PARAM_BITS)
    vals = np.zeros(4, dtype=np.int64)
    for fi in range(4):
        w = widths[fi]
        if bitpos + w > total_bits:
            info[3] = fi
            info[4] = w
            info[5] = total_bits - bitpos
            return _TRUNC_FIELD
        v = 0
        for j in range(w):
            p = bitpos + j
            v |= np.int64((raw[p >> 3] >> (p & 7)) & 1) << j
        bitpos += w
        vals[fi] = v
        if fi == 0 and v > p_max:
            info[3] = v
            return _PRECISION
        if fi == 1 and v + 1 > alphabet:
            info[3] = v + 1
            return _SYMCOUNT
    precision = vals[0]
    d = vals[1] + 1
    info[0] = precision
    info[1] = d
    total = np.int64(1) << precision
    sym = -1
    fsum = 0
    for j in range(d):
        for part in range(2):
            r = vals[2] if part == 0 else vals[3]
            limit = alphabet - 2 - sym if part == 0 else total - fsum
            q = 0
            while True:                      # unary: each zero consumes a bit
                if bitpos >= total_bits:
                    info[3] = part
                    info[4] = j
                    info[5] = q
                    return _TRUNC_UNARY
                bit = (raw[bitpos >> 3] >> (bitpos & 7)) & 1
                bitpos += 1
                if bit:
                    break
                q += 1
            if q > (limit >> r):
                info[3] = j
                return _SYMBOL if part == 0 else _SUM
            if bitpos + r > total_bits:
                info[3] = 4 + part
                info[4] = r
                info[5] = total_bits - bitpos
                info[6] = j
                return _TRUNC_FIELD
            v = 0
            for b in range(r):
                p = bitpos + b
                v |= np.int64((raw[p >> 3] >> (p & 7)) & 1) << b
            bitpos += r
            v |= q << r
            if v > limit:
                info[3] = j
                return _SYMBOL if part == 0 else _SUM
            if part == 0:
                sym += 1 + v
                symbols[j] = sym
            else:
                if v == 0:
                    info[3] = sym
                    return _ZERO
                freqs[j] = v
                fsum += v
    info[2] = bitpos
    if fsum != total:
        info[3] = fsum
        return _FINAL_SUM
    return _OK


def raise_table_status(st, info, alphabet, p_max, where):
    """The error of read_table_kernel's status st, worded as read_table_twin words it."""
    if st == _TRUNC_FIELD:
        field = _FIELD[info[3]] + (f" {info[6]}" if info[3] >= 4 else "")
        raise TruncatedError(f"{where}: stream ends inside {field}: needs {info[4]} bits, "
                             f"{info[5]} left")
    if st == _TRUNC_UNARY:
        field = ("symbol gap", "frequency")[info[3]]
        raise TruncatedError(f"{where}: stream ends inside {field} {info[4]}: unary run of "
                             f"{info[5]} zero bits has no terminating 1 bit")
    if st == _PRECISION:
        raise precision_error(where, p_max, int(info[3]))
    if st == _SYMCOUNT:
        raise FormatError(f"{where}: symbol_count must be <= class_count {alphabet}, "
                          f"got {info[3]}")
    if st == _SYMBOL:
        raise _symbol_error(where, int(info[3]), alphabet)
    if st == _SUM:
        raise _sum_error(where, int(info[0]), int(info[3]))
    if st == _ZERO:
        raise _zero_error(where, int(info[3]))
    if st == _FINAL_SUM:
        raise _final_sum_error(where, int(info[0]), int(info[3]))


def table_bits_bound(alphabet: int, p_max: int, symbols: int) -> int:
    """Most bits a table of at most `symbols` entries can take: the fixed fields, per entry
    two Rice codes (<= 31 low bits each and their 1-bits), and unary zeros summing to at
    most A + 2^P (symbol gaps sum to < A, frequencies to 2^P)."""
    return TABLE_FIXED_BITS + min(alphabet, symbols) * 2 * 32 + alphabet + (1 << p_max)


# ---------------------------------------------------------------------------------------
# slot tables: what the decode kernels look up per symbol

@njit(cache=True, nogil=True)
def build_slot_tables(syms, freqs, starts, lens, precs, cinfo, symlut, fblut):
    """Table t's 2^P slots start at base; per slot, symlut = the symbol and fblut =
    f << 40 | P << 32 | (slot - cum), so that one load gives everything a rANS step needs;
    cinfo[t] = base << 32 | (2^P - 1). An absent table (precs[t] < 0) points at the last
    slot, a sentinel with fblut = 0 (no real slot is 0: f >= 1) that the kernels test."""
    at = 0
    sentinel = symlut.shape[0] - 1
    symlut[sentinel] = 0
    fblut[sentinel] = 0
    for t in range(precs.shape[0]):
        p = precs[t]
        if p < 0:
            cinfo[t] = sentinel << 32
            continue
        cinfo[t] = (at << 32) | ((np.int64(1) << p) - 1)
        for j in range(starts[t], starts[t] + lens[t]):
            f = freqs[j]
            for u in range(f):
                symlut[at + u] = syms[j]
                fblut[at + u] = (f << 40) | (p << 32) | u
            at += f


# ---------------------------------------------------------------------------------------
# context tables (the ctx-rans modes): T tables, each a present bit and a table

def context_p_limit(alphabet: int) -> int:
    """Largest precision a context table over this alphabet may have: 2^10 slots, or as
    many as its alphabet needs. Why a limit: every table decodes through a slot table of
    2^P entries, so the limit bounds what a short stream can make a decoder build (the
    2^24 of `rans` would let 65 tables cost 2^30 slots)."""
    return max(10, bitlen(alphabet - 1))


P_CAP_CONTEXT = 10      # encoder rule: a context table's P <= max(this, bitlen(D - 1))


def choose_context_tables(tids, syms, alphabets) -> list:
    """One table per context (None where it codes nothing) from the stream's pairs."""
    return [choose_table(np.bincount(syms[tids == t], minlength=a), P_CAP_CONTEXT)
            for t, a in enumerate(alphabets)]


def write_context_tables(w: BitWriter, tables, alphabets) -> None:
    for table, a in zip(tables, alphabets):
        w.write(table is not None, 1)
        if table is not None:
            write_table(w, table, a)


def read_context_tables_twin(rd: BitReader, alphabets, stream: str) -> list:
    """Per context: its present bit, then (if 1) its table; (P, symbols, freqs) or None."""
    tables = []
    for t, a in enumerate(alphabets):
        if not rd.read(1, f"present bit of table {t}"):
            tables.append(None)
            continue
        rd.stream = f"{stream}: table {t}"        # names a truncated field's table
        tables.append(read_table_twin(rd, int(a), context_p_limit(int(a)), rd.stream))
        rd.stream = stream
    return tables


def context_tables_bits_bound(alphabets) -> int:
    return sum(1 + table_bits_bound(int(a), context_p_limit(int(a)), int(a)) for a in alphabets)


@njit(cache=True, nogil=True)
def _read_context_tables_kernel(raw, alphabets, syms, freqs, starts, lens, precs, info):
    """All tables from bit 8 on (after Segment_Count). Table t's entries go to
    syms/freqs[starts[t]:starts[t] + lens[t]]; precs[t] = -1 for an absent table.
    Returns 0 (info[2] = bit after the tables), 1000 for a truncated present bit
    (info[0] = t), or 2000 + the table status (info[7] = t)."""
    bitpos = 8
    nbits = 8 * raw.shape[0]
    at = 0
    for t in range(alphabets.shape[0]):
        if bitpos >= nbits:
            info[0] = t
            return 1000
        present = (raw[bitpos >> 3] >> (bitpos & 7)) & 1
        bitpos += 1
        starts[t] = at
        if present == 0:
            precs[t] = -1
            lens[t] = 0
            continue
        p_max = max(10, bitlen_kernel(alphabets[t] - 1))
        st = read_table_kernel(raw, alphabets[t], p_max, syms[at:], freqs[at:], info, bitpos)
        if st != 0:
            info[7] = t
            return 2000 + st
        precs[t] = info[0]
        lens[t] = info[1]
        at += info[1]
        bitpos = info[2]
    info[2] = bitpos
    return 0


class ContextTables:
    """A stream's parsed context tables, in the form the decode kernels read."""

    __slots__ = ("syms", "freqs", "starts", "lens", "precs", "cinfo", "symlut", "fblut",
                 "end_bit", "slots")


def read_context_tables(raw: np.ndarray, alphabets: np.ndarray, stream: str) -> ContextTables:
    cap = int(min(int(alphabets.sum()), 8 * raw.shape[0] + 1))  # an entry costs >= 2 bits
    tb = ContextTables()
    tb.syms = np.zeros(cap, dtype=np.int64)
    tb.freqs = np.zeros(cap, dtype=np.int64)
    nt = alphabets.shape[0]
    tb.starts = np.zeros(nt, dtype=np.int64)
    tb.lens = np.zeros(nt, dtype=np.int64)
    tb.precs = np.zeros(nt, dtype=np.int64)
    info = np.zeros(8, dtype=np.int64)
    st = _read_context_tables_kernel(raw, alphabets, tb.syms, tb.freqs, tb.starts, tb.lens,
                                     tb.precs, info)
    if st == 1000:
        raise TruncatedError(f"{stream}: stream ends inside present bit of table "
                             f"{int(info[0])}: needs 1 bits, 0 left")
    if st:
        t = int(info[7])
        a = int(alphabets[t])
        raise_table_status(st - 2000, info, a, context_p_limit(a), f"{stream}: table {t}")
    tb.end_bit = int(info[2])
    present = tb.precs >= 0
    tb.slots = 1 + (int((np.int64(1) << tb.precs[present]).sum()) if present.any() else 0)
    tb.cinfo = np.zeros(nt, dtype=np.int64)
    tb.symlut = np.empty(tb.slots, dtype=np.int32)
    tb.fblut = np.empty(tb.slots, dtype=np.int64)
    build_slot_tables(tb.syms, tb.freqs, tb.starts, tb.lens, tb.precs, tb.cinfo, tb.symlut,
                      tb.fblut)
    return tb


def context_slots_bound(alphabets) -> int:
    """Most slots a stream's slot tables can have (for the decoder's memory budget)."""
    return sum(1 << context_p_limit(int(a)) for a in alphabets) + 1


def dense_tables(tables, alphabets):
    """Encoder lookups: freq and cum per (table, symbol) at off[t] + symbol, precisions."""
    off = np.concatenate([[0], np.cumsum(alphabets)]).astype(np.int64)
    freq = np.zeros(int(off[-1]), dtype=np.int64)
    cum = np.zeros(int(off[-1]), dtype=np.int64)
    prec = np.zeros(len(alphabets), dtype=np.int64)
    for t, table in enumerate(tables):
        if table is None:
            continue
        p, symbols, freqs = table
        freq[off[t] + symbols] = freqs
        cum[off[t] + symbols] = np.cumsum(freqs) - freqs
        prec[t] = p
    return off[:-1].copy(), freq, cum, prec


# ---------------------------------------------------------------------------------------
# word areas: encoder

@njit(cache=True, nogil=True)
def _encode_symbols(tids, syms, off, freq, cum, prec, lanes, words):
    """rANS-code symbols (symbol i with table tids[i], in lane i mod lanes) last to first
    into the end of words, the initial states first; return the index of the first word."""
    xs = np.full(WIDE_LANES, RANS_L, dtype=np.int64)
    wp = words.shape[0]
    for i in range(syms.shape[0] - 1, -1, -1):
        lane = i & (lanes - 1)
        x = xs[lane]
        t = tids[i]
        e = off[t] + syms[i]
        f = freq[e]
        p = prec[t]
        if (x >> (63 - p)) >= f:             # x >= f * 2^(63-P): push 32 bits out
            wp -= 1
            words[wp] = x & WORD_MASK
            x >>= 32
        xs[lane] = ((x // f) << p) + (x % f) + cum[e]
    for lane in range(lanes - 1, -1, -1):
        wp -= 1
        words[wp] = xs[lane] >> 32
        wp -= 1
        words[wp] = xs[lane] & WORD_MASK
    return wp


def encode_words(tids, syms, off, freq, cum, prec, lanes: int) -> bytes:
    """The word area of the pairs (tids[i], syms[i]) in decode order (dense_tables)."""
    words = np.empty(syms.size + 2 * lanes, dtype=np.int64)
    first = _encode_symbols(np.asarray(tids, dtype=np.int64), np.asarray(syms, dtype=np.int64),
                            off, freq, cum, prec, lanes, words)
    return words[first:].astype("<u4").tobytes()


def encode_words_twin(pairs, tables, lanes: int) -> bytes:
    """The spec's encoder: pairs = [(table, symbol), ...] in decode order, coded last to
    first, every lane starting at L; push a word when x >= f * 2^(63 - P)."""
    freq, cum = {}, {}
    for t, table in enumerate(tables):
        if table is not None:
            c = 0
            for s, f in zip(list(table[1]), list(table[2])):
                freq[t, int(s)], cum[t, int(s)] = int(f), c
                c += int(f)
    xs = [RANS_L] * lanes
    pushed = []
    for i in range(len(pairs) - 1, -1, -1):
        t, s = pairs[i]
        p = tables[t][0]
        x = xs[i % lanes]
        f = freq[t, s]
        if (x >> (63 - p)) >= f:
            pushed.append(x & WORD_MASK)
            x >>= 32
        xs[i % lanes] = ((x // f) << p) + (x % f) + cum[t, s]
    words = []
    for x in xs:                             # lane 0 first, low word first
        words += [x & WORD_MASK, x >> 32]
    words += pushed[::-1]
    return b"".join(v.to_bytes(4, "little") for v in words)


# ---------------------------------------------------------------------------------------
# word areas: decoder twin, kernel helpers, errors (seg None: the stream's one area)

def _of(seg):
    return "" if seg is None else f" of segment {seg}"


def _area(seg):
    return "stream" if seg is None else f"segment {seg}"


def not_words_error(stream, seg, nbytes):
    return FormatError(f"{stream}: word area{_of(seg)} must be a multiple of 4 bytes, got "
                       f"{nbytes}")


def short_area_error(stream, seg, lanes, nwords):
    return TruncatedError(f"{stream}: {_area(seg)} ends inside initial states: needs "
                          f"{2 * lanes} words, {nwords} left")


def initial_state_error(stream, seg, lane, x):
    return FormatError(f"{stream}: initial state of lane {lane}{_of(seg)} must be in "
                       f"[2^31, 2^63), got {x:#x}")


def final_state_error(stream, seg, lane, x):
    return FormatError(f"{stream}: final state of lane {lane}{_of(seg)} must equal the "
                       f"initial state {RANS_L:#x}, got {x:#x}")


def truncated_error(stream, seg, what):
    return TruncatedError(f"{stream}: {_area(seg)} ends inside {what}: needs a word, 0 left")


def unconsumed_error(stream, seg, used, total):
    where = "" if seg is None else f" in segment {seg}"
    return FormatError(f"{stream}: unconsumed words{where}: expected {used} words, got "
                       f"{total}")


def absent_table_error(stream, seg, t, what):
    return FormatError(f"{stream}: {what} (segment {seg}) needs table {t}, which is absent")


class WordsTwin:
    """The decoder of one word area as the spec states it: symbol() finds the symbol of
    the next item's slot, the mode checks its value, then step() updates that lane's
    state and renormalises (so a value error comes before the word it may need)."""

    def __init__(self, area: bytes, tables, lanes: int, stream: str, seg=None):
        self.stream, self.seg, self.tables, self.lanes = stream, seg, tables, lanes
        if len(area) % 4:
            raise not_words_error(stream, seg, len(area))
        self.words = [int.from_bytes(area[j:j + 4], "little") for j in range(0, len(area), 4)]
        if len(self.words) < 2 * lanes:
            raise short_area_error(stream, seg, lanes, len(self.words))
        self.xs = []
        for lane in range(lanes):
            x = self.words[2 * lane] | (self.words[2 * lane + 1] << 32)
            if not RANS_L <= x < STATE_MAX:
                raise initial_state_error(stream, seg, lane, x)
            self.xs.append(x)
        self.cums = [None if tb is None else [0] + np.cumsum(tb[2]).tolist() for tb in tables]
        self.wp = 2 * lanes
        self.n = 0                       # symbols decoded: symbol n uses lane n mod R

    def symbol(self, t: int, what: str) -> int:
        """The symbol of the next slot under table t: j with cum_j <= slot < cum_(j+1)."""
        if self.tables[t] is None:
            raise absent_table_error(self.stream, self.seg, t, what)
        p, symbols, _ = self.tables[t]
        slot = self.xs[self.n % self.lanes] & ((1 << p) - 1)
        self.j = bisect.bisect_right(self.cums[t], slot) - 1
        self.t = t
        return int(symbols[self.j])

    def step(self, what: str) -> None:
        """x = f_j * (x >> P) + slot - cum_j; one word in if x < L."""
        p, _, freqs = self.tables[self.t]
        lane = self.n % self.lanes
        x = self.xs[lane]
        x = int(freqs[self.j]) * (x >> p) + (x & ((1 << p) - 1)) - self.cums[self.t][self.j]
        if x < RANS_L:
            if self.wp >= len(self.words):
                raise truncated_error(self.stream, self.seg, what)
            x = (x << 32) | self.words[self.wp]
            self.wp += 1
        self.xs[lane] = x
        self.n += 1

    def finish(self) -> None:
        if self.wp != len(self.words):
            raise unconsumed_error(self.stream, self.seg, self.wp, len(self.words))
        for lane, x in enumerate(self.xs):
            if x != RANS_L:
                raise final_state_error(self.stream, self.seg, lane, x)


def words_area(raw: np.ndarray, start: int, nbytes: int, lanes: int, stream: str,
               seg=None) -> np.ndarray:
    """An aligned uint32 copy of a word area: a multiple of 4 bytes (checked first), then
    at least the 2R state words."""
    if nbytes % 4:
        raise not_words_error(stream, seg, nbytes)
    if nbytes < 8 * lanes:
        raise short_area_error(stream, seg, lanes, nbytes // 4)
    return np.frombuffer(raw, dtype="<u4", count=nbytes // 4, offset=start).astype(np.uint32)


# kernel statuses shared by every word-area decoder (a mode adds its own from 5 on)
W_TRUNCATED, W_UNCONSUMED, W_FINAL, W_INITIAL = 1, 2, 3, 4


@njit(cache=True, nogil=True)
def load_states(words, xs, lanes, info):
    """The initial lane states into xs[:lanes]: 0, or W_INITIAL with info[0] = the lane and
    info[2] = its state when one is outside [2^31, 2^63)."""
    for lane in range(lanes):
        x = np.int64(words[2 * lane]) | (np.int64(words[2 * lane + 1]) << 32)
        if x < RANS_L:                     # also catches x >= 2^63 (negative int64)
            info[0] = lane
            info[2] = x
            return W_INITIAL
        xs[lane] = x
    return 0


@njit(cache=True, nogil=True)
def end_states(xs, m, lanes, wp, nwords, info):
    """End of a word area after m symbols with xs rotated (the next symbol's lane first, so
    lane l sits at xs[(l - m) mod R]): 0, W_UNCONSUMED (info[0] = used, info[1] = words),
    or W_FINAL (info[0] = lane, info[2] = its state != L)."""
    info[0] = wp
    info[1] = nwords
    if wp != nwords:
        return W_UNCONSUMED
    for lane in range(lanes):
        xl = xs[(lane - m) & (lanes - 1)]
        if xl != RANS_L:
            info[0] = lane
            info[2] = xl
            return W_FINAL
    return 0


def raise_words_status(st, info, stream, seg, what):
    """The errors of statuses 1-4, worded as WordsTwin words them; what(i) names item i."""
    if st == W_TRUNCATED:
        raise truncated_error(stream, seg, what(int(info[0])))
    if st == W_UNCONSUMED:
        raise unconsumed_error(stream, seg, int(info[0]), int(info[1]))
    if st == W_FINAL:
        raise final_state_error(stream, seg, int(info[0]), int(info[2]))
    if st == W_INITIAL:
        raise initial_state_error(stream, seg, int(info[0]), int(info[2]) & (STATE_MAX * 2 - 1))
