"""The LZMA binary range coder, for the confidence weight stream (weighting.py) only.

Format 1.x coded its adaptive modes with this coder; format 2.0 dropped those modes (one
entropy-coder family, static rANS, remains in the codec: SPEC.md "Version changes"), so
the coder now lives here, beside the one prototype that still uses it. Integer arithmetic
throughout: encoder and decoder agree bit for bit on every machine. 32-bit range, carry
propagation through a cached byte, 5 flush bytes; probabilities are P(bit = 0) in units of
2^-15, supplied by the caller's model (weighting._Model).
"""

from __future__ import annotations

PROB_BITS = 15
TOP = 1 << 24


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

    def code(self, bit: int, p0: int) -> None:
        bound = (self.range >> PROB_BITS) * p0
        if bit == 0:
            self.range = bound
        else:
            self.low += bound
            self.range -= bound
        while self.range < TOP:
            self.range <<= 8
            self._shift_low()

    def finish(self) -> bytes:
        for _ in range(5):
            self._shift_low()
        return bytes(self.out)


class RangeDecoder:
    """Reads zeros past the end of the body and counts them in `overrun`; the caller checks
    it per symbol (truncation), then `pos == len(body)` and `code == 0` at the end."""

    def __init__(self, raw: bytes) -> None:
        self.raw = bytes(raw)           # the caller has checked len >= 5 and raw[0] == 0
        self.code = int.from_bytes(self.raw[1:5], "big")
        self.range = 0xFFFFFFFF
        self.pos = 5
        self.overrun = 0

    def decode(self, p0: int) -> int:
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
