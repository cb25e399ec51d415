"""SPEC.md "Conventions": varints, LSB-first bitstreams, unary and Rice codes, gaps."""
from __future__ import annotations


def varint(v: int) -> bytes:
    """Minimal unsigned LEB128."""
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        if not v:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def varint_long(v: int, length: int) -> bytes:
    """v as a `length`-byte LEB128 (non-minimal when longer than varint(v): zero groups
    with the continuation bit, then a last 0x00 byte)."""
    groups = [(v >> (7 * i)) & 0x7F for i in range(length)]
    assert v >> (7 * length) == 0, (v, length)
    return bytes(g | 0x80 for g in groups[:-1]) + bytes([groups[-1]])


def bits_to_bytes(bits: list[int]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        out[i // 8] |= b << (i % 8)
    return bytes(out)


class Bits:
    """An LSB-first bitstream: a w-bit field is written least significant bit first."""

    def __init__(self):
        self.bits: list[int] = []

    def field(self, v: int, w: int) -> "Bits":
        assert 0 <= v < (1 << w) or (w == 0 and v == 0), (v, w)
        self.bits += [(v >> b) & 1 for b in range(w)]
        return self

    def unary(self, q: int) -> "Bits":
        self.bits += [0] * q + [1]
        return self

    def rice(self, v: int, r: int) -> "Bits":
        return self.unary(v >> r).field(v & ((1 << r) - 1), r)

    def bytes(self, pad: int = 0) -> bytes:
        """The stream with zero padding; `pad` sets padding bits (bit 0 = the first one)."""
        out = bytearray(bits_to_bytes(self.bits))
        if pad:
            used = len(self.bits) % 8
            assert used and pad < 1 << (8 - used), "no such padding bits"
            out[-1] |= pad << used
        return bytes(out)


def gaps_of(indices):
    """g_0 = i_0, g_j = i_j - i_(j-1) - 1."""
    prev = -1
    for i in indices:
        yield i - prev - 1
        prev = i


def rice_bits(values, r: int) -> int:
    return sum((v >> r) + 1 + r for v in values)


def best_rice(values) -> int:
    """The Rice parameter 0..31 with the fewest bits, smaller on ties."""
    cost = [rice_bits(values, r) for r in range(32)]
    return cost.index(min(cost))
