"""Index mode BITMAP (0): one bit per pool item, LSB-first, ceil(N/8) bytes.

Bit i of the pool is bit (i mod 8) of byte floor(i / 8). Padding bits past N are zero.
numpy's unpackbits/packbits with bitorder="little" are already vectorised kernels,
so this mode needs no Numba.
"""
import numpy as np

from ._errors import FormatError


def bitmap_encode(indices, pool_size):
    bits = np.zeros(pool_size, dtype=np.uint8)
    bits[np.asarray(indices, dtype=np.int64)] = 1
    return np.packbits(bits, bitorder="little").tobytes()


def bitmap_decode(raw, pool_size, count):
    need = bitmap_raw_size_bound(pool_size, count)
    if raw.shape[0] != need:
        raise FormatError(f"index_stream bitmap: length expected {need} bytes "
                          f"(ceil(pool_size/8)), got {raw.shape[0]}")
    tail = pool_size % 8
    if tail and raw[-1] >> tail:
        raise FormatError(f"index_stream bitmap: padding bits past pool_size {pool_size} "
                          f"expected 0, got 0x{int(raw[-1]) >> tail:02x}")
    ones = int(np.unpackbits(raw, bitorder="little").sum(dtype=np.int64)) if need else 0
    if ones != count:
        raise FormatError(f"index_stream bitmap: set bits expected item_count {count}, "
                          f"got {ones}")
    return np.flatnonzero(np.unpackbits(raw, bitorder="little")).astype(np.int64)


def bitmap_raw_size_bound(pool_size, count):
    return (pool_size + 7) // 8


def bitmap_encode_twin(indices, pool_size):
    out = bytearray((pool_size + 7) // 8)
    for i in indices:
        out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def bitmap_decode_twin(raw, pool_size, count):
    raw = bytes(raw)
    if len(raw) != (pool_size + 7) // 8:
        raise ValueError("length")
    out = [i for i in range(len(raw) * 8) if raw[i // 8] >> (i % 8) & 1]
    if out and out[-1] >= pool_size:
        raise ValueError("padding")
    if len(out) != count:
        raise ValueError("count")
    return out
