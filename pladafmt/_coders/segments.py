"""Segments of the ctx-rans streams (SPEC.md "Shared coders: segments"): Segment_Count,
the partition of the k items, and the directory's varints.

Segment s holds items floor(s k / S) ... floor((s + 1) k / S) - 1, so every segment holds
at least one item and an index and a label stream with the same S cut the items alike:
a decoder may decode index segment s, then label segment s, on one thread while other
threads take other segments.
"""
import numpy as np

from .._errors import FormatError, TruncatedError
from .gaps import bitlen
from .leb128 import read_varint_twin

SEGMENT_COUNT_MAX = 64        # Segment_Count is 1..64 and at most k
SEGMENT_ITEMS = 1 << 16       # encoder rule: about one segment per 2^16 items, ...
SEGMENT_COUNT_ENC_MAX = 16    # ... a power of two, at most 16
DIRECTORY_LIMIT = 1 << 63     # directory varints are < 2^63


def segment_count(count: int) -> int:
    """Encoder rule: 1 below 2^17 items, else the largest power of two <= count / 2^16,
    capped at 16 (two threads gain ~2x; more segments serve machines with more cores).
    Tests lower SEGMENT_ITEMS to get several segments from small inputs."""
    s = count // SEGMENT_ITEMS
    if s < 2:
        return 1
    return min(SEGMENT_COUNT_ENC_MAX, 1 << (bitlen(s) - 1))


def segment_starts(count: int, segments: int) -> np.ndarray:
    """First item of each segment, then count."""
    return np.array([s * count // segments for s in range(segments + 1)], dtype=np.int64)


def read_segment_count(raw, count: int, stream: str) -> int:
    if len(raw) < 1:
        raise TruncatedError(f"{stream}: stream ends inside Segment_Count: needs 1 byte, "
                             "0 left")
    s = int(raw[0])
    if not 1 <= s <= min(SEGMENT_COUNT_MAX, count):
        raise FormatError(f"{stream}: Segment_Count must be in [1, min(64, count = {count})], "
                          f"got {s}")
    return s


def read_varints(raw, pos: int, names, stream: str):
    """One directory varint per name from raw[pos:]; returns (values, pos)."""
    buf = bytes(raw[pos:pos + 10 * len(names)])     # enough to see a 10th byte (rejected)
    at = 0
    out = []
    for name in names:
        try:
            v, at = read_varint_twin(buf, at, DIRECTORY_LIMIT)
        except ValueError as e:
            if str(e) == "truncated":
                raise TruncatedError(f"{stream}: stream ends inside {name}") from None
            what = "minimal" if str(e) == "nonminimal" else "< 2^63"
            raise FormatError(f"{stream}: {name} must be a {what} varint") from None
        out.append(v)
    return out, pos + at


def check_data_length(raw, pos: int, need: int, stream: str) -> None:
    """The segment data (need bytes from pos) must fill the rest of the stream exactly."""
    have = len(raw) - pos
    if need > have:
        raise TruncatedError(f"{stream}: segment data needs {need} bytes, {have} left")
    if need < have:
        raise FormatError(f"{stream}: trailing bytes: expected {pos + need} bytes, got "
                          f"{len(raw)}")
