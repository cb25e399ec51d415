"""Index mode 4 "adaptive": context-modelled Elias-gamma gaps through the binary range coder.

SPEC.md ("Index mode 4: adaptive").  Each gap g is coded as v = g + 1 = 2^n + m: first n in
unary with adaptive bits whose context is (n of the previous gap, bit position), then the
n mantissa bits of m, most significant first: the top TOP_MANTISSA bits adaptive (context:
n and the bits so far), the rest bypass bits.

Why: in clustered selections (synset-ordered pools) short gaps follow short gaps and the one
long jump to the next cluster follows the last item of a cluster; conditioning the gap's
magnitude on the previous magnitude captures that, and the adaptive probabilities learn the
local density without any side information.  On uniform data it learns the geometric gap
distribution and stays close to the bound (rice is still the better uniform mode).
"""

from __future__ import annotations

import numpy as np

from . import _rangecoder as rc
from ._bitio import index_gaps
from ._errors import FormatError, TruncatedError
from ._jit import njit

MODE_ID = 4
NAME = "adaptive"
KIND = "index"
MIN_MINOR = 1
DECODE_CLASS = 2          # CONTEXT (_modes): "auto" weighs its decode cost (_codec.auto_choice)

N_MAX = 48           # v = g + 1 <= pool_size <= 2^48, so n = bitlen(v) - 1 <= 48
TOP_MANTISSA = 2     # adaptive mantissa bits per gap; the rest are bypass bits
UNARY_CTX = (N_MAX + 1) * N_MAX            # (n_prev, j) for j < N_MAX
MANT_CTX = (N_MAX + 1) * (1 << TOP_MANTISSA)  # (n, tree node)
STREAM = "adaptive index"


def _unary_ctx(n_prev: int, j: int) -> int:
    return n_prev * N_MAX + j


def _mant_ctx(n: int, node: int) -> int:
    return UNARY_CTX + n * (1 << TOP_MANTISSA) + node


# ---------------------------------------------------------------------------------------
# twin

def encode_twin(indices: list[int], pool_size: int) -> bytes:
    gaps = [int(v) for v in _gaps(np.asarray(indices, dtype=np.int64), pool_size)]
    if not gaps:
        return b""
    probs = [rc.PROB_INIT] * (2 * (UNARY_CTX + MANT_CTX))
    enc = rc.RangeEncoder()
    n_prev = 0
    for g in gaps:
        v = g + 1
        n = v.bit_length() - 1
        for j in range(N_MAX):                      # unary n, no terminator at N_MAX
            enc.encode_bit(probs, _unary_ctx(n_prev, j), 1 if n > j else 0)
            if n <= j:
                break
        node = 1
        for b in range(n - 1, -1, -1):              # mantissa, most significant first
            bit = (v >> b) & 1
            if n - 1 - b < TOP_MANTISSA:
                enc.encode_bit(probs, _mant_ctx(n, node), bit)
                node = 2 * node + bit
            else:
                enc.encode_bypass(bit)
        n_prev = n
    return enc.finish()


def decode_twin(raw: bytes, pool_size: int, count: int) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        if raw:
            raise FormatError(f"{STREAM}: trailing bytes: expected 0 bytes, got {len(raw)}")
        return []
    probs = [rc.PROB_INIT] * (2 * (UNARY_CTX + MANT_CTX))
    dec = rc.RangeDecoder(raw, STREAM)
    out = []
    prev = -1
    n_prev = 0
    for i in range(count):
        n = 0
        while n < N_MAX and dec.decode_bit(probs, _unary_ctx(n_prev, n)):
            n += 1
        v = 1
        node = 1
        for b in range(n - 1, -1, -1):
            if n - 1 - b < TOP_MANTISSA:
                bit = dec.decode_bit(probs, _mant_ctx(n, node))
                node = 2 * node + bit
            else:
                bit = dec.decode_bypass()
            v = 2 * v + bit
        dec.check_overrun(f"gap {i}")
        limit = pool_size - 2 - prev
        if v - 1 > limit:
            raise _range_error(i, limit, pool_size)
        prev += v
        out.append(prev)
        n_prev = n
    dec.finish()
    return out


