"""Contenders: each turns (indices, labels) of a known pool into bytes and back.

A contender is ``Contender(name, family, encode, decode)`` with
``encode(idx, lab, n, c) -> bytes`` and ``decode(data, n, c) -> (idx, lab)``.
Both sides know N and C out of band (as in the paper, whose payload is the compressed
arrays only); everything else a decoder needs is inside the bytes.

The paper's formats (PAPER.md section 2.4, Appendix E), reconstructed byte-exactly from its
tables: "Compact Idx" = first index then gaps (idx[i] - idx[i-1]) cast to u16, or u32 when
some gap needs it; labels u8 (C <= 256) or u16.  "Bmp" = a 1-bit-per-pool-item mask
(np.packbits, MSB first) + the same labels.  Each is compressed with Zstd level 19.
Our versions add one leading byte giving the index/label widths (the paper leaves that
out of band); it is counted in the size.
"""

from __future__ import annotations

import heapq
import io
import lzma
from dataclasses import dataclass
from typing import Callable

import numpy as np
import zstandard

import pladafmt   # no fallback: a package that does not import fails the benchmark

ZSTD_LEVEL = 19
_ZC = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
_ZD = zstandard.ZstdDecompressor()


@dataclass
class Contender:
    name: str
    family: str
    encode: Callable
    decode: Callable
    note: str = ""
    # For pladafmt single-mode rows: what the row holds, for composing the cross product.
    meta: dict | None = None


def zc(b: bytes) -> bytes:
    return _ZC.compress(b)


def zd(b: bytes) -> bytes:
    return _ZD.decompress(b)


# ------------------------------------------------------------- paper's layouts
def _label_dtype(c: int):
    return np.uint8 if c <= 256 else np.uint16


def _compact_parts(idx: np.ndarray, lab: np.ndarray, c: int):
    gaps = np.diff(idx, prepend=0)
    wide = bool(gaps.size) and int(gaps.max()) > 0xFFFF
    g = gaps.astype(np.uint32 if wide else np.uint16)
    return g, lab.astype(_label_dtype(c)), wide


def _hdr(wide: bool, c: int) -> bytes:
    return bytes([(1 if wide else 0) | (2 if c > 256 else 0)])


def _parse_hdr(b: int):
    return (np.uint32 if b & 1 else np.uint16), (np.uint16 if b & 2 else np.uint8)


def compact_separated(idx, lab, n, c) -> bytes:
    """Raw compact layout: all gaps, then all labels."""
    g, lb, wide = _compact_parts(idx, lab, c)
    return _hdr(wide, c) + g.tobytes() + lb.tobytes()


def parse_compact_separated(raw: bytes):
    gdt, ldt = _parse_hdr(raw[0])
    isz, lsz = np.dtype(gdt).itemsize, np.dtype(ldt).itemsize
    k = (len(raw) - 1) // (isz + lsz)
    g = np.frombuffer(raw, gdt, k, 1)
    lb = np.frombuffer(raw, ldt, k, 1 + k * isz)
    return g, lb


def compact_interleaved(idx, lab, n, c) -> bytes:
    """Raw compact layout as records (gap, label) -- the paper's 3 B (or 5 B) per entry."""
    g, lb, wide = _compact_parts(idx, lab, c)
    rec = np.empty(g.size, dtype=[("g", g.dtype), ("l", lb.dtype)])
    rec["g"] = g
    rec["l"] = lb
    return _hdr(wide, c) + rec.tobytes()


def parse_compact_interleaved(raw: bytes):
    gdt, ldt = _parse_hdr(raw[0])
    rec = np.frombuffer(raw, dtype=[("g", gdt), ("l", ldt)], offset=1)
    return rec["g"], rec["l"]


def bitmap_layout(idx, lab, n, c) -> bytes:
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return _hdr(False, c) + np.packbits(mask).tobytes() + lab.astype(_label_dtype(c)).tobytes()


def parse_bitmap_layout(raw: bytes, n: int):
    _, ldt = _parse_hdr(raw[0])
    nb = (n + 7) // 8
    bits = np.frombuffer(raw, np.uint8, nb, 1)
    idx = np.flatnonzero(np.unpackbits(bits, count=n))
    lab = np.frombuffer(raw, ldt, offset=1 + nb)
    return idx, lab


def _from_gaps(g, lb):
    return np.cumsum(g, dtype=np.int64), lb.astype(np.int64)


def _wrap(layout, parse, compress, decompress):
    def enc(idx, lab, n, c):
        return compress(layout(idx, lab, n, c))

    def dec(data, n, c):
        return parse(decompress(data))
    return enc, dec


# The speed baseline of the issue: Zstd-decompress + cumsum of the paper's Compact Idx.
def baseline_decode(data, n, c):
    g, lb = parse_compact_separated(zd(data))
    return _from_gaps(g, lb)


