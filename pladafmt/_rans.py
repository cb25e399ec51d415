"""Label mode 3 "rans": static rANS with a transmitted, quantised frequency table.

SPEC.md ("Label mode 3: rans").  A bit-packed table (precision P, the present symbols as
Rice-coded gaps, their frequencies as Rice codes) padded to a byte, then 32-bit words of a
4-way interleaved rANS coder: RANS_LANES = 4 independent 64-bit states (label i uses lane
i mod 4) sharing one word stream, L = 2^31, one renormalisation word at most per label.
The lanes let the decoder overlap four independent dependency chains.  The decoder checks
everything an entropy decoder would otherwise turn into plausible garbage: the table sums
to 2^P, no zero frequency, every word consumed, and every lane's final state equals the
encoder's initial state L.
"""

from __future__ import annotations


import numpy as np

from ._bitio import BitReader, BitWriter
from ._errors import EncodeError, FormatError, TruncatedError
from ._jit import njit

MODE_ID = 3
NAME = "rans"
KIND = "label"
MIN_MINOR = 1

P_BITS = 5           # width of the precision field
P_MAX = 24           # 2^24 slots: enough for 2^20 classes with room to spare
RICE_PARAM_BITS = 5  # width of the table's two Rice parameters
RANS_L = 1 << 31     # lower bound of the normalised state; also the initial/final state
RANS_LANES = 4       # interleaved states; label i uses lane i % RANS_LANES
STATE_WORDS = 2 * RANS_LANES   # the initial states at the head of the word area
STATE_MAX = 1 << 63  # states are < 2^63 (so int64 arithmetic never overflows)
WORD_MASK = (1 << 32) - 1
LUT_MAX_P = 18       # decode with a slot -> symbol table up to 2^18 slots, else bisect


def _bitlen(v: int) -> int:
    return int(v).bit_length()


# ---------------------------------------------------------------------------------------
# encoder policy (not normative: any table that sums to 2^P and covers the labels is valid)

def quantize(counts: np.ndarray, precision: int) -> np.ndarray:
    """Scale counts (all >= 1, in symbol order) to frequencies summing to 2^precision.

    f = max(1, floor(c * 2^P / k)); a shortfall goes +1 each to the largest remainders
    (c * 2^P mod k; ties: smaller symbol first); an excess (from raising zeros to 1) is
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


def choose_table(labels: np.ndarray, class_count: int):
    """(P, symbols, freqs): the precision with the smallest estimated stream."""
    counts_all = np.bincount(labels, minlength=class_count)
    symbols = np.flatnonzero(counts_all).astype(np.int64)
    counts = counts_all[symbols]
    p_min = _bitlen(symbols.size - 1)
    p_hi = min(P_MAX, max(p_min, _bitlen(labels.size) + 1))  # finer than the counts buys nothing
    p, f = best_precision(symbols, counts, p_hi)
    return p, symbols, f


def best_precision(symbols, counts, p_hi):
    """(P, freqs) with the smallest estimated stream, P from bitlen(D - 1) to p_hi: the
    coded bits sum(c * (P - log2 f)) plus the table's Rice bits; first on ties."""
    gaps = np.diff(symbols, prepend=-1) - 1
    gap_bits = _rice_bits(gaps, best_rice_param(gaps))
    best = None
    for p in range(_bitlen(symbols.size - 1), p_hi + 1):
        f = quantize(counts, p)
        data_bits = float((counts * (p - np.log2(f))).sum())
        cost = data_bits + _rice_bits(f, best_rice_param(f)) + gap_bits
        if best is None or cost < best[0]:
            best = (cost, p, f)
    return best[1], best[2]


# ---------------------------------------------------------------------------------------
# table (bit-packed; shared layout for kernel and twin paths)

def _write_table(w: BitWriter, precision: int, symbols, freqs, class_count: int) -> None:
    d = len(symbols)
    gaps = np.diff(np.asarray(symbols, dtype=np.int64), prepend=-1) - 1
    freqs = np.asarray(freqs, dtype=np.int64)
    rs = best_rice_param(gaps)
    rf = best_rice_param(freqs)
    w.write(precision, P_BITS)
    w.write(d - 1, _bitlen(class_count - 1))
    w.write(rs, RICE_PARAM_BITS)
    w.write(rf, RICE_PARAM_BITS)
    for g, f in zip(gaps.tolist(), freqs.tolist()):
        w.write_rice(g, rs)
        w.write_rice(f, rf)


