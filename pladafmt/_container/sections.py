"""Sections (SPEC.md "Sections"): write them, read their headers (check-order step 8) and
check the layout (step 9).

    Section_Type (u8) | Section_Mode (u8) | Section_Flags (u8) | Section_Length (varint)
    | Section_CRC32 (u32 LE: CRC-32 of this section's header bytes before it, then the body)
    | Section_Body (Section_Length bytes)
"""
import struct
from dataclasses import dataclass

from .. import _constants as K
from .._coders.leb128 import read_varint_twin, write_varint_twin
from .._crc import crc32
from .._errors import (ChecksumError, FormatError, TrailingDataError, TruncatedError,
                       UnsupportedVersionError, truncated_error, varint_error)


@dataclass(frozen=True)
class Section:
    """One section's header fields; `offset` is where its body starts in the payload,
    `header_size` the length of its header."""
    section_type: int
    section_mode: int
    section_flags: int
    section_length: int
    section_crc32: int
    offset: int
    header_size: int

    @property
    def name(self):
        return K.SECTION_NAMES.get(self.section_type, f"ancillary 0x{self.section_type:02x}")


def write_section(section_type, section_mode, section_flags, body):
    head = bytes((section_type, section_mode, section_flags)) + write_varint_twin(len(body))
    return head + struct.pack("<I", crc32(body, crc32(head))) + body


def read_sections(buf, pos, section_count):
    """8. Section headers, every section in order, then nothing after the last one."""
    n = len(buf)
    out = []
    for i in range(section_count):
        start = pos
        field = f"section {i}"
        fixed, pos = _take(buf, pos, 3, f"{field} Section_Type, Section_Mode, Section_Flags")
        try:
            length, pos = read_varint_twin(buf, pos, K.VARINT_LIMIT)
        except ValueError as exc:
            raise varint_error(str(exc), f"{field} Section_Length", K.VARINT_LIMIT) from None
        stored, pos = _take(buf, pos, K.CRC32_SIZE, f"{field} Section_CRC32")
        if length > n - pos:
            raise TruncatedError(f"{field} Section_Length: expected <= {n - pos} (the bytes "
                                 f"left), got {length}")
        stored = struct.unpack("<I", stored)[0]
        actual = crc32(buf[pos:pos + length], crc32(buf[start:pos - K.CRC32_SIZE]))
        if stored != actual:
            raise ChecksumError(f"{field} Section_CRC32: expected {stored:08x} (stored), "
                                f"got {actual:08x}")
        out.append(Section(fixed[0], fixed[1], fixed[2], length, stored, pos, pos - start))
        pos += length
    if pos != n:
        raise TrailingDataError(f"payload: expected to end after {section_count} sections at "
                                f"byte {pos}, got {n - pos} more bytes")
    return out


def _take(buf, pos, size, field):
    if len(buf) - pos < size:
        raise truncated_error(field, size, len(buf) - pos)
    return bytes(buf[pos:pos + size]), pos + size


def check_layout(sections, stream_tables):
    """9. Layout, every section in order; returns {section_type: Section} of the known
    types. `stream_tables` maps a stream's section type to its mode table."""
    seen = {}
    last_critical = 0
    for i, s in enumerate(sections):
        t = s.section_type
        field = f"section {i} ({s.name})"
        if not t & K.ANCILLARY:
            if t not in K.SECTION_NAMES:
                raise UnsupportedVersionError(f"{field} Section_Type: expected a known critical "
                                              f"type, got 0x{t:02x}")
            if t <= last_critical:
                raise FormatError(f"{field} Section_Type: critical sections expected in "
                                  f"increasing type order, got 0x{t:02x} after "
                                  f"0x{last_critical:02x}")
            last_critical = t
        elif t in seen:
            raise FormatError(f"{field}: expected at most once, got a second one")
        if t not in K.SECTION_NAMES:
            continue                        # an unknown ancillary section: not read
        if s.section_flags & ~K.SECTION_FLAGS_KNOWN:
            raise FormatError(f"{field} Section_Flags: reserved bits expected 0, got "
                              f"0x{s.section_flags & ~K.SECTION_FLAGS_KNOWN:02x}")
        table = stream_tables.get(t)
        if table is None and s.section_mode != 0:
            raise FormatError(f"{field} Section_Mode: expected 0, got {s.section_mode}")
        if table is not None and s.section_mode not in table:
            raise UnsupportedVersionError(f"{field} Section_Mode: expected a known mode "
                                          f"{sorted(table)}, got {s.section_mode}")
        seen[t] = s
    for t in stream_tables:
        if t not in seen:
            raise FormatError(f"sections: {K.SECTION_NAMES[t]} expected exactly once, got none")
    return seen
