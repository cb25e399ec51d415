"""Regenerate the PLADA conformance vectors and their manifest, deterministically.

    python -m conformance.generate            # rewrites conformance/vectors/ and vectors.json

This is a small writer of its own, built from SPEC.md alone: header and section packing,
CRC-32 (zlib), the content checksum, the 1.0 stream modes, and Zstd frames made of raw and
RLE blocks (plus two compressed frames frozen as hex), so the bytes do not depend on the
reference encoder's mode choice or on the installed Zstd library. Every must-reject file
is a valid payload with exactly one rule broken; CRCs are recomputed unless the CRC is
the rule under test.

Names: y_* must decode, n_* must be rejected with the named error, i_* are
implementation-defined (a decoder may decode them or reject them with the named error,
e.g. sizes between a decoder's required minimum limit and the format's maximum).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
import zlib
from pathlib import Path

# one definition of the manifest's hashes, shared with the runner that checks them
from conformance.runner import classes_sha256, content_sha256

HERE = Path(__file__).resolve().parent
SPEC_VERSION = "1.3"

MAGIC = b"\x89PLD\r\n\x1a\n"
T_CLASS, T_INDEX, T_LABEL, T_META = 0x0001, 0x0002, 0x0003, 0x8001
ZSTD = 0x01
INDEX_NAMES = {0: "bitmap", 1: "varint", 2: "runs", 3: "rice", 4: "adaptive", 5: "ctx-rans"}
LABEL_NAMES = {0: "packed", 1: "huffman", 2: "rle", 3: "rans", 4: "adaptive", 5: "adaptive-gap",
               6: "ctx-rans"}
INLINE_MAX = 64  # items; larger vectors list only content_sha256

# ================================================================ primitives


def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def bits_to_bytes(bits: list[int]) -> bytes:
    """LSB-first bitstream, zero padding."""
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        out[i // 8] |= b << (i % 8)
    return bytes(out)


def content_checksum(indices, labels) -> bytes:
    """SPEC.md Content_Checksum: crc32(indices as u64 LE) as u32 LE, then crc32(labels as
    u32 LE) as u32 LE; k = 0 gives 8 zero bytes (the CRC-32 of no bytes is 0)."""
    ci = zlib.crc32(struct.pack(f"<{len(indices)}Q", *indices))
    cl = zlib.crc32(struct.pack(f"<{len(labels)}I", *labels))
    return struct.pack("<II", ci, cl)


def header(*, N, k, C, sections, checksum, major=1, minor=1, flags=None, reserved=0,
           required=0, optional=0, digest=None, crc=None, magic=MAGIC) -> bytes:
    if flags is None:
        flags = 0x01 if digest is not None else 0
    head = struct.pack("<8sBBBBIIQQII32s8s", magic, major, minor, flags, reserved, required,
                       optional, N, k, C, sections, digest or bytes(32), checksum)
    return head + struct.pack("<I", zlib.crc32(head) if crc is None else crc)


def section(stype, mode, flags, body, *, length=None, crc=None) -> bytes:
    head = struct.pack("<HBBI", stype, mode, flags, len(body) if length is None else length)
    return head + struct.pack("<I", zlib.crc32(body, zlib.crc32(head)) if crc is None else crc) + body


# ---------------------------------------------------------------- Zstd frames (RFC 8878)


def zstd_frame(data: bytes, *, blocks=None, fcs=None, fcs_bytes=None, window_log=None,
               trailing=b"") -> bytes:
    """One Zstd frame holding `data` in raw blocks (or `blocks`: list of ("raw", bytes) /
    ("rle", byte, n)). Single-segment unless window_log is given."""
    fcs = len(data) if fcs is None else fcs
    if window_log is None:
        if fcs_bytes is None:
            fcs_bytes = 1 if fcs < 256 else 2 if fcs < 65536 + 256 else 4 if fcs < 2**32 else 8
        flag = {1: 0, 2: 1, 4: 2, 8: 3}[fcs_bytes]
        fhd = bytes([(flag << 6) | 0x20])
        value = fcs - 256 if fcs_bytes == 2 else fcs
        fh = fhd + value.to_bytes(fcs_bytes, "little")
    else:  # Window_Descriptor present, Single_Segment_flag clear, FCS on 8 bytes
        fh = bytes([0xC0, (window_log - 10) << 3]) + fcs.to_bytes(8, "little")
    if blocks is None:
        blocks = [("raw", data)] if data or True else []
    out = bytearray(b"\x28\xb5\x2f\xfd" + fh)
    for n, blk in enumerate(blocks):
        last = n == len(blocks) - 1
        if blk[0] == "raw":
            out += (last | (0 << 1) | (len(blk[1]) << 3)).to_bytes(3, "little") + blk[1]
        else:
            out += (last | (1 << 1) | (blk[2] << 3)).to_bytes(3, "little") + bytes([blk[1]])
    return bytes(out) + trailing


# Compressed frames, frozen (made once with zstandard level 19; decoders must handle them,
# and the generator must not depend on the installed libzstd's output).
FROZEN_ZSTD = {
    # bitmap of N = 400 keeping every i with i % 3 == 0 (k = 134)
    "bitmap_every3_n400": "28b52ffd2032550000204992244901006b3a22",
    # packed labels j % 4 for j < 134, C = 4
    "packed_c4_k134": "28b52ffd202245000010e4040100381002",
    # rice stream of every third index of N = 3000 (k = 1000, r = 1 throughout)
    "rice_every3_n3000": "28b52ffd6078007d0100d2c1050ce0e9c01f6c8171c2761b8d1ac79676e286"
                         "edb8b7b59d08209043ebd98363924c92496a12cd614c82a62502",
    # rans labels j % 4 for j < 1000, C = 4 (P = 2, every frequency 1; 4 lanes, so lane n
    # codes only symbol n): zstandard level 19, content size, no checksum
    "rans_c4_k1000": "28b52ffd60140095010042c3080fe0e960025f804944098b70cf4c4901d476484659"
                     "ffc34fedf00f39fc5135fcbfdc160400d4991400e000c002003d",
}


def frozen(name):
    """A frozen compressed frame; checked against the raw body it must decode to."""
    frame = bytes.fromhex(FROZEN_ZSTD[name])

    def use(raw):
        try:
            import zstandard
        except ImportError:
            return frame
        if zstandard.ZstdDecompressor().decompress(frame) != raw:
            raise AssertionError(f"frozen Zstd frame {name} does not decode to its stream")
        return frame
    return use

# ================================================================ stream modes (SPEC.md)


def gaps_of(indices):
    prev = -1
    for i in indices:
        yield i - prev - 1
        prev = i


def s_bitmap(indices, N) -> bytes:
    out = bytearray((N + 7) // 8)
    for i in indices:
        out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def s_varint(indices, N=None) -> bytes:
    return b"".join(varint(g) for g in gaps_of(indices))


def runs_of(indices):
    runs = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def s_runs(indices, N=None) -> bytes:
    out, prev_end = bytearray(), -2
    for s, e in runs_of(indices):
        out += varint(s - prev_end - 2) + varint(e - s)
        prev_end = e
    return bytes(out)


def label_width(C):
    return (C - 1).bit_length()


def s_packed(labels, C) -> bytes:
    w = label_width(C)
    return bits_to_bytes([(v >> b) & 1 for v in labels for b in range(w)])


def s_rle(labels, C=None) -> bytes:
    out, j = bytearray(), 0
    while j < len(labels):
        t = j
        while t + 1 < len(labels) and labels[t + 1] == labels[j]:
            t += 1
        out += varint(labels[j]) + varint(t - j)
        j = t + 1
    return bytes(out)


def canonical_codes(lengths: dict) -> dict:
    codes, code, prev = {}, 0, None
    for s, ln in sorted(lengths.items(), key=lambda t: (t[1], t[0])):
        if prev is not None:
            code = (code + 1) << (ln - prev)
        codes[s] = code
        prev = ln
    return codes


def default_lengths(labels) -> dict:
    """A complete prefix code over the symbols present, *not* Huffman's: symbols in
    increasing order get lengths 1, 2, ..., m-1, m-1 (legal for any counts)."""
    syms = sorted(set(labels))
    if len(syms) == 1:
        return {syms[0]: 0}
    m = len(syms)
    return {s: min(t + 1, m - 1) for t, s in enumerate(syms)}


def huffman_table(lengths: dict) -> bytes:
    out, prev = bytearray(varint(len(lengths))), -1
    for s in sorted(lengths):
        out += varint(s - prev - 1) + bytes([lengths[s]])
        prev = s
    return bytes(out)


def s_huffman(labels, C=None, lengths=None, pad_bits=None) -> bytes:
    if not labels:
        return varint(0)
    lengths = default_lengths(labels) if lengths is None else lengths
    codes = canonical_codes(lengths)
    bits = []
    for v in labels:
        ln = lengths[v]
        bits += [(codes[v] >> (ln - 1 - b)) & 1 for b in range(ln)]
    body = bits_to_bytes(bits)
    if pad_bits is not None:  # set padding bits (to break the padding rule)
        body = body[:-1] + bytes([body[-1] | pad_bits])
    return huffman_table(lengths) + body


# ---------------------------------------------------------------- format 1.1 modes (SPEC.md
# "Format 1.1 modes"), written from the text: bit writer, rice, the binary range coder and
# its two models, rANS. No validation: the n_* vectors need streams that break rules.


class Bits:
    """LSB-first bitstream (SPEC.md "Shared conventions")."""

    def __init__(self):
        self.bits = []

    def field(self, v, w):
        assert 0 <= v < (1 << w) or (w == 0 and v == 0), (v, w)
        self.bits += [(v >> b) & 1 for b in range(w)]
        return self

    def unary(self, q):
        self.bits += [0] * q + [1]
        return self

    def rice(self, v, r):
        return self.unary(v >> r).field(v & ((1 << r) - 1), r)

    def bytes(self, pad=0):
        """The stream; `pad` sets padding bits (bit 0 of pad = the first padding bit)."""
        out = bytearray(bits_to_bytes(self.bits))
        if pad:
            used = len(self.bits) % 8
            assert used and pad < 1 << (8 - used), "no such padding bits"
            out[-1] |= pad << used
        return bytes(out)


RICE_BLOCK, RICE_R_MAX = 128, 47


def rice_policy(gaps):
    """SPEC.md rice "Encoder rule": per block the r in 0..47 minimising header(r) + data
    bits (header 1 if r equals the previous r, 0 before block 0, else 7); smaller r on ties."""
    rs, prev = [], 0
    for b in range(0, len(gaps), RICE_BLOCK):
        block = gaps[b:b + RICE_BLOCK]
        cost = [(1 if r == prev else 7) + sum((g >> r) + 1 + r for g in block)
                for r in range(RICE_R_MAX + 1)]
        prev = cost.index(min(cost))
        rs.append(prev)
    return rs


def s_rice(indices, N=None, *, rs=None, explicit=(), gaps=None):
    """Index mode 3. rs: r per block (default: the encoder rule); explicit: blocks written
    with same_r = 0 even when r equals the previous r; gaps: raw gaps (default: of indices)."""
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


class RangeCoder:
    """SPEC.md "Binary range coder", encoder side, with its adaptive contexts."""

    def __init__(self, contexts):
        self.low, self.range, self.cache, self.cache_size = 0, 0xFFFFFFFF, 0, 1
        self.out = bytearray()
        self.probs = [[1 << 14, 1 << 14] for _ in range(contexts)]
        self.carries = 0       # carry propagations (to find streams that exercise them)
        self.ff_runs = 0       # 0xFF bytes held back in the cache run

    def _shift_low(self):
        if self.low < 0xFF000000 or self.low >= 1 << 32:
            carry = self.low >> 32
            self.carries += carry
            self.ff_runs += self.cache_size - 1
            self.out.append((self.cache + carry) & 0xFF)
            self.out += bytes([(0xFF + carry) & 0xFF]) * (self.cache_size - 1)
            self.cache, self.cache_size = (self.low >> 24) & 0xFF, 0
        self.cache_size += 1
        self.low = (self.low & 0x00FFFFFF) << 8

    def _code(self, bit, p0):
        bound = (self.range >> 15) * p0
        if bit == 0:
            self.range = bound
        else:
            self.low += bound
            self.range -= bound
        while self.range < 1 << 24:
            self.range <<= 8
            self._shift_low()

    def bit(self, ctx, bit):
        p = self.probs[ctx]
        self._code(bit, (p[0] + p[1]) >> 1)
        if bit == 0:
            p[0] += ((1 << 15) - p[0]) >> 4
            p[1] += ((1 << 15) - p[1]) >> 7
        else:
            p[0] -= p[0] >> 4
            p[1] -= p[1] >> 7

    def bypass(self, bit):
        self._code(bit, 1 << 14)

    def finish(self):
        for _ in range(5):
            self._shift_low()
        return bytes(self.out)


AD_N_MAX, AD_UNARY = 48, 49 * 48


def adaptive_index_coder(indices=None, N=None, *, gaps=None):
    """Index mode 4 (no range check: n_* vectors code gaps past N)."""
    gaps = list(gaps_of(indices)) if gaps is None else list(gaps)
    rc = RangeCoder(AD_UNARY + 49 * 4)
    n_prev = 0
    for g in gaps:
        v = g + 1
        n = v.bit_length() - 1
        for j in range(AD_N_MAX):
            rc.bit(n_prev * 48 + j, int(n > j))
            if n <= j:
                break
        node = 1
        for b in range(n - 1, -1, -1):
            bit = (v >> b) & 1
            if n - 1 - b < 2:
                rc.bit(AD_UNARY + n * 4 + node, bit)
                node = 2 * node + bit
            else:
                rc.bypass(bit)
        n_prev = n
    return rc


def s_adaptive(indices, N=None, *, gaps=None):
    if not (indices if gaps is None else gaps):
        return b""
    return adaptive_index_coder(indices, N, gaps=gaps).finish()


def adaptive_labels_coder(labels, C, *, full=(), indices=None):
    """Label mode 4, or with `indices` label mode 5 (format 1.2, "Label mode 5:
    adaptive-gap"): the same steps with the same flag split by the gap bucket
    b = min(bitlen(i_j - i_(j-1)) - 1, 15): same in min(run, 3)*16 + b, back in 64 + b,
    tree nodes from 80 (mode 4: same in min(run, 15), back in 16, tree from 17).
    full: positions coded in full (step 3) whatever the flags would say, to build
    non-canonical streams; labels >= C are coded as given (W bits)."""
    W = (C - 1).bit_length()
    gap = indices is not None
    tree = 80 if gap else 17
    rc = RangeCoder(tree + (1 << W))
    prev = back = -1
    run = 0
    for i, lab in enumerate(labels):
        if i > 0:
            b = min((indices[i] - indices[i - 1]).bit_length() - 1, 15) if gap else 0
            same = int(lab == prev and i not in full)
            rc.bit(min(run, 3) * 16 + b if gap else min(run, 15), same)
            if same:
                run += 1
                continue
            if back >= 0:
                is_back = int(lab == back and i not in full)
                rc.bit(64 + b if gap else 16, is_back)
                if is_back:
                    back, prev, run = prev, back, 0
                    continue
        node = 1
        for bit_pos in range(W - 1, -1, -1):
            bit = (lab >> bit_pos) & 1
            rc.bit(tree + node, bit)
            node = 2 * node + bit
        back, prev, run = prev, lab, 0
    return rc


def s_adaptive_labels(labels, C, **kw):
    if not labels:
        return b""
    return adaptive_labels_coder(labels, C, **kw).finish()


def s_adaptive_gap_labels(labels, C, indices, **kw):
    return s_adaptive_labels(labels, C, indices=indices, **kw)


RANS_L = 1 << 31
RANS_LANES = 4


def rice_bits(values, r):
    return sum((v >> r) + 1 + r for v in values)


def best_rice(values):
    cost = [rice_bits(values, r) for r in range(32)]
    return cost.index(min(cost))


def rans_quantize(counts, P):
    """SPEC.md rans "Encoder rule" quantisation of counts (symbol order) to sum 2^P."""
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


def rans_policy(labels):
    """(P, symbols, freqs) by the SPEC.md encoder rule."""
    symbols = sorted(set(labels))
    counts = [labels.count(s) for s in symbols]
    p_min = (len(symbols) - 1).bit_length()
    P, f = rans_best_precision(symbols, counts,
                               min(24, max(p_min, len(labels).bit_length() + 1)))
    return P, symbols, f


def rans_best_precision(symbols, counts, p_hi):
    """The rans encoder rule's P (bitlen(D - 1) .. p_hi) and frequencies: smallest
    estimated size, first on ties."""
    gaps = [s - p - 1 for p, s in zip([-1] + symbols, symbols)]
    gap_bits = rice_bits(gaps, best_rice(gaps))
    best = None
    for P in range((len(symbols) - 1).bit_length(), p_hi + 1):
        f = rans_quantize(counts, P)
        cost = sum(c * (P - math.log2(x)) for c, x in zip(counts, f))
        cost += rice_bits(f, best_rice(f)) + gap_bits
        if best is None or cost < best[0]:
            best = (cost, P, f)
    return best[1], best[2]


def rans_table(C, P, entries, *, d_field=None, rs=None, rf=None):
    """The table bits: entries = [(gap, freq)]; d_field overrides symbol_count_minus_1."""
    gaps, freqs = [g for g, _ in entries], [f for _, f in entries]
    rs = best_rice(gaps) if rs is None else rs
    rf = best_rice(freqs) if rf is None else rf
    w = Bits().field(P, 5).field(len(entries) - 1 if d_field is None else d_field,
                                 (C - 1).bit_length())
    w.field(rs, 5).field(rf, 5)
    for g, f in entries:
        w.rice(g, rs).rice(f, rf)
    return w


def rans_words(labels, P, symbols, freqs, *, x0=(RANS_L,) * RANS_LANES):
    """SPEC.md rans "Encoding": the word list (the 4 lane states first, lane 0 first, low
    word first).  x0: the lanes' starting states (L each; others make must-reject files)."""
    freq = dict(zip(symbols, freqs))
    cum, c = {}, 0
    for s, f in zip(symbols, freqs):
        cum[s], c = c, c + f
    xs, pushed = list(x0), []
    for i in range(len(labels) - 1, -1, -1):
        s, lane = labels[i], i % RANS_LANES
        x, f = xs[lane], freq[s]
        if (x >> (63 - P)) >= f:
            pushed.append(x & 0xFFFFFFFF)
            x >>= 32
        xs[lane] = ((x // f) << P) + (x % f) + cum[s]
    return [w for x in xs for w in (x & 0xFFFFFFFF, x >> 32)] + pushed[::-1]


def words_bytes(words):
    return b"".join(struct.pack("<I", w) for w in words)


def s_rans(labels, C, *, P=None, symbols=None, freqs=None, rs=None, rf=None,
           x0=(RANS_L,) * RANS_LANES, pad=0):
    """Label mode 3; table by the encoder rule unless P/symbols/freqs are given."""
    labels = list(labels)
    if not labels:
        return b""
    if P is None:
        P, symbols, freqs = rans_policy(labels)
    gaps = [s - p - 1 for p, s in zip([-1] + list(symbols), symbols)]
    table = rans_table(C, P, list(zip(gaps, freqs)), rs=rs, rf=rf)
    return table.bytes(pad) + words_bytes(rans_words(labels, P, symbols, freqs, x0=x0))


# ---------------------------------------------------------------- format 1.3: ctx-rans

CTX_INDEX_CONTEXTS, CTX_INDEX_CLASSES = 16, 97
CTX_EVENT_TABLES, CTX_LITERAL = 64, 64          # label contexts 0..63 events, 64 literal
SAME, BACK, NEW = 0, 1, 2


def ctx_p_limit(A):
    return max(10, (A - 1).bit_length())


def ctx_policy(counts_by_symbol, A):
    """SPEC.md "Format 1.3 modes" encoder rule for one context: (P, symbols, freqs), or
    None for a context that codes nothing."""
    symbols = sorted(counts_by_symbol)
    if not symbols:
        return None
    counts = [counts_by_symbol[s] for s in symbols]
    p_min = (len(symbols) - 1).bit_length()
    P, f = rans_best_precision(symbols, counts,
                               max(p_min, min(10, sum(counts).bit_length() + 1)))
    return P, symbols, f


def ctx_segments(k, S):
    return [(s * k // S, (s + 1) * k // S) for s in range(S)]


def ctx_segment_rule(k):
    s = k >> 16
    return 1 if s < 2 else min(16, 1 << (s.bit_length() - 1))


def ctx_tables(pairs, alphabets, override=None):
    """Tables by the encoder rule from every (context, symbol) pair; override = {t: table or
    None} replaces some (for must-reject files)."""
    counts = [dict() for _ in alphabets]
    for t, y in pairs:
        counts[t][y] = counts[t].get(y, 0) + 1
    tables = [ctx_policy(c, a) for c, a in zip(counts, alphabets)]
    for t, tab in (override or {}).items():
        tables[t] = tab
    return tables


def ctx_head(S, tables, alphabets, *, pad=0, present_over=None):
    """Segment_Count, then per context the present bit and (if present) mode 3's table
    over the context's alphabet, then zero padding.  present_over: {t: 0} clears a present
    bit while keeping the table out (for a stream that needs an absent table)."""
    w = Bits().field(S, 8)
    for t, (tab, A) in enumerate(zip(tables, alphabets)):
        present = tab is not None and (present_over or {}).get(t, 1)
        w.field(1 if present else 0, 1)
        if not present:
            continue
        P, symbols, freqs = tab
        gaps = [y - p - 1 for p, y in zip([-1] + list(symbols), symbols)]
        rs, rf = best_rice(gaps), best_rice(freqs)
        w.field(P, 5).field(len(symbols) - 1, (A - 1).bit_length()).field(rs, 5).field(rf, 5)
        for g, f in zip(gaps, freqs):
            w.rice(g, rs).rice(f, rf)
    return w.bytes(pad)


def ctx_words(pairs, tables, *, x0=(RANS_L,) * RANS_LANES):
    """One segment's word area: mode 3's encoding with each symbol's own table and P,
    symbol n in lane n mod 4."""
    freq, cum = {}, {}
    for t, tab in enumerate(tables):
        if tab is not None:
            c = 0
            for y, f in zip(tab[1], tab[2]):
                freq[t, y], cum[t, y] = f, c
                c += f
    xs, pushed = list(x0), []
    for i in range(len(pairs) - 1, -1, -1):
        t, y = pairs[i]
        P, lane = tables[t][0], i % RANS_LANES
        x, f = xs[lane], freq[t, y]
        if (x >> (63 - P)) >= f:
            pushed.append(x & 0xFFFFFFFF)
            x >>= 32
        xs[lane] = ((x // f) << P) + (x % f) + cum[t, y]
    return words_bytes([w for x in xs for w in (x & 0xFFFFFFFF, x >> 32)] + pushed[::-1])


def ctx_gap_class(v):
    """(class, raw field, raw width) of v = g + 1."""
    n = v.bit_length() - 1
    if n == 0:
        return 0, 0, 0
    return 2 * n - 1 + ((v >> (n - 1)) & 1), v & ((1 << (n - 1)) - 1), max(n - 1, 0)


def ctx_index_parts(indices, S=None):
    """Index mode 5 by the encoder rule, as parts: tables, and per segment (base, symbol
    pairs, raw Bits)."""
    k = len(indices)
    S = ctx_segment_rule(k) if S is None else S
    segs = []
    for lo, hi in ctx_segments(k, S):
        prev, n_prev, pairs, raw = (indices[lo - 1] if lo else -1), 0, [], Bits()
        base = prev
        for i in indices[lo:hi]:
            c, m, wd = ctx_gap_class(i - prev)
            pairs.append((min(n_prev, 15), c))
            raw.field(m, wd)
            n_prev, prev = (i - prev).bit_length() - 1, i
        segs.append([base, pairs, raw])
    return S, segs


def s_ctx_index(indices, N=None, *, S=None, override=None, x0=None, pad=0, present_over=None,
                rows=None, raw_pad=None, edit=None, write_over=None):
    """Index mode 5. S: segment count (default: the encoder rule); override/present_over:
    tables (write_over: only the tables written, not those the words are coded with);
    x0: {segment: lane states}; rows: {segment: (base, word_bytes, raw_bytes)}
    overrides written into the directory; raw_pad: {segment: padding bits}; edit:
    callable(list of per-segment [words, raw]) for must-reject files."""
    indices = list(indices)
    if not indices:
        return b""
    S, segs = ctx_index_parts(indices, S)
    alph = [CTX_INDEX_CLASSES] * CTX_INDEX_CONTEXTS
    tables = ctx_tables([p for sg in segs for p in sg[1]], alph, override)
    written = [(write_over or {}).get(t, tab) for t, tab in enumerate(tables)]
    head = ctx_head(S, written, alph, pad=pad, present_over=present_over)
    data = [[ctx_words(sg[1], tables, **({"x0": x0[s]} if x0 and s in x0 else {})),
             sg[2].bytes((raw_pad or {}).get(s, 0))] for s, sg in enumerate(segs)]
    if edit:
        edit(data)
    directory = b""
    for s, (sg, (words, raw)) in enumerate(zip(segs, data)):
        real = (sg[0], len(words), len(raw))
        base, wb, rb = (r if r is not None else v
                        for r, v in zip((rows or {}).get(s, real), real))
        directory += (varint(base) if s else b"") + varint(wb) + varint(rb)
    return head + directory + b"".join(w + r for w, r in data)


def ctx_bucket(d):
    return min(d.bit_length() - 1, 15)


def ctx_label_pairs(labels, indices, lo, hi):
    """The (context, symbol) pairs of labels lo..hi-1 (one segment)."""
    pairs, prev, back, run = [], -1, -1, 0
    for j in range(lo, hi):
        lab = labels[j]
        if j > lo:
            t = min(run, 3) * 16 + ctx_bucket(indices[j] - indices[j - 1])
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


def s_ctx_labels(labels, C, indices, *, S=None, pairs=None, override=None, x0=None,
                 sizes=None, edit=None, present_over=None):
    """Label mode 6. pairs: explicit per-segment (context, symbol) lists (for must-reject
    files); sizes: {segment: word_bytes} written into the directory; the rest as
    s_ctx_index."""
    labels, indices = list(labels), list(indices)
    if not labels:
        return b""
    k = len(labels)
    S = ctx_segment_rule(k) if S is None else S
    if pairs is None:
        pairs = [ctx_label_pairs(labels, indices, lo, hi) for lo, hi in ctx_segments(k, S)]
    alph = [3] * CTX_EVENT_TABLES + [C]
    tables = ctx_tables([p for sp in pairs for p in sp], alph, override)
    head = ctx_head(S, tables, alph, present_over=present_over)
    data = [ctx_words(sp, tables, **({"x0": x0[s]} if x0 and s in x0 else {}))
            for s, sp in enumerate(pairs)]
    if edit:
        edit(data)
    directory = b"".join(varint((sizes or {}).get(s, len(d))) for s, d in enumerate(data))
    return head + directory + b"".join(data)


def s_rice_bytes(indices, N=None):
    return s_rice(indices, N).bytes()


INDEX_WRITERS = {0: s_bitmap, 1: s_varint, 2: s_runs, 3: s_rice_bytes, 4: s_adaptive,
                 5: s_ctx_index}
LABEL_WRITERS = {0: s_packed, 1: s_huffman, 2: s_rle, 3: s_rans, 4: s_adaptive_labels}

# ================================================================ payload assembly


def class_table(names) -> bytes:
    return b"".join(varint(len(b)) + b for b in (n.encode("utf-8") for n in names))


def meta_json(meta) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def wrap(raw: bytes, z):
    """z: None (raw body), 'raw' (Zstd raw block), or a callable raw -> frame."""
    if z is None:
        return 0, raw
    if z == "raw":
        return ZSTD, zstd_frame(raw)
    return ZSTD, z(raw)


def build(idx, lab, N, C, *, imode=1, lmode=0, iz=None, lz=None, ibody=None, lbody=None,
          names=None, cz=None, meta=None, mz=None, digest=None, before=(), between=(),
          after=(), order=None, hdr=None, sec_over=None, checksum=None, trailing=b""):
    """Assemble a payload. `ibody`/`lbody` replace the stream raw bodies; before/between/
    after add extra (already packed) sections; `order` permutes the sections; `hdr`
    overrides header fields; sec_over = {section position: {section() kwargs}}."""
    idx, lab = list(idx), list(lab)
    raw_i = INDEX_WRITERS[imode](idx, N) if ibody is None else ibody
    if lbody is not None:
        raw_l = lbody
    elif lmode == 5:                     # the label modes whose contexts read the indices
        raw_l = s_adaptive_gap_labels(lab, C, idx)
    elif lmode == 6:
        raw_l = s_ctx_labels(lab, C, idx)
    else:
        raw_l = LABEL_WRITERS[lmode](lab, C)
    parts = []  # (type, mode, flags, body)
    if names is not None:
        parts.append((T_CLASS, 0, *wrap(class_table(names), cz)))
    parts.append((T_INDEX, imode, *wrap(raw_i, iz)))
    parts.append((T_LABEL, lmode, *wrap(raw_l, lz)))
    if meta is not None:
        parts.append((T_META, 0, *wrap(meta if isinstance(meta, bytes) else meta_json(meta), mz)))
    packed = [section(*p, **((sec_over or {}).get(n, {}))) for n, p in enumerate(parts)]
    packed = list(before) + packed[:-1] + list(between) + packed[-1:] + list(after)
    if order is not None:
        packed = [packed[i] for i in order]
    fields = dict(N=N, k=len(idx), C=C, sections=len(packed), digest=digest,
                  checksum=content_checksum(idx, lab) if checksum is None else checksum)
    fields.update(hdr or {})
    return header(**fields) + b"".join(packed) + trailing


# ================================================================ the suite

VECTORS: list[dict] = []


def _mode_name(names, mode, z):
    return names.get(mode, f"mode{mode}") + ("+zstd" if z is not None else "")


def y(vid, comment, spec, idx, lab, N, C, *, flags=(), expect_classes=None, result="valid",
      error=None, rule=None, **kw):
    """A must-decode vector (or, with result="acceptable", one a decoder may decode to the
    expected fields or reject with `error`); expected fields follow from the arguments."""
    data = build(idx, lab, N, C, **kw)
    hdr = kw.get("hdr") or {}
    names = kw.get("names")
    meta = kw.get("meta")
    exp = {
        "version": [hdr.get("major", 1), hdr.get("minor", 1)],
        "pool_size": N,
        "k": len(idx),
        "class_count": C,
        "classes": list(names) if names is not None else (
            expect_classes if expect_classes is not None else [str(i) for i in range(C)]),
        "pool_digest": kw["digest"].hex() if kw.get("digest") else None,
        "metadata": meta if isinstance(meta, dict) and result == "valid" else {},
        "index_mode": _mode_name(INDEX_NAMES, kw.get("imode", 1), kw.get("iz")),
        "label_mode": _mode_name(LABEL_NAMES, kw.get("lmode", 0), kw.get("lz")),
    }
    if len(idx) <= INLINE_MAX:
        exp["indices"], exp["labels"] = list(idx), list(lab)
    exp["content_sha256"] = content_sha256(idx, lab)
    if len(exp["classes"]) > INLINE_MAX:
        exp["classes_sha256"] = classes_sha256(exp.pop("classes"))
    vec = dict(id=vid, data=data, spec=spec, result=result, comment=comment,
               flags=_flags(flags, data), expected=exp, format=format_of(data))
    if result == "acceptable":
        vec.update(error=error, rule=rule)
    VECTORS.append(vec)


def n(vid, comment, spec, rule, error, data, *, flags=(), alternatives=None):
    vec = dict(id=vid, data=data, spec=spec, rule=rule, result="invalid", error=error,
               comment=comment, flags=_flags(flags, data), format=format_of(data))
    if alternatives:
        vec["alternative_errors"] = list(alternatives)
    VECTORS.append(vec)


def _flags(flags, data):
    """The given flags, with Format11 (Format12) added for a file that uses a stream mode
    added in format 1.1 (1.2)."""
    flags = list(flags)
    tag = {"1.1": "Format11", "1.2": "Format12", "1.3": "Format13"}.get(format_of(data))
    if tag and tag not in flags:
        flags.append(tag)
    return flags


def format_of(data: bytes) -> str:
    """The newest format whose stream modes the file uses: "1.3" for index mode 5 or label
    mode 6, "1.2" for label mode 5, "1.1" for index or label modes 3 and 4 (an older
    decoder rejects such a file as an unknown mode), else "1.0"."""
    pos = 88
    found = "1.0"
    while pos + 12 <= len(data):
        stype, mode, _, length = struct.unpack_from("<HBBI", data, pos)
        if (stype == T_INDEX and mode == 5) or (stype == T_LABEL and mode == 6):
            return "1.3"
        if stype == T_LABEL and mode == 5:
            found = "1.2"
        if stype in (T_INDEX, T_LABEL) and mode in (3, 4) and found == "1.0":
            found = "1.1"
        pos += 12 + length
    return found


# ---------------------------------------------------------------- base task

IDX = [2, 3, 4, 9, 19]
LAB = [0, 0, 1, 2, 2]
NAMES = ["cat", "dog", "émeu"]


def base(**kw):
    """The SPEC.md worked example (N=20, k=5, C=3, varint + packed, class table, metadata)."""
    args = dict(names=NAMES, meta={"task": "demo"})
    args.update(kw)
    return build(IDX, LAB, 20, 3, **args)


def define_valid():
    Z = "raw"
    # -- the worked example of SPEC.md, byte for byte
    # (SPEC.md 1.2 writes Version_Minor 2 there; the other vectors keep minor 1, which every
    # decoder accepts as well: y_minor_0 and y_minor_9 cover the other values)
    y("y_spec_example", "the worked example of SPEC.md", "Worked example", IDX, LAB, 20, 3,
      names=NAMES, meta={"task": "demo"}, hdr={"minor": 2}, flags=["SpecExample"])

    # -- every index mode and every label mode, raw and Zstd-wrapped (format 1.0 modes)
    idx = [0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 34, 62]
    lab = [1, 1, 1, 0, 3, 3, 2, 0, 0, 1, 2, 3]
    for im in (0, 1, 2):
        for lm in (0, 1, 2):
            for z in (None, Z):
                if z is not None and (im + lm) % 2:
                    continue  # half the zstd combinations; every mode is still covered
                tag = f"{INDEX_NAMES[im]}{'_zstd' if z else ''}_{LABEL_NAMES[lm]}{'_zstd' if z else ''}"
                y(f"y_{tag}", f"index mode {INDEX_NAMES[im]}, label mode {LABEL_NAMES[lm]}"
                  f"{', both Zstd-wrapped (raw blocks)' if z else ', raw bodies'}",
                  "Index stream modes; Label stream modes", idx, lab, 63, 4,
                  imode=im, lmode=lm, iz=z, lz=z, flags=["ModeMatrix"])
    for im in (0, 1, 2):  # zstd on the index stream only, for the combos skipped above
        y(f"y_{INDEX_NAMES[im]}_zstd_only", f"{INDEX_NAMES[im]} Zstd-wrapped, labels raw rle",
          "Zstd-wrapped bodies", idx, lab, 63, 4, imode=im, lmode=2, iz=Z, flags=["ModeMatrix"])
    for lm in (0, 1, 2):
        y(f"y_{LABEL_NAMES[lm]}_zstd_only", f"{LABEL_NAMES[lm]} Zstd-wrapped, indices raw runs",
          "Zstd-wrapped bodies", idx, lab, 63, 4, imode=2, lmode=lm, lz=Z, flags=["ModeMatrix"])

    # -- Zstd frame shapes the reference encoder never writes
    y("y_zstd_compressed_bitmap_packed", "real compressed Zstd blocks (frozen frames) in both "
      "streams", "Zstd-wrapped bodies", list(range(0, 400, 3)), [j % 4 for j in range(134)],
      400, 4, imode=0, lmode=0, iz=frozen("bitmap_every3_n400"), lz=frozen("packed_c4_k134"),
      flags=["Unusual"])
    y("y_zstd_rle_block", "index bitmap as a Zstd frame with one RLE block (k = N = 64)",
      "Zstd-wrapped bodies", list(range(64)), [0] * 64, 64, 1, imode=0, lmode=0,
      iz=lambda raw: zstd_frame(raw, blocks=[("rle", 0xFF, 8)]), flags=["Unusual", "EdgeK"])
    y("y_zstd_multi_block", "varint stream as a Zstd frame of three blocks (raw, RLE, raw)",
      "Zstd-wrapped bodies", [0, 1, 2, 3, 4, 5, 10, 100], [0, 1, 0, 1, 0, 1, 0, 1], 200, 2,
      iz=lambda raw: zstd_frame(raw, blocks=[("raw", raw[:1]), ("rle", 0, 5), ("raw", raw[6:])]),
      flags=["Unusual"])
    y("y_zstd_fcs_2byte", "Zstd frame with a 2-byte Frame_Content_Size (body >= 256 bytes)",
      "Zstd-wrapped bodies", list(range(0, 600, 2)), [1] * 300, 600, 2, imode=1, lmode=2,
      iz="raw", flags=["Unusual"])
    y("y_zstd_window_descriptor", "Zstd frame with a Window_Descriptor (not single-segment), "
      "window 1 KiB", "Zstd-wrapped bodies", IDX, LAB, 20, 3,
      iz=lambda raw: zstd_frame(raw, window_log=10), flags=["Unusual"])
    y("y_zstd_larger_than_raw", "Zstd wrapping that makes every section larger (never "
      "chosen by auto), class table and metadata wrapped too", "Zstd-wrapped bodies",
      IDX, LAB, 20, 3, names=NAMES, cz="raw", meta={"task": "demo"}, mz="raw", iz="raw",
      lz="raw", flags=["Unusual"])
    y("y_zstd_empty_content", "k = 0 with both streams Zstd-wrapped around empty content",
      "Zstd-wrapped bodies", [], [], 16, 3, imode=1, lmode=0, iz="raw", lz="raw",
      flags=["EdgeK"])

    # -- k, N, C edges
    y("y_k0_varint_packed", "k = 0: empty index and label streams", "Header", [], [], 10, 5,
      flags=["EdgeK"])
    y("y_k0_bitmap_huffman", "k = 0 with bitmap (all zero) and huffman (Symbol_Count 0)",
      "Mode 1: huffman", [], [], 13, 5, imode=0, lmode=1, flags=["EdgeK"])
    y("y_k0_runs_rle", "k = 0 with runs and rle (empty streams)", "Mode 2: runs", [], [], 7, 2,
      imode=2, lmode=2, flags=["EdgeK"])
    y("y_k1_first", "k = 1, index 0", "Index stream modes", [0], [4], 1000, 5, flags=["EdgeK"])
    y("y_k1_last", "k = 1, index N-1", "Index stream modes", [999], [0], 1000, 5, imode=2,
      lmode=1, flags=["EdgeK"])
    y("y_k_eq_n_runs", "k = N: one run covering the pool", "Mode 2: runs", list(range(50)),
      [j % 3 for j in range(50)], 50, 3, imode=2, lmode=0, flags=["EdgeK"])
    y("y_k_eq_n_bitmap_n13", "k = N = 13: bitmap with 3 used bits in the last byte",
      "Mode 0: bitmap", list(range(13)), [1] * 13, 13, 2, imode=0, lmode=2, flags=["EdgeK"])
    y("y_n1_k1", "N = 1, k = 1", "Header", [0], [0], 1, 1, imode=0, flags=["EdgeN"])
    y("y_n1_k0", "N = 1, k = 0", "Header", [], [], 1, 1, imode=1, flags=["EdgeN"])
    y("y_c1_packed_empty", "C = 1: packed labels are 0 bits wide, the label stream is empty",
      "Mode 0: packed", [1, 4, 6], [0, 0, 0], 8, 1, lmode=0, flags=["EdgeC"])
    y("y_c1_huffman_single_symbol", "C = 1: huffman with one symbol of code length 0",
      "Mode 1: huffman", [1, 4, 6], [0, 0, 0], 8, 1, lmode=1, flags=["EdgeC"])
    y("y_huffman_single_symbol_c5", "one symbol (label 3 of 5) with code length 0, no code bits",
      "Mode 1: huffman", [0, 2, 4, 6], [3, 3, 3, 3], 8, 5, lmode=1, flags=["Unusual"])
    big_lab = [0, 65535, 1, 65534, 32768, 255, 256, 65535]
    y("y_c65536_packed", "C = 65,536: 16-bit packed labels incl. 0 and 65,535", "Limits",
      [0, 5, 9, 100, 1000, 4095, 4096, 65535], big_lab, 65536, 65536, lmode=0, flags=["EdgeC"])
    y("y_c65536_huffman", "C = 65,536: huffman with large symbol gaps", "Mode 1: huffman",
      [0, 5, 9, 100, 1000, 4095, 4096, 65535], big_lab, 65536, 65536, lmode=1, flags=["EdgeC"])
    y("y_c65536_rle_zstd", "C = 65,536: rle with 3-byte label varints, Zstd-wrapped",
      "Mode 2: rle", [0, 5, 9, 100, 1000, 4095, 4096, 65535], big_lab, 65536, 65536, lmode=2,
      lz="raw", flags=["EdgeC"])
    y("y_c3_packed_nonpow2", "C = 3: 2-bit fields, value 3 never used", "Mode 0: packed",
      list(range(0, 22, 2)), [2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 1], 22, 3, lmode=0, flags=["EdgeC"])
    n40 = 2**40
    y("y_n2p40_max_gap", "N = 2^40 (the minimum every decoder supports): indices 0 and N-1, "
      "the largest gap (6-byte varint)", "Limits", [0, n40 - 1], [1, 0], n40, 2, imode=1,
      flags=["EdgeN", "MaxGap"])
    y("y_n2p40_runs_last", "N = 2^40, runs ending at N-1", "Mode 2: runs",
      [n40 - 3, n40 - 2, n40 - 1], [0, 1, 0], n40, 2, imode=2, flags=["EdgeN"])
    y("y_max_gap_bitmap", "largest gap in a bitmap: indices 0 and N-1", "Mode 0: bitmap",
      [0, 4095], [1, 1], 4096, 2, imode=0, lmode=0, flags=["MaxGap"])

    # -- entropy coders: legal tables the reference encoder never builds
    lab = [0, 0, 0, 0, 0, 0, 1, 2, 3, 3]
    y("y_huffman_inverted_lengths", "huffman: the most frequent label gets the longest code "
      "(complete but not optimal)", "Mode 1: huffman", list(range(10)), lab, 10, 4, lmode=1,
      lbody=s_huffman(lab, lengths={0: 3, 1: 3, 2: 2, 3: 1}), flags=["Unusual"])
    y("y_huffman_unused_symbols", "huffman: table lists symbols that never occur",
      "Mode 1: huffman", list(range(4)), [1, 1, 1, 1], 4, 6, lmode=1,
      lbody=s_huffman([1, 1, 1, 1], lengths={0: 2, 1: 2, 4: 2, 5: 2}), flags=["Unusual"])
    lens = {s: min(s + 1, 24) for s in range(25)}  # lengths 1..24, 24 twice: complete
    lab = [24, 0, 23, 12] + list(range(1, 12)) + list(range(13, 23))
    y("y_huffman_len24", "huffman: the longest allowed code length, 24 bits (25 symbols, "
      "lengths 1..24)", "Mode 1: huffman", list(range(25)), lab, 25, 25, lmode=1,
      lbody=s_huffman(lab, lengths=lens), flags=["Unusual"])
    y("y_rle_long_run", "rle: one run of 300 labels (2-byte length varint)", "Mode 2: rle",
      list(range(300)), [7] * 300, 300, 8, imode=0, lmode=2, flags=["Unusual"])
    y("y_runs_alternating", "runs: single-item runs separated by gaps of 1", "Mode 2: runs",
      list(range(0, 40, 2)), [j % 2 for j in range(20)], 40, 2, imode=2, flags=["Unusual"])

    # -- sections, header fields, versions
    y("y_no_class_table", "no class table: classes are named 0..C-1", "Class table",
      IDX, LAB, 20, 3, flags=["Sections"])
    y("y_class_names_unicode", "class names: CJK, emoji, combining marks, an empty name, "
      "a name with a newline", "Class table", IDX, LAB, 20, 5,
      names=["猫", "🐕 dog", "e\u0301meu", "", "two\nlines"], flags=["Sections"])
    y("y_class_name_4096_bytes", "a class name of exactly 4096 UTF-8 bytes", "Class table",
      [3], [1], 5, 2, names=["a", "é" * 2048], flags=["Sections", "Limits"])
    y("y_metadata_absent", "no metadata section", "Metadata", IDX, LAB, 20, 3, names=NAMES,
      flags=["Sections"])
    y("y_metadata_unicode_zstd", "metadata with non-ASCII text, nested values, Zstd-wrapped",
      "Metadata", IDX, LAB, 20, 3, meta={"task": "démo ✓", "keep": 0.25, "seed": 7,
                                        "rule": {"a": [1, 2, None, True]}}, mz="raw",
      flags=["Sections"])
    unk = section(0x8ABC, 0x7F, 0xFF, b"future ancillary data")
    y("y_unknown_ancillary_first", "unknown ancillary section (type 0x8abc, odd mode and "
      "flags) before the critical sections: skipped", "Sections", IDX, LAB, 20, 3,
      names=NAMES, before=[unk], flags=["Sections", "Forward"])
    y("y_unknown_ancillary_between", "unknown ancillary sections between and after the "
      "streams, one empty", "Sections", IDX, LAB, 20, 3, between=[unk],
      after=[section(0xFFFF, 0, 0, b"")], flags=["Sections", "Forward"])
    y("y_metadata_before_streams", "metadata (ancillary) placed first", "Sections",
      IDX, LAB, 20, 3, meta={"task": "demo"}, order=[2, 0, 1], flags=["Sections"])
    y("y_minor_9_optional_features", "Version_Minor 9 with unknown Optional_Features bits "
      "set: decoded as usual", "Header", IDX, LAB, 20, 3,
      hdr={"minor": 9, "optional": 0xFFFFFFFF}, flags=["Forward"])
    y("y_minor_0", "Version_Minor 0 (a format 1.0 payload)", "Header", IDX, LAB, 20, 3,
      hdr={"minor": 0}, flags=["Forward"])
    digest = hashlib.sha256(b"PLADA conformance pool").digest()
    y("y_pool_digest", "POOL_DIGEST_PRESENT with a digest", "Header", IDX, LAB, 20, 3,
      digest=digest, flags=["Header"])
    y("y_max_sections_64", "Section_Count = 64 (the limit): 61 empty unknown ancillary sections",
      "Limits", IDX, LAB, 20, 3, names=NAMES,
      after=[section(0x8100 + t, 0, 0, b"") for t in range(61)], flags=["Limits", "Sections"])


def define_invalid():
    ok = base()
    # -- header
    n("n_magic_first_byte", "Magic byte 0 is 0x88", "Header", "magic", "FormatError",
      b"\x88" + ok[1:])
    n("n_magic_crlf_to_lf", "Magic after text-mode CRLF -> LF conversion", "Header", "magic",
      "FormatError", ok[:4] + b"\n\x1a\n" + ok[7:])
    n("n_major_2", "Version_Major 2", "Header", "major", "UnsupportedVersionError",
      base(hdr={"major": 2}))
    n("n_major_0", "Version_Major 0", "Header", "major", "UnsupportedVersionError",
      base(hdr={"major": 0}))
    n("n_checksum_header_crc", "Header_CRC32 off by one", "Header", "header-crc", "ChecksumError",
      ok[:84] + struct.pack("<I", (struct.unpack_from("<I", ok, 84)[0] + 1) % 2**32) + ok[88:])
    n("n_header_flags_reserved", "Header_Flags bit 7 set", "Header", "header-flags-reserved",
      "FormatError", base(hdr={"flags": 0x80}))
    n("n_reserved_byte", "Reserved = 1", "Header", "reserved", "FormatError",
      base(hdr={"reserved": 1}))
    n("n_required_feature", "unknown Required_Features bit 0", "Header", "required-features",
      "UnsupportedVersionError", base(hdr={"required": 1}))
    n("n_required_feature_bit31", "unknown Required_Features bit 31", "Header",
      "required-features", "UnsupportedVersionError", base(hdr={"required": 1 << 31}))
    n("n_pool_size_0", "Pool_Size 0", "Header", "pool-size-zero", "FormatError",
      build([], [], 20, 3, hdr={"N": 0}))
    n("n_pool_size_over_limit", "Pool_Size 2^48 + 1 (above the format limit)", "Limits",
      "pool-size-limit", "LimitError",
      build([0], [0], 2**48 + 1, 1, imode=1))
    n("n_k_gt_n", "Item_Count 21 > Pool_Size 20", "Header", "k-le-n", "FormatError",
      base(hdr={"k": 21}))
    n("n_class_count_0", "Class_Count 0", "Header", "class-count-zero", "FormatError",
      build([], [], 20, 1, hdr={"C": 0}))
    n("n_class_count_over_limit", "Class_Count 2^20 + 1", "Limits", "class-count-limit",
      "LimitError", build([1], [5], 20, 2**20 + 1))
    n("n_section_count_1", "Section_Count 1 (only the index stream)", "Header",
      "section-count-low", "FormatError",
      build([], [], 20, 3, hdr={"sections": 1}, order=[0]))
    n("n_section_count_65", "Section_Count 65: 62 empty ancillary sections", "Limits",
      "section-count-high", "LimitError",
      base(after=[section(0x8100 + t, 0, 0, b"") for t in range(61)]))
    n("n_digest_without_flag", "Pool_Digest non-zero while POOL_DIGEST_PRESENT is clear",
      "Header", "digest-zero", "FormatError",
      base(digest=b"\x01" * 32, hdr={"flags": 0}))
    n("n_k_over_memory_budget", "Item_Count 2^30 (N = 2^40): 16 GiB of decoded arrays, "
      "above the default 2 GiB budget, in a 100-byte payload", "Limits", "decoded-memory",
      "LimitError", build([], [], 2**40, 2, hdr={"k": 2**30}))
    # -- truncation
    n("n_trunc_magic", "5 bytes: inside Magic", "Header", "truncated", "TruncatedError", ok[:5])
    n("n_trunc_header", "ends inside the header (50 bytes)", "Header", "truncated",
      "TruncatedError", ok[:50])
    n("n_trunc_section_header", "ends inside the first section header", "Sections",
      "truncated", "TruncatedError", ok[:88 + 7])
    n("n_trunc_class_table_body", "ends inside the class table body", "Sections", "truncated",
      "TruncatedError", ok[:88 + 12 + 5])
    n("n_trunc_last_section", "ends one byte before the end of the last section", "Sections",
      "truncated", "TruncatedError", ok[:-1])
    n("n_section_length_past_end", "index stream Section_Length 1000, far past the end",
      "Sections", "section-length", "TruncatedError", base(sec_over={1: {"length": 1000}}))
    n("n_trunc_index_varint", "index stream ends inside a varint (last gap 0x89 with no "
      "next byte)", "Index stream modes", "stream-truncated", "TruncatedError",
      base(ibody=bytes([2, 0, 0, 4, 0x89])))
    n("n_trunc_huffman_bits", "huffman: table only, no code bits for k = 5",
      "Mode 1: huffman", "stream-truncated", "TruncatedError",
      base(lmode=1, lbody=huffman_table({0: 1, 1: 2, 2: 2})))
    n("n_trunc_zstd_frame", "Zstd frame cut inside its block (a frame that ends early is "
      "a TruncatedError)", "Zstd-wrapped bodies", "zstd-truncated", "TruncatedError",
      base(iz=lambda raw: zstd_frame(raw)[:-2]))
    n("n_trailing_bytes", "one byte after the last section", "Sections", "trailing",
      "TrailingDataError", ok + b"\x00")
    # -- checksums
    n("n_checksum_section_crc", "index stream Section_CRC32 wrong", "Sections", "section-crc",
      "ChecksumError", base(sec_over={1: {"crc": 0}}))
    n("n_checksum_ancillary_crc", "unknown ancillary section with a wrong CRC (skipped "
      "sections are still checked)", "Sections", "section-crc", "ChecksumError",
      base(after=[section(0x8ABC, 0, 0, b"x", crc=0)]))
    n("n_checksum_content", "Content_Checksum (labels) of other labels (two swapped); the "
      "indices part is right", "Canonical content", "content-checksum", "ChecksumError",
      base(checksum=content_checksum(IDX, [0, 0, 2, 1, 2])))
    n("n_checksum_content_indices", "Content_Checksum (indices) of other indices (9 -> 10); "
      "the labels part is right", "Canonical content", "content-checksum", "ChecksumError",
      base(checksum=content_checksum([2, 3, 4, 10, 19], LAB)))
    # -- section layout
    n("n_unknown_critical_section", "unknown critical Section_Type 0x0004", "Sections",
      "unknown-critical", "UnsupportedVersionError", base(after=[section(0x0004, 0, 0, b"")]))
    n("n_critical_order", "label stream before index stream", "Sections", "critical-order",
      "FormatError", base(order=[0, 2, 1, 3]))
    n("n_duplicate_index_section", "two index stream sections", "Sections",
      "critical-order", "FormatError",
      build(IDX, LAB, 20, 3, order=[0, 0, 1]))
    n("n_missing_label_stream", "no label stream section", "Sections", "missing-stream",
      "FormatError", base(order=[0, 1, 3]))
    n("n_duplicate_metadata", "two metadata sections", "Sections", "metadata-once",
      "FormatError", base(order=[0, 1, 2, 3, 3]))
    n("n_section_flags_reserved", "index stream Section_Flags bit 1 set", "Sections",
      "section-flags-reserved", "FormatError",
      _with_flags(ok, 1, 0x02))
    n("n_class_table_mode", "class table Section_Mode 1", "Sections", "mode-zero",
      "FormatError", _with_mode(ok, 0, 1))
    n("n_metadata_mode", "metadata Section_Mode 1", "Sections", "mode-zero", "FormatError",
      _with_mode(ok, 3, 1))
    n("n_missing_index_stream", "no index stream section", "Sections", "missing-stream",
      "FormatError", base(order=[0, 2, 3]))
    n("n_unknown_index_mode", "index Section_Mode 200", "Index stream modes", "unknown-mode",
      "UnsupportedVersionError", _with_mode(ok, 1, 200))
    n("n_unknown_label_mode", "label Section_Mode 200", "Label stream modes", "unknown-mode",
      "UnsupportedVersionError", _with_mode(ok, 2, 200))
    n("n_raw_body_over_bound", "raw varint body longer than k * v (5 bytes of gaps padded "
      "to 6 with a trailing byte)", "Zstd-wrapped bodies", "raw-bound", "FormatError",
      base(ibody=bytes([2, 0, 0, 4, 9, 0])))
    # -- zstd
    n("n_zstd_fcs_bomb", "Zstd Frame_Content_Size 10^12 around a 1-byte block",
      "Zstd-wrapped bodies", "zstd-fcs-bound", "LimitError",
      base(iz=lambda raw: zstd_frame(raw, fcs=10**12, fcs_bytes=8)))
    n("n_zstd_no_fcs", "Zstd frame without Frame_Content_Size", "Zstd-wrapped bodies",
      "zstd-fcs-present", "FormatError",
      base(iz=lambda raw: b"\x28\xb5\x2f\xfd\x00\x00" + (1 | (len(raw) << 3)).to_bytes(3, "little") + raw))
    n("n_zstd_window_16m", "Zstd Window_Size 16 MiB (> 8 MiB)", "Zstd-wrapped bodies",
      "zstd-window", "LimitError", base(iz=lambda raw: zstd_frame(raw, window_log=24)))
    n("n_zstd_skippable_frame", "body is a skippable frame followed by the frame",
      "Zstd-wrapped bodies", "zstd-one-frame", "FormatError",
      base(iz=lambda raw: b"\x50\x2a\x4d\x18\x00\x00\x00\x00" + zstd_frame(raw)))
    n("n_zstd_two_frames", "two Zstd frames in one body", "Zstd-wrapped bodies",
      "zstd-one-frame", "FormatError",
      base(iz=lambda raw: zstd_frame(raw[:2]) + zstd_frame(raw[2:])))
    n("n_zstd_size_mismatch", "Frame_Content_Size 6 (within the bound 10) but the block "
      "holds 5 bytes", "Zstd-wrapped bodies", "zstd-size", "FormatError",
      build(IDX, LAB, 200, 3, iz=lambda raw: zstd_frame(raw, fcs=len(raw) + 1)))
    n("n_zstd_size_short", "Frame_Content_Size 4 but the block holds 5 bytes",
      "Zstd-wrapped bodies", "zstd-size", "FormatError",
      build(IDX, LAB, 200, 3, iz=lambda raw: zstd_frame(raw, fcs=len(raw) - 1)))
    body = s_huffman([0, 23, 24, 12, 24])     # bound: 1 + 5 * 2 + 15 = 26 bytes
    n("n_huffman_table_over_bound", "huffman: a valid stream (k = 5, C = 25) followed by "
      "zero bytes up to 27 bytes, one more than the mode's raw size bound",
      "Zstd-wrapped bodies", "raw-bound", "FormatError",
      build([0, 1, 2, 3, 4], [0, 23, 24, 12, 24], 5, 25, lmode=1,
            lbody=body + bytes(27 - len(body))))
    lab6 = [0, 1, 2, 3, 4]
    n("n_huffman_symbol_count_over_k", "huffman: Symbol_Count 6 > k = 5 (C = 8; a complete "
      "code, symbol 7 listed but unused; within the raw size bound)", "Mode 1: huffman",
      "huffman-symbol-count", "FormatError",
      build(IDX, lab6, 20, 8, lmode=1,
            lbody=s_huffman(lab6, lengths={0: 2, 1: 2, 2: 3, 3: 3, 4: 3, 7: 3})))
    lab10 = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    n("n_huffman_symbol_count_over_c", "huffman: Symbol_Count 4 > C = 3 (k = 10)",
      "Mode 1: huffman", "huffman-symbol-count", "FormatError",
      build(list(range(10)), lab10, 20, 3, lmode=1,
            lbody=b"\x04" + s_huffman(lab10, lengths={0: 1, 1: 2, 2: 2})[1:]))
    # -- class table
    n("n_class_table_bad_utf8", "class name is not UTF-8 (0xff)", "Class table",
      "class-utf8", "FormatError",
      base(names=None, before=[section(T_CLASS, 0, 0, b"\x03cat\x01\xff\x03dog")]))
    n("n_class_table_trailing", "class table has a 4th entry for C = 3", "Class table",
      "class-trailing", "FormatError",
      base(names=None, before=[section(T_CLASS, 0, 0, class_table(NAMES + ["x"]))]))
    n("n_class_name_4097_bytes", "class name of 4097 bytes", "Class table", "class-name-length",
      "FormatError", build([3], [1], 5, 2, names=["a", "b" * 4097]))
    n("n_class_table_short", "class table with 2 entries for C = 3", "Class table",
      "class-truncated", "TruncatedError",
      base(names=None, before=[section(T_CLASS, 0, 0, class_table(NAMES[:2]))]))
    # -- index streams
    n("n_varint_index_eq_n", "varint: last index decodes to N (gap 10 instead of 9)",
      "Index stream modes", "index-lt-n", "FormatError", base(ibody=bytes([2, 0, 0, 4, 10])))
    n("n_varint_nonminimal", "varint: gap 4 written as 84 00 (N = 200, so the 6 bytes are "
      "within the raw size bound 10)", "Conventions", "varint-minimal", "FormatError",
      build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 0x84, 0x00, 9])))
    n("n_varint_trailing_in_stream", "varint: an extra gap after the k-th index",
      "Index stream modes", "stream-end", "FormatError",
      build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 4, 9, 1])))
    n("n_bitmap_bit_past_n", "bitmap: index 21 instead of 19 (a padding bit, N = 20)",
      "Mode 0: bitmap", "index-lt-n", "FormatError",
      build(IDX, LAB, 20, 3, imode=0, ibody=bytes([0x1C, 0x02, 0x20])))
    n("n_bitmap_count", "bitmap: 6 bits set for k = 5", "Mode 0: bitmap", "bitmap-count",
      "FormatError", build(IDX, LAB, 20, 3, imode=0, ibody=bytes([0x1D, 0x02, 0x08])))
    n("n_bitmap_length", "bitmap: 4 bytes for N = 20 (needs 3)", "Mode 0: bitmap",
      "bitmap-length", "FormatError", build(IDX, LAB, 20, 3, imode=0,
                                           ibody=bytes([0x1C, 0x02, 0x08, 0x00])))
    n("n_runs_past_k", "runs: a run of 3 where 2 items remain", "Mode 2: runs", "runs-past-k",
      "FormatError", build(IDX, LAB, 20, 3, imode=2, ibody=bytes([2, 2, 3, 2])))
    n("n_runs_past_n", "runs: last run ends at N", "Mode 2: runs", "index-lt-n", "FormatError",
      build(IDX, LAB, 20, 3, imode=2, ibody=bytes([2, 2, 3, 0, 9, 0])))
    # found by fuzzing (a decoder that computes the next start as N + 1 and subtracts it
    # from N in unsigned arithmetic accepts this and returns index 21)
    n("n_runs_run_after_last_index", "runs: a run ends at N-1 and another run follows",
      "Mode 2: runs", "index-lt-n", "FormatError",
      build(IDX + [21], LAB + [0], 20, 3, imode=2, ibody=bytes([2, 2, 3, 0, 8, 0, 0, 0])))
    n("n_zstd_window_2tb", "Zstd Window_Size 2 TiB (found by fuzzing: a library may ask for "
      "that much memory)", "Zstd-wrapped bodies", "zstd-window", "LimitError",
      base(iz=lambda raw: zstd_frame(raw, window_log=41)))
    # -- label streams
    n("n_packed_label_ge_c", "packed: label 3 with C = 3", "Mode 0: packed", "label-lt-c",
      "FormatError", base(lbody=s_packed([0, 0, 1, 2, 3], 4)))
    n("n_packed_padding", "packed: a padding bit set", "Mode 0: packed", "padding",
      "FormatError", base(lbody=bytes([0x90, 0x06])))
    n("n_packed_length", "packed: one byte too many", "Mode 0: packed", "packed-length",
      "FormatError", base(lbody=bytes([0x90, 0x02, 0x00])))
    n("n_rle_label_ge_c", "rle: label 3 with C = 3", "Mode 2: rle", "label-lt-c",
      "FormatError", base(lmode=2, lbody=bytes([0, 1, 1, 0, 3, 1])))
    n("n_rle_adjacent_equal", "rle: two adjacent runs of label 0", "Mode 2: rle",
      "rle-adjacent", "FormatError", base(lmode=2, lbody=bytes([0, 0, 0, 0, 1, 0, 2, 1])))
    n("n_rle_past_k", "rle: runs add up to 6 for k = 5", "Mode 2: rle", "rle-past-k",
      "FormatError", base(lmode=2, lbody=bytes([0, 1, 1, 0, 2, 2])))
    n("n_huffman_incomplete", "huffman: lengths {1, 2, 3} (Kraft sum 7/8)", "Mode 1: huffman",
      "huffman-complete", "FormatError",
      base(lmode=1, lbody=s_huffman(LAB, lengths={0: 1, 1: 2, 2: 3})))
    n("n_huffman_oversubscribed", "huffman: lengths {1, 1, 2} (Kraft sum 5/4)",
      "Mode 1: huffman", "huffman-complete", "FormatError",
      base(lmode=1, lbody=huffman_table({0: 1, 1: 1, 2: 2}) + b"\x00\x00"))
    n("n_huffman_length_25", "huffman: a code length of 25", "Mode 1: huffman",
      "huffman-length", "FormatError",
      base(lmode=1, lbody=huffman_table({0: 1, 1: 25, 2: 25}) + b"\x00" * 8))
    n("n_huffman_single_nonzero", "huffman: one symbol with Code_Length 1", "Mode 1: huffman",
      "huffman-single", "FormatError",
      build([1, 2], [2, 2], 20, 3, lmode=1, lbody=huffman_table({2: 1}) + b"\x00"))
    n("n_huffman_symbol_ge_c", "huffman: table symbol 3 with C = 3", "Mode 1: huffman",
      "label-lt-c", "FormatError",
      base(lmode=1, lbody=huffman_table({0: 1, 1: 2, 3: 2}) + b"\x00\x00"))
    n("n_huffman_count_zero", "huffman: Symbol_Count 0 with k = 5", "Mode 1: huffman",
      "huffman-symbol-count", "FormatError", base(lmode=1, lbody=b"\x00"))
    n("n_huffman_count_with_k0", "huffman: Symbol_Count 1 with k = 0 (the body is that one "
      "byte: the raw size bound for k = 0 is 1)", "Mode 1: huffman", "huffman-symbol-count",
      "FormatError", build([], [], 20, 3, lmode=1, lbody=b"\x01"))
    n("n_huffman_padding", "huffman: a padding bit set", "Mode 1: huffman", "padding",
      "FormatError", build(IDX, [0, 0, 0, 1, 2], 20, 3, lmode=1,
                           lbody=s_huffman([0, 0, 0, 1, 2], lengths={0: 1, 1: 2, 2: 2},
                                           pad_bits=0x80)))
    n("n_huffman_trailing", "huffman: a byte after the code bits", "Mode 1: huffman",
      "stream-end", "FormatError",
      base(lmode=1, lbody=s_huffman(LAB, lengths={0: 1, 1: 2, 2: 2}) + b"\x00"))


def _with_section_field(data: bytes, which: int, offset: int, value: int) -> bytes:
    """Set byte `offset` of section `which`'s header to `value`, recomputing its CRC."""
    pos, buf = 88, bytearray(data)
    for _ in range(which):
        pos += 12 + struct.unpack_from("<I", buf, pos + 4)[0]
    buf[pos + offset] = value
    length = struct.unpack_from("<I", buf, pos + 4)[0]
    crc = zlib.crc32(bytes(buf[pos + 12:pos + 12 + length]), zlib.crc32(bytes(buf[pos:pos + 8])))
    struct.pack_into("<I", buf, pos + 8, crc)
    return bytes(buf)


def _with_mode(data, which, mode):
    return _with_section_field(data, which, 2, mode)


def _with_flags(data, which, flags):
    return _with_section_field(data, which, 3, flags)


def define_implementation_defined():
    n48 = 2**48
    y("i_n2p48_last_index", "N = 2^48 (the format maximum; decoders need only support "
      "2^40) with index N-1", "Limits", [n48 - 1], [0], n48, 1, result="acceptable",
      error="LimitError", rule="pool-size-limit", flags=["Limits", "EdgeN"])
    c20 = 2**20
    y("i_c2p20_packed", "C = 2^20 (the format maximum; decoders need only support 65,536), "
      "20-bit packed labels", "Limits", [0, 1, 2], [0, c20 - 1, 12345], 3, c20,
      result="acceptable", error="LimitError", rule="class-count-limit", flags=["Limits", "EdgeC"])
    for vid, raw, why in (("i_metadata_not_object", b"[1,2]", "a JSON array"),
                          ("i_metadata_bad_json", b'{"task":', "truncated JSON"),
                          ("i_metadata_nan", b'{"t":NaN}', "NaN, which is not JSON"),
                          ("i_metadata_bad_utf8", b'{"t":"\xff"}', "not UTF-8"),
                          # found by fuzzing: Python's json turns 1e999 into inf
                          ("i_metadata_float_overflow", b'{"a":1e999}',
                           "a number that overflows a double")):
        y(vid, f"metadata body is {why}: a decoder that reads metadata rejects it, one that "
          "skips metadata decodes the streams", "Metadata", IDX, LAB, 20, 3, names=NAMES,
          meta=raw, result="acceptable", error="FormatError", rule="metadata-object",
          flags=["Sections"])


# ================================================================ format 1.1 modes

IDX11 = [2, 3, 7, 20, 21, 22]        # the worked examples of "Format 1.1 modes"
LAB11 = [0, 0, 1, 0, 2, 0]
SPEC11_HEX = {"rice": "1901e0", "adaptive_index": "00ac75c9800000",
              "rans": "4200b2050500000004000000000000000200000002000000020000000000000001"
                      "000000",
              "adaptive_labels": "002562faac39"}


def check_spec11_examples():
    """The writers above reproduce the four worked examples of SPEC.md byte for byte."""
    got = {"rice": s_rice(IDX11).bytes(), "adaptive_index": s_adaptive(IDX11),
           "rans": s_rans(LAB11, 3), "adaptive_labels": s_adaptive_labels(LAB11, 3)}
    for name, hx in SPEC11_HEX.items():
        if got[name].hex() != hx:
            raise AssertionError(f"{name} worked example: SPEC.md has {hx}, "
                                 f"the generator writes {got[name].hex()}")


def b11(imode=3, lmode=3, **kw):
    """The 1.1 base payload: N = 32, k = 6, C = 3 (the worked examples), no class table."""
    return build(IDX11, LAB11, 32, 3, imode=imode, lmode=lmode, **kw)


def cut_inside(w: Bits, start: int, end: int) -> bytes:
    """The stream of w cut to whole bytes so that it ends inside bits [start, end)."""
    nbytes = end // 8 if end % 8 else end // 8 - 1
    assert start <= 8 * nbytes < end, (start, end)
    return w.bytes()[:nbytes]


def spread(k, N, seed):
    """k sorted distinct indices < N, deterministic (a linear congruential generator)."""
    out, x = set(), seed
    while len(out) < k:
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        out.add((x >> 16) % N)
    return sorted(out)


def lcg_labels(k, C, seed, skew=1):
    out, x = [], seed
    for _ in range(k):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        v = (x >> 20) % (C * skew)
        out.append(v if v < C else 0)
    return out


def define_valid_11():
    F = ["Format11"]
    check_spec11_examples()
    y("y_spec11_rice_rans", "the rice and rans worked examples of SPEC.md (N = 32, indices "
      "2 3 7 20 21 22; C = 3, labels 0 0 1 0 2 0)", "Index mode 3: rice; Label mode 3: rans",
      IDX11, LAB11, 32, 3, imode=3, lmode=3, flags=F + ["SpecExample"])
    y("y_spec11_adaptive_adaptive", "the adaptive index and adaptive label worked examples "
      "of SPEC.md", "Index mode 4: adaptive; Label mode 4: adaptive", IDX11, LAB11, 32, 3,
      imode=4, lmode=4, flags=F + ["SpecExample"])

    # -- every 1.1 mode with every other, raw and Zstd-wrapped, and mixed with 1.0 modes
    idx = [0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 34, 62]
    lab = [1, 1, 1, 0, 3, 3, 2, 0, 0, 1, 2, 3]
    for im, lm, iz, lz in ((3, 3, 0, 0), (3, 4, 0, 0), (4, 3, 0, 0), (4, 4, 0, 0),
                           (3, 3, 1, 1), (4, 4, 1, 1), (3, 4, 1, 0), (4, 3, 0, 1),
                           (3, 0, 0, 0), (1, 3, 0, 0), (4, 1, 0, 0), (2, 4, 0, 0)):
        tag = (f"{INDEX_NAMES[im]}{'_zstd' if iz else ''}_"
               f"{LABEL_NAMES[lm]}{'_zstd' if lz else ''}")
        y(f"y_{tag}", f"index mode {INDEX_NAMES[im]}{' (Zstd)' if iz else ''}, label mode "
          f"{LABEL_NAMES[lm]}{' (Zstd)' if lz else ''}", "Format 1.1 modes", idx, lab, 63, 4,
          imode=im, lmode=lm, iz="raw" if iz else None, lz="raw" if lz else None,
          flags=F + ["ModeMatrix"])
    y("y_rice_zstd_compressed", "rice stream of a regular selection in a compressed Zstd "
      "frame (frozen), labels rans in a compressed frame", "Zstd-wrapped bodies",
      list(range(0, 3000, 3)), [j % 4 for j in range(1000)], 3000, 4, imode=3, lmode=3,
      iz=frozen("rice_every3_n3000"), lz=frozen("rans_c4_k1000"), flags=F + ["Unusual"])

    # -- k, N, C edges
    y("y_k0_rice_rans", "k = 0: empty rice and rans streams", "Format 1.1 modes", [], [],
      10, 5, imode=3, lmode=3, flags=F + ["EdgeK"])
    y("y_k0_adaptive_adaptive", "k = 0: empty adaptive streams (no range-coder bytes at all)",
      "Format 1.1 modes", [], [], 10, 5, imode=4, lmode=4, flags=F + ["EdgeK"])
    y("y_k0_adaptive_zstd_rans_zstd", "k = 0, both empty streams Zstd-wrapped",
      "Format 1.1 modes", [], [], 10, 5, imode=4, lmode=3, iz="raw", lz="raw",
      flags=F + ["EdgeK"])
    y("y_k1_rice_adaptive_first", "k = 1, index 0, label 4 of 5", "Format 1.1 modes",
      [0], [4], 1000, 5, imode=3, lmode=4, flags=F + ["EdgeK"])
    y("y_k1_adaptive_rans_last", "k = 1, index N-1, a one-symbol rans table",
      "Format 1.1 modes", [999], [2], 1000, 5, imode=4, lmode=3, flags=F + ["EdgeK"])
    runs = [0] * 40 + [1] * 3 + [0] * 17 + [2] * 100 + [1] * 140
    y("y_k_eq_n_rice_adaptive", "k = N = 300: three rice blocks of zero gaps (same_r = 1), "
      "label runs longer than 15", "Index mode 3: rice", list(range(300)), runs, 300, 3,
      imode=3, lmode=4, flags=F + ["EdgeK"])
    y("y_k_eq_n_adaptive_rans", "k = N = 300: adaptive index of zero gaps, rans",
      "Index mode 4: adaptive", list(range(300)), runs, 300, 3, imode=4, lmode=3,
      flags=F + ["EdgeK"])
    y("y_n1_k1_rice_rans", "N = 1, k = 1, C = 1", "Format 1.1 modes", [0], [0], 1, 1,
      imode=3, lmode=3, flags=F + ["EdgeN", "EdgeC"])
    y("y_n1_k1_adaptive_adaptive", "N = 1, k = 1, C = 1 (a 0-bit label tree)",
      "Format 1.1 modes", [0], [0], 1, 1, imode=4, lmode=4, flags=F + ["EdgeN", "EdgeC"])
    y("y_c1_rans_p0", "C = 1: rans table of one symbol, precision 0, frequency 1; the states "
      "never change, so the words are just the 4 lane states 2^31", "Label mode 3: rans",
      [1, 4, 6, 7], [0] * 4, 8, 1, imode=3, lmode=3, flags=F + ["EdgeC"])
    y("y_c1_adaptive_labels", "C = 1: W = 0, every label after the first is a same flag",
      "Label mode 4: adaptive", [1, 4, 6, 7], [0] * 4, 8, 1, imode=4, lmode=4,
      flags=F + ["EdgeC"])
    big_idx = [0, 5, 9, 100, 1000, 4095, 4096, 65535]
    big_lab = [0, 65535, 1, 65534, 32768, 255, 256, 65535]
    y("y_c65536_rans", "C = 65,536: rans table with 16-bit symbol_count_minus_1 and large "
      "symbol gaps", "Label mode 3: rans", big_idx, big_lab, 65536, 65536, imode=3, lmode=3,
      flags=F + ["EdgeC"])
    y("y_c65536_adaptive_labels", "C = 65,536: a 16-level label tree", "Label mode 4: adaptive",
      big_idx, big_lab, 65536, 65536, imode=4, lmode=4, flags=F + ["EdgeC"])
    y("y_c3_adaptive_labels_nonpow2", "C = 3: a 2-level tree whose value 3 is never coded",
      "Label mode 4: adaptive", list(range(0, 22, 2)), [2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 1], 22, 3,
      imode=3, lmode=4, flags=F + ["EdgeC"])
    n40 = 2**40
    y("y_n2p40_rice_max_gap", "N = 2^40: indices 0 and N-1 in rice (r = 39 for the "
      "largest gap)", "Index mode 3: rice", [0, n40 - 1], [1, 0], n40, 2, imode=3, lmode=4,
      flags=F + ["EdgeN", "MaxGap"])
    y("y_n2p40_adaptive_max_gap", "N = 2^40: indices 0 and N-1 in adaptive (n = 39, 37 "
      "bypass bits)", "Index mode 4: adaptive", [0, n40 - 1], [1, 0], n40, 2, imode=4,
      lmode=3, flags=F + ["EdgeN", "MaxGap"])
    dom = [0] * 120 + [3] + [0] * 60 + [7] + [0] * 17 + [9]
    y("y_rans_dominant", "rans: one symbol covers 197 of 200 labels", "Label mode 3: rans",
      list(range(200)), dom, 200, 10, imode=4, lmode=3, flags=F + ["Unusual"])
    y("y_adaptive_labels_dominant", "adaptive labels: one dominant symbol", "Label mode 4: "
      "adaptive", list(range(200)), dom, 200, 10, imode=3, lmode=4, flags=F + ["Unusual"])
    back = [3] * 20 + [1] + [3] * 5 + [1] * 3 + [3] + [0] * 17 + [2, 0, 2, 0, 4, 2, 4]
    y("y_adaptive_labels_runs_back", "adaptive labels: runs, returns to the label before "
      "(back flag) and full-coded labels", "Label mode 4: adaptive", list(range(len(back))),
      back, 60, 5, imode=4, lmode=4, flags=F + ["Unusual"])
    y("y_adaptive_labels_c2_alternating", "adaptive labels, C = 2, 0 1 0 1 ...: after two "
      "labels every change is a back flag", "Label mode 4: adaptive", list(range(64)),
      [j % 2 for j in range(64)], 64, 2, imode=3, lmode=4, flags=F + ["Unusual"])
    dens = (list(range(0, 256, 2)) + spread(128, 200000, 7)[:128])
    dens = sorted(set(dens))
    dens = dens + [dens[-1] + 1 + j for j in range(1, 150)]
    dens = sorted(set(dens))
    y("y_rice_blocks_varying", f"rice: {len(dens)} gaps in blocks of different density "
      "(explicit r, then same_r)", "Index mode 3: rice", dens,
      lcg_labels(len(dens), 7, 3), dens[-1] + 5, 7, imode=3, lmode=3, flags=F + ["Unusual"])
    clus = [c * 100003 + j for c in range(12) for j in range((c * 7) % 23 + 1)]
    y("y_adaptive_clustered", "adaptive index: clusters of consecutive items with long jumps",
      "Index mode 4: adaptive", clus, lcg_labels(len(clus), 4, 5), 1200000, 4, imode=4,
      lmode=4, flags=F + ["Unusual"])
    alln = []
    for nn in range(31):                  # v = 2^n and v = 2^(n+1) - 1 for every n <= 30
        for v in (2**nn, 2 ** (nn + 1) - 1):
            alln.append((alln[-1] if alln else -1) + v)
    alln = sorted(set(alln))
    y("y_adaptive_every_n", "adaptive index: gaps with every n from 0 to 30, smallest and "
      "largest mantissa", "Index mode 4: adaptive", alln, [0] * len(alln), alln[-1] + 1, 1,
      imode=4, lmode=3, flags=F + ["Unusual"])
    carry_idx, carry_lab = _range_coder_carry_case()
    y("y_adaptive_carry", "adaptive index and labels whose range coder propagates carries "
      "through runs of 0xFF bytes", "Binary range coder", carry_idx, carry_lab,
      carry_idx[-1] + 1, 16, imode=4, lmode=4, flags=F + ["Unusual"])

    # -- rice streams the reference encoder never writes
    y("y_rice_nonoptimal_r", "rice: r = 5 for gaps that want r = 1", "Index mode 3: rice",
      idx, lab, 63, 4, imode=3, lmode=3, ibody=s_rice(idx, rs=[5]).bytes(),
      flags=F + ["Unusual"])
    same = list(range(0, 600, 2))
    y("y_rice_same_r0_repeat", "rice: same_r = 0 followed by the r the block would inherit "
      "(block 0 writes r = 0 explicitly, block 2 repeats r = 3)", "Index mode 3: rice",
      same, [1] * 300, 600, 2, imode=3, lmode=3,
      ibody=s_rice(same, rs=[0, 3, 3], explicit={0, 2}).bytes(), flags=F + ["Unusual"])
    y("y_rice_r47", "rice: r = 47 (the largest allowed) for small gaps, N = 2^40",
      "Index mode 3: rice", [5, 6, 100], [0, 1, 0], n40, 2, imode=3, lmode=3,
      ibody=s_rice([5, 6, 100], rs=[47]).bytes(), flags=F + ["Unusual"])
    y("y_rice_long_unary", "rice: r = 0 and a gap of 5,000 (5,000 zero bits)",
      "Index mode 3: rice", [3, 5004, 5005], [0, 1, 1], 10000, 2, imode=3, lmode=3,
      ibody=s_rice([3, 5004, 5005], rs=[0]).bytes(), flags=F + ["Unusual"])

    # -- rans tables the reference encoder never writes
    def rans_body(labels, C, P, symbols, freqs, **kw):
        return s_rans(labels, C, P=P, symbols=symbols, freqs=freqs, **kw)
    q24 = rans_quantize([lab.count(s) for s in range(4)], 24)
    y("y_rans_p24", "rans: precision 24 (the largest), many renormalisation words",
      "Label mode 3: rans", idx, lab, 63, 4, imode=3, lmode=3,
      lbody=rans_body(lab, 4, 24, [0, 1, 2, 3], q24), flags=F + ["Unusual"])
    y("y_rans_pmin", "rans: the smallest precision for 4 symbols (P = 2, every frequency 1)",
      "Label mode 3: rans", idx, lab, 63, 4, imode=3, lmode=3,
      lbody=rans_body(lab, 4, 2, [0, 1, 2, 3], [1, 1, 1, 1]), flags=F + ["Unusual"])
    y("y_rans_one_symbol_p0", "rans: one present symbol (3 of 5), precision 0",
      "Label mode 3: rans", [0, 1, 2, 3], [3] * 4, 4, 5, imode=3, lmode=3,
      lbody=rans_body([3] * 4, 5, 0, [3], [1]), flags=F + ["Unusual"])
    y("y_rans_one_symbol_p24", "rans: one present symbol with frequency 2^24",
      "Label mode 3: rans", [0, 1, 2, 3], [3] * 4, 4, 5, imode=3, lmode=3,
      lbody=rans_body([3] * 4, 5, 24, [3], [1 << 24]), flags=F + ["Unusual"])
    y("y_rans_rs31_rf31", "rans: Rice parameters rs = rf = 31", "Label mode 3: rans",
      idx, lab, 63, 4, imode=3, lmode=3,
      lbody=rans_body(lab, 4, 4, [0, 1, 2, 3], [5, 4, 3, 4], rs=31, rf=31),
      flags=F + ["Unusual"])
    y("y_rans_rs0_rf0", "rans: Rice parameters rs = rf = 0 (frequencies in unary), symbol "
      "gaps > 0", "Label mode 3: rans", [0, 1, 2, 3, 4], [1, 5, 5, 1, 9], 20, 10, imode=3,
      lmode=3, lbody=rans_body([1, 5, 5, 1, 9], 10, 5, [1, 5, 9], [13, 11, 8], rs=0, rf=0),
      flags=F + ["Unusual"])
    y("y_rans_unused_symbols", "rans: the table lists all 6 symbols, only 1 and 4 occur",
      "Label mode 3: rans", [0, 1, 2, 3], [1, 4, 4, 1], 4, 6, imode=3, lmode=3,
      lbody=rans_body([1, 4, 4, 1], 6, 4, list(range(6)), [1, 5, 1, 2, 6, 1]),
      flags=F + ["Unusual"])
    aligned = _rans_byte_aligned_table(idx, lab)
    y("y_rans_table_byte_aligned", "rans: the table ends on a byte boundary (no padding "
      "bits)", "Label mode 3: rans", idx, lab, 63, 4, imode=3, lmode=3, lbody=aligned,
      flags=F + ["Unusual"])
    y("y_minor0_rice_rans", "Version_Minor 0 with 1.1 modes: a decoder never rejects a "
      "payload for its minor version", "Header", IDX11, LAB11, 32, 3, imode=3, lmode=3,
      hdr={"minor": 0}, flags=F + ["Forward"])


def _range_coder_carry_case():
    """The first seeded content whose two range-coded streams both propagate a carry
    through a held-back 0xFF byte."""
    for seed in range(1, 10000):
        idx = spread(120, 5000, seed)
        lab = lcg_labels(120, 16, seed, skew=3)
        ci = adaptive_index_coder(idx)
        cl = adaptive_labels_coder(lab, 16)
        ci.finish(), cl.finish()
        if ci.carries and cl.carries and (ci.ff_runs or cl.ff_runs):
            return idx, lab
    raise AssertionError("no carry case found")


def _rans_byte_aligned_table(idx, lab):
    counts = [lab.count(s) for s in range(4)]
    for P in range(2, 25):
        f = rans_quantize(counts, P)
        for rf in range(32):
            if len(rans_table(4, P, [(0, v) for v in f], rf=rf).bits) % 8 == 0:
                return s_rans(lab, 4, P=P, symbols=[0, 1, 2, 3], freqs=f, rf=rf)
    raise AssertionError("no byte-aligned table")


def define_invalid_11():
    # -- rice
    rice = "Index mode 3: rice"
    n("n_rice_r48", "rice: block 0 has r = 48", rice, "rice-r", "FormatError",
      b11(ibody=s_rice(IDX11, rs=[48]).bytes()))
    n("n_rice_r63", "rice: block 1 has r = 63 (k = 130)", rice, "rice-r", "FormatError",
      build(list(range(130)), [0] * 130, 200, 1, imode=3, lmode=3,
            ibody=s_rice(list(range(130)), rs=[0, 63]).bytes()))
    n("n_rice_gap_past_n", "rice: last gap 10 makes index 32 = N (r = 0: the quotient is "
      "past the limit)", rice, "index-lt-n", "FormatError",
      b11(ibody=s_rice(None, gaps=[2, 0, 3, 12, 0, 10], rs=[0]).bytes()))
    n("n_rice_gap_past_n_low_bits", "rice: last gap 10 makes index 32 = N (r = 2: the "
      "quotient fits, the low bits do not)", rice, "index-lt-n", "FormatError",
      b11(ibody=s_rice(None, gaps=[2, 0, 3, 12, 0, 10], rs=[2]).bytes()))
    n("n_rice_trailing_byte", "rice: a zero byte after the stream", rice, "stream-end",
      "FormatError", b11(ibody=s_rice(IDX11).bytes() + b"\x00"))
    pad_idx = IDX11[:5]
    assert len(s_rice(pad_idx).bits) % 8
    n("n_rice_padding", "rice: the last padding bit set", rice, "padding", "FormatError",
      build(pad_idx, LAB11[:5], 32, 3, imode=3, lmode=3,
            ibody=s_rice(pad_idx).bytes(pad=1 << (7 - len(s_rice(pad_idx).bits) % 8))))
    w = s_rice([3, 500], rs=[0])
    n("n_rice_trunc_unary", "rice: stream ends inside the 496 zero bits of gap 1",
      rice, "stream-truncated", "TruncatedError",
      build([3, 500], [0, 0], 1000, 1, imode=3, lmode=3, ibody=cut_inside(w, 6, 502)))
    w = s_rice(None, gaps=[2, 0, 3, 12, 0, 9], rs=[6])
    n("n_rice_trunc_low_bits", "rice: stream ends inside the 6 low bits of gap 5", rice,
      "stream-truncated", "TruncatedError",
      build([2, 3, 7, 20, 21, 31], LAB11, 32, 3, imode=3, lmode=3,
            ibody=cut_inside(w, len(w.bits) - 6, len(w.bits))))
    ix = list(range(203, 331)) + [500, 501]
    w = s_rice(ix, rs=[0, 5])
    r_at = len(s_rice(ix[:128], rs=[0]).bits) + 1          # after block 1's same_r bit
    n("n_rice_trunc_r", "rice: stream ends inside the 6-bit r of block 1", rice,
      "stream-truncated", "TruncatedError",
      build(ix, [0] * 130, 1000, 1, imode=3, lmode=3, ibody=cut_inside(w, r_at, r_at + 6)))
    ix = [7] + list(range(8, 135)) + [136, 140]
    w = s_rice(ix, rs=[0, 0])
    assert len(w.bits) > 136 and w.bits[136] == 1
    n("n_rice_trunc_same_r", "rice: stream ends right before same_r of block 1 (block 0 "
      "fills 17 bytes exactly)", rice, "stream-truncated", "TruncatedError",
      build(ix, [0] * 130, 1000, 1, imode=3, lmode=3, ibody=w.bytes()[:17]))
    n("n_rice_empty_body", "rice: k = 6 with an empty stream (found by fuzzing: a fast "
      "decoder that peeks 64-bit words past the end)", rice, "stream-truncated",
      "TruncatedError", build(IDX11, LAB11, 32, 3, imode=3, lmode=3, ibody=b""))
    n("n_rice_k0_nonempty", "rice: k = 0 with a 1-byte stream (within the raw size bound "
      "ceil(N/8))", rice, "empty-stream", "FormatError",
      build([], [], 32, 3, imode=3, lmode=3, ibody=b"\x00"))

    # -- adaptive index and the range coder
    ad = "Index mode 4: adaptive"
    rcs = "Binary range coder"
    good = s_adaptive(IDX11)
    n("n_adaptive_gap_past_n", "adaptive index: last gap 10 makes index 32 = N", ad,
      "index-lt-n", "FormatError",
      b11(imode=4, ibody=s_adaptive(None, gaps=[2, 0, 3, 12, 0, 10])))
    n("n_adaptive_gap_n48", "adaptive index: n = 48 (no unary terminator) for N = 32", ad,
      "index-lt-n", "FormatError",
      b11(imode=4, ibody=s_adaptive(None, gaps=[2**48 - 1] + [0] * 5)))
    n("n_adaptive_first_byte", "adaptive index: first range-coder byte 0x01", rcs,
      "rc-first-byte", "FormatError", b11(imode=4, ibody=b"\x01" + good[1:]))
    n("n_adaptive_initial_code", "adaptive index: initial code 0xFFFFFFFF", rcs,
      "rc-initial-code", "FormatError", b11(imode=4, ibody=b"\x00\xff\xff\xff\xff" + good[5:]))
    n("n_adaptive_unconsumed_byte", "adaptive index: a byte after the range-coder output",
      rcs, "rc-unconsumed", "FormatError", b11(imode=4, ibody=good + b"\x00"))
    n("n_adaptive_final_code", "adaptive index: last byte + 1: same values, final code 1",
      rcs, "rc-final-code", "FormatError",
      b11(imode=4, ibody=good[:-1] + bytes([good[-1] + 1])))
    n("n_adaptive_trunc", "adaptive index: last range-coder byte missing", ad,
      "stream-truncated", "TruncatedError", b11(imode=4, ibody=good[:-1]))
    n("n_adaptive_trunc_4_bytes", "adaptive index: 4 bytes, fewer than the coder's 5",
      rcs, "stream-truncated", "TruncatedError", b11(imode=4, ibody=good[:4]))
    n("n_adaptive_k0_nonempty", "adaptive index: k = 0 with a 5-byte stream (over the raw "
      "size bound 0)", ad, "empty-stream", "FormatError",
      build([], [], 32, 3, imode=4, lmode=4, ibody=bytes(5)))

    # -- rans
    rn = "Label mode 3: rans"
    tab = [(0, 2), (0, 1), (0, 1)]
    words = words_bytes(rans_words(LAB11, 2, [0, 1, 2], [2, 1, 1]))

    def rans_bad(P=2, entries=tab, words=words, pad=0, **kw):
        return b11(lbody=rans_table(3, P, entries, **kw).bytes(pad) + words)
    n("n_rans_precision_25", "rans: precision 25", rn, "rans-precision", "FormatError",
      rans_bad(P=25))
    n("n_rans_precision_31", "rans: precision 31 (the field's largest value)", rn,
      "rans-precision", "FormatError", rans_bad(P=31))
    n("n_rans_symbol_count_gt_c", "rans: symbol_count_minus_1 = 3, D = 4 > C = 3", rn,
      "rans-symbol-count", "FormatError", rans_bad(d_field=3))
    n("n_rans_symbol_ge_c", "rans: third symbol gap 1 makes symbol 3 with C = 3 (rs = 0)",
      rn, "label-lt-c", "FormatError", rans_bad(entries=[(0, 2), (0, 1), (1, 1)], rs=0))
    n("n_rans_symbol_ge_c_low_bits", "rans: symbol 3 with C = 3, caught in the low bits "
      "(rs = 1)", rn, "label-lt-c", "FormatError",
      rans_bad(entries=[(0, 2), (0, 1), (1, 1)], rs=1))
    n("n_rans_zero_frequency", "rans: frequency 0 for symbol 1 (sum still 4)", rn,
      "rans-zero-frequency", "FormatError", rans_bad(entries=[(0, 2), (0, 0), (0, 2)]))
    n("n_rans_sum_over", "rans: frequencies 2 2 1 pass 2^P = 4 at entry 2", rn, "rans-sum",
      "FormatError", rans_bad(entries=[(0, 2), (0, 2), (0, 1)]))
    n("n_rans_sum_under", "rans: frequencies 1 1 1 sum to 3, not 4", rn, "rans-sum",
      "FormatError", rans_bad(entries=[(0, 1), (0, 1), (0, 1)]))
    n("n_rans_table_padding", "rans: a table padding bit set", rn, "padding", "FormatError",
      rans_bad(pad=0x01))
    n("n_rans_word_area_odd", "rans: word area of 13 bytes", rn, "rans-word-area",
      "FormatError", rans_bad(words=words + b"\x00"))
    w11 = rans_words(LAB11, 2, [0, 1, 2], [2, 1, 1])

    def lane_state(lane, x):                 # the valid words with one lane state replaced
        w = list(w11)
        w[2 * lane:2 * lane + 2] = [x & 0xFFFFFFFF, x >> 32]
        return words_bytes(w)
    n("n_rans_initial_state_low", "rans: initial state of lane 2 is 2^31 - 1 (lanes 0, 1, 3 "
      "valid)", rn, "rans-initial-state", "FormatError",
      rans_bad(words=lane_state(2, 0x7FFFFFFF)))
    n("n_rans_initial_state_high", "rans: initial state of lane 1 is 2^63 (lanes 0, 2, 3 "
      "valid)", rn, "rans-initial-state", "FormatError",
      rans_bad(words=lane_state(1, 1 << 63)))
    n("n_rans_unconsumed_word", "rans: a word after the last one read", rn, "rans-unconsumed",
      "FormatError", rans_bad(words=words + words_bytes([0])))
    n("n_rans_final_state", "rans: lane 3 encoded from x = 2^31 + 1 (the others from 2^31): "
      "same labels, final state of lane 3 is 2^31 + 1", rn, "rans-final-state", "FormatError",
      rans_bad(words=words_bytes(rans_words(LAB11, 2, [0, 1, 2], [2, 1, 1],
                                            x0=(RANS_L,) * 3 + (RANS_L + 1,)))))
    f24 = [2, 2**24 - 3, 1]                  # lane 0: label 4 (f = 1), then label 0 (f = 2)
    w24 = rans_words(LAB11, 24, [0, 1, 2], f24)
    assert len(w24) > 2 * RANS_LANES
    n("n_rans_trunc_words", "rans: the last renormalisation word missing", rn,
      "stream-truncated", "TruncatedError",
      rans_bad(P=24, entries=[(0, f) for f in f24], words=words_bytes(w24[:-1])))
    n("n_rans_trunc_state", "rans: seven words after the table (the 4 lane states need "
      "eight)", rn, "stream-truncated", "TruncatedError", rans_bad(words=words[:28]))
    n("n_rans_trunc_table", "rans: stream ends inside the table (rs)", rn,
      "stream-truncated", "TruncatedError",
      b11(lbody=rans_table(3, 2, tab).bytes()[:1]))
    n("n_rans_k0_nonempty", "rans: k = 0 with an 8-byte stream (over the raw size bound 0)",
      rn, "empty-stream", "FormatError", build([], [], 32, 3, imode=3, lmode=3,
                                               lbody=words_bytes([RANS_L, 0])))

    # -- adaptive labels
    al = "Label mode 4: adaptive"
    goodl = s_adaptive_labels(LAB11, 3)
    n("n_adaptive_labels_ge_c", "adaptive labels: label 3 coded in full with C = 3", al,
      "label-lt-c", "FormatError",
      b11(lmode=4, lbody=s_adaptive_labels([0, 0, 1, 0, 3, 0], 3)))
    n("n_adaptive_labels_full_eq_prev", "adaptive labels: label 1 coded in full (same = 0) "
      "although it equals the previous label", al, "adaptive-canonical", "FormatError",
      b11(lmode=4, lbody=s_adaptive_labels(LAB11, 3, full={1})))
    n("n_adaptive_labels_full_eq_back", "adaptive labels: label 3 coded in full (back = 0) "
      "although it equals the label before the run", al, "adaptive-canonical",
      "FormatError", b11(lmode=4, lbody=s_adaptive_labels(LAB11, 3, full={3})))
    n("n_adaptive_labels_first_byte", "adaptive labels: first range-coder byte 0x80", rcs,
      "rc-first-byte", "FormatError", b11(lmode=4, lbody=b"\x80" + goodl[1:]))
    n("n_adaptive_labels_final_code", "adaptive labels: last byte + 1", rcs,
      "rc-final-code", "FormatError",
      b11(lmode=4, lbody=goodl[:-1] + bytes([goodl[-1] + 1])))
    n("n_adaptive_labels_unconsumed_byte", "adaptive labels: a byte after the output", rcs,
      "rc-unconsumed", "FormatError", b11(lmode=4, lbody=goodl + b"\x00"))
    n("n_adaptive_labels_trunc", "adaptive labels: last range-coder byte missing", al,
      "stream-truncated", "TruncatedError", b11(lmode=4, lbody=goodl[:-1]))
    n("n_adaptive_labels_k0_nonempty", "adaptive labels: k = 0 with a 5-byte stream", al,
      "empty-stream", "FormatError", build([], [], 32, 3, imode=3, lmode=4, lbody=bytes(5)))
    # -- Zstd around a 1.1 stream
    n("n_rans_zstd_fcs_over_bound", "rans Zstd-wrapped, Frame_Content_Size above the "
      "mode's raw size bound", "Zstd-wrapped bodies", "zstd-fcs-bound", "LimitError",
      b11(lz=lambda raw: zstd_frame(raw, fcs=2**22, fcs_bytes=4)))
    n("n_trunc_rice_zstd_frame", "rice Zstd frame cut inside its block", "Zstd-wrapped "
      "bodies", "zstd-truncated", "TruncatedError",
      b11(iz=lambda raw: zstd_frame(raw)[:-1]))


def define_implementation_defined_11():
    n48 = 2**48
    y("i_n2p48_adaptive_n48", "N = 2^48, index N-1: gap 2^48 - 1 has n = 48, the one "
      "unary code without a terminating 0", "Index mode 4: adaptive", [n48 - 1], [0], n48, 1,
      imode=4, lmode=4, result="acceptable", error="LimitError", rule="pool-size-limit",
      flags=["Format11", "Limits", "EdgeN", "MaxGap"])
    y("i_n2p48_rice_r47", "N = 2^48, indices 0 and N-1: rice with r = 47 and quotient 1",
      "Index mode 3: rice", [0, n48 - 1], [0, 0], n48, 1, imode=3, lmode=3,
      result="acceptable", error="LimitError", rule="pool-size-limit",
      flags=["Format11", "Limits", "EdgeN", "MaxGap"])
    c20 = 2**20
    y("i_c2p20_rans", "C = 2^20: rans with a 20-bit symbol_count_minus_1", "Label mode 3: "
      "rans", [0, 1, 2], [0, c20 - 1, 12345], 3, c20, imode=3, lmode=3, result="acceptable",
      error="LimitError", rule="class-count-limit", flags=["Format11", "Limits", "EdgeC"])
    y("i_c2p20_adaptive_labels", "C = 2^20: a 20-level label tree", "Label mode 4: adaptive",
      [0, 1, 2], [0, c20 - 1, 12345], 3, c20, imode=4, lmode=4, result="acceptable",
      error="LimitError", rule="class-count-limit", flags=["Format11", "Limits", "EdgeC"])


# ================================================================ format 1.2 (label mode 5)

SPEC12_HEX = "00256d31303f"      # "Label mode 5: adaptive-gap", worked example


def define_valid_12():
    F = ["Format12"]
    got = s_adaptive_gap_labels(LAB11, 3, IDX11).hex()
    if got != SPEC12_HEX:
        raise AssertionError(f"adaptive-gap worked example: SPEC.md has {SPEC12_HEX}, "
                             f"the generator writes {got}")
    y("y_spec12_adaptive_gap", "the adaptive-gap label worked example of SPEC.md (N = 32, "
      "indices 2 3 7 20 21 22, C = 3, labels 0 0 1 0 2 0) with rice indices",
      "Label mode 5: adaptive-gap", IDX11, LAB11, 32, 3, imode=3, lmode=5,
      flags=F + ["SpecExample"])
    # -- with every index mode (the contexts come from the decoded indices, whatever their
    #    mode), raw and Zstd-wrapped
    idx = [0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 34, 62]
    lab = [1, 1, 1, 0, 3, 3, 2, 0, 0, 1, 2, 3]
    for im, iz, lz in ((0, 0, 0), (1, 0, 0), (2, 0, 1), (3, 1, 0), (4, 0, 0), (4, 1, 1)):
        tag = f"{INDEX_NAMES[im]}{'_zstd' if iz else ''}_adaptive_gap{'_zstd' if lz else ''}"
        y(f"y_{tag}", f"index mode {INDEX_NAMES[im]}{' (Zstd)' if iz else ''}, label mode "
          f"adaptive-gap{' (Zstd)' if lz else ''}", "Label mode 5: adaptive-gap", idx, lab, 63,
          4, imode=im, lmode=5, iz="raw" if iz else None, lz="raw" if lz else None,
          flags=F + ["ModeMatrix"])
    y("y_k0_adaptive_gap", "k = 0: an empty adaptive-gap stream", "Label mode 5: adaptive-gap",
      [], [], 10, 5, imode=3, lmode=5, flags=F + ["EdgeK"])
    y("y_k1_adaptive_gap", "k = 1: the first label codes no flag and has no gap bucket",
      "Label mode 5: adaptive-gap", [7], [4], 10, 5, imode=3, lmode=5, flags=F + ["EdgeK"])
    y("y_c1_adaptive_gap", "C = 1: W = 0, only same flags, one per gap bucket",
      "Label mode 5: adaptive-gap", [0, 1, 3, 7, 15, 31], [0] * 6, 32, 1, imode=3, lmode=5,
      flags=F + ["EdgeC"])
    # gaps 1, 2, 4, ..., 2^20 (buckets 0..15, then capped at 15), labels that repeat,
    # return (back flag) and change, so every context kind is used
    gidx = [0]
    for e in range(21):
        gidx.append(gidx[-1] + (1 << e))
    glab = [(j // 3) % 2 if j % 5 else (j * 7) % 11 for j in range(len(gidx))]
    y("y_adaptive_gap_every_bucket", "gaps 1, 2, 4, ..., 2^20: every gap bucket, 15 capped "
      "six times; same, back and full-coded labels (C = 11)", "Label mode 5: adaptive-gap",
      gidx, glab, gidx[-1] + 1, 11, imode=4, lmode=5, flags=F + ["Unusual"])
    n40 = 2**40
    y("y_adaptive_gap_max_gap", "N = 2^40: indices 0 and N-1 (gap 2^40 - 1, bucket 15)",
      "Label mode 5: adaptive-gap", [0, n40 - 1], [1, 1], n40, 2, imode=3, lmode=5,
      flags=F + ["EdgeN", "MaxGap"])
    blocks = [b * 1000 + j for b in range(8) for j in range(0, 300, 3)]
    blab = [(b * 37) % 101 if j % 23 else (b * 11 + j) % 101 for b in range(8) for j in range(100)]
    y("y_adaptive_gap_blocks", "synset-like blocks: 8 blocks of 100 kept items (gap 3 inside, "
      "~700 between), one class per block with outliers, C = 101",
      "Label mode 5: adaptive-gap", blocks, blab, 8000, 101, imode=4, lmode=5, flags=F)


def define_invalid_12():
    ag = "Label mode 5: adaptive-gap"
    rcs = "Binary range coder"
    good = s_adaptive_gap_labels(LAB11, 3, IDX11)

    def b12(**kw):
        return build(IDX11, LAB11, 32, 3, imode=3, lmode=5, **kw)
    n("n_adaptive_gap_ge_c", "adaptive-gap: label 4 coded in full as 3 with C = 3", ag,
      "label-lt-c", "FormatError",
      b12(lbody=s_adaptive_gap_labels([0, 0, 1, 0, 3, 0], 3, IDX11)))
    n("n_adaptive_gap_full_eq_prev", "adaptive-gap: label 1 coded in full (same = 0) as the "
      "previous label", ag, "adaptive-canonical", "FormatError",
      b12(lbody=s_adaptive_gap_labels(LAB11, 3, IDX11, full={1})))
    n("n_adaptive_gap_full_eq_back", "adaptive-gap: label 3 coded in full (back = 0) as the "
      "label before the run", ag, "adaptive-canonical", "FormatError",
      b12(lbody=s_adaptive_gap_labels(LAB11, 3, IDX11, full={3})))
    n("n_adaptive_gap_first_byte", "adaptive-gap: first range-coder byte 0x80", rcs,
      "rc-first-byte", "FormatError", b12(lbody=b"\x80" + good[1:]))
    n("n_adaptive_gap_unconsumed_byte", "adaptive-gap: a byte after the output", rcs,
      "rc-unconsumed", "FormatError", b12(lbody=good + b"\x00"))
    n("n_adaptive_gap_trunc", "adaptive-gap: last range-coder byte missing", ag,
      "stream-truncated", "TruncatedError", b12(lbody=good[:-1]))
    n("n_adaptive_gap_k0_nonempty", "adaptive-gap: k = 0 with a 5-byte stream", ag,
      "empty-stream", "FormatError", build([], [], 32, 3, imode=3, lmode=5, lbody=bytes(5)))
    # a valid mode 5 stream of other indices: the same bytes decode against the payload's
    # own indices to other contexts, which the end-of-stream checks reject
    # (with gaps 1, 2, 4 repeating: a constant gap would only rename the contexts, and
    # renamed contexts adapt identically)
    oidx = [sum((1, 2, 4)[j % 3] for j in range(i)) for i in range(120)]
    other = s_adaptive_gap_labels([0, 0, 1] * 40, 2, oidx)
    n("n_adaptive_gap_other_indices", "adaptive-gap: labels coded against other indices "
      "(gaps 1, 2, 4 repeating) in a payload whose indices are consecutive: the decoder "
      "follows other contexts and fails a range-coder end check or the checksum", ag,
      "adaptive-canonical", "FormatError", build(list(range(120)), [0, 0, 1] * 40, 1200, 2,
                                            imode=3, lmode=5, lbody=other),
      alternatives=["TruncatedError", "ChecksumError"])


# ================================================================ format 1.3 (ctx-rans)

SPEC13_INDEX_HEX = ("0185008 0d40600001a000450030000050020010200000002000000000000000100"
                    "0000030000000200000000000080000000 0002").replace(" ", "")
SPEC13_LABEL_HEX = ("0185006 44b00000a0004004001000000004021 00d90220000000000100000005"
                    "000000040000000300000002000000 0a00000008000000").replace(" ", "")


def define_valid_13():
    F = ["Format13"]
    got = (s_ctx_index(IDX11, 32).hex(), s_ctx_labels(LAB11, 3, IDX11).hex())
    if got != (SPEC13_INDEX_HEX, SPEC13_LABEL_HEX):
        raise AssertionError(f"ctx-rans worked examples: SPEC.md has {SPEC13_INDEX_HEX}, "
                             f"{SPEC13_LABEL_HEX}; the generator writes {got}")
    h3 = {"minor": 3}
    y("y_spec13_ctx_rans", "the ctx-rans worked examples of SPEC.md (N = 32, indices 2 3 7 "
      "20 21 22, C = 3, labels 0 0 1 0 2 0): index mode 5 and label mode 6",
      "Format 1.3 modes", IDX11, LAB11, 32, 3, imode=5, lmode=6, hdr=h3,
      flags=F + ["SpecExample"])
    # ctx-rans labels after every index mode, ctx-rans indices before other label modes
    idx = [0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 34, 62]
    lab = [1, 1, 1, 0, 3, 3, 2, 0, 0, 1, 2, 3]
    for im, iz, lz in ((0, 0, 0), (1, 0, 0), (2, 0, 1), (3, 1, 0), (4, 0, 0), (5, 0, 0),
                       (5, 1, 1)):
        tag = f"{INDEX_NAMES[im]}{'_zstd' if iz else ''}_ctx_rans{'_zstd' if lz else ''}"
        y(f"y_{tag.replace('-', '_')}", f"index mode {INDEX_NAMES[im]}{' (Zstd)' if iz else ''}"
          f", label mode ctx-rans{' (Zstd)' if lz else ''}", "Label mode 6: ctx-rans", idx,
          lab, 63, 4, imode=im, lmode=6, iz="raw" if iz else None, lz="raw" if lz else None,
          hdr=h3, flags=F + ["ModeMatrix"])
    for lm in (0, 3):
        y(f"y_ctx_rans_{LABEL_NAMES[lm]}", f"index mode ctx-rans, label mode {LABEL_NAMES[lm]}",
          "Index mode 5: ctx-rans", idx, lab, 63, 4, imode=5, lmode=lm, hdr=h3,
          flags=F + ["ModeMatrix"])
    y("y_k0_ctx_rans", "k = 0: empty ctx-rans streams", "Format 1.3 modes", [], [], 10, 5,
      imode=5, lmode=6, hdr=h3, flags=F + ["EdgeK"])
    y("y_k1_ctx_rans", "k = 1: one segment, one gap, one literal and no event",
      "Format 1.3 modes", [7], [4], 10, 5, imode=5, lmode=6, hdr=h3, flags=F + ["EdgeK"])
    y("y_kn_ctx_rans", "k = N = 40: every gap 0 (class 0 only), C = 1 (literal table of one "
      "symbol, P = 0)", "Format 1.3 modes", list(range(40)), [0] * 40, 40, 1, imode=5,
      lmode=6, hdr=h3, flags=F + ["EdgeK", "EdgeC"])
    n40 = 2**40
    y("y_ctx_rans_max_gap", "N = 2^40: indices 0 and N-1 (gap 2^40 - 1: class 78, 38 raw "
      "bits)", "Index mode 5: ctx-rans", [0, n40 - 1], [1, 1], n40, 2, imode=5, lmode=6,
      hdr=h3, flags=F + ["EdgeN", "MaxGap"])
    c16 = 65536
    y("y_ctx_rans_c65536", "C = 65,536: the literal table has P = 16 (its limit is "
      "max(10, bitlen(C - 1)) = 16)", "Label mode 6: ctx-rans", list(range(0, 40, 2)),
      [(j * 4099) % c16 for j in range(20)], 40, c16, imode=5, lmode=6, hdr=h3,
      flags=F + ["EdgeC"])
    blocks = [b * 1000 + j for b in range(8) for j in range(0, 300, 3)]
    blab = [(b * 37) % 101 if j % 23 else (b * 11 + j) % 101 for b in range(8) for j in range(100)]
    y("y_ctx_rans_blocks", "synset-like blocks: 8 blocks of 100 kept items, one class per "
      "block with outliers, C = 101", "Format 1.3 modes", blocks, blab, 8000, 101, imode=5,
      lmode=6, hdr=h3, flags=F)
    for S in (2, 3, 7):
        y(f"y_ctx_rans_blocks_s{S}", f"the blocks in {S} segments (the encoder writes 1 below "
          f"2^17 items): bases, afresh contexts and lanes per segment", "Format 1.3 modes",
          blocks, blab, 8000, 101, imode=5, lmode=6, hdr=h3, flags=F + ["Unusual"],
          ibody=s_ctx_index(blocks, 8000, S=S), lbody=s_ctx_labels(blab, 101, blocks, S=S))
    y("y_ctx_rans_s_eq_k", "Segment_Count = k = 5: one item per segment, the limit",
      "Format 1.3 modes", IDX[:], LAB[:], 20, 3, imode=5, lmode=6, hdr=h3,
      flags=F + ["Unusual", "Limits"], ibody=s_ctx_index(IDX, 20, S=5),
      lbody=s_ctx_labels(LAB, 3, IDX, S=5))
    many = list(range(0, 256, 4))
    mlab = [(j // 5) % 7 for j in range(64)]
    y("y_ctx_rans_s64", "Segment_Count = 64, the largest allowed", "Format 1.3 modes", many,
      mlab, 256, 7, imode=5, lmode=6, hdr=h3, flags=F + ["Unusual", "Limits"],
      ibody=s_ctx_index(many, 256, S=64), lbody=s_ctx_labels(mlab, 7, many, S=64))
    p10 = (10, [0, 2, 3], [512, 256, 256])
    y("y_ctx_rans_p10", "an index table with P = 10, the limit (the encoder picks P = 2)",
      "Format 1.3 modes", IDX11, LAB11, 32, 3, imode=5, lmode=6, hdr=h3,
      flags=F + ["Unusual", "Limits"], ibody=s_ctx_index(IDX11, 32, override={0: p10}))


def define_invalid_13():
    F = ["Format13"]
    ix, lb, sh = "Index mode 5: ctx-rans", "Label mode 6: ctx-rans", "Format 1.3 modes"
    good_i, good_l = s_ctx_index(IDX11, 32), s_ctx_labels(LAB11, 3, IDX11)
    L = RANS_L

    def b13(ibody=None, lbody=None, idx=IDX11, lab=LAB11, N=32, C=3):
        return build(idx, lab, N, C, imode=5, lmode=6, ibody=ibody, lbody=lbody,
                     hdr={"minor": 3})

    def seg_edit(fn):
        def edit(data):
            data[0] = fn(data[0])
        return edit
    n("n_ctx_segment_count_zero", "ctx-rans index: Segment_Count 0", sh, "ctx-segment-count",
      "FormatError", b13(ibody=b"\x00" + good_i[1:]), flags=F)
    n("n_ctx_segment_count_gt_k", "ctx-rans labels: Segment_Count 7 with k = 6", sh,
      "ctx-segment-count", "FormatError", b13(lbody=b"\x07" + good_l[1:]), flags=F)
    n("n_ctx_precision_11", "ctx-rans index: table 0 with P = 11 (limit max(10, bitlen(96)) "
      "= 10); the words are coded with it", sh, "ctx-precision", "FormatError",
      b13(ibody=s_ctx_index(IDX11, 32, override={0: (11, [0, 2, 3], [1024, 512, 512])})),
      flags=F)
    n("n_ctx_absent_table", "ctx-rans index: table 3's present bit cleared (gap 4 needs it)",
      sh, "ctx-absent-table", "FormatError",
      b13(ibody=s_ctx_index(IDX11, 32, present_over={3: 0})), flags=F)
    n("n_ctx_table_padding", "ctx-rans index: a padding bit after the tables", sh, "padding",
      "FormatError", b13(ibody=s_ctx_index(IDX11, 32, pad=1)), flags=F)
    n("n_ctx_zero_frequency", "ctx-rans index: table 0 lists class 2 with frequency 0", sh,
      "rans-zero-frequency", "FormatError",
      b13(ibody=s_ctx_index(IDX11, 32, write_over={0: (2, [0, 2, 3], [4, 0, 0])})), flags=F)
    n("n_ctx_sum", "ctx-rans index: table 0's frequencies sum to 4 with P = 3", sh,
      "rans-sum", "FormatError",
      b13(ibody=s_ctx_index(IDX11, 32, write_over={0: (3, [0, 2, 3], [2, 1, 1])})), flags=F)
    n("n_ctx_directory_nonminimal", "ctx-rans index: word_bytes 32 as the 2-byte varint a0 00",
      sh, "varint-minimal", "FormatError", b13(ibody=good_i[:17] + b"\xa0\x00" + good_i[18:]),
      flags=F)
    n("n_ctx_trailing", "ctx-rans index: a byte after the segment data", sh, "trailing",
      "FormatError", b13(ibody=good_i + b"\x00"), flags=F)
    n("n_ctx_truncated", "ctx-rans labels: the last byte missing", sh, "stream-truncated",
      "TruncatedError", b13(lbody=good_l[:-1]), flags=F)
    n("n_ctx_word_area_odd", "ctx-rans index: word_bytes 31 (raw_bytes 2 keeps the total)", sh,
      "rans-word-area", "FormatError", b13(ibody=s_ctx_index(IDX11, 32, rows={0: (None, 31, 2)})),
      flags=F)
    n("n_ctx_initial_state", "ctx-rans index: lane 2 starts at 5", sh, "rans-initial-state",
      "FormatError", b13(ibody=s_ctx_index(IDX11, 32, x0={0: (L, L, 5, L)})), flags=F)
    n("n_ctx_final_state", "ctx-rans labels: lane 3 coded from L + 7, so it ends there", sh,
      "rans-final-state", "FormatError",
      b13(lbody=s_ctx_labels(LAB11, 3, IDX11, x0={0: (L, L, L, L + 7)})), flags=F)
    n("n_ctx_unconsumed", "ctx-rans index: a word after segment 0's words", sh,
      "rans-unconsumed", "FormatError",
      b13(ibody=s_ctx_index(IDX11, 32, rows={0: (None, 36, None)},
                            edit=seg_edit(lambda d: [d[0] + bytes(4), d[1]]))), flags=F)
    n("n_ctx_gap_past_n", "ctx-rans index: the stream of N = 32 in a payload with N = 22 "
      "(gap 5 makes index 22)", ix, "index-lt-n", "FormatError", b13(ibody=good_i, N=22),
      flags=F)
    n("n_ctx_raw_long", "ctx-rans index: a zero byte after the raw area of segment 0", ix,
      "trailing", "FormatError",
      b13(ibody=s_ctx_index(IDX11, 32, rows={0: (None, None, 2)},
                            edit=seg_edit(lambda d: [d[0], d[1] + b"\x00"]))), flags=F)
    n("n_ctx_raw_padding", "ctx-rans index: a padding bit in the raw area", ix, "padding",
      "FormatError", b13(ibody=s_ctx_index(IDX11, 32, raw_pad={0: 1})), flags=F)
    n("n_ctx_raw_truncated", "ctx-rans index: segment 0 with no raw area (gap 2 needs a bit)",
      ix, "stream-truncated", "TruncatedError",
      b13(ibody=s_ctx_index(IDX11, 32, rows={0: (None, None, 0)},
                            edit=seg_edit(lambda d: [d[0], b""]))), flags=F)
    idx40 = list(range(0, 400, 10))
    lab40 = [j % 3 for j in range(40)]
    n("n_ctx_base_past_n", "ctx-rans index: segment 1's base 399 with N = 400", ix,
      "ctx-base", "FormatError",
      b13(ibody=s_ctx_index(idx40, 400, S=2, rows={1: (399, None, None)}), idx=idx40,
          lab=lab40, N=400), flags=F)
    n("n_ctx_base_mismatch", "ctx-rans index: segment 1's base 189, segment 0 ends at 190",
      ix, "ctx-base", "FormatError",
      b13(ibody=s_ctx_index(idx40, 400, S=2, rows={1: (189, None, None)}), idx=idx40,
          lab=lab40, N=400), flags=F)
    first = ctx_label_pairs(LAB11, IDX11, 0, 6)
    n("n_ctx_back_first", "ctx-rans labels: a back event for label 1 (no earlier run)", lb,
      "ctx-back", "FormatError",
      b13(lbody=s_ctx_labels(LAB11, 3, IDX11, pairs=[[(64, 0), (0, BACK)] + first[2:]])),
      flags=F)
    n("n_ctx_literal_eq_prev", "ctx-rans labels: label 1 as a new event with literal 0, the "
      "previous label", lb, "adaptive-canonical", "FormatError",
      b13(lbody=s_ctx_labels(LAB11, 3, IDX11,
                             pairs=[[(64, 0), (0, NEW), (64, 0)] + first[2:]])), flags=F)
    n("n_ctx_literal_eq_back", "ctx-rans labels: label 3 as a new event with literal 0, the "
      "label before the run", lb, "adaptive-canonical", "FormatError",
      b13(lbody=s_ctx_labels(LAB11, 3, IDX11,
                             pairs=[first[:3] + [(64, 1), (3, NEW), (64, 0)] + first[5:]])),
      flags=F)
    n("n_ctx_labels_k0_nonempty", "ctx-rans labels: k = 0 with a 1-byte stream", lb,
      "empty-stream", "FormatError",
      build([], [], 32, 3, imode=5, lmode=6, lbody=b"\x01", hdr={"minor": 3}), flags=F)


# ================================================================ output


def collect() -> list[dict]:
    VECTORS.clear()
    define_valid()
    define_invalid()
    define_implementation_defined()
    define_valid_11()
    define_invalid_11()
    define_implementation_defined_11()
    define_valid_12()
    define_invalid_12()
    define_valid_13()
    define_invalid_13()
    return list(VECTORS)


NOTES = {
    "SpecExample": "The worked example of SPEC.md, byte for byte.",
    "ModeMatrix": "Every stream mode, raw and Zstd-wrapped.",
    "Unusual": "A legal stream the reference encoder never writes.",
    "EdgeK": "k at an edge: 0, 1 or N.",
    "EdgeN": "N at an edge: 1 or the required minimum limit 2^40.",
    "EdgeC": "C at an edge: 1, a non-power of two, or 65,536.",
    "MaxGap": "The largest gap the pool allows.",
    "Sections": "Section layout: optional, ancillary and unknown sections.",
    "Forward": "Forward compatibility: newer minor versions and unknown optional data.",
    "Header": "Header fields.",
    "Limits": "At a limit of SPEC.md.",
    "Format11": "Uses a stream mode added in format 1.1 (a 1.0 decoder rejects it as an "
                "unknown mode); also given by the entry's `format`.",
    "Format12": "Uses label mode 5 adaptive-gap, added in format 1.2 (a 1.0 or 1.1 decoder "
                "rejects it as an unknown mode); also given by the entry's `format`.",
    "Format13": "Uses index mode 5 or label mode 6 ctx-rans, added in format 1.3 (a 1.0-1.2 "
                "decoder rejects it as an unknown mode); also given by the entry's `format`.",
}


def manifest_entry(v: dict) -> dict:
    data = v["data"]
    entry = {
        "id": v["id"],
        "file": v["id"] + ".plada",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "spec": v["spec"],
        "result": v["result"],
        "comment": v["comment"],
        "flags": v["flags"],
        "format": v["format"],
    }
    if v["result"] != "valid":
        entry["rule"] = v["rule"]
        entry["error"] = v["error"]
        if v.get("alternative_errors"):
            entry["alternative_errors"] = v["alternative_errors"]
    if v["result"] != "invalid":
        entry["expected"] = v["expected"]
    return entry


def write_suite(root: Path = HERE) -> list[dict]:
    """Write root/vectors/*.plada and root/vectors.json; returns the manifest entries."""
    root = Path(root)
    vectors = collect()
    ids = [v["id"] for v in vectors]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate vector ids: {sorted(dupes)}")
    out = root / "vectors"
    out.mkdir(parents=True, exist_ok=True)
    wanted = {v["id"] + ".plada" for v in vectors}
    for stale in out.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for v in vectors:
        (out / (v["id"] + ".plada")).write_bytes(v["data"])
    entries = [manifest_entry(v) for v in vectors]
    manifest = {
        "suite": "pladafmt-conformance",
        "schema": "schema.json",
        "specVersion": SPEC_VERSION,
        "numberOfVectors": len(entries),
        "canonicalForm": "content_sha256 = SHA-256 of the k indices as u64 little-endian "
                         "followed by the k labels as u32 little-endian (SPEC.md, "
                         "Canonical content)",
        "notes": NOTES,
        "vectors": entries,
    }
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    (root / "vectors.json").write_text(text, encoding="utf-8")
    return entries


def main(argv=None) -> int:
    entries = write_suite(HERE)
    count = {r: sum(e["result"] == r for e in entries) for r in ("valid", "invalid", "acceptable")}
    print(f"wrote {len(entries)} vectors ({count['valid']} must-decode, {count['invalid']} "
          f"must-reject, {count['acceptable']} implementation-defined) to {HERE / 'vectors'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
