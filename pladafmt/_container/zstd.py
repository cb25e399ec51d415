"""Zstd-wrapped section bodies (SPEC.md "Zstd-wrapped bodies"): no damaged frame is ever
accepted, even one that declares empty content.

python-zstandard's one-shot decoder allocates whatever Frame_Content_Size declares, so the
declared size is checked against the section's raw size bound and the budget *before*
anything is decompressed. Its one-shot `decompress()` returns b"" for a frame declaring 0 bytes
without reading the frame's blocks (a corrupt block, a missing checksum or trailing bytes
would pass), so every frame goes through a streaming decompressor, which decodes every
block, and must end exactly at the end of the body.
"""
import zstandard

from .._constants import MAX_ZSTD_WINDOW
from .._errors import FormatError, LimitError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def zstd_wrap(raw, level):
    """One Zstd frame: content size written, no dictionary, no Zstd checksum (the section
    CRC covers the stored bytes); levels <= 19 keep the window <= 8 MiB. A new compressor
    per call: python-zstandard compressors are not thread-safe."""
    c = zstandard.ZstdCompressor(level=level, write_content_size=True, write_checksum=False,
                                 write_dict_id=False)
    return c.compress(raw)


def frame_header(body, field):
    """(Frame_Content_Size or None, Window_Size, Dictionary_ID) from a Zstd frame header
    (RFC 8878 3.1.1.1), read here rather than by python-zstandard, which refuses some valid
    headers (a window over 2 GiB) with the same error as a damaged one."""
    if len(body) < 5:
        raise FormatError(f"{field}: Zstd frame header expected complete, got "
                          f"{len(body)} bytes")
    fhd = body[4]
    fcs_flag, single_segment, dict_flag = fhd >> 6, (fhd >> 5) & 1, fhd & 3
    if fhd & 0x08:
        raise FormatError(f"{field}: Zstd frame header reserved bit expected 0, got 1")
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    did_size = (0, 1, 2, 4)[dict_flag]
    pos = 5
    window = None
    if not single_segment:
        if len(body) < pos + 1:
            raise FormatError(f"{field}: Zstd frame header expected complete, got "
                              f"{len(body)} bytes")
        exponent, mantissa = body[pos] >> 3, body[pos] & 7
        base = 1 << (10 + exponent)
        window = base + (base >> 3) * mantissa
        pos += 1
    if len(body) < pos + did_size + fcs_size:
        raise FormatError(f"{field}: Zstd frame header expected complete, got "
                          f"{len(body)} bytes")
    dict_id = int.from_bytes(body[pos:pos + did_size], "little")
    pos += did_size
    fcs = int.from_bytes(body[pos:pos + fcs_size], "little") if fcs_size else None
    if fcs_size == 2:
        fcs += 256
    return fcs, (fcs if single_segment else window), dict_id


def zstd_unwrap(body, field, bound, budget_left):
    """The body's one frame, decompressed, after the checks of SPEC.md in their order."""
    body = bytes(body)
    if len(body) < 4 or body[:4] != ZSTD_MAGIC:
        raise FormatError(f"{field}: Zstd frame magic expected 28b52ffd, got "
                          f"{body[:4].hex() or 'an empty body'}")
    size, window, dict_id = frame_header(body, field)
    if size is None:
        raise FormatError(f"{field}: Zstd Frame_Content_Size expected present, got absent")
    if dict_id != 0:
        raise FormatError(f"{field}: Zstd Dictionary_ID expected 0, got {dict_id}")
    if size > bound:
        raise FormatError(f"{field}: Zstd Frame_Content_Size expected <= {bound} (the raw "
                          f"size bound), got {size}")
    if size > budget_left:
        raise LimitError(f"{field}: Zstd Frame_Content_Size {size} expected <= the remaining "
                         f"max_decoded_bytes budget {budget_left}")
    if window > MAX_ZSTD_WINDOW:
        raise LimitError(f"{field}: Zstd Window_Size expected <= {MAX_ZSTD_WINDOW}, "
                         f"got {window}")
    d = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW).decompressobj(
        read_across_frames=False)
    try:
        out = d.decompress(body)
    except zstandard.ZstdError as exc:
        raise FormatError(f"{field}: Zstd frame expected valid: {exc}") from None
    if not d.eof:
        raise FormatError(f"{field}: Zstd frame expected complete, got a frame that ends "
                          f"early")
    if d.unused_data:
        raise FormatError(f"{field}: Zstd body expected to end with its frame, got "
                          f"{len(d.unused_data)} more bytes")
    if len(out) != size:
        raise FormatError(f"{field}: Zstd output expected Frame_Content_Size {size} bytes, "
                          f"got {len(out)}")
    return out
