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
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC_VERSION = "1.1"

MAGIC = b"\x89PLD\r\n\x1a\n"
T_CLASS, T_INDEX, T_LABEL, T_META = 0x0001, 0x0002, 0x0003, 0x8001
ZSTD = 0x01
INDEX_NAMES = {0: "bitmap", 1: "varint", 2: "runs"}
LABEL_NAMES = {0: "packed", 1: "huffman", 2: "rle"}
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


def canonical(indices, labels) -> bytes:
    return struct.pack(f"<{len(indices)}Q", *indices) + struct.pack(f"<{len(labels)}I", *labels)


def classes_sha256(names) -> str:
    """SHA-256 over each class name as u32 LE byte length + UTF-8 bytes (long lists)."""
    h = hashlib.sha256()
    for name in names:
        b = name.encode("utf-8")
        h.update(struct.pack("<I", len(b)) + b)
    return h.hexdigest()


def content_checksum(indices, labels) -> bytes:
    return hashlib.sha256(canonical(indices, labels)).digest()[:8]


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


INDEX_WRITERS = {0: s_bitmap, 1: s_varint, 2: s_runs}
LABEL_WRITERS = {0: s_packed, 1: s_huffman, 2: s_rle}

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
    raw_l = LABEL_WRITERS[lmode](lab, C) if lbody is None else lbody
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
    exp["content_sha256"] = hashlib.sha256(canonical(idx, lab)).hexdigest()
    if len(exp["classes"]) > INLINE_MAX:
        exp["classes_sha256"] = classes_sha256(exp.pop("classes"))
    vec = dict(id=vid, data=data, spec=spec, result=result, comment=comment,
               flags=list(flags), expected=exp)
    if result == "acceptable":
        vec.update(error=error, rule=rule)
    VECTORS.append(vec)


def n(vid, comment, spec, rule, error, data, *, flags=(), alternatives=None):
    vec = dict(id=vid, data=data, spec=spec, rule=rule, result="invalid", error=error,
               comment=comment, flags=list(flags))
    if alternatives:
        vec["alternative_errors"] = list(alternatives)
    VECTORS.append(vec)


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
    y("y_spec_example", "the worked example of SPEC.md", "Worked example", IDX, LAB, 20, 3,
      names=NAMES, meta={"task": "demo"}, flags=["SpecExample"])

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
    n("n_trunc_zstd_frame", "Zstd frame cut inside its block (the reference reports the "
      "malformed inner frame as FormatError)", "Zstd-wrapped bodies", "zstd-truncated",
      "TruncatedError", base(iz=lambda raw: zstd_frame(raw)[:-2]),
      alternatives=["FormatError"])
    n("n_trailing_bytes", "one byte after the last section", "Sections", "trailing",
      "TrailingDataError", ok + b"\x00")
    # -- checksums
    n("n_checksum_section_crc", "index stream Section_CRC32 wrong", "Sections", "section-crc",
      "ChecksumError", base(sec_over={1: {"crc": 0}}))
    n("n_checksum_ancillary_crc", "unknown ancillary section with a wrong CRC (skipped "
      "sections are still checked)", "Sections", "section-crc", "ChecksumError",
      base(after=[section(0x8ABC, 0, 0, b"x", crc=0)]))
    n("n_checksum_content", "Content_Checksum of other content (labels swapped)",
      "Canonical content", "content-checksum", "ChecksumError",
      base(checksum=content_checksum(IDX, [0, 0, 2, 1, 2])))
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
    lens = {s: min(s + 1, 24) for s in range(25)}
    n("n_huffman_table_over_bound", "huffman: a legal 25-symbol table with k = 5 makes the "
      "raw body longer than the mode's raw size bound", "Zstd-wrapped bodies", "raw-bound",
      "FormatError", build([0, 1, 2, 3, 4], [0, 23, 24, 12, 24], 5, 25, lmode=1,
                           lbody=s_huffman([0, 23, 24, 12, 24], lengths=lens)))
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
    n("n_varint_nonminimal", "varint: gap 4 written as 84 00", "Conventions",
      "varint-minimal", "FormatError", base(ibody=bytes([2, 0, 0, 0x84, 0x00, 9])))
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
    n("n_huffman_count_with_k0", "huffman: Symbol_Count 1 with k = 0", "Mode 1: huffman",
      "huffman-symbol-count", "FormatError",
      build([], [], 20, 3, lmode=1, lbody=huffman_table({1: 0})))
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
                          ("i_metadata_bad_utf8", b'{"t":"\xff"}', "not UTF-8")):
        y(vid, f"metadata body is {why}: a decoder that reads metadata rejects it, one that "
          "skips metadata decodes the streams", "Metadata", IDX, LAB, 20, 3, names=NAMES,
          meta=raw, result="acceptable", error="FormatError", rule="metadata-object",
          flags=["Sections"])


# ================================================================ output


def collect() -> list[dict]:
    VECTORS.clear()
    define_valid()
    define_invalid()
    define_implementation_defined()
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
