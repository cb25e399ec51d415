"""Zstd wrapping of a section body, with the checks python-zstandard does not make.

python-zstandard allocates whatever Frame_Content_Size declares, even when
max_output_size is smaller (FORMAT-NOTES 5.1), so the declared size is checked
against the bound the header implies *before* anything is decompressed.
"""
import zstandard

from ._constants import MAX_ZSTD_WINDOW
from ._errors import FormatError, LimitError, TruncatedError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def zstd_wrap(raw, level):
    # A new compressor per call: python-zstandard compressors are not thread-safe, and
    # encode() may be called from many threads. Content size on (decoders require it);
    # no Zstd checksum (the section CRC covers the stored bytes). Levels <= 19 keep the
    # window <= 8 MiB (MAX_ZSTD_WINDOW).
    c = zstandard.ZstdCompressor(level=level, write_content_size=True, write_checksum=False)
    return c.compress(raw)


def zstd_unwrap(body, field, bound, budget):
    """Decompress exactly one frame; its declared size must be <= bound and <= budget."""
    body = bytes(body)
    if body[:4] != ZSTD_MAGIC:
        raise FormatError(f"{field}: Zstd frame magic expected 28b52ffd, got {body[:4].hex()}")
    try:
        params = zstandard.get_frame_parameters(body)
    except zstandard.ZstdError as exc:
        msg = str(exc)
        cls = (TruncatedError if "not enough data" in msg
               else LimitError if "too much memory" in msg else FormatError)
        raise cls(f"{field}: Zstd frame header invalid: {msg}") from exc
    size = params.content_size
    if size == zstandard.CONTENTSIZE_UNKNOWN:
        raise FormatError(f"{field}: Zstd Frame_Content_Size expected present, got absent")
    if size > bound:
        raise LimitError(f"{field}: Zstd Frame_Content_Size expected <= {bound} "
                         f"(the mode's bound for this header), got {size}")
    if size > budget:
        raise LimitError(f"{field}: Zstd Frame_Content_Size {size} exceeds the remaining "
                         f"max_decoded_bytes budget {budget}")
    if params.window_size > MAX_ZSTD_WINDOW:
        raise LimitError(f"{field}: Zstd Window_Size expected <= {MAX_ZSTD_WINDOW}, "
                         f"got {params.window_size}")
    try:
        d = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW)
        out = d.decompress(body, max_output_size=max(size, 1), allow_extra_data=False)
    except zstandard.ZstdError as exc:
        msg = str(exc)
        cls = TruncatedError if ("did not decompress full frame" in msg or "incomplete" in msg
                                 or "truncated" in msg) else FormatError
        raise cls(f"{field}: Zstd frame invalid: {msg}") from exc
    if len(out) != size:
        raise FormatError(f"{field}: Zstd output expected Frame_Content_Size {size} bytes, "
                          f"got {len(out)}")
    return out
