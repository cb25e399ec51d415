"""SPEC.md "Container": the 2.0 header and sections, CRC-32, the content checksum, the
class table, metadata, the pool manifest, and Zstd frames (RFC 8878) written by hand from
raw, RLE and reserved blocks, so that no vector depends on the installed libzstd."""
from __future__ import annotations

import json
import struct
import zlib

from . import index_modes, label_modes
from .bits import varint

MAGIC = b"\x89PLD\r\n\x1a\n"
CLASS_TABLE, INDEX_STREAM, LABEL_STREAM, METADATA = 0x01, 0x02, 0x03, 0x81
ANCILLARY = 0x80
ZSTD = 0x01
POOL_DIGEST_PRESENT = 0x01
VERSION = (2, 0)


def content_checksum(indices, labels) -> bytes:
    """crc32 of the indices as u64 LE, then of the labels as u32 LE (8 zero bytes at k = 0)."""
    ci = zlib.crc32(struct.pack(f"<{len(indices)}Q", *indices))
    cl = zlib.crc32(struct.pack(f"<{len(labels)}I", *labels))
    return struct.pack("<II", ci, cl)


def _field(value) -> bytes:
    """A header or section varint field: an int (written minimal) or its bytes as given."""
    return value if isinstance(value, bytes) else varint(value)


def header(*, N, k, C, sections, checksum, major=2, minor=0, flags=None, required=0,
           digest=None, crc=None, magic=MAGIC) -> bytes:
    """Magic | Version_Major | Version_Minor | Header_Flags | Required_Features | Pool_Size
    | Item_Count | Class_Count | Section_Count (varints) | [Pool_Digest] | Content_Checksum
    | Header_CRC32. A varint field given as bytes is written as is (non-minimal, too long)."""
    if flags is None:
        flags = POOL_DIGEST_PRESENT if digest is not None else 0
    head = (magic + bytes([major, minor, flags]) + _field(required) + _field(N) + _field(k)
            + _field(C) + _field(sections) + (digest or b"") + checksum)
    return head + struct.pack("<I", zlib.crc32(head) if crc is None else crc)


def section(stype, mode, flags, body, *, length=None, crc=None) -> bytes:
    """Section_Type | Section_Mode | Section_Flags | Section_Length (varint) |
    Section_CRC32 (of the header bytes before it, then the body) | body."""
    head = bytes([stype, mode, flags]) + _field(len(body) if length is None else length)
    return head + struct.pack("<I", zlib.crc32(body, zlib.crc32(head)) if crc is None
                              else crc) + body


def class_table(names) -> bytes:
    return b"".join(varint(len(b)) + b for b in (n.encode("utf-8") for n in names))


def meta_json(meta) -> bytes:
    """Canonical metadata: sorted keys, no whitespace, UTF-8 not escaped."""
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pool_manifest(names, content_digests) -> bytes:
    """"PLADA-POOL-MANIFEST" 00 01, N x {u32 name length, name bytes, 32-byte SHA-256},
    then Pool_Size (u64) = N. Names are taken byte for byte (no Unicode normalisation)."""
    out = bytearray(b"PLADA-POOL-MANIFEST\x00\x01")
    for name, d in zip(names, content_digests):
        raw = name.encode("utf-8")
        out += struct.pack("<I", len(raw)) + raw + d
    return bytes(out + struct.pack("<Q", len(names)))


# ---------------------------------------------------------------- Zstd frames (RFC 8878)

_M64 = (1 << 64) - 1
_P1, _P2, _P3 = 11400714785074694791, 14029467366897019727, 1609587929392839161
_P4, _P5 = 9650029242287828579, 2870177450012600261


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M64


