"""The 2.0 header (SPEC.md "Header"): write it, and read it through check-order steps 1-5.

    Magic (8) | Version_Major (u8) | Version_Minor (u8) | Header_Flags (u8)
    | Required_Features | Pool_Size | Item_Count | Class_Count | Section_Count  (varints)
    | Pool_Digest (32, only when POOL_DIGEST_PRESENT) | Content_Checksum (8)
    | Header_CRC32 (u32 LE, CRC-32 of every header byte before it)

Syntax (steps 1-3) and values (step 5) are separate passes on purpose: a header whose
bytes are damaged is reported as damaged (Header_CRC32, step 4) before any of its values
is judged, and the values are judged in field order, one error per rejection.
"""
import struct
from dataclasses import dataclass

from .. import _constants as K
from .._coders.leb128 import read_varint_twin, write_varint_twin
from .._crc import crc32
from .._errors import (ChecksumError, FormatError, LimitError, TruncatedError,
                       UnsupportedVersionError, truncated_error, varint_error)

_VARINT_FIELDS = ("required_features", "pool_size", "item_count", "class_count",
                  "section_count")
_SPEC_NAMES = {"required_features": "Required_Features", "pool_size": "Pool_Size",
               "item_count": "Item_Count", "class_count": "Class_Count",
               "section_count": "Section_Count"}


@dataclass(frozen=True)
class Header:
    """The header's fields (SPEC.md names in snake_case); `size` is its length in bytes."""
    version_major: int
    version_minor: int
    header_flags: int
    required_features: int
    pool_size: int
    item_count: int
    class_count: int
    section_count: int
    pool_digest: bytes | None
    content_checksum: bytes
    header_crc32: int
    size: int


def write_header(pool_size, item_count, class_count, section_count, pool_digest,
                 content_checksum):
    """The header bytes of a 2.0 payload (Version_Minor 0, Required_Features 0)."""
    flags = K.POOL_DIGEST_PRESENT if pool_digest is not None else 0
    head = (K.MAGIC + bytes((K.FORMAT_MAJOR, K.FORMAT_MINOR, flags))
            + b"".join(write_varint_twin(v) for v in
                       (0, pool_size, item_count, class_count, section_count))
            + (pool_digest or b"") + content_checksum)
    return head + struct.pack("<I", crc32(head))


def _take(buf, pos, n, field):
    if len(buf) - pos < n:
        raise truncated_error(field, n, len(buf) - pos)
    return bytes(buf[pos:pos + n]), pos + n


def read_header(buf, max_pool_size=K.DEFAULT_MAX_POOL_SIZE, max_items=K.DEFAULT_MAX_ITEMS):
    """Steps 1-5 of the check order (codec.py's docstring); returns the Header."""
    n = len(buf)
    # 1. Magic: a short input that is a true prefix is truncated, anything else is not ours
    got = bytes(buf[:K.MAGIC_SIZE])
    if got != K.MAGIC[:len(got)]:
        raise FormatError(f"Magic: expected {K.MAGIC.hex()}, got {got.hex()}")
    if n < K.MAGIC_SIZE:
        raise truncated_error("Magic", K.MAGIC_SIZE, n)
    # 2. Version_Major, before anything whose layout depends on it
    pos = K.MAGIC_SIZE
    (major,), pos = _take(buf, pos, 1, "Version_Major")
    if major != K.FORMAT_MAJOR:
        raise UnsupportedVersionError(f"Version_Major: expected {K.FORMAT_MAJOR}, got {major}"
                                      + (" (format 1.x payloads are not read by 2.x)"
                                         if major == 1 else ""))
    # 3. syntax, field by field
    (minor,), pos = _take(buf, pos, 1, "Version_Minor")
    (flags,), pos = _take(buf, pos, 1, "Header_Flags")
    values = {}
    for name in _VARINT_FIELDS:
        try:
            values[name], pos = read_varint_twin(buf, pos, K.VARINT_LIMIT)
        except ValueError as exc:
            raise varint_error(str(exc), _SPEC_NAMES[name], K.VARINT_LIMIT) from None
    digest = None
    if flags & K.POOL_DIGEST_PRESENT:
        digest, pos = _take(buf, pos, K.POOL_DIGEST_SIZE, "Pool_Digest")
    checksum, pos = _take(buf, pos, K.CONTENT_CHECKSUM_SIZE, "Content_Checksum")
    stored, pos = _take(buf, pos, K.CRC32_SIZE, "Header_CRC32")
    # 4. Header_CRC32
    stored = struct.unpack("<I", stored)[0]
    actual = crc32(buf[:pos - K.CRC32_SIZE])
    if stored != actual:
        raise ChecksumError(f"Header_CRC32: expected {stored:08x} (stored), got {actual:08x}")
    head = Header(major, minor, flags, values["required_features"], values["pool_size"],
                  values["item_count"], values["class_count"], values["section_count"],
                  digest, checksum, stored, pos)
    check_values(head, max_pool_size, max_items)
    return head


def check_values(head, max_pool_size, max_items):
    """5. Header values, in field order."""
    if head.header_flags & ~K.HEADER_FLAGS_KNOWN:
        raise FormatError(f"Header_Flags: reserved bits expected 0, got "
                          f"0x{head.header_flags & ~K.HEADER_FLAGS_KNOWN:02x}")
    if head.required_features & ~K.REQUIRED_FEATURES_KNOWN:
        raise UnsupportedVersionError(
            f"Required_Features: expected 0 (format 2.0 defines no feature), got "
            f"0x{head.required_features:x}")
    n = head.pool_size
    if n == 0:
        raise FormatError("Pool_Size: expected >= 1, got 0")
    if n > K.MAX_POOL_SIZE or n > max_pool_size:
        raise LimitError(f"Pool_Size: expected <= {min(K.MAX_POOL_SIZE, max_pool_size)}, "
                         f"got {n}")
    if head.item_count > n:
        raise FormatError(f"Item_Count: expected <= Pool_Size {n}, got {head.item_count}")
    if head.item_count > max_items:
        raise LimitError(f"Item_Count: expected <= max_items {max_items}, "
                         f"got {head.item_count}")
    if head.class_count == 0:
        raise FormatError("Class_Count: expected >= 1, got 0")
    if head.class_count > K.MAX_CLASS_COUNT:
        raise LimitError(f"Class_Count: expected <= {K.MAX_CLASS_COUNT}, "
                         f"got {head.class_count}")
    if head.section_count < K.MIN_SECTIONS:
        raise FormatError(f"Section_Count: expected >= {K.MIN_SECTIONS} (the index and label "
                          f"streams), got {head.section_count}")
    if head.section_count > K.MAX_SECTIONS:
        raise LimitError(f"Section_Count: expected <= {K.MAX_SECTIONS}, "
                         f"got {head.section_count}")
