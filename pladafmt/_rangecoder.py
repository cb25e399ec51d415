"""Adaptive binary range coder shared by index mode 4 and label mode 4.

SPEC.md ("Binary range coder").  The LZMA range coder (32-bit range, carry propagation
through a cached byte, 5 flush bytes), with 15-bit probabilities that are the mean of a
fast (shift 4) and a slow (shift 7) estimate, so a model follows density changes quickly
yet costs little on stationary data.  All arithmetic is integer: encoder and decoder
agree bit for bit on every machine.

Probabilities are P(bit = 0) in units of 2^-15.  A context owns two entries of a flat
int64 array: probs[2c] (fast) and probs[2c + 1] (slow), both starting at 2^14.
A "bypass" bit is coded with the fixed probability 2^14 (no update).

The decoder keeps the invariant code < range, so a corrupt stream can only produce wrong
bits, never a state outside the coder's domain; the end-of-stream checks (first byte 0,
every byte consumed, final code 0) then reject most corruptions.
"""

from __future__ import annotations

import numpy as np

from ._errors import FormatError, TruncatedError
from ._jit import njit

PROB_BITS = 15
PROB_INIT = 1 << 14
FAST_SHIFT = 4
SLOW_SHIFT = 7
TOP = 1 << 24
HALF = 1 << 14       # bypass probability


def new_probs(contexts: int) -> np.ndarray:
    return np.full(2 * contexts, PROB_INIT, dtype=np.int64)


# ---------------------------------------------------------------------------------------
# pure-Python twin

class RangeEncoder:
    def __init__(self) -> None:
        self.low = 0            # up to 33 bits: bit 32 is a pending carry
        self.range = 0xFFFFFFFF
        self.cache = 0
        self.cache_size = 1
        self.out = bytearray()

    def _shift_low(self) -> None:
        if self.low < 0xFF000000 or self.low >= (1 << 32):
            carry = self.low >> 32
            temp = self.cache
            while True:                      # the cached byte, then any pending 0xFFs
                self.out.append((temp + carry) & 0xFF)
                temp = 0xFF
                self.cache_size -= 1
                if self.cache_size == 0:
                    break
            self.cache = (self.low >> 24) & 0xFF
        self.cache_size += 1
        self.low = (self.low & 0x00FFFFFF) << 8

    def _code(self, bit: int, p0: int) -> None:
        bound = (self.range >> PROB_BITS) * p0
        if bit == 0:
            self.range = bound
        else:
            self.low += bound
            self.range -= bound
        while self.range < TOP:
            self.range <<= 8
            self._shift_low()

    def encode_bit(self, probs, ctx: int, bit: int) -> None:
        self._code(bit, (probs[2 * ctx] + probs[2 * ctx + 1]) >> 1)
        update(probs, ctx, bit)

    def encode_bypass(self, bit: int) -> None:
        self._code(bit, HALF)

    def finish(self) -> bytes:
        for _ in range(5):
            self._shift_low()
        return bytes(self.out)


def update(probs, ctx: int, bit: int) -> None:
    one = 1 << PROB_BITS
    if bit == 0:
        probs[2 * ctx] += (one - probs[2 * ctx]) >> FAST_SHIFT
        probs[2 * ctx + 1] += (one - probs[2 * ctx + 1]) >> SLOW_SHIFT
    else:
        probs[2 * ctx] -= probs[2 * ctx] >> FAST_SHIFT
        probs[2 * ctx + 1] -= probs[2 * ctx + 1] >> SLOW_SHIFT


class RangeDecoder:
    def __init__(self, raw: bytes, stream: str) -> None:
        self.raw = bytes(raw)
        self.stream = stream
        if len(self.raw) < 5:
            raise TruncatedError(f"{stream}: stream ends inside the range coder's first 5 "
                                 f"bytes: needs 5 bytes, {len(self.raw)} left")
        if self.raw[0] != 0:
            raise FormatError(f"{stream}: first byte must be 0, got {self.raw[0]:#04x}")
        self.code = int.from_bytes(self.raw[1:5], "big")
        self.range = 0xFFFFFFFF
        if self.code == 0xFFFFFFFF:
            raise FormatError(f"{stream}: initial code must be < 0xffffffff, got "
                              f"0xffffffff")
        self.pos = 5
        self.overrun = 0        # bytes read past the end (as zeros); checked per symbol

    def _decode(self, p0: int) -> int:
        bound = (self.range >> PROB_BITS) * p0
        if self.code < bound:
            self.range = bound
            bit = 0
        else:
            self.code -= bound
            self.range -= bound
            bit = 1
        while self.range < TOP:
            self.range <<= 8
            if self.pos < len(self.raw):
                byte = self.raw[self.pos]
            else:
                byte = 0
                self.overrun += 1
            self.code = (self.code << 8) | byte
            self.pos += 1
        return bit

    def decode_bit(self, probs, ctx: int) -> int:
        bit = self._decode((probs[2 * ctx] + probs[2 * ctx + 1]) >> 1)
        update(probs, ctx, bit)
        return bit

    def decode_bypass(self) -> int:
        return self._decode(HALF)

    def check_overrun(self, what: str) -> None:
        if self.overrun:
            raise TruncatedError(f"{self.stream}: stream ends inside {what}: needs "
                                 f"{self.overrun} more bytes, 0 left")

    def finish(self) -> None:
        if self.pos != len(self.raw):
            raise FormatError(f"{self.stream}: unconsumed bytes: expected {self.pos} "
                              f"bytes, got {len(self.raw)}")
        if self.code != 0:
            raise FormatError(f"{self.stream}: final range-coder code must be 0, got "
                              f"{self.code:#x}")


