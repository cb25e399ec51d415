"""Shared helpers for codec tests: edit payload fields and keep the checksums right."""
import struct
import zlib

import numpy as np

from pladafmt._codec import HEADER, SECTION


def as_raw(b: bytes) -> np.ndarray:
    """A stream body as the decoders get it: a read-only uint8 view (so a kernel that
    writes to its input fails)."""
    a = np.frombuffer(bytes(b), dtype=np.uint8)
    a.flags.writeable = False   # the container hands out read-only views
    return a

HEADER_FIELDS = ("magic", "major", "minor", "flags", "reserved", "required", "optional",
                 "pool_size", "count", "class_count", "section_count", "digest",
                 "checksum", "crc")


def header(data):
    return dict(zip(HEADER_FIELDS, HEADER.unpack_from(data, 0)))


def patch_header(data, fix_crc=True, **changes):
    """Change header fields; recompute Header_CRC32 unless fix_crc is False."""
    h = header(data)
    h.update(changes)
    head = HEADER.pack(*(h[f] for f in HEADER_FIELDS))[:-4]
    crc = zlib.crc32(head) if fix_crc else h["crc"]
    return head + struct.pack("<I", crc) + bytes(data[HEADER.size:])


def sections(data):
    """[(offset, type, mode, flags, length, crc, body)] for each section."""
    out, pos = [], HEADER.size
    while pos < len(data):
        t, m, f, ln, crc = SECTION.unpack_from(data, pos)
        out.append((pos, t, m, f, ln, crc, bytes(data[pos + 12:pos + 12 + ln])))
        pos += 12 + ln
    return out


def make_section(stype, mode, flags, body):
    head = struct.pack("<HBBI", stype, mode, flags, len(body))
    return head + struct.pack("<I", zlib.crc32(body, zlib.crc32(head))) + body


def rebuild(data, section_list, **header_changes):
    """Payload with the given raw sections (bytes each) and header changes (CRC fixed)."""
    header_changes.setdefault("section_count", len(section_list))
    head = patch_header(data[:HEADER.size], **header_changes)
    return head + b"".join(section_list)


def replace_section(data, i, *, stype=None, mode=None, flags=None, body=None):
    """Re-make section i with changed fields; lengths and CRCs stay consistent."""
    secs = sections(data)
    raw = []
    for j, (_, t, m, f, _, _, b) in enumerate(secs):
        if j == i:
            t = t if stype is None else stype
            m = m if mode is None else mode
            f = f if flags is None else flags
            b = b if body is None else body
        raw.append(make_section(t, m, f, b))
    return rebuild(data, raw)


def section_index(data, stype):
    return [s[1] for s in sections(data)].index(stype)
