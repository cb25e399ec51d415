"""SPEC.md "Label stream modes": 0 packed, 1 rans, 2 ctx-rans.

Every writer returns the empty body at k = 0."""
from __future__ import annotations

from .bits import Bits, bits_to_bytes, varint
from .rans import (best_precision, ctx_head, ctx_segment_rule, ctx_segments, ctx_tables,
                   ctx_words, cumulative, encode_words, lanes, table_bits, words_bytes)

NAMES = {0: "packed", 1: "rans", 2: "ctx-rans"}


def label_width(C):
    return (C - 1).bit_length()


def packed(labels, C) -> bytes:
    """k fields of w = bitlen(C - 1) bits, then zero padding."""
    w = label_width(C)
    return bits_to_bytes([(v >> b) & 1 for v in labels for b in range(w)])


def rans_policy(labels):
    """(P, symbols, freqs) by the encoder rule: the present symbols, P from bitlen(D - 1)
    to min(24, max(bitlen(D - 1), bitlen(k) + 1))."""
    symbols = sorted(set(labels))
    counts = [labels.count(s) for s in symbols]
    p_min = (len(symbols) - 1).bit_length()
    P, f = best_precision(symbols, counts, min(24, max(p_min, len(labels).bit_length() + 1)))
    return P, symbols, f


def rans_table(C, P, symbols, freqs, *, pad=0, **kw) -> bytes:
    return table_bits(Bits(), C, P, symbols, freqs, **kw).bytes(pad)


def rans_words(labels, P, symbols, freqs, x0=None):
    """The word list of label mode 1: label i in lane i mod R, R = lanes(k)."""
    cum = cumulative(symbols, freqs)
    return encode_words([(*cum[v], P) for v in labels], lanes(len(labels)), x0)


def rans(labels, C, *, P=None, symbols=None, freqs=None, x0=None, pad=0, **table_kw) -> bytes:
    """Label mode 1; the table by the encoder rule unless P/symbols/freqs are given."""
    labels = list(labels)
    if not labels:
        return b""
    if P is None:
        P, symbols, freqs = rans_policy(labels)
    return (rans_table(C, P, symbols, freqs, pad=pad, **table_kw)
            + words_bytes(rans_words(labels, P, symbols, freqs, x0)))


# ---------------------------------------------------------------- ctx-rans (label mode 2)

CTX_EVENT_TABLES, CTX_LITERAL = 64, 64      # contexts 0..63: events; 64: literals
SAME, BACK, NEW = 0, 1, 2


def alphabets(C):
    return [3] * CTX_EVENT_TABLES + [C]


def gap_bucket(d):
    return min(d.bit_length() - 1, 15)


def ctx_label_pairs(labels, indices, lo, hi):
    """The (context, symbol) pairs of labels lo..hi-1 (one segment; the state starts
    afresh)."""
    pairs, prev, back, run = [], -1, -1, 0
    for j in range(lo, hi):
        lab = labels[j]
        if j > lo:
            t = min(run, 3) * 16 + gap_bucket(indices[j] - indices[j - 1])
            if lab == prev:
                pairs.append((t, SAME))
                run += 1
                continue
            if lab == back:
                pairs.append((t, BACK))
                back, prev, run = prev, back, 0
                continue
            pairs.append((t, NEW))
        pairs.append((CTX_LITERAL, lab))
        back, prev, run = prev, lab, 0
    return pairs


def ctx_rans(labels, C, indices, *, S=None, pairs=None, override=None, present_over=None,
             x0=None, sizes=None, edit=None, pushes=None) -> bytes:
    """Label mode 2. pairs: explicit per-segment (context, symbol) lists (non-canonical
    streams); sizes {segment: word_bytes} written into the directory; the rest as the
    index mode's ctx_rans; pushes: a list that receives the symbols of segment 0 whose
    decoding reads a renormalisation word (see rans.encode_words). Lanes: symbol n of a
    segment in lane n mod R, R from the segment's item count."""
    labels, indices = list(labels), list(indices)
    if not labels:
        return b""
    k = len(labels)
    S = ctx_segment_rule(k) if S is None else S
    bounds = ctx_segments(k, S)
    if pairs is None:
        pairs = [ctx_label_pairs(labels, indices, lo, hi) for lo, hi in bounds]
    alph = alphabets(C)
    tables = ctx_tables([p for sp in pairs for p in sp], alph, override)
    head = ctx_head(S, tables, alph, present_over=present_over)
    data = [ctx_words(sp, tables, hi - lo, (x0 or {}).get(s), pushes if s == 0 else None)
            for s, (sp, (lo, hi)) in enumerate(zip(pairs, bounds))]
    if edit:
        edit(data)
    directory = b"".join(varint((sizes or {}).get(s, len(d))) for s, d in enumerate(data))
    return head + directory + b"".join(data)


def write(mode, labels, C, indices):
    if mode == 2:
        return ctx_rans(labels, C, indices)
    return {0: packed, 1: rans}[mode](labels, C)
