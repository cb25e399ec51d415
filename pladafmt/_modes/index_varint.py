"""Index mode 1: `varint` (SPEC.md "Index mode 1: varint").

The k gaps g_0 = i_0, g_j = i_j - i_(j-1) - 1 as minimal LEB128 varints, nothing else:
the paper's delta-varint "Compact Idx". Each varint's limit is the room left in the pool,
so an index >= N is rejected as soon as its varint shows it (the varint rule).
"""
import numpy as np

from .._coders.leb128 import (ERR_NONMINIMAL, ERR_OVERFLOW, ERR_TRUNCATED, OK, leb128_size,
                              read_varint, read_varint_twin, write_varint,
                              write_varint_twin)
from .._errors import FormatError, TruncatedError
from .._jit import njit
from .contract import Mode

STREAM = "index_stream varint"
ERR_TRAILING = 10       # bytes left after k items


def raw_size_bound(pool_size, count):
    return count * leb128_size(max(pool_size - 1, 0))


@njit(cache=True, nogil=True)
def _encode_kernel(indices, out):
    pos = 0
    prev = -1
    for j in range(indices.shape[0]):
        pos = write_varint(out, pos, indices[j] - prev - 1)
        prev = indices[j]
    return pos


@njit(cache=True, nogil=True)
def _decode_kernel(buf, pool_size, out):
    pos = 0
    nxt = 0                              # smallest index the next item may take
    for j in range(out.shape[0]):
        g, pos, st = read_varint(buf, pos, pool_size - nxt)
        if st != OK:
            return st, pos
        out[j] = nxt + np.int64(g)
        nxt = out[j] + 1
    if pos != buf.shape[0]:
        return ERR_TRAILING, pos
    return OK, pos


def _error(status, pos, count):
    if status == ERR_TRUNCATED:
        return TruncatedError(f"{STREAM}: stream ends inside gap at byte {pos}: expected "
                              f"{count} items")
    if status == ERR_NONMINIMAL:
        return FormatError(f"{STREAM}: gap at byte {pos} is not a minimal LEB128 varint "
                           "(expected no trailing 0x00 group)")
    if status == ERR_OVERFLOW:
        return FormatError(f"{STREAM}: gap at byte {pos} runs past the end of the range: "
                           "expected every index < pool_size")
    return FormatError(f"{STREAM}: gap: expected the stream to end after {count} items, "
                       f"got trailing bytes from byte {pos}")


def encode(indices, pool_size):
    out = np.empty(raw_size_bound(pool_size, len(indices)), dtype=np.uint8)
    return out[:_encode_kernel(indices, out)].tobytes()


def decode(raw, pool_size, count):
    out = np.empty(count, dtype=np.int64)
    st, pos = _decode_kernel(raw, pool_size, out)
    if st != OK:
        raise _error(st, pos, count)
    return out


def encode_twin(indices, pool_size):
    out, prev = bytearray(), -1
    for i in indices:
        out += write_varint_twin(i - prev - 1)
        prev = i
    return bytes(out)


_KIND = {"truncated": ERR_TRUNCATED, "nonminimal": ERR_NONMINIMAL, "overflow": ERR_OVERFLOW}


def decode_twin(raw, pool_size, count):
    raw, pos, nxt, out = bytes(raw), 0, 0, []
    for _ in range(count):
        try:
            g, end = read_varint_twin(raw, pos, pool_size - nxt)
        except ValueError as e:
            raise _error(_KIND[str(e)], pos, count) from None
        pos = end
        out.append(nxt + g)
        nxt = out[-1] + 1
    if pos != len(raw):
        raise _error(ERR_TRAILING, pos, count)
    return out


MODE = Mode(1, "varint", "index", encode, decode, encode_twin, decode_twin, raw_size_bound)