def _range_error(i, limit, pool_size):
    return FormatError(f"{STREAM}: gap {i} must be <= {limit} so that index {i} stays "
                       f"below pool_size {pool_size}, got a larger gap")


def _gaps(indices: np.ndarray, pool_size: int) -> np.ndarray:
    return index_gaps(indices, pool_size, STREAM)


# ---------------------------------------------------------------------------------------
# kernels

@njit(cache=True, nogil=True)
def _encode_kernel(gaps, probs, es, out):
    rc.enc_init(es)
    n_prev = 0
    for i in range(gaps.shape[0]):
        v = gaps[i] + 1
        n = 0
        while (v >> (n + 1)) != 0:
            n += 1
        for j in range(N_MAX):
            rc.enc_bit(es, out, probs, n_prev * N_MAX + j, 1 if n > j else 0)
            if n <= j:
                break
        node = 1
        for b in range(n - 1, -1, -1):
            bit = (v >> b) & 1
            if n - 1 - b < TOP_MANTISSA:
                rc.enc_bit(es, out, probs, UNARY_CTX + n * (1 << TOP_MANTISSA) + node, bit)
                node = 2 * node + bit
            else:
                rc.enc_code(es, out, bit, rc.HALF)
        n_prev = n
    return rc.enc_finish(es, out)


@njit(cache=True, nogil=True)
def _decode_kernel(raw, pool_size, count, probs, ds, out, info):
    """0 ok, 1 truncated (info[0] = gap), 2 range (info = gap, limit)."""
    prev = -1
    n_prev = 0
    for i in range(count):
        n = 0
        while n < N_MAX and rc.dec_bit(ds, raw, probs, n_prev * N_MAX + n):
            n += 1
        v = 1
        node = 1
        for b in range(n - 1, -1, -1):
            if n - 1 - b < TOP_MANTISSA:
                bit = rc.dec_bit(ds, raw, probs, UNARY_CTX + n * (1 << TOP_MANTISSA) + node)
                node = 2 * node + bit
            else:
                bit = rc.dec_code(ds, raw, rc.HALF)
            v = 2 * v + bit
        if ds[3] != 0:
            info[0] = i
            info[1] = ds[3]
            return 1
        limit = pool_size - 2 - prev
        if v - 1 > limit:
            info[0] = i
            info[1] = limit
            return 2
        prev += v
        out[i] = prev
        n_prev = n
    return 0


def encode(indices: np.ndarray, pool_size: int) -> bytes:
    gaps = _gaps(indices, pool_size)
    if gaps.size == 0:
        return b""
    # every coded bit costs < 2 bytes; a gap codes at most 2 * 49 + 1 bits
    nbits = int((2 * np.floor(np.log2(gaps + 1.0)) + 2).sum()) + 2 * gaps.size
    out = np.zeros(2 * nbits + 16, dtype=np.uint8)
    es = np.zeros(5, dtype=np.int64)
    n = _encode_kernel(gaps, rc.new_probs(UNARY_CTX + MANT_CTX), es, out)
    return out[:n].tobytes()


def decode(raw, pool_size: int, count: int) -> np.ndarray:
    raw, ds = rc.open_stream(raw, count, STREAM)
    if ds is None:
        return np.empty(0, dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    info = np.zeros(2, dtype=np.int64)
    st = _decode_kernel(raw, pool_size, count, rc.new_probs(UNARY_CTX + MANT_CTX), ds,
                        out, info)
    if st == 1:
        raise TruncatedError(f"{STREAM}: stream ends inside gap {info[0]}: needs "
                             f"{info[1]} more bytes, 0 left")
    if st == 2:
        raise _range_error(int(info[0]), int(info[1]), pool_size)
    rc.raise_finish(ds, raw, STREAM)
    return out


def raw_size_bound(pool_size: int, count: int) -> int:
    """A coded bit costs at most 16 bits (probabilities are >= 2^-15 after rounding the
    range); a gap codes at most 49 unary + 48 mantissa bits; + 5 flush bytes."""
    if count == 0:
        return 0
    return 5 + 2 * 97 * count


def applicable(pool_size: int, count: int) -> bool:
    return 0 <= count <= pool_size
