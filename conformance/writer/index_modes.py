"""SPEC.md "Index stream modes": 0 bitmap, 1 varint, 2 rice, 3 ctx-rans.

Every writer returns the empty body at k = 0 (the 2.0 rule, bitmap included)."""
from __future__ import annotations

from .bits import Bits, gaps_of, varint
from .rans import ctx_head, ctx_segment_rule, ctx_segments, ctx_tables, ctx_words

NAMES = {0: "bitmap", 1: "varint", 2: "rice", 3: "ctx-rans"}


def bitmap(indices, N) -> bytes:
    """ceil(N/8) bytes; item i is bit i mod 8 of byte i div 8."""
    if not indices:
        return b""
    out = bytearray((N + 7) // 8)
    for i in indices:
        out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def varint_gaps(indices, N=None) -> bytes:
    return b"".join(varint(g) for g in gaps_of(indices))


RICE_BLOCK, RICE_R_MAX = 128, 47


def rice_policy(gaps):
    """Encoder rule: per block the r in 0..47 minimising header(r) + data bits (header 1
    when r equals the previous block's r, 0 before block 0, else 7); smaller r on ties."""
    rs, prev = [], 0
    for b in range(0, len(gaps), RICE_BLOCK):
        block = gaps[b:b + RICE_BLOCK]
        cost = [(1 if r == prev else 7) + sum((g >> r) + 1 + r for g in block)
                for r in range(RICE_R_MAX + 1)]
        prev = cost.index(min(cost))
        rs.append(prev)
    return rs


def rice_writer(indices, *, rs=None, explicit=(), gaps=None) -> Bits:
    """The rice bitstream (unpadded). rs: r per block (default the encoder rule);
    explicit: blocks written with same_r = 0 even when r repeats; gaps: raw gaps."""
    gaps = list(gaps_of(indices)) if gaps is None else list(gaps)
    rs = rice_policy(gaps) if rs is None else list(rs)
    w, prev = Bits(), 0
    for b, start in enumerate(range(0, len(gaps), RICE_BLOCK)):
        r = rs[b]
        if r == prev and b not in explicit:
            w.field(1, 1)
        else:
            w.field(0, 1).field(r, 6)
        for g in gaps[start:start + RICE_BLOCK]:
            w.rice(g, r)
        prev = r
    return w


def rice(indices, N=None) -> bytes:
    return rice_writer(indices).bytes()


# ---------------------------------------------------------------- ctx-rans (index mode 3)

CTX_INDEX_CONTEXTS, CTX_INDEX_CLASSES = 16, 97
ALPHABETS = [CTX_INDEX_CLASSES] * CTX_INDEX_CONTEXTS


def gap_class(v):
    """(class, raw field, raw width) of v = g + 1 = 2^n + m."""
    n = v.bit_length() - 1
    if n == 0:
        return 0, 0, 0
    return 2 * n - 1 + ((v >> (n - 1)) & 1), v & ((1 << (n - 1)) - 1), max(n - 1, 0)


def ctx_index_segments(indices, S):
    """Per segment [base, n_items, (context, class) pairs, raw Bits]."""
    segs = []
    for lo, hi in ctx_segments(len(indices), S):
        prev, n_prev, pairs, raw = (indices[lo - 1] if lo else -1), 0, [], Bits()
        base = prev
        for i in indices[lo:hi]:
            c, m, wd = gap_class(i - prev)
            pairs.append((min(n_prev, 15), c))
            raw.field(m, wd)
            n_prev, prev = (i - prev).bit_length() - 1, i
        segs.append([base, hi - lo, pairs, raw])
    return segs


def ctx_rans(indices, N=None, *, S=None, override=None, write_over=None, present_over=None,
             d_over=None, pad=0, x0=None, rows=None, raw_pad=None, edit=None,
             pushes=None) -> bytes:
    """Index mode 3. S: segment count (default: the encoder rule); override: tables the
    words are coded with; write_over: tables written in their place (only in the head);
    present_over/d_over/pad: see rans.ctx_head; x0 {segment: lane states}; rows {segment:
    (base, word_bytes, raw_bytes)} with None keeping the real value (bytes: the varint as
    written); raw_pad {segment:
    padding bits}; edit(list of [words, raw] per segment) changes the segment data;
    pushes: a list that receives the gaps of segment 0 whose decoding reads a word."""
    indices = list(indices)
    if not indices:
        return b""
    S = ctx_segment_rule(len(indices)) if S is None else S
    segs = ctx_index_segments(indices, S)
    tables = ctx_tables([p for sg in segs for p in sg[2]], ALPHABETS, override)
    written = [(write_over or {}).get(t, tab) for t, tab in enumerate(tables)]
    head = ctx_head(S, written, ALPHABETS, pad=pad, present_over=present_over, d_over=d_over)
    data = [[ctx_words(sg[2], tables, sg[1], (x0 or {}).get(s), pushes if s == 0 else None),
             sg[3].bytes((raw_pad or {}).get(s, 0))] for s, sg in enumerate(segs)]
    if edit:
        edit(data)
    directory = b""
    for s, (sg, (words, raw)) in enumerate(zip(segs, data)):
        real = (sg[0], len(words), len(raw))
        base, wb, rb = (r if r is not None else v
                        for r, v in zip((rows or {}).get(s, real), real))
        directory += b"".join(v if isinstance(v, bytes) else varint(v)
                              for v in ((base,) if s else ()) + (wb, rb))
    return head + directory + b"".join(w + r for w, r in data)


WRITERS = {0: bitmap, 1: varint_gaps, 2: rice, 3: ctx_rans}