# ------------------------------------------------------------------- Huffman
def _huffman_lengths(counts: np.ndarray) -> np.ndarray:
    """Code lengths of a Huffman code over the symbols with count > 0."""
    syms = [int(s) for s in np.flatnonzero(counts)]
    lengths = np.zeros(counts.size, dtype=np.int64)
    if len(syms) == 1:
        lengths[syms[0]] = 1
        return lengths
    heap = [(int(counts[s]), i, [s]) for i, s in enumerate(syms)]
    heapq.heapify(heap)
    tie = len(heap)
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (c1 + c2, tie, s1 + s2))
        tie += 1
    return lengths


def _canonical(lengths: np.ndarray):
    """Canonical codes (MSB-first values) for the given lengths."""
    codes = np.zeros(lengths.size, dtype=np.uint64)
    order = sorted((int(l), s) for s, l in enumerate(lengths) if l > 0)
    code, prev = 0, order[0][0] if order else 0
    for i, (l, s) in enumerate(order):
        if i:
            code = (code + 1) << (l - prev)
        codes[s] = code
        prev = l
    return codes


_NB = {}


def _numba():
    if not _NB:
        import numba

        @numba.njit(cache=True, nogil=True)
        def henc(data, codes, lens, out):
            acc = np.uint64(0)
            nacc = 0
            o = 0
            for i in range(data.size):
                s = data[i]
                l = lens[s]
                c = codes[s]
                # emit MSB first, up to 32 bits at a time
                while l > 0:
                    t = l if l <= 32 else 32
                    l -= t
                    acc = (acc << np.uint64(t)) | ((c >> np.uint64(l)) & np.uint64((1 << t) - 1))
                    nacc += t
                    while nacc >= 8:
                        nacc -= 8
                        out[o] = np.uint8((acc >> np.uint64(nacc)) & np.uint64(0xFF))
                        o += 1
            if nacc > 0:
                out[o] = np.uint8((acc << np.uint64(8 - nacc)) & np.uint64(0xFF))
                o += 1
            return o

        @numba.njit(cache=True, nogil=True)
        def hdec(buf, nsym, first_code, first_index, count, sym_sorted, maxlen, out):
            pos = 0
            for i in range(nsym):
                code = 0
                l = 0
                while True:
                    bit = (buf[pos >> 3] >> (7 - (pos & 7))) & 1
                    pos += 1
                    code = (code << 1) | bit
                    l += 1
                    if l > maxlen:
                        return -1
                    if count[l] and code - first_code[l] < count[l]:
                        out[i] = sym_sorted[first_index[l] + code - first_code[l]]
                        break
            return pos

        _NB["enc"], _NB["dec"] = henc, hdec
    return _NB["enc"], _NB["dec"]


