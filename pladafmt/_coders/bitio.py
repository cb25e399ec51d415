"""Bit fields (SPEC.md "Conventions": bit order, unary, Rice, padding): the readable
LSB-first BitWriter/BitReader of the twins, and the kernels' 64-bit peek.

Bits are packed LSB-first (the first bit is bit 0 of byte 0), a w-bit field is written
least-significant bit first, unary(q) is q zero bits then one 1 bit, the final byte's
padding bits are zero and a decoder checks that, and a stream is consumed exactly.  The
Numba kernels inline the same logic with a 64-bit bit buffer or peek64 (end of file).
"""

from __future__ import annotations

import numpy as np

from .._errors import FormatError, TruncatedError
from .._jit import intrinsic, njit


class BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0    # pending bits, LSB = next bit to place in the output
        self.nacc = 0

    def write(self, value: int, width: int) -> None:
        """Append a width-bit field, least-significant bit first."""
        assert 0 <= value < (1 << width) or (width == 0 and value == 0)
        self.acc |= value << self.nacc
        self.nacc += width
        while self.nacc >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.nacc -= 8

    def write_unary(self, q: int) -> None:
        """q zero bits, then a 1 bit."""
        while q > 32:           # keep the accumulator small for huge quotients
            self.write(0, 32)
            q -= 32
        self.write(1 << q, q + 1)

    def write_rice(self, value: int, r: int) -> None:
        """Rice code: unary(value >> r), then the low r bits of value."""
        self.write_unary(value >> r)
        self.write(value & ((1 << r) - 1), r)

    def getvalue(self) -> bytes:
        """The stream, with the last byte's padding bits zero."""
        if self.nacc:
            return bytes(self.out) + bytes([self.acc])
        return bytes(self.out)


class BitReader:
    def __init__(self, raw: bytes, stream: str) -> None:
        self.raw = bytes(raw)
        self.bitpos = 0
        self.nbits = 8 * len(self.raw)
        self.stream = stream  # named in error messages

    def read(self, width: int, field: str) -> int:
        if self.bitpos + width > self.nbits:
            raise TruncatedError(
                f"{self.stream}: stream ends inside {field}: needs {width} bits, "
                f"{self.nbits - self.bitpos} left")
        value = 0
        for j in range(width):
            p = self.bitpos + j
            value |= ((self.raw[p >> 3] >> (p & 7)) & 1) << j
        self.bitpos += width
        return value

    def read_unary(self, field: str, limit: int) -> int:
        """Count zero bits up to the next 1 bit.

        limit: largest valid quotient.  Every counted bit consumes input, so the loop is
        linear in the stream size; the caller's limit check happens once, after the run.
        """
        q = 0
        while True:
            if self.bitpos >= self.nbits:
                raise TruncatedError(
                    f"{self.stream}: stream ends inside {field}: unary run of {q} zero "
                    f"bits has no terminating 1 bit")
            p = self.bitpos
            self.bitpos += 1
            if (self.raw[p >> 3] >> (p & 7)) & 1:
                return q
            q += 1

    def finish(self) -> None:
        """The stream must end in the byte holding the last bit; padding bits zero."""
        used_bytes = (self.bitpos + 7) >> 3
        if used_bytes != len(self.raw):
            raise FormatError(
                f"{self.stream}: trailing bytes: expected {used_bytes} bytes, got "
                f"{len(self.raw)}")
        if self.bitpos & 7:
            pad = self.raw[-1] >> (self.bitpos & 7)
            if pad:
                raise FormatError(
                    f"{self.stream}: padding bits must be zero, got {pad:#x}")


# ---- Numba fast paths: any 64 stream bits with two aligned loads ------------------------

def words_of(stream: np.ndarray, slack_words: int) -> np.ndarray:
    """The bitstream as little-endian uint64 words followed by `slack_words` zero words,
    for peek64: a kernel that peeks at bit p reads words[p // 64 + 1], so the slack is
    what it may read past the end before it notices (each kernel states its own)."""
    buf = np.zeros(((stream.shape[0] + 7) // 8 + slack_words) * 8, dtype=np.uint8)
    buf[:stream.shape[0]] = stream
    return buf.view("<u8")


@njit(cache=True, nogil=True, inline="always")
def peek64(words, p):
    """The 64 stream bits starting at bit p (zeros past the end)."""
    # unsigned index arithmetic: no negative-index wraparound code in the hot loops
    wi = np.uint64(p) >> np.uint64(6)
    sh = np.uint64(p) & np.uint64(63)
    # (w1 << (63 - sh)) << 1 is w1 << (64 - sh) without the undefined shift by 64
    return (words[wi] >> sh) | ((words[wi + np.uint64(1)] << (np.uint64(63) - sh))
                                << np.uint64(1))


# ---- count leading/trailing zeros: one instruction compiled ----------------------------

def _ctz_python(v):
    """Trailing zeros of a uint64; 64 for zero, like tzcnt."""
    v = int(v)
    return (v & -v).bit_length() - 1 if v else 64


def _clz_python(v):
    """Leading zeros of a uint64; 64 for zero, like lzcnt."""
    return 64 - int(v).bit_length()


# LLVM's cttz/ctlz (numba asks for cttz(0) = 64) are one instruction each (tzcnt, lzcnt);
# they exist only compiled, so kernels run as Python use the *_python forms (_jit.intrinsic).
ctz = intrinsic("trailing_zeros", _ctz_python)
clz = intrinsic("leading_zeros", _clz_python)