def _read_table(rd: BitReader, class_count: int):
    """Pure-Python table reader (twin).  Returns (P, symbols, freqs)."""
    precision = rd.read(P_BITS, "precision")
    if precision > P_MAX:
        raise FormatError(f"rans: precision must be <= {P_MAX}, got {precision}")
    d = rd.read(_bitlen(class_count - 1), "symbol_count_minus_1") + 1
    if d > class_count:
        raise FormatError(f"rans: symbol_count must be <= class_count {class_count}, "
                          f"got {d}")
    rs = rd.read(RICE_PARAM_BITS, "rs")
    rf = rd.read(RICE_PARAM_BITS, "rf")
    total = 1 << precision
    symbols, freqs = [], []
    sym = -1
    fsum = 0
    for j in range(d):
        limit = class_count - 2 - sym            # largest gap keeping the symbol < C
        q = rd.read_unary(f"symbol gap {j}", limit >> rs)
        if q > (limit >> rs):
            raise _symbol_error(j, class_count)
        g = (q << rs) | rd.read(rs, f"symbol gap {j}")
        if g > limit:
            raise _symbol_error(j, class_count)
        sym += 1 + g
        limit = total - fsum                      # largest frequency keeping sum <= 2^P
        q = rd.read_unary(f"frequency {j}", limit >> rf)
        if q > (limit >> rf):
            raise _sum_error(precision, j)
        f = (q << rf) | rd.read(rf, f"frequency {j}")
        if f > limit:
            raise _sum_error(precision, j)
        if f == 0:
            raise _zero_error(sym)
        fsum += f
        symbols.append(sym)
        freqs.append(f)
    if fsum != total:
        raise FormatError(f"rans: frequencies must sum to 2^precision = {total}, got {fsum}")
    return precision, symbols, freqs


def _symbol_error(j, class_count):
    return FormatError(f"rans: symbol {j} of the table must be < class_count "
                       f"{class_count}, got a larger one")


def _sum_error(precision, j):
    return FormatError(f"rans: frequencies must sum to 2^precision = {1 << precision}, "
                       f"exceeded at table entry {j}")


def _zero_error(sym):
    return FormatError(f"rans: frequency of symbol {sym} must be >= 1, got 0")


# ---------------------------------------------------------------------------------------
# twin coder