def huffman_bytes_encode(raw: bytes) -> bytes:
    """Byte-wise canonical Huffman (the paper's "Huffman" column is applied to bytes).

    Layout: u32 byte count, 256 code lengths (u8), MSB-first bitstream.
    """
    henc, _ = _numba()
    data = np.frombuffer(raw, np.uint8)
    counts = np.bincount(data, minlength=256)
    lens = _huffman_lengths(counts)
    codes = _canonical(lens)
    total_bits = int((counts * lens).sum())
    out = np.empty(total_bits // 8 + 2, np.uint8)
    nb = henc(data, codes, lens, out)
    return (np.uint32(data.size).tobytes() + lens.astype(np.uint8).tobytes()
            + out[:nb].tobytes())


def huffman_bytes_decode(blob: bytes) -> bytes:
    _, hdec = _numba()
    nsym = int(np.frombuffer(blob, np.uint32, 1)[0])
    lens = np.frombuffer(blob, np.uint8, 256, 4).astype(np.int64)
    buf = np.frombuffer(blob, np.uint8, offset=260)
    maxlen = int(lens.max()) if nsym else 0
    count = np.bincount(lens[lens > 0], minlength=maxlen + 2).astype(np.int64)
    count[0] = 0
    order = sorted((int(l), s) for s, l in enumerate(lens) if l > 0)
    sym_sorted = np.array([s for _, s in order] or [0], dtype=np.uint8)
    first_code = np.zeros(maxlen + 2, np.int64)
    first_index = np.zeros(maxlen + 2, np.int64)
    code = idx = 0
    for l in range(1, maxlen + 1):
        first_code[l] = code
        first_index[l] = idx
        code = (code + count[l]) << 1
        idx += count[l]
    out = np.empty(nsym, np.uint8)
    if nsym:
        hdec(np.concatenate([buf, np.zeros(8, np.uint8)]), nsym, first_code, first_index,
             count, sym_sorted, maxlen, out)
    return out.tobytes()


# ---------------------------------------------------------------------- others
def npz_encode(idx, lab, n, c):
    bio = io.BytesIO()
    it = np.uint32 if n <= 2**32 else np.uint64
    np.savez_compressed(bio, indices=idx.astype(it), labels=lab.astype(_label_dtype(c)))
    return bio.getvalue()


def npz_decode(data, n, c):
    z = np.load(io.BytesIO(data))
    return z["indices"].astype(np.int64), z["labels"].astype(np.int64)


def _roaring_enc(zstd: bool):
    def enc(idx, lab, n, c):
        from pyroaring import BitMap
        bm = BitMap(idx.astype(np.uint32))
        bm.run_optimize()
        s = bm.serialize()
        body = np.uint32(len(s)).tobytes() + s + lab.astype(_label_dtype(c)).tobytes()
        return zc(body) if zstd else body
    return enc


def _roaring_dec(zstd: bool):
    def dec(data, n, c):
        from pyroaring import BitMap
        raw = zd(data) if zstd else data
        ln = int(np.frombuffer(raw, np.uint32, 1)[0])
        bm = BitMap.deserialize(raw[4:4 + ln])
        idx = np.frombuffer(bm.to_array(), np.uint32).astype(np.int64)
        lab = np.frombuffer(raw, _label_dtype(c), offset=4 + ln).astype(np.int64)
        return idx, lab
    return dec


def _xz(b: bytes) -> bytes:
    return lzma.compress(b, preset=9)


def _unxz(b: bytes) -> bytes:
    return lzma.decompress(b)


def baseline_contenders() -> list[Contender]:
    """All non-pladafmt contenders."""
    out = []

    def add(name, family, layout, parse, comp, decomp, note=""):
        enc, dec = _wrap(layout, parse, comp, decomp)
        out.append(Contender(name, family, enc, dec, note))

    sep = lambda r: _from_gaps(*parse_compact_separated(r))  # noqa: E731
    inter = lambda r: _from_gaps(*parse_compact_interleaved(r))  # noqa: E731

    def bmp_parser(n):
        return lambda r: tuple(a.astype(np.int64) for a in parse_bitmap_layout(r, n))

    # Bitmap contenders need N at parse time: close over it per call.
    def bmp_pair(comp, decomp):
        def enc(idx, lab, n, c):
            return comp(bitmap_layout(idx, lab, n, c))

        def dec(data, n, c):
            return bmp_parser(n)(decomp(data))
        return enc, dec

    add("paper Idx zstd (interleaved)", "paper", compact_interleaved, inter, zc, zd,
        "Compact Idx as (u16|u32 gap, u8|u16 label) records, Zstd-19")
    add("paper Idx zstd (separated)", "paper", compact_separated, sep, zc, zd,
        "Compact Idx, all gaps then all labels, Zstd-19 (the speed baseline)")
    e, d = bmp_pair(zc, zd)
    out.append(Contender("paper Bmp zstd", "paper", e, d, "packbits mask + labels, Zstd-19"))
    add("paper Idx huffman", "paper", compact_separated, sep, huffman_bytes_encode,
        huffman_bytes_decode, "byte-wise canonical Huffman over Compact Idx (separated)")
    e, d = bmp_pair(huffman_bytes_encode, huffman_bytes_decode)
    out.append(Contender("paper Bmp huffman", "paper", e, d,
                         "byte-wise canonical Huffman over mask + labels"))
    add("paper Idx xz-9 (interleaved)", "xz", compact_interleaved, inter, _xz, _unxz,
        "LZMA (xz container) preset 9 over the paper's Compact Idx records")
    e, d = bmp_pair(_xz, _unxz)
    out.append(Contender("paper Bmp xz-9", "xz", e, d, "LZMA preset 9 over mask + labels"))
    out.append(Contender("npz compressed", "npz", npz_encode, npz_decode,
                         "np.savez_compressed(indices=u32, labels=u8|u16), no deltas"))
    out.append(Contender("roaring", "roaring", _roaring_enc(False), _roaring_dec(False),
                         "pyroaring BitMap run_optimize + serialize, raw u8|u16 labels"))
    out.append(Contender("roaring zstd", "roaring", _roaring_enc(True), _roaring_dec(True),
                         "the same, one Zstd-19 frame over both"))
    return out


BASELINE_NAME = "paper Idx zstd (separated)"
PAPER_BEST = ("paper Idx zstd (interleaved)", "paper Idx zstd (separated)", "paper Bmp zstd")


# -------------------------------------------------------------------- pladafmt
def _plada(index_mode: str, label_mode: str):
    def enc(idx, lab, n, c):
        return pladafmt.encode(idx, lab, pool_size=n, classes=c, index_mode=index_mode,
                               label_mode=label_mode, zstd_level=ZSTD_LEVEL)

    def dec(data, n, c):
        p = pladafmt.decode(data)
        return p.indices, p.labels
    return enc, dec


# Partners for the single-mode rows: cheap, no Zstd, so the row's cost is the mode's.
IDX_PARTNER = "varint"
LAB_PARTNER = "packed"


def pladafmt_contenders() -> list[Contender]:
    """'auto', every index-mode variant (with the packed label partner) and every
    label-mode variant (with the varint index partner): the modes of the package's tables,
    raw and Zstd-wrapped.  The full index x label cross product is composed from these
    (sections are independent; run.py checks this)."""
    out = []
    e, d = _plada("auto", "auto")
    out.append(Contender("pladafmt auto", "pladafmt", e, d, "index_mode=label_mode='auto'",
                         {"kind": "auto"}))
    for m in pladafmt.INDEX_MODES:
        for z in ("", "+zstd"):
            e, d = _plada(m + z, LAB_PARTNER)
            out.append(Contender(f"pladafmt idx={m}{z}", "pladafmt-index", e, d,
                                 f"index_mode={m + z!r}, label_mode={LAB_PARTNER!r}",
                                 {"kind": "index", "mode": m + z}))
    for m in pladafmt.LABEL_MODES:
        for z in ("", "+zstd"):
            e, d = _plada(IDX_PARTNER, m + z)
            out.append(Contender(f"pladafmt lab={m}{z}", "pladafmt-label", e, d,
                                 f"index_mode={IDX_PARTNER!r}, label_mode={m + z!r}",
                                 {"kind": "label", "mode": m + z}))
    return out


# ------------------------------------------------ the container, read from SPEC.md 2.0
# Read here from the spec, not through pladafmt: the benchmark needs each stream's body
# length (the composed matrix and auto's rule are computed from them), and reading the
# bytes itself checks that the package writes the layout the spec states.
MAGIC = bytes.fromhex("89504C440D0A1A0A")
POOL_DIGEST_PRESENT = 0x01
STREAM_TYPES = {0x02: "index", 0x03: "label"}
SECTION_ZSTD = 0x01


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def stream_sections(data: bytes) -> dict:
    """{"index": (mode id, zstd, body bytes), "label": (...)} of a format 2.0 payload."""
    if data[:8] != MAGIC or data[8] != 2:
        raise ValueError(f"not a format 2.x payload: {data[:10].hex()}")
    flags = data[10]
    pos = 11
    for _ in range(4):                                  # features, N, k, C
        _, pos = _varint(data, pos)
    count, pos = _varint(data, pos)
    pos += (32 if flags & POOL_DIGEST_PRESENT else 0) + 8 + 4   # digest, checksum, CRC
    out = {}
    for _ in range(count):
        stype, mode, sflags = data[pos], data[pos + 1], data[pos + 2]
        length, pos = _varint(data, pos + 3)
        pos += 4 + length                               # section CRC, body
        if stype in STREAM_TYPES:
            out[STREAM_TYPES[stype]] = (mode, bool(sflags & SECTION_ZSTD), length)
    if pos != len(data) or set(out) != {"index", "label"}:
        raise ValueError(f"payload layout: {len(data)} B, sections end at {pos}, {out}")
    return out


# ---------------------------------------------------------------- auto's rule, restated
AUTO_MIN_GAIN = 0.005    # SPEC encoder rules: a costlier decode must save 0.5 % of its stream
PLAIN, CONTEXT = 0, 2    # decode classes


def auto_rule(sizes, min_gain: float = AUTO_MIN_GAIN) -> int:
    """Index of the candidate `auto` keeps, from (bytes, mode id, zstd, decode class) per
    candidate: the encoder rule of the spec (1.3 and 2.0 alike), restated here so that the
    benchmark checks the package's choice instead of reusing its code.

    Decode cost = decode class + 1 when Zstd-wrapped.  Start from the smallest candidate
    (ties: lower mode id, raw before Zstd); while the choice is not (1 - min_gain) x smaller
    than the smallest candidate of some cheaper cost, move to that candidate (cheapest cost
    first)."""
    cost = [s[3] + s[2] for s in sizes]
    order = sorted(range(len(sizes)), key=lambda j: sizes[j][:3])
    pick = order[0]
    while True:
        for c in sorted({cost[j] for j in order if cost[j] < cost[pick]}):
            best = next(j for j in order if cost[j] == c)
            if sizes[pick][0] > (1 - min_gain) * sizes[best][0]:
                pick = best
                break
        else:
            return pick


def decode_class(kind: str, mode: str) -> int:
    """The decode class of a 2.0 mode (SPEC.md's mode tables): ctx-rans is the context
    mode of both streams, every other mode is plain."""
    names = pladafmt.INDEX_MODES if kind == "index" else pladafmt.LABEL_MODES
    if mode not in names:
        raise KeyError(f"{kind} mode {mode!r}: not one of {names}")
    return CONTEXT if mode == "ctx-rans" else PLAIN
