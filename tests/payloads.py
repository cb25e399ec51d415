"""Build, take apart and edit format 2.0 payloads in tests, independently of pladafmt.

Written from FORMAT2.md / SPEC.md, not from pladafmt's code: the tests use it to make
payloads that break exactly one rule, and the container fuzz uses it as the layout an
independent reader sees. CRC-32 is zlib's (pladafmt may use isal's: same function).

    Header  = Magic (8) | Version_Major | Version_Minor | Header_Flags (u8 each)
            | Required_Features | Pool_Size | Item_Count | Class_Count | Section_Count (varints)
            | Pool_Digest (32, only when flag bit 0) | Content_Checksum (8) | Header_CRC32 (u32)
    Section = Section_Type | Section_Mode | Section_Flags (u8 each) | Section_Length (varint)
            | Section_CRC32 (u32: CRC-32 of the section's header bytes before it, then the body)
            | Section_Body
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field, replace

MAGIC = b"\x89PLD\r\n\x1a\n"
CLASS_TABLE, INDEX_STREAM, LABEL_STREAM, METADATA = 0x01, 0x02, 0x03, 0x81
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def read_varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    """(value, next position) of a well-formed varint, or None (ends, > 9 bytes, etc.)."""
    value = 0
    for i in range(9):
        if pos + i >= len(buf):
            return None
        b = buf[pos + i]
        value |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            return value, pos + i + 1
    return None


@dataclass
class Head:
    """Header fields; a field given as bytes in `raw` is written as those bytes instead
    (e.g. a non-minimal varint)."""
    pool_size: int
    item_count: int
    class_count: int
    section_count: int
    content_checksum: bytes = bytes(8)
    pool_digest: bytes | None = None
    version_major: int = 2
    version_minor: int = 0
    header_flags: int | None = None      # None: POOL_DIGEST_PRESENT iff pool_digest
    required_features: int = 0
    raw: dict = field(default_factory=dict)

    def body(self) -> bytes:
        """Every header byte before Header_CRC32."""
        flags = self.header_flags if self.header_flags is not None else \
            (1 if self.pool_digest is not None else 0)
        out = bytearray(MAGIC + bytes((self.version_major, self.version_minor, flags)))
        for name in ("required_features", "pool_size", "item_count", "class_count",
                     "section_count"):
            out += self.raw.get(name, varint(getattr(self, name)))
        out += (self.pool_digest or b"") + self.content_checksum
        return bytes(out)

    def bytes(self) -> bytes:
        b = self.body()
        return b + struct.pack("<I", zlib.crc32(b))


@dataclass
class Sec:
    section_type: int
    section_mode: int
    section_flags: int
    body: bytes
    length: int | None = None     # a Section_Length other than len(body)
    bad_crc: bool = False

    def bytes(self) -> bytes:
        head = bytes((self.section_type, self.section_mode, self.section_flags)) + \
            varint(len(self.body) if self.length is None else self.length)
        crc = zlib.crc32(self.body, zlib.crc32(head)) ^ (1 if self.bad_crc else 0)
        return head + struct.pack("<I", crc) + self.body


@dataclass
class Parsed:
    head: Head
    sections: list[Sec]

    def bytes(self, fix_count: bool = True) -> bytes:
        head = replace(self.head, section_count=len(self.sections)) if fix_count else self.head
        return head.bytes() + b"".join(s.bytes() for s in self.sections)

    def section(self, section_type: int) -> Sec:
        return next(s for s in self.sections if s.section_type == section_type)


def parse_head(data: bytes) -> tuple[Head, int]:
    """The header's fields and the offset after Header_CRC32 (asserts on what it cannot
    read)."""
    assert data[:8] == MAGIC
    major, minor, flags = data[8:11]
    pos, vals = 11, []
    for _ in range(5):
        v, pos = read_varint(data, pos)
        vals.append(v)
    digest = None
    if flags & 1:
        digest, pos = data[pos:pos + 32], pos + 32
    checksum, pos = data[pos:pos + 8], pos + 8 + 4
    return Head(vals[1], vals[2], vals[3], vals[4], checksum, digest, major, minor, flags,
                vals[0]), pos


def parse(data: bytes) -> Parsed:
    """A valid payload's fields (asserts on what it cannot read)."""
    head, pos = parse_head(data)
    secs = []
    for _ in range(head.section_count):
        t, m, f = data[pos:pos + 3]
        length, pos = read_varint(data, pos + 3)
        pos += 4
        secs.append(Sec(t, m, f, data[pos:pos + length]))
        pos += length
    assert pos == len(data)
    return Parsed(head, secs)