# ---------------------------------------------------------------------------------------
# Numba helpers.  Encoder state es = [low, range, cache, cache_size, pos];
# decoder state ds = [code, range, pos, overrun].  Callers allocate out with room for
# every byte (each coded bit costs < 2 bytes; + 5 flush bytes).

@njit(cache=True, nogil=True)
def enc_init(es):
    es[0] = 0
    es[1] = 0xFFFFFFFF
    es[2] = 0
    es[3] = 1
    es[4] = 0


@njit(cache=True, nogil=True)
def _shift_low(es, out):
    low = es[0]
    if low < 0xFF000000 or low >= (np.int64(1) << 32):
        carry = low >> 32
        temp = es[2]
        pos = es[4]
        while True:
            out[pos] = (temp + carry) & 0xFF
            pos += 1
            temp = 0xFF
            es[3] -= 1
            if es[3] == 0:
                break
        es[4] = pos
        es[2] = (low >> 24) & 0xFF
    es[3] += 1
    es[0] = (low & 0x00FFFFFF) << 8


@njit(cache=True, nogil=True)
def enc_code(es, out, bit, p0):
    bound = (es[1] >> PROB_BITS) * p0
    if bit == 0:
        es[1] = bound
    else:
        es[0] += bound
        es[1] -= bound
    while es[1] < TOP:
        es[1] <<= 8
        _shift_low(es, out)


@njit(cache=True, nogil=True)
def upd(probs, ctx, bit):
    one = np.int64(1) << PROB_BITS
    if bit == 0:
        probs[2 * ctx] += (one - probs[2 * ctx]) >> FAST_SHIFT
        probs[2 * ctx + 1] += (one - probs[2 * ctx + 1]) >> SLOW_SHIFT
    else:
        probs[2 * ctx] -= probs[2 * ctx] >> FAST_SHIFT
        probs[2 * ctx + 1] -= probs[2 * ctx + 1] >> SLOW_SHIFT


@njit(cache=True, nogil=True)
def enc_bit(es, out, probs, ctx, bit):
    enc_code(es, out, bit, (probs[2 * ctx] + probs[2 * ctx + 1]) >> 1)
    upd(probs, ctx, bit)


@njit(cache=True, nogil=True)
def enc_finish(es, out):
    for _ in range(5):
        _shift_low(es, out)
    return es[4]


@njit(cache=True, nogil=True)
def dec_init(ds, raw):
    """0 ok, 1 fewer than 5 bytes, 2 first byte not 0, 3 initial code 0xffffffff."""
    n = raw.shape[0]
    if n < 5:
        return 1
    if raw[0] != 0:
        return 2
    code = 0
    for j in range(1, 5):
        code = (code << 8) | np.int64(raw[j])
    if code == 0xFFFFFFFF:
        return 3
    ds[0] = code
    ds[1] = 0xFFFFFFFF
    ds[2] = 5
    ds[3] = 0
    return 0


@njit(cache=True, nogil=True)
def dec_code(ds, raw, p0):
    code = ds[0]
    rng = ds[1]
    bound = (rng >> PROB_BITS) * p0
    if code < bound:
        rng = bound
        bit = 0
    else:
        code -= bound
        rng -= bound
        bit = 1
    while rng < TOP:
        rng <<= 8
        pos = ds[2]
        if pos < raw.shape[0]:
            code = (code << 8) | np.int64(raw[pos])
        else:
            code <<= 8
            ds[3] += 1
        ds[2] = pos + 1
    ds[0] = code
    ds[1] = rng
    return bit


@njit(cache=True, nogil=True)
def dec_bit(ds, raw, probs, ctx):
    bit = dec_code(ds, raw, (probs[2 * ctx] + probs[2 * ctx + 1]) >> 1)
    upd(probs, ctx, bit)
    return bit


def open_stream(raw, count: int, stream: str):
    """(raw as a uint8 array, decoder state) for a stream of `count` values; the state is
    None for count = 0, whose body MUST be empty. Raises on a bad range-coder start."""
    raw = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    if count == 0:
        if raw.shape[0]:
            raise FormatError(f"{stream}: trailing bytes: expected 0 bytes, got "
                              f"{raw.shape[0]}")
        return raw, None
    ds = np.zeros(4, dtype=np.int64)
    raise_init(dec_init(ds, raw), raw, stream)
    return raw, ds


def raise_init(status: int, raw: np.ndarray, stream: str) -> None:
    if status == 1:
        raise TruncatedError(f"{stream}: stream ends inside the range coder's first 5 "
                             f"bytes: needs 5 bytes, {raw.shape[0]} left")
    if status == 2:
        raise FormatError(f"{stream}: first byte must be 0, got {int(raw[0]):#04x}")
    if status == 3:
        raise FormatError(f"{stream}: initial code must be < 0xffffffff, got 0xffffffff")


def raise_finish(ds: np.ndarray, raw: np.ndarray, stream: str) -> None:
    if ds[2] != raw.shape[0]:
        raise FormatError(f"{stream}: unconsumed bytes: expected {int(ds[2])} bytes, got "
                          f"{raw.shape[0]}")
    if ds[0] != 0:
        raise FormatError(f"{stream}: final range-coder code must be 0, got "
                          f"{int(ds[0]):#x}")
