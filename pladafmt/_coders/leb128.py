"""LEB128 varints (SPEC.md "Conventions": minimal unsigned LEB128, at most 9 bytes): kernels
for the hot loops and a readable twin.

A value is written 7 bits at a time, least significant group first; bit 7 of each
byte says "another byte follows". Canonical (minimal) form: the last byte of a
varint is non-zero unless the varint is the single byte 0x00.
"""
import numpy as np

from .._jit import njit

# Status codes returned by kernels (kernels never raise: memory allocated inside a
# raising njit function leaks, and the caller wants to build a message anyway).
OK = 0
ERR_TRUNCATED = 1
ERR_NONMINIMAL = 2
ERR_OVERFLOW = 3        # value too large for the field (does not fit, or runs past N)


def leb128_size(value):
    """Bytes needed for `value` (>= 0) as a minimal LEB128 varint."""
    n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


@njit(cache=True, nogil=True)
def read_varint(buf, pos, limit):
    """Read one varint at buf[pos]; returns (value, new_pos, status); on an error the
    position returned is the varint's first byte.

    `limit` bounds the value (exclusive). The checks, in this order (the varint rule of
    the spec; read_varint_twin is the same loop):
    0. limit <= 0 (no value fits, e.g. the previous index was N - 1) -> ERR_OVERFLOW,
       before any byte is read;
    then byte by byte:
    1. no byte left -> ERR_TRUNCATED;
    2. a 10th byte (the 9th had its continuation bit) -> ERR_OVERFLOW, as no value < 2^63
       needs one;
    3. the value so far >= limit -> ERR_OVERFLOW (so a long chain of 0x80 bytes costs at
       most ~7 bytes of work before it is rejected);
    4. a last byte (no continuation bit) of 0x00 in a varint of 2+ bytes -> ERR_NONMINIMAL.
    """
    n = buf.shape[0]
    value = np.uint64(0)
    shift = 0
    start = pos
    if limit <= 0:                  # no value fits (e.g. a run already ended at N - 1)
        return np.uint64(0), start, ERR_OVERFLOW
    while True:
        if pos >= n:
            return np.uint64(0), start, ERR_TRUNCATED
        b = np.uint64(buf[pos])
        pos += 1
        if shift > 56:              # a 10th group cannot fit any value < 2^63
            return np.uint64(0), start, ERR_OVERFLOW
        value |= (b & np.uint64(0x7F)) << np.uint64(shift)
        if value >= np.uint64(limit):
            return np.uint64(0), start, ERR_OVERFLOW
        if b < np.uint64(0x80):
            if b == np.uint64(0) and pos - start > 1:
                return np.uint64(0), start, ERR_NONMINIMAL
            return value, pos, OK
        shift += 7


@njit(cache=True, nogil=True)
def write_varint(out, pos, value):
    """Write `value` as a varint into out[pos:]; returns the new position."""
    v = np.uint64(value)
    while v >= np.uint64(0x80):
        out[pos] = np.uint8((v & np.uint64(0x7F)) | np.uint64(0x80))
        v >>= np.uint64(7)
        pos += 1
    out[pos] = np.uint8(v)
    return pos + 1


# ---- readable twins --------------------------------------------------------------

def write_varint_twin(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint_twin(buf, pos, limit):
    """read_varint as plain Python: returns (value, new_pos); raises ValueError(kind) with
    kind in {'truncated', 'nonminimal', 'overflow'}, the checks in read_varint's order."""
    value = 0
    start = pos
    if limit <= 0:
        raise ValueError("overflow")
    while True:
        if pos >= len(buf):
            raise ValueError("truncated")
        b = buf[pos]
        pos += 1
        if pos - start > 9:
            raise ValueError("overflow")
        value |= (b & 0x7F) << (7 * (pos - start - 1))
        if value >= limit:
            raise ValueError("overflow")
        if b < 0x80:
            if b == 0 and pos - start > 1:
                raise ValueError("nonminimal")
            return value, pos
