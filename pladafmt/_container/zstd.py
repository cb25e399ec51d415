"""Zstd-wrapped section bodies (SPEC.md "Zstd-wrapped bodies"): no damaged frame is ever
accepted, even one that declares empty content.

python-zstandard allocates whatever Frame_Content_Size declares, so the declared size is
checked against the section's raw size bound and the budget *before* anything is
decompressed. Its one-shot `decompress()` returns b"" for a frame declaring 0 bytes
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


def zstd_unwrap(body, field, bound, budget_left):
    """The body's one frame, decompressed, after the checks of SPEC.md in their order."""
    body = bytes(body)
    if len(body) < 4 or body[:4] != ZSTD_MAGIC:
        raise FormatError(f"{field}: Zstd frame magic expected 28b52ffd, got "
                          f"{body[:4].hex() or 'an empty body'}")
    try:
        params = zstandard.get_frame_parameters(body)
    except zstandard.ZstdError as exc:
        raise FormatError(f"{field}: Zstd frame header expected valid and complete: {exc}") \
            from None
    size = params.content_size
    if size == zstandard.CONTENTSIZE_UNKNOWN:
        raise FormatError(f"{field}: Zstd Frame_Content_Size expected present, got absent")
    if params.dict_id != 0:
        raise FormatError(f"{field}: Zstd Dictionary_ID expected 0, got {params.dict_id}")
    if size > bound:
        raise FormatError(f"{field}: Zstd Frame_Content_Size expected <= {bound} (the raw "
                          f"size bound), got {size}")
    if size > budget_left:
        raise LimitError(f"{field}: Zstd Frame_Content_Size {size} expected <= the remaining "
                         f"decoded-memory budget {budget_left}")
    if params.window_size > MAX_ZSTD_WINDOW:
        raise LimitError(f"{field}: Zstd Window_Size expected <= {MAX_ZSTD_WINDOW}, "
                         f"got {params.window_size}")
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