def _round(acc, v):
    return _rotl((acc + v * _P2) & _M64, 31) * _P1 & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64, for the Zstd Content_Checksum (its low 32 bits)."""
    n, p = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M64, (seed + _P2) & _M64, seed, (seed - _P1) & _M64]
        while p + 32 <= n:
            v = [_round(v[j], struct.unpack_from("<Q", data, p + 8 * j)[0]) for j in range(4)]
            p += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M64
        for x in v:
            h = ((h ^ _round(0, x)) * _P1 + _P4) & _M64
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while p + 8 <= n:
        h = (_rotl(h ^ _round(0, struct.unpack_from("<Q", data, p)[0]), 27) * _P1 + _P4) & _M64
        p += 8
    if p + 4 <= n:
        h = (_rotl(h ^ (struct.unpack_from("<I", data, p)[0] * _P1 & _M64), 23) * _P2
             + _P3) & _M64
        p += 4
    while p < n:
        h = _rotl(h ^ (data[p] * _P5 & _M64), 11) * _P1 & _M64
        p += 1
    h = (h ^ (h >> 33)) * _P2 & _M64
    h = (h ^ (h >> 29)) * _P3 & _M64
    return h ^ (h >> 32)


def zstd_frame(data: bytes, *, blocks=None, fcs=None, fcs_bytes=None, window_log=None,
               no_fcs=False, dict_id=None, checksum=None, reserved_bit=False) -> bytes:
    """One Zstd frame whose content is `data`, as raw blocks unless `blocks` is given
    (a list of ("raw", bytes), ("rle", byte, n), ("compressed", bytes): block type 2 with
    the bytes given, or ("reserved", size): block type 3, always corrupt). Single-segment
    (no Window_Descriptor) unless window_log is given.
    fcs/fcs_bytes: the Frame_Content_Size written and its field size; no_fcs: no
    Frame_Content_Size (needs window_log); dict_id: a 1-byte Dictionary_ID; checksum:
    True for the XXH64 Content_Checksum, or an int written in its place; reserved_bit:
    Frame_Header_Descriptor bit 3."""
    fcs = len(data) if fcs is None else fcs
    if fcs_bytes is None and window_log is None:
        fcs_bytes = 1 if fcs < 256 else 2 if fcs < 65536 + 256 else 4 if fcs < 2**32 else 8
    elif fcs_bytes is None:     # no 1-byte size without Single_Segment; 2 bytes hold >= 256
        fcs_bytes = 4 if fcs < 2**32 else 8
    size_flag = 0 if no_fcs else {1: 0, 2: 1, 4: 2, 8: 3}[fcs_bytes]
    fhd = (size_flag << 6) | (0x20 if window_log is None else 0) | (reserved_bit << 3)
    fhd |= (checksum is not None) << 2 | (dict_id is not None)
    fh = bytes([fhd])
    if window_log is not None:
        fh += bytes([(window_log - 10) << 3])
    if dict_id is not None:
        fh += bytes([dict_id])
    if not no_fcs:
        fh += (fcs - 256 if fcs_bytes == 2 else fcs).to_bytes(fcs_bytes, "little")
    out = bytearray(b"\x28\xb5\x2f\xfd" + fh)
    blocks = [("raw", data)] if blocks is None else blocks
    for n, blk in enumerate(blocks):
        last = n == len(blocks) - 1
        if blk[0] == "raw":
            out += (last | (len(blk[1]) << 3)).to_bytes(3, "little") + blk[1]
        elif blk[0] == "rle":
            out += (last | (1 << 1) | (blk[2] << 3)).to_bytes(3, "little") + bytes([blk[1]])
        elif blk[0] == "compressed":
            out += (last | (2 << 1) | (len(blk[1]) << 3)).to_bytes(3, "little") + blk[1]
        else:
            out += (last | (3 << 1) | (blk[1] << 3)).to_bytes(3, "little") + bytes(blk[1])
    if checksum is not None:
        value = xxh64(data) & 0xFFFFFFFF if checksum is True else checksum
        out += struct.pack("<I", value)
    return bytes(out)


def wrap(raw: bytes, z):
    """(Section_Flags, body): z None = the raw body, "raw" = a Zstd frame of one raw
    block, or a callable raw -> body."""
    if z is None:
        return 0, raw
    return ZSTD, zstd_frame(raw) if z == "raw" else z(raw)


# ---------------------------------------------------------------- payloads

def build(idx, lab, N, C, *, imode=1, lmode=0, iz=None, lz=None, ibody=None, lbody=None,
          names=None, cz=None, meta=None, mz=None, digest=None, before=(), between=(),
          after=(), order=None, hdr=None, sec_over=None, checksum=None, trailing=b""):
    """A payload: class table (if names), index stream, label stream, metadata (if meta),
    in that order. ibody/lbody replace the raw stream bodies; before/between/after add
    packed sections (first, before the last known one, at the end); order permutes the
    packed sections; hdr overrides header() arguments; sec_over = {position among the
    known sections: section() keyword arguments}."""
    idx, lab = list(idx), list(lab)
    raw_i = index_modes.WRITERS[imode](idx, N) if ibody is None else ibody
    raw_l = label_modes.write(lmode, lab, C, idx) if lbody is None else lbody
    parts = []
    if names is not None:
        parts.append((CLASS_TABLE, 0, *wrap(class_table(names), cz)))
    parts.append((INDEX_STREAM, imode, *wrap(raw_i, iz)))
    parts.append((LABEL_STREAM, lmode, *wrap(raw_l, lz)))
    if meta is not None:
        parts.append((METADATA, 0, *wrap(meta if isinstance(meta, bytes) else meta_json(meta),
                                         mz)))
    packed = [section(*p, **(sec_over or {}).get(n, {})) for n, p in enumerate(parts)]
    packed = list(before) + packed[:-1] + list(between) + packed[-1:] + list(after)
    if order is not None:
        packed = [packed[i] for i in order]
    fields = dict(N=N, k=len(idx), C=C, sections=len(packed), digest=digest,
                  checksum=content_checksum(idx, lab) if checksum is None else checksum)
    fields.update(hdr or {})
    return header(**fields) + b"".join(packed) + trailing


def sections_at(data: bytes, digest: bool = False):
    """[(offset, header length, body length)] of a payload's sections (for cases that edit
    one field in place)."""
    pos = 11
    for _ in range(5):                 # Required_Features .. Section_Count
        while data[pos] & 0x80:
            pos += 1
        pos += 1
    pos += (32 if digest else 0) + 12
    out = []
    while pos < len(data):
        p = pos + 3
        length, shift = 0, 0
        while True:
            length |= (data[p] & 0x7F) << shift
            shift += 7
            p += 1
            if not data[p - 1] & 0x80:
                break
        out.append((pos, p + 4 - pos, length))
        pos = p + 4 + length
    return out
