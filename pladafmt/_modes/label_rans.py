"""Label mode 1: `rans` (SPEC.md "Label mode 1: rans"): static rANS with a transmitted,
quantised frequency table.

A rANS table over the C classes (_coders.rans), padded to a byte, then one word area
coding the k labels: R = 1 lane below 2048 labels, else 4 (label i in lane i mod R). The
decoder checks everything an entropy decoder would otherwise turn into plausible garbage:
the table sums to 2^P, no zero frequency, every word consumed, and every lane's final
state equals the encoder's initial state L.
"""

from __future__ import annotations

import numpy as np

from .._coders import rans as ra
from .._coders.bitio import BitReader, BitWriter
from .._errors import FormatError
from .._jit import njit
from .contract import Mode

STREAM = "rans"
LUT_MAX_P = 18      # decode through a slot table up to 2^18 slots, else bisect cum


def raw_size_bound(class_count: int, count: int) -> int:
    """The table (fixed fields; per present symbol two Rice codes with <= 31 low bits each;
    unary zeros summing to at most C + 2^24), then the 2R state words and at most one
    renormalisation word per label."""
    if count == 0:
        return 0
    table_bits = ra.table_bits_bound(class_count, ra.P_MAX, count)   # D <= min(C, k)
    return (table_bits + 7) // 8 + 4 * (count + 2 * ra.lane_count(count))


def _choose(labels, class_count):
    return ra.choose_table(np.bincount(labels, minlength=class_count), ra.P_MAX)


def encode(labels: np.ndarray, class_count: int) -> bytes:
    if labels.size == 0:
        return b""
    table = _choose(labels, class_count)
    w = BitWriter()
    ra.write_table(w, table, class_count)
    off, freq, cum, prec = ra.dense_tables([table], [class_count])
    words = ra.encode_words(np.zeros(labels.size, dtype=np.int64), labels, off, freq, cum,
                            prec, ra.lane_count(labels.size))
    return w.getvalue() + words


def encode_twin(labels, class_count: int) -> bytes:
    if len(labels) == 0:
        return b""
    table = _choose(np.asarray(labels, dtype=np.int64), class_count)
    w = BitWriter()
    ra.write_table(w, table, class_count)
    pairs = [(0, int(v)) for v in labels]
    return w.getvalue() + ra.encode_words_twin(pairs, [table], ra.lane_count(len(labels)))


def _empty_stream(n):
    if n:
        raise FormatError(f"{STREAM}: trailing bytes: expected 0 bytes, got {n}")


def decode_twin(raw: bytes, class_count: int, count: int) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        _empty_stream(len(raw))
        return []
    rd = BitReader(raw, STREAM)
    table = ra.read_table_twin(rd, class_count, ra.P_MAX, STREAM)
    start = ra.table_padding(raw, rd.bitpos, STREAM)
    area = ra.WordsTwin(raw[start:], [table], ra.lane_count(count), STREAM)
    out = []
    for i in range(count):
        out.append(area.symbol(0, f"label {i}"))
        area.step(f"label {i}")
    area.finish()
    return out


@njit(cache=True, nogil=True, inline="always")
def _entry(slot, symlut, fblut, symbols, freqs, cum, use_lut):
    """(symbol, f, slot - cum) of the entry j with cum[j] <= slot < cum[j + 1]: one
    lookup in the slot tables, or a bisection of cum."""
    if use_lut:
        e = fblut[slot]
        return np.int64(symlut[slot]), e >> 40, e & 0xFFFFFFFF
    lo = 0
    hi = cum.shape[0]
    while hi - lo > 1:                       # largest j with cum[j] <= slot
        mid = (lo + hi) >> 1
        if cum[mid] <= slot:
            lo = mid
        else:
            hi = mid
    return symbols[lo], freqs[lo], slot - cum[lo]


