"""Index gaps and the gap bucket (SPEC.md "Conventions: gaps"), defined once.

Index streams code g_0 = i_0, g_j = i_j - i_(j-1) - 1: a strictly increasing sequence is
the only thing a gap stream can express. bitlen(v) is the number of bits of v (bitlen(0)
= 0, bitlen(5) = 3). The gap bucket of an index step d = i_j - i_(j-1) >= 1 is
min(bitlen(d) - 1, 15): label ctx-rans picks its event table by it.
"""
import numpy as np

from .._jit import njit
from .bitio import clz

GAP_BUCKETS = 16


def bitlen(v) -> int:
    return int(v).bit_length()


@njit(cache=True, nogil=True, inline="always")
def bitlen_kernel(v):
    """bitlen(v) for 0 <= v < 2^63, in a kernel: 64 - lzcnt."""
    return 64 - np.int64(clz(np.uint64(v)))


def gaps(indices: np.ndarray) -> np.ndarray:
    """The gaps of sorted unique indices (the container's encode() has checked them)."""
    out = np.empty_like(indices)
    if indices.size:
        out[0] = indices[0]
        out[1:] = np.diff(indices) - 1
    return out


def gap_bucket(d: int) -> int:
    return min(bitlen(d) - 1, GAP_BUCKETS - 1)


@njit(cache=True, nogil=True, inline="always")
def gap_bucket_kernel(d):
    return min(bitlen_kernel(d) - 1, GAP_BUCKETS - 1)
