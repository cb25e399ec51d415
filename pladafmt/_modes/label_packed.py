"""Label mode 0: `packed` (SPEC.md "Label mode 0: packed").

Each label in w = bitlen(C - 1) bits, LSB-first, then zero padding: exactly
ceil(k w / 8) bytes (C = 1 gives w = 0 and an empty body).
"""
import numpy as np

from .._coders.bitio import peek64, words_of
from .._errors import FormatError, TruncatedError
from .._jit import njit
from .contract import Mode

STREAM = "label_stream packed"


def label_width(class_count):
    return (class_count - 1).bit_length()


def raw_size_bound(class_count, count):
    return (count * label_width(class_count) + 7) // 8


@njit(cache=True, nogil=True)
def _pack_kernel(values, width, out):
    acc = np.uint64(0)
    nbits = 0
    pos = 0
    for j in range(values.shape[0]):
        acc |= np.uint64(values[j]) << np.uint64(nbits)
        nbits += width
        while nbits >= 8:
            out[pos] = np.uint8(acc & np.uint64(0xFF))
            acc >>= np.uint64(8)
            nbits -= 8
            pos += 1
    if nbits > 0:
        out[pos] = np.uint8(acc & np.uint64(0xFF))
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def _unpack_kernel(words, width, limit, out, out32):
    """Label j is the w bits at bit j * w: one 64-bit peek each, so the labels do not
    depend on each other (no bit buffer to refill, no branch on the data but the range
    check). Writes out (int64) and out32 (the Content_Checksum form); returns the index
    of the first label >= limit, or -1."""
    mask = (np.uint64(1) << np.uint64(width)) - np.uint64(1)
    lim = np.uint64(limit)
    for j in range(out.shape[0]):
        v = peek64(words, np.uint64(j) * np.uint64(width)) & mask
        if v >= lim:
            return j
        out[j] = np.int64(v)
        out32[j] = np.uint32(v)
    return -1


def encode(labels, class_count):
    w = label_width(class_count)
    if w == 0:
        return b""
    out = np.empty(raw_size_bound(class_count, len(labels)), dtype=np.uint8)
    return out[:_pack_kernel(labels, w, out)].tobytes()


def _check_length(n, class_count, count):
    need = raw_size_bound(class_count, count)
    if n != need:
        cls = TruncatedError if n < need else FormatError
        raise cls(f"{STREAM}: length expected {need} bytes "
                  f"(ceil(item_count*{label_width(class_count)}/8)), got {n}")


def _label_error(j, class_count):
    return FormatError(f"{STREAM}: label {j} expected < class_count {class_count}")


def _padding_error(pad):
    return FormatError(f"{STREAM}: padding bits expected 0, got 0x{pad:02x}")


def decode_u32(raw, class_count, count):
    """(labels as int64, the same as uint32: the Content_Checksum form) in one pass."""
    _check_length(raw.shape[0], class_count, count)
    w = label_width(class_count)
    if w == 0:
        return np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.uint32)
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    # one slack word: a peek at bit p reads words[p // 64 + 1]
    bad = _unpack_kernel(words_of(raw, 1), w, class_count, out, out32)
    if bad >= 0:
        raise _label_error(bad, class_count)
    used = count * w
    if used % 8 and raw[-1] >> (used % 8):
        raise _padding_error(int(raw[-1]) >> (used % 8))
    return out, out32


def decode(raw, class_count, count):
    return decode_u32(raw, class_count, count)[0]


def encode_twin(labels, class_count):
    w, acc, nbits, out = label_width(class_count), 0, 0, bytearray()
    for v in labels:
        acc |= v << nbits
        nbits += w
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc)
    return bytes(out)


def decode_twin(raw, class_count, count):
    raw = bytes(raw)
    _check_length(len(raw), class_count, count)
    w = label_width(class_count)
    total = int.from_bytes(raw, "little")
    out = []
    for j in range(count):
        v = (total >> (j * w)) & ((1 << w) - 1)
        if v >= class_count:
            raise _label_error(j, class_count)
        out.append(v)
    if total >> (count * w):
        raise _padding_error(total >> (count * w))
    return out


MODE = Mode(0, "packed", "label", encode, decode, encode_twin, decode_twin, raw_size_bound,
            decode_memory=lambda size, count, raw_len: 4 * count,   # the uint32 labels
            decode_u32=decode_u32)