@njit(cache=True, nogil=True)
def _decode_kernel(words, lanes, precision, symbols, freqs, cum, symlut, fblut, count, out,
                   out32, info):
    """Decode count labels from the word area (uint32, >= 2R words) into out (int64) and
    out32 (uint32: the Content_Checksum form). symlut/fblut: the slot tables, or empty
    arrays to bisect cum instead. Returns 0 or a rans.W_* status (details in info)."""
    nwords = words.shape[0]
    xs = np.full(ra.WIDE_LANES, ra.RANS_L, dtype=np.int64)
    st = ra.load_states(words, xs, lanes, info)
    if st:
        return st
    wp = 2 * lanes
    mask = (np.int64(1) << precision) - 1
    use_lut = symlut.shape[0] > 0
    x0 = xs[0]
    x1 = xs[1]
    x2 = xs[2]
    x3 = xs[3]
    # Groups of 4 labels, one per lane, while 4 more words surely exist (so no group
    # checks for truncation). The four chains are independent, so the CPU overlaps
    # their lookups and multiplies; the words are read in label order.
    ngroups = count >> 2 if lanes == ra.WIDE_LANES else 0
    g = 0
    while g < ngroups and wp + 4 <= nwords:
        i = g << 2
        y0, f0, u0 = _entry(x0 & mask, symlut, fblut, symbols, freqs, cum, use_lut)
        y1, f1, u1 = _entry(x1 & mask, symlut, fblut, symbols, freqs, cum, use_lut)
        y2, f2, u2 = _entry(x2 & mask, symlut, fblut, symbols, freqs, cum, use_lut)
        y3, f3, u3 = _entry(x3 & mask, symlut, fblut, symbols, freqs, cum, use_lut)
        out[i] = y0
        out32[i] = y0
        out[i + 1] = y1
        out32[i + 1] = y1
        out[i + 2] = y2
        out32[i + 2] = y2
        out[i + 3] = y3
        out32[i + 3] = y3
        x0 = f0 * (x0 >> precision) + u0
        x1 = f1 * (x1 >> precision) + u1
        x2 = f2 * (x2 >> precision) + u2
        x3 = f3 * (x3 >> precision) + u3
        if x0 < ra.RANS_L:
            x0 = (x0 << 32) | np.int64(words[wp])
            wp += 1
        if x1 < ra.RANS_L:
            x1 = (x1 << 32) | np.int64(words[wp])
            wp += 1
        if x2 < ra.RANS_L:
            x2 = (x2 << 32) | np.int64(words[wp])
            wp += 1
        if x3 < ra.RANS_L:
            x3 = (x3 << 32) | np.int64(words[wp])
            wp += 1
        g += 1
    xs[0] = x0
    xs[1] = x1
    xs[2] = x2
    xs[3] = x3
    # the rest one label at a time, checking every word read: one lane, or near the end
    # of the word area, or the last < 4 labels
    for i in range(g << 2, count):
        lane = i & (lanes - 1)
        x = xs[lane]
        y, f, u = _entry(x & mask, symlut, fblut, symbols, freqs, cum, use_lut)
        out[i] = y
        out32[i] = y
        x = f * (x >> precision) + u
        if x < ra.RANS_L:
            if wp >= nwords:
                info[0] = i
                return ra.W_TRUNCATED
            x = (x << 32) | np.int64(words[wp])
            wp += 1
        xs[lane] = x
    return ra.end_states(xs, 0, lanes, wp, nwords, info)


def decode_u32(raw, class_count: int, count: int):
    """(labels as int64, the same as uint32): the kernel writes both in one pass, which
    spares the container a second pass over the labels for their checksum."""
    if count == 0:
        _empty_stream(raw.shape[0])
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    cap = min(class_count, 8 * raw.shape[0] + 1)   # a table entry costs >= 2 bits
    symbols = np.zeros(cap, dtype=np.int64)
    freqs = np.zeros(cap, dtype=np.int64)
    info = np.zeros(8, dtype=np.int64)
    st = ra.read_table_kernel(raw, class_count, ra.P_MAX, symbols, freqs, info, 0)
    if st:
        ra.raise_table_status(st, info, class_count, ra.P_MAX, STREAM)
    precision, d = int(info[0]), int(info[1])
    symbols, freqs = symbols[:d], freqs[:d]
    start = ra.table_padding(raw, int(info[2]), STREAM)
    lanes = ra.lane_count(count)
    words = ra.words_area(raw, start, raw.shape[0] - start, lanes, STREAM)
    cum = np.cumsum(freqs) - freqs
    if precision <= LUT_MAX_P and (1 << precision) <= 4 * count + 4096:
        # (this bound is what decode_memory charges)
        symlut = np.empty((1 << precision) + 1, dtype=np.int32)
        fblut = np.empty((1 << precision) + 1, dtype=np.int64)
        ra.build_slot_tables(symbols, freqs, np.zeros(1, np.int64), np.full(1, d, np.int64),
                             np.full(1, precision, np.int64), np.zeros(1, np.int64), symlut,
                             fblut)
    else:
        symlut = np.empty(0, dtype=np.int32)
        fblut = np.empty(0, dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    st = _decode_kernel(words, lanes, precision, symbols, freqs, cum, symlut, fblut, count,
                        out, out32, info)
    if st:
        ra.raise_words_status(st, info, STREAM, None, lambda i: f"label {i}")
    return out, out32


def decode(raw, class_count: int, count: int) -> np.ndarray:
    return decode_u32(raw, class_count, count)[0]


MODE = Mode(1, "rans", "label", encode, decode, encode_twin, decode_twin, raw_size_bound,
            # the slot tables (2^P <= 4k + 4096 entries and a sentinel, int32 + int64 each)
            # and the uint32 labels
            decode_memory=lambda size, count, raw_len: 12 * (4 * count + 4097) + 4 * count
            if count else 0,
            decode_u32=decode_u32)
