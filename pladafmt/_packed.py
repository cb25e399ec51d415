"""Label mode PACKED (0): each label in w = ceil(log2 C) bits, LSB-first.

C = 1 gives w = 0 and an empty stream.
"""
import numpy as np

from ._bitio import peek64, words_of
from ._errors import FormatError
from ._jit import njit


def label_width(class_count):
    return (class_count - 1).bit_length()


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
    check).  Writes out (int64) and out32 (the Content_Checksum form); returns the index
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


def packed_encode(labels, class_count):
    w = label_width(class_count)
    out = np.empty(packed_raw_size_bound(class_count, len(labels)), dtype=np.uint8)
    if w == 0:
        return b""
    n = _pack_kernel(np.ascontiguousarray(labels, dtype=np.int64), w, out)
    return out[:n].tobytes()


def packed_decode(raw, class_count, count):
    return packed_decode_with_u32(raw, class_count, count)[0]


def packed_decode_with_u32(raw, class_count, count):
    """(labels as int64, the same as uint32) or the error."""
    w = label_width(class_count)
    need = packed_raw_size_bound(class_count, count)
    if raw.shape[0] != need:
        raise FormatError(f"label_stream packed: length expected {need} bytes "
                          f"(ceil(item_count*{w}/8)), got {raw.shape[0]}")
    if w == 0:
        return np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.uint32)
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    # one slack word: a peek at bit p reads words[p // 64 + 1]
    bad = _unpack_kernel(words_of(raw, 1), w, class_count, out, out32)
    if bad >= 0:
        raise FormatError(f"label_stream packed: label {bad} expected < class_count "
                          f"{class_count}")
    used = count * w
    if used % 8 and raw[-1] >> (used % 8):
        raise FormatError("label_stream packed: padding bits expected 0, got "
                          f"0x{int(raw[-1]) >> (used % 8):02x}")
    return out, out32


def packed_raw_size_bound(class_count, count):
    return (count * label_width(class_count) + 7) // 8


def packed_encode_twin(labels, class_count):
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


def packed_decode_twin(raw, class_count, count):
    w = label_width(class_count)
    raw = bytes(raw)
    if len(raw) != (count * w + 7) // 8:
        raise ValueError("length")
    total = int.from_bytes(raw, "little")
    out = [(total >> (j * w)) & ((1 << w) - 1) for j in range(count)]
    if any(v >= class_count for v in out):
        raise ValueError("label")
    if total >> (count * w):
        raise ValueError("padding")
    return out
