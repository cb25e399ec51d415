"""SPEC.md "Shared coders": static rANS (tables, lanes, word areas) and the ctx-rans shared
layout (Segment_Count, context tables, segments). Used by label mode `rans` and both
`ctx-rans` modes."""
from __future__ import annotations

import math
import struct

from .bits import Bits, best_rice, rice_bits

RANS_L = 1 << 31
RANS_WIDE_MIN_ITEMS = 2048     # a word area coding n items has R = 1 lane below this, else 4


def lanes(n_items: int) -> int:
    """The 2.0 lane rule: R = 1 when the area codes fewer than 2048 items, else 4."""
    return 1 if n_items < RANS_WIDE_MIN_ITEMS else 4


def quantize(counts, P):
    """The encoder rule's quantisation of counts (symbol order) to a sum of 2^P."""
    k, target = sum(counts), 1 << P
    f = [max(1, c * target // k) for c in counts]
    s = sum(f)
    if s < target:
        order = sorted(range(len(f)), key=lambda j: (-(counts[j] * target % k), j))
        for j in order[:target - s]:
            f[j] += 1
    elif s > target:
        excess = s - target
        for j in sorted(range(len(f)), key=lambda j: (-f[j], j)):
            d = min(excess, f[j] - 1)
            f[j] -= d
            excess -= d
            if not excess:
                break
    return f


def best_precision(symbols, counts, p_hi):
    """(P, freqs): P from bitlen(D - 1) to p_hi with the smallest estimated size (coded
    bits + table bits), first on ties."""
    gaps = [s - p - 1 for p, s in zip([-1] + symbols, symbols)]
    gap_bits = rice_bits(gaps, best_rice(gaps))
    best = None
    for P in range((len(symbols) - 1).bit_length(), p_hi + 1):
        f = quantize(counts, P)
        cost = sum(c * (P - math.log2(x)) for c, x in zip(counts, f))
        cost += rice_bits(f, best_rice(f)) + gap_bits
        if best is None or cost < best[0]:
            best = (cost, P, f)
    return best[1], best[2]


def table_bits(w: Bits, A, P, symbols, freqs, *, d_field=None, rs=None, rf=None,
               entries=None) -> Bits:
    """Append one frequency table over an alphabet of A symbols: precision (5 bits),
    symbol_count_minus_1 (bitlen(A - 1) bits), rs, rf (5 bits each), then per symbol
    Rice_rs(gap) and Rice_rf(freq). entries = [(gap, freq)] replaces the entries written
    (for tables that break a rule); d_field overrides symbol_count_minus_1."""
    if entries is None:
        entries = list(zip([s - p - 1 for p, s in zip([-1] + list(symbols), symbols)], freqs))
    gaps, fs = [g for g, _ in entries], [f for _, f in entries]
    rs = best_rice(gaps) if rs is None else rs
    rf = best_rice(fs) if rf is None else rf
    w.field(P, 5).field(len(entries) - 1 if d_field is None else d_field,
                        (A - 1).bit_length())
    w.field(rs, 5).field(rf, 5)
    for g, f in entries:
        w.rice(g, rs).rice(f, rf)
    return w


def encode_words(items, R, x0=None, pushes=None):
    """The word area of a sequence of coded symbols, items = [(freq, cum, P)] in decode
    order, item n in lane n mod R: the R initial decoder states (lane 0 first, low word
    first), then the renormalisation words in the order the decoder reads them.
    x0: the lanes' starting states (L each; others make streams that break a rule).
    pushes: a list that receives n for every item whose decoding reads a word (the
    encoder pushes that word right before coding the item)."""
    xs, pushed = list(x0) if x0 else [RANS_L] * R, []
    for n in range(len(items) - 1, -1, -1):
        f, c, P = items[n]
        x = xs[n % R]
        if (x >> (63 - P)) >= f:
            pushed.append(x & 0xFFFFFFFF)
            x >>= 32
            if pushes is not None:
                pushes.append(n)
        xs[n % R] = ((x // f) << P) + (x % f) + c
    return [w for x in xs for w in (x & 0xFFFFFFFF, x >> 32)] + pushed[::-1]


def words_bytes(words) -> bytes:
    return b"".join(struct.pack("<I", w) for w in words)


def cumulative(symbols, freqs):
    """{symbol: (freq, cum)}."""
    out, c = {}, 0
    for s, f in zip(symbols, freqs):
        out[s], c = (f, c), c + f
    return out


# ---------------------------------------------------------------- ctx-rans shared layout

def ctx_segments(k, S):
    """Segment s holds items floor(s*k/S) .. floor((s+1)*k/S) - 1."""
    return [(s * k // S, (s + 1) * k // S) for s in range(S)]


def ctx_segment_rule(k):
    """Encoder rule: S = 1 below 2^17 items, else the largest power of two <= k >> 16,
    at most 16."""
    s = k >> 16
    return 1 if s < 2 else min(16, 1 << (s.bit_length() - 1))


def ctx_policy(counts_by_symbol, A):
    """Encoder rule for one context: (P, symbols, freqs), or None if it codes nothing."""
    symbols = sorted(counts_by_symbol)
    if not symbols:
        return None
    counts = [counts_by_symbol[s] for s in symbols]
    p_min = (len(symbols) - 1).bit_length()
    P, f = best_precision(symbols, counts, max(p_min, min(10, sum(counts).bit_length() + 1)))
    return P, symbols, f


def ctx_tables(pairs, alphabets, override=None):
    """Tables by the encoder rule from every (context, symbol) pair of the stream;
    override = {t: (P, symbols, freqs) or None} replaces some."""
    counts = [dict() for _ in alphabets]
    for t, y in pairs:
        counts[t][y] = counts[t].get(y, 0) + 1
    tables = [ctx_policy(c, a) for c, a in zip(counts, alphabets)]
    for t, tab in (override or {}).items():
        tables[t] = tab
    return tables


def ctx_head(S, tables, alphabets, *, pad=0, present_over=None, d_over=None) -> bytes:
    """Segment_Count (1 byte), then per context a present bit and, if set, its table, then
    zero padding. present_over {t: 0} clears a present bit (the table is left out);
    d_over {t: value} writes another symbol_count_minus_1."""
    w = Bits().field(S, 8)
    for t, (tab, A) in enumerate(zip(tables, alphabets)):
        present = tab is not None and (present_over or {}).get(t, 1)
        w.field(1 if present else 0, 1)
        if present:
            table_bits(w, A, *tab, d_field=(d_over or {}).get(t))
    return w.bytes(pad)


def ctx_words(pairs, tables, n_items, x0=None, pushes=None) -> bytes:
    """One segment's word area: symbol n of the segment in lane n mod R, R from the
    segment's item count, each symbol coded with its context's table and P."""
    cums = {t: cumulative(tab[1], tab[2]) for t, tab in enumerate(tables) if tab is not None}
    items = [(*cums[t][y], tables[t][0]) for t, y in pairs]
    return words_bytes(encode_words(items, lanes(n_items), x0, pushes))