def encode_twin(labels: list[int], class_count: int) -> bytes:
    labels_np = _check_labels(labels, class_count)
    if labels_np.size == 0:
        return b""
    precision, symbols, freqs = choose_table(labels_np, class_count)
    freq = {s: int(f) for s, f in zip(symbols.tolist(), freqs.tolist())}
    cum, c = {}, 0
    for s in symbols.tolist():               # cumulative frequencies in symbol order
        cum[s] = c
        c += freq[s]
    w = BitWriter()
    _write_table(w, precision, symbols, freqs, class_count)
    # rANS runs last label first, so the decoder reads labels in order; label i uses lane
    # i % 4, and all lanes push onto one stack
    labels = [int(v) for v in labels]
    xs = [RANS_L] * RANS_LANES
    emitted = []
    for i in range(len(labels) - 1, -1, -1):
        s = labels[i]
        lane = i % RANS_LANES
        x = xs[lane]
        f = freq[s]
        if (x >> (63 - precision)) >= f:     # x >= f * 2^(63-P): push 32 bits out
            emitted.append(x & WORD_MASK)
            x >>= 32
        xs[lane] = ((x // f) << precision) + (x % f) + cum[s]
    words = []
    for x in xs:                             # lane 0 first, low word first
        words += [x & WORD_MASK, x >> 32]
    words += emitted[::-1]
    return w.getvalue() + b"".join(v.to_bytes(4, "little") for v in words)


def decode_twin(raw: bytes, class_count: int, count: int) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        if raw:
            raise FormatError(f"rans: trailing bytes: expected 0 bytes, got {len(raw)}")
        return []
    rd = BitReader(raw, "rans")
    precision, symbols, freqs = _read_table(rd, class_count)
    table_bytes = (rd.bitpos + 7) >> 3
    if rd.bitpos & 7 and raw[table_bytes - 1] >> (rd.bitpos & 7):
        raise FormatError(f"rans: table padding bits must be zero, got "
                          f"{raw[table_bytes - 1] >> (rd.bitpos & 7):#x}")
    body = raw[table_bytes:]
    if len(body) % 4:
        raise FormatError(f"rans: word area must be a multiple of 4 bytes, got {len(body)}")
    words = [int.from_bytes(body[j:j + 4], "little") for j in range(0, len(body), 4)]
    if len(words) < STATE_WORDS:
        raise TruncatedError(f"rans: stream ends inside initial states: needs "
                             f"{STATE_WORDS} words, {len(words)} left")
    xs = []
    for lane in range(RANS_LANES):
        x = words[2 * lane] | (words[2 * lane + 1] << 32)
        if not RANS_L <= x < STATE_MAX:
            raise _initial_state_error(lane, x)
        xs.append(x)
    cum = [0]
    for f in freqs:
        cum.append(cum[-1] + f)
    mask = (1 << precision) - 1
    out = []
    wp = STATE_WORDS                         # one word stream, shared by the lanes
    for i in range(count):
        lane = i % RANS_LANES
        x = xs[lane]
        slot = x & mask
        j = _bisect_right(cum, slot) - 1     # cum[j] <= slot < cum[j+1]
        out.append(symbols[j])
        x = freqs[j] * (x >> precision) + slot - cum[j]
        if x < RANS_L:
            if wp >= len(words):
                raise _truncated_label_error(i)
            x = (x << 32) | words[wp]
            wp += 1
        xs[lane] = x
    if wp != len(words):
        raise _unconsumed_error(wp, len(words))
    for lane, x in enumerate(xs):
        if x != RANS_L:
            raise _final_state_error(lane, x)
    return out


def _initial_state_error(lane, x):
    return FormatError(f"rans: initial state of lane {lane} must be in [2^31, 2^63), "
                       f"got {x:#x}")


def _final_state_error(lane, x):
    return FormatError(f"rans: final state of lane {lane} must equal the initial state "
                       f"{RANS_L:#x}, got {x:#x}")


def _truncated_label_error(i):
    return TruncatedError(f"rans: stream ends inside label {i}: needs a word, 0 left")


def _unconsumed_error(used, total):
    return FormatError(f"rans: unconsumed words: expected {used} words, got {total}")


def _bisect_right(a, v):
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) // 2
        if v < a[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _check_labels(labels, class_count) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    if not 1 <= class_count <= (1 << 20):
        raise EncodeError(f"rans: class_count must be in [1, 2^20], got {class_count}")
    if labels.size and (labels.min() < 0 or labels.max() >= class_count):
        raise EncodeError(f"rans: labels must lie in [0, {class_count}), got "
                          f"[{int(labels.min())}, {int(labels.max())}]")
    return labels


# ---------------------------------------------------------------------------------------
# Numba kernels

@njit(cache=True, nogil=True)
def encode_symbols(tids, syms, off, freq, cum, prec, words):
    """rANS-code symbols (symbol i with table tids[i], in lane i % 4) last to first into
    the end of words, the 4 initial states first; return the index of the first word used.
    Table t's frequencies and cumulative counts are freq/cum[off[t] + symbol], its
    precision prec[t].  Mode 3 codes with one table; the ctx-rans modes with several."""
    xs = np.full(RANS_LANES, RANS_L, dtype=np.int64)
    wp = words.shape[0]
    for i in range(syms.shape[0] - 1, -1, -1):
        lane = i & (RANS_LANES - 1)
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
    for lane in range(RANS_LANES - 1, -1, -1):
        wp -= 1
        words[wp] = xs[lane] >> 32
        wp -= 1
        words[wp] = xs[lane] & WORD_MASK
    return wp


def encode(labels: np.ndarray, class_count: int) -> bytes:
    labels = _check_labels(labels, class_count)
    if labels.size == 0:
        return b""
    precision, symbols, freqs = choose_table(labels, class_count)
    w = BitWriter()
    _write_table(w, precision, symbols, freqs, class_count)
    freq_of = np.zeros(class_count, dtype=np.int64)
    cum_of = np.zeros(class_count, dtype=np.int64)
    freq_of[symbols] = freqs
    cum_of[symbols] = np.cumsum(freqs) - freqs
    words = np.empty(labels.size + STATE_WORDS, dtype=np.int64)
    one = np.zeros(1, dtype=np.int64)
    first = encode_symbols(np.zeros(labels.size, dtype=np.int64), labels, one, freq_of, cum_of,
                           np.full(1, precision, dtype=np.int64), words)
    return w.getvalue() + words[first:].astype("<u4").tobytes()


_OK, _TRUNC_TABLE, _TRUNC_UNARY, _PRECISION, _SYMCOUNT, _SYMBOL, _SUM, _ZERO = range(8)


@njit(cache=True, nogil=True)
def _read_table_kernel(raw, class_count, symbols, freqs, info, bitpos0):
    """Kernel twin of _read_table, reading from bit bitpos0 of raw (ctx-rans streams hold
    several tables).  symbols/freqs have room for class_count entries.
    info out: [P, D, bitpos after the table, detail...]; returns a status code."""
    n = raw.shape[0]
    bitpos = bitpos0
    total_bits = 8 * n
    # fixed fields: precision, symbol_count_minus_1, rs, rf
    wd = 0
    while (class_count - 1) >> wd:
        wd += 1
    vals = np.zeros(4, dtype=np.int64)
    widths = (P_BITS, wd, RICE_PARAM_BITS, RICE_PARAM_BITS)
    for fi in range(4):
        w = widths[fi]
        if bitpos + w > total_bits:
            info[3] = fi
            info[4] = w
            info[5] = total_bits - bitpos
            return _TRUNC_TABLE
        v = 0
        for j in range(w):
            p = bitpos + j
            v |= np.int64((raw[p >> 3] >> (p & 7)) & 1) << j
        bitpos += w
        vals[fi] = v
        if fi == 0 and v > P_MAX:
            info[3] = v
            return _PRECISION
        if fi == 1 and v + 1 > class_count:
            info[3] = v + 1
            return _SYMCOUNT
    precision = vals[0]
    d = vals[1] + 1
    rs = vals[2]
    rf = vals[3]
    info[0] = precision
    info[1] = d
    total = np.int64(1) << precision
    sym = -1
    fsum = 0
    for j in range(d):
        for part in range(2):
            r = rs if part == 0 else rf
            limit = class_count - 2 - sym if part == 0 else total - fsum
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
                return _TRUNC_TABLE
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
        return _SUM + 100
    return _OK


@njit(cache=True, nogil=True, inline="always")
def _entry(slot, symlut, fblut, symbols, freqs, cum, use_lut):
    """(symbol, freq << 32 | slot - cum) of the table entry j with cum[j] <= slot <
    cum[j + 1]: one lookup in the packed tables, or a bisection of cum."""
    if use_lut:
        return np.int64(symlut[slot]), fblut[slot]
    lo = 0
    hi = cum.shape[0]
    while hi - lo > 1:                       # largest j with cum[j] <= slot
        mid = (lo + hi) >> 1
        if cum[mid] <= slot:
            lo = mid
        else:
            hi = mid
    return symbols[lo], (freqs[lo] << 32) | (slot - cum[lo])


@njit(cache=True, nogil=True)
def _decode_kernel(words, precision, symbols, freqs, cum, symlut, fblut, count, out, out32,
                   info):
    """4-lane rANS decode of the word area (uint32, >= 8 words).  symlut/fblut: slot ->
    symbol and slot -> freq << 32 | (slot - cum), or empty arrays to bisect cum instead.
    Each label goes to out (int64) and out32 (uint32: the Content_Checksum form).
    Returns 0, or 1 truncated (info[0] = label), 2 unconsumed words (info[0] = used,
    info[1] = words), 3 final state (info[0] = lane, info[2] = state), 4 initial state
    (info[0] = lane)."""
    nwords = words.shape[0]
    xs = np.empty(RANS_LANES, dtype=np.int64)
    for lane in range(RANS_LANES):
        x = np.int64(words[2 * lane]) | (np.int64(words[2 * lane + 1]) << 32)
        if x < RANS_L:                       # also catches x >= 2^63 (negative int64)
            info[0] = lane
            return 4
        xs[lane] = x
    wp = STATE_WORDS
    mask = (np.int64(1) << precision) - 1
    low = np.int64(WORD_MASK)
    use_lut = symlut.shape[0] > 0
    x0 = xs[0]
    x1 = xs[1]
    x2 = xs[2]
    x3 = xs[3]
    # Groups of 4 labels, one per lane, while 4 more words surely exist (so no group
    # checks for truncation).  The four chains are independent, so the CPU overlaps their
    # lookups and multiplies; the words are read in label order.
    ngroups = count >> 2
    g = 0
    while g < ngroups and wp + RANS_LANES <= nwords:
        i = g << 2
        s0 = x0 & mask
        s1 = x1 & mask
        s2 = x2 & mask
        s3 = x3 & mask
        y0, e0 = _entry(s0, symlut, fblut, symbols, freqs, cum, use_lut)
        y1, e1 = _entry(s1, symlut, fblut, symbols, freqs, cum, use_lut)
        y2, e2 = _entry(s2, symlut, fblut, symbols, freqs, cum, use_lut)
        y3, e3 = _entry(s3, symlut, fblut, symbols, freqs, cum, use_lut)
        out[i] = y0
        out32[i] = y0
        out[i + 1] = y1
        out32[i + 1] = y1
        out[i + 2] = y2
        out32[i + 2] = y2
        out[i + 3] = y3
        out32[i + 3] = y3
        x0 = (e0 >> 32) * (x0 >> precision) + (e0 & low)
        x1 = (e1 >> 32) * (x1 >> precision) + (e1 & low)
        x2 = (e2 >> 32) * (x2 >> precision) + (e2 & low)
        x3 = (e3 >> 32) * (x3 >> precision) + (e3 & low)
        if x0 < RANS_L:
            x0 = (x0 << 32) | np.int64(words[wp])
            wp += 1
        if x1 < RANS_L:
            x1 = (x1 << 32) | np.int64(words[wp])
            wp += 1
        if x2 < RANS_L:
            x2 = (x2 << 32) | np.int64(words[wp])
            wp += 1
        if x3 < RANS_L:
            x3 = (x3 << 32) | np.int64(words[wp])
            wp += 1
        g += 1
    xs[0] = x0
    xs[1] = x1
    xs[2] = x2
    xs[3] = x3
    # the rest one label at a time, checking every word read: near the end of the word
    # area, and the last < 4 labels (lanes 0, 1, 2)
    for i in range(g << 2, count):
        lane = i & (RANS_LANES - 1)
        x = xs[lane]
        slot = x & mask
        y, e = _entry(slot, symlut, fblut, symbols, freqs, cum, use_lut)
        out[i] = y
        out32[i] = y
        x = (e >> 32) * (x >> precision) + (e & low)
        if x < RANS_L:
            if wp >= nwords:
                info[0] = i
                return 1
            x = (x << 32) | np.int64(words[wp])
            wp += 1
        xs[lane] = x
    info[0] = wp
    info[1] = nwords
    if wp != nwords:
        return 2
    for lane in range(RANS_LANES):
        if xs[lane] != RANS_L:
            info[0] = lane
            info[2] = xs[lane]
            return 3
    return 0


@njit(cache=True, nogil=True)
def _build_luts(symbols, freqs, symlut, fblut):
    """Per slot: its symbol, and its entry's freq << 32 | (slot - cum)."""
    s = 0
    for j in range(freqs.shape[0]):
        f = freqs[j]
        for t in range(f):
            symlut[s + t] = symbols[j]
            fblut[s + t] = (f << 32) | t
        s += f


_FIELD = ("precision", "symbol_count_minus_1", "rs", "rf", "symbol gap", "frequency")


def decode(raw, class_count: int, count: int) -> np.ndarray:
    return decode_with_u32(raw, class_count, count)[0]


def decode_with_u32(raw, class_count: int, count: int):
    """(labels as int64, the same as uint32): the kernel writes both in one pass, which
    spares the container a second pass over the labels for their checksum."""
    raw = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    if count == 0:
        if raw.shape[0]:
            raise FormatError(f"rans: trailing bytes: expected 0 bytes, got {raw.shape[0]}")
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    cap = min(class_count, 8 * raw.shape[0] + 1)   # a table entry costs >= 2 bits
    symbols = np.zeros(cap, dtype=np.int64)
    freqs = np.zeros(cap, dtype=np.int64)
    info = np.zeros(8, dtype=np.int64)
    st = _read_table_kernel(raw, class_count, symbols, freqs, info, 0)
    if st != _OK:
        _raise_table(st, info, class_count)
    precision, d, bitpos = int(info[0]), int(info[1]), int(info[2])
    symbols, freqs = symbols[:d], freqs[:d]
    start = (bitpos + 7) >> 3
    if bitpos & 7 and raw[start - 1] >> (bitpos & 7):
        raise FormatError(f"rans: table padding bits must be zero, got "
                          f"{int(raw[start - 1]) >> (bitpos & 7):#x}")
    body = raw.shape[0] - start
    if body % 4:
        raise FormatError(f"rans: word area must be a multiple of 4 bytes, got {body}")
    if body < 4 * STATE_WORDS:
        raise TruncatedError(f"rans: stream ends inside initial states: needs "
                             f"{STATE_WORDS} words, {body // 4} left")
    cum = np.cumsum(freqs) - freqs
    if precision <= LUT_MAX_P and (1 << precision) <= 4 * count + 4096:
        symlut = np.empty(1 << precision, dtype=np.int32)
        fblut = np.empty(1 << precision, dtype=np.int64)
        _build_luts(symbols, freqs, symlut, fblut)
    else:
        symlut = np.empty(0, dtype=np.int32)
        fblut = np.empty(0, dtype=np.int64)
    # an aligned, native-order copy of the word area: one load per word in the kernel
    words = np.frombuffer(raw, dtype="<u4", count=body // 4, offset=start).astype(np.uint32)
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    st = _decode_kernel(words, precision, symbols, freqs, cum, symlut, fblut, count, out, out32,
                        info)
    if st == 1:
        raise _truncated_label_error(int(info[0]))
    if st == 2:
        raise _unconsumed_error(int(info[0]), int(info[1]))
    if st == 3:
        raise _final_state_error(int(info[0]), int(info[2]))
    if st == 4:
        o = start + 8 * int(info[0])
        raise _initial_state_error(int(info[0]),
                                   int.from_bytes(raw[o:o + 8].tobytes(), "little"))
    return out, out32


def _raise_table(st, info, class_count):
    if st == _TRUNC_TABLE:
        field = _FIELD[info[3]] + (f" {info[6]}" if info[3] >= 4 else "")
        raise TruncatedError(f"rans: stream ends inside {field}: needs {info[4]} bits, "
                             f"{info[5]} left")
    if st == _TRUNC_UNARY:
        field = ("symbol gap", "frequency")[info[3]]
        raise TruncatedError(f"rans: stream ends inside {field} {info[4]}: unary run of "
                             f"{info[5]} zero bits has no terminating 1 bit")
    if st == _PRECISION:
        raise FormatError(f"rans: precision must be <= {P_MAX}, got {info[3]}")
    if st == _SYMCOUNT:
        raise FormatError(f"rans: symbol_count must be <= class_count {class_count}, "
                          f"got {info[3]}")
    if st == _SYMBOL:
        raise _symbol_error(int(info[3]), class_count)
    if st == _SUM:
        raise _sum_error(int(info[0]), int(info[3]))
    if st == _ZERO:
        raise _zero_error(int(info[3]))
    if st == _SUM + 100:
        raise FormatError(f"rans: frequencies must sum to 2^precision = "
                          f"{1 << int(info[0])}, got {info[3]}")


def raw_size_bound(class_count: int, count: int) -> int:
    """Table: fixed fields plus, per present symbol, Rice codes whose unary parts sum to at
    most C + 2^24 zeros and whose low bits are <= 31 each; then the 8 state words and at
    most one renormalisation word per label."""
    if count == 0:
        return 0
    d = min(class_count, count)
    table_bits = P_BITS + 20 + 2 * RICE_PARAM_BITS + d * 2 * 32 + class_count + (1 << P_MAX)
    return (table_bits + 7) // 8 + 4 * (count + STATE_WORDS)


def applicable(class_count: int, count: int) -> bool:
    return 1 <= class_count <= (1 << 20)
