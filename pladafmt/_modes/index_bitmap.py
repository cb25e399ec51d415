"""Index mode 0: `bitmap` (SPEC.md "Index mode 0: bitmap").

One bit per pool item, LSB-first: item i is kept when bit i mod 8 of byte floor(i / 8) is
1; bits past N are zero padding; the set bits number k. The body is exactly ceil(N/8)
bytes, and empty when k = 0 (the k = 0 rule). numpy's packbits/unpackbits with
bitorder="little" are already vectorised kernels, so this mode needs no Numba.
"""
import numpy as np

from .._errors import FormatError, TruncatedError
from .contract import Mode

STREAM = "index_stream bitmap"


def raw_size_bound(pool_size, count):
    return (pool_size + 7) // 8 if count else 0


def _check_length(n, pool_size, count):
    need = raw_size_bound(pool_size, count)
    if n != need:
        cls = TruncatedError if n < need else FormatError
        raise cls(f"{STREAM}: length expected {need} bytes (ceil(pool_size/8), 0 when "
                  f"item_count is 0), got {n}")


def encode(indices, pool_size):
    if not len(indices):
        return b""
    bits = np.zeros(pool_size, dtype=np.uint8)
    bits[indices] = 1
    return np.packbits(bits, bitorder="little").tobytes()


def decode(raw, pool_size, count):
    _check_length(raw.shape[0], pool_size, count)
    if count == 0:
        return np.empty(0, dtype=np.int64)
    tail = pool_size % 8
    if tail and raw[-1] >> tail:
        raise _padding_error(pool_size, int(raw[-1]) >> tail)
    bits = np.unpackbits(raw, bitorder="little")
    ones = int(bits.sum(dtype=np.int64))
    if ones != count:
        raise _count_error(count, ones)
    return np.flatnonzero(bits).astype(np.int64)


def _padding_error(pool_size, pad):
    return FormatError(f"{STREAM}: padding bits past pool_size {pool_size} expected 0, got "
                       f"0x{pad:02x}")


def _count_error(count, ones):
    return FormatError(f"{STREAM}: set bits expected item_count {count}, got {ones}")


def encode_twin(indices, pool_size):
    if not indices:
        return b""
    out = bytearray((pool_size + 7) // 8)
    for i in indices:
        out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def decode_twin(raw, pool_size, count):
    raw = bytes(raw)
    _check_length(len(raw), pool_size, count)
    if count == 0:
        return []
    if pool_size % 8 and raw[-1] >> (pool_size % 8):
        raise _padding_error(pool_size, raw[-1] >> (pool_size % 8))
    out = [i for i in range(pool_size) if raw[i // 8] >> (i % 8) & 1]
    if len(out) != count:
        raise _count_error(count, len(out))
    return out


MODE = Mode(0, "bitmap", "index", encode, decode, encode_twin, decode_twin, raw_size_bound,
            # unpacking: one byte per pool item
            decode_memory=lambda size, count, raw_len: size if count else 0)