def header_end(data: bytes) -> int | None:
    """Offset just after Header_CRC32, or None when the header cannot be walked."""
    if len(data) < 11:
        return None
    pos = 11
    for _ in range(5):
        r = read_varint(data, pos)
        if r is None:
            return None
        pos = r[1]
    pos += (32 if data[10] & 1 else 0) + 8 + 4
    return pos if pos <= len(data) else None


def reseal(data: bytes) -> bytes:
    """Recompute Header_CRC32 and the CRC of every section the length fields lead to (what
    anyone can do: CRC-32 is not a MAC), so that an edit reaches the checks behind them."""
    buf = bytearray(data)
    end = header_end(buf)
    if end is None:
        return bytes(buf)
    struct.pack_into("<I", buf, end - 4, zlib.crc32(bytes(buf[:end - 4])))
    pos = end
    while pos + 3 < len(buf):
        r = read_varint(buf, pos + 3)
        if r is None:
            break
        length, crc_at = r
        body = crc_at + 4
        if body + length > len(buf):
            break
        crc = zlib.crc32(bytes(buf[body:body + length]), zlib.crc32(bytes(buf[pos:crc_at])))
        struct.pack_into("<I", buf, crc_at, crc)
        pos = body + length
    return bytes(buf)


def zstd_frame(content_size: int | None, payload: bytes = b"\0", *, window_log: int = 20,
               single_segment: bool = False, checksum: bool = False, dict_id: int = 0,
               block: str = "raw") -> bytes:
    """Hand-build one Zstd frame (RFC 8878 3.1.1) that *declares* `content_size`; its
    content is `payload` in one raw or RLE block, so the declaration may lie."""
    fhd, fcs = 0, b""
    if content_size is not None:
        if single_segment and content_size < 256:
            fcs = struct.pack("<B", content_size)
        elif 256 <= content_size < 65536 + 256:
            fhd |= 1 << 6
            fcs = struct.pack("<H", content_size - 256)
        elif content_size < 1 << 32:
            fhd |= 2 << 6
            fcs = struct.pack("<I", content_size)
        else:
            fhd |= 3 << 6
            fcs = struct.pack("<Q", content_size)
    did = b""
    if dict_id:
        fhd |= 1
        did = struct.pack("<B", dict_id)
    if single_segment:
        fhd |= 1 << 5
        wd = b""
    else:
        wd = bytes([(window_log - 10) << 3])
    if checksum:
        fhd |= 1 << 2
    if block == "raw":
        blk = ((len(payload) << 3) | 1).to_bytes(3, "little") + payload
    elif block == "rle":
        blk = ((len(payload) << 3) | (1 << 1) | 1).to_bytes(3, "little") + payload[:1]
    elif block == "reserved":            # Block_Type 3 is reserved: a corrupt block
        blk = ((len(payload) << 3) | (3 << 1) | 1).to_bytes(3, "little") + payload
    else:
        raise ValueError(block)
    tail = b"\0\0\0\0" if checksum else b""
    return ZSTD_MAGIC + bytes([fhd]) + wd + did + fcs + blk + tail


def zstd_compress(raw: bytes, level: int = 3, checksum: bool = False) -> bytes:
    import zstandard
    return zstandard.ZstdCompressor(level=level, write_content_size=True,
                                    write_checksum=checksum).compress(raw)
