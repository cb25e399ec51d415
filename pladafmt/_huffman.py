"""Label mode HUFFMAN (1): canonical Huffman, code lengths in the stream.

Body = Symbol_Count (varint) | Symbol_Count x (Symbol_Gap varint, Code_Length u8) |
bitstream. Codes are canonical (sorted by length, then symbol) and each code is
written most-significant bit first into the LSB-first bitstream, as in Deflate.
"""
import heapq

import numpy as np
from numba import njit

from ._errors import FormatError, TruncatedError
from ._leb128 import OK, leb128_size, read_varint, read_varint_twin, write_varint_twin

MAX_HUFFMAN_LENGTH = 24


# ---- code construction (encoder only; plain Python: at most C symbols) ---------------

def _huffman_lengths(counts):
    """Code lengths for symbols with count > 0 (deterministic ties: lower ids first)."""
    present = [s for s in range(len(counts)) if counts[s] > 0]
    if len(present) == 1:
        return {present[0]: 0}
    heap = [(int(counts[s]), i, (s,)) for i, s in enumerate(present)]
    heapq.heapify(heap)
    depth = dict.fromkeys(present, 0)
    serial = len(heap)
    while len(heap) > 1:
        w1, _, a = heapq.heappop(heap)
        w2, _, b = heapq.heappop(heap)
        for s in a + b:
            depth[s] += 1
        heapq.heappush(heap, (w1 + w2, serial, a + b))
        serial += 1
    return depth


def code_lengths(labels, class_count):
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=class_count)
    while True:
        lengths = _huffman_lengths(counts)
        if max(lengths.values(), default=0) <= MAX_HUFFMAN_LENGTH:
            return lengths
        counts = np.where(counts > 0, (counts >> 1) | 1, 0)   # flatten, keep presence


def canonical_codes(lengths):
    """{symbol: length} -> {symbol: code} in canonical order (length, then symbol)."""
    codes, code, prev_len = {}, 0, 0
    for s, ln in sorted(lengths.items(), key=lambda t: (t[1], t[0])):
        code <<= ln - prev_len
        codes[s] = code
        code += 1
        prev_len = ln
    return codes


def _reverse_bits(code, length):
    return int(f"{code:0{length}b}"[::-1], 2) if length else 0


# ---- kernels -----------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _encode_kernel(labels, rev_code, code_len, out):
    acc = np.uint64(0)
    nbits = 0
    pos = 0
    for j in range(labels.shape[0]):
        s = labels[j]
        acc |= np.uint64(rev_code[s]) << np.uint64(nbits)
        nbits += code_len[s]
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
def _decode_kernel(buf, pos, first_code, count, offset, symbols, out):
    """Bit-serial canonical decode. Returns (status, pos, bits_in_last_byte):
    0 ok, 1 truncated, 2 invalid code."""
    n = buf.shape[0]
    cur = np.uint64(0)
    nbits = 0
    for j in range(out.shape[0]):
        code = 0
        length = 0
        while True:
            if nbits == 0:
                if pos >= n:
                    return 1, pos, 0
                cur = np.uint64(buf[pos])
                pos += 1
                nbits = 8
            code = (code << 1) | np.int64(cur & np.uint64(1))
            cur >>= np.uint64(1)
            nbits -= 1
            length += 1
            d = code - first_code[length]
            if d >= 0 and d < count[length]:
                out[j] = symbols[offset[length] + d]
                break
            if length >= first_code.shape[0] - 1:
                return 2, pos, 0
    if nbits > 0 and cur != np.uint64(0):
        return 3, pos, nbits
    return 0, pos, nbits


# ---- table -------------------------------------------------------------------------

def _write_table(lengths):
    out = bytearray(write_varint_twin(len(lengths)))
    prev = -1
    for s in sorted(lengths):
        out += write_varint_twin(s - prev - 1)
        out.append(lengths[s])
        prev = s
    return out


def _read_table(raw, class_count, count):
    """Parse and validate the code-length table; returns ({symbol: length}, pos)."""
    n, pos, st = read_varint(raw, 0, class_count + 1)
    if st != OK:
        raise _table_error(st, "Symbol_Count", pos, f"<= class_count {class_count}")
    n = int(n)
    if n > count:
        raise FormatError(f"label_stream huffman: Symbol_Count expected <= item_count {count} "
                          f"(every listed symbol occurs), got {n}")
    if (n == 0) != (count == 0):
        raise FormatError(f"label_stream huffman: Symbol_Count expected "
                          f"{'0' if count == 0 else '>= 1'} for item_count {count}, got {n}")
    if n > raw.shape[0]:                          # each entry needs >= 2 bytes
        raise TruncatedError(f"label_stream huffman: Symbol_Count {n} needs at least "
                             f"{2 * n} table bytes, stream has {raw.shape[0]}")
    lengths, prev = {}, -1
    for _ in range(n):
        g, pos, st = read_varint(raw, pos, class_count - prev - 1)
        if st != OK:
            raise _table_error(st, "Symbol_Gap", pos, f"symbol < class_count {class_count}")
        if pos >= raw.shape[0]:
            raise TruncatedError("label_stream huffman: table ends inside Code_Length")
        s = prev + 1 + int(g)
        lengths[s] = int(raw[pos])
        pos += 1
        prev = s
    if n == 1:
        if next(iter(lengths.values())) != 0:
            raise FormatError("label_stream huffman: Code_Length of a single symbol "
                              f"expected 0, got {next(iter(lengths.values()))}")
    elif n > 1:
        bad = [ln for ln in lengths.values() if not 1 <= ln <= MAX_HUFFMAN_LENGTH]
        if bad:
            raise FormatError(f"label_stream huffman: Code_Length expected 1..{MAX_HUFFMAN_LENGTH}, "
                              f"got {bad[0]}")
        kraft = sum(1 << (MAX_HUFFMAN_LENGTH - ln) for ln in lengths.values())
        if kraft != 1 << MAX_HUFFMAN_LENGTH:
            raise FormatError("label_stream huffman: code lengths expected a complete prefix "
                              f"code (Kraft sum 1), got {kraft / (1 << MAX_HUFFMAN_LENGTH)}")
    return lengths, pos


def _table_error(st, field, pos, expected):
    from ._leb128 import ERR_TRUNCATED
    if st == ERR_TRUNCATED:
        return TruncatedError(f"label_stream huffman: table ends inside {field} at byte {pos}")
    return FormatError(f"label_stream huffman: {field} at byte {pos} invalid: expected "
                       f"a minimal varint, {expected}")


# ---- mode functions ----------------------------------------------------------------

def huffman_encode(labels, class_count):
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return bytes(_write_table({}))
    lengths = code_lengths(labels, class_count)
    codes = canonical_codes(lengths)
    rev = np.zeros(class_count, dtype=np.int64)
    ln = np.zeros(class_count, dtype=np.int64)
    for s, c in codes.items():
        rev[s] = _reverse_bits(c, lengths[s])
        ln[s] = lengths[s]
    nbits = int(ln[labels].sum())
    out = np.empty((nbits + 7) // 8 + 8, dtype=np.uint8)
    n = _encode_kernel(labels, rev, ln, out)
    return bytes(_write_table(lengths)) + out[:n].tobytes()


def _decode_tables(lengths):
    first = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.int64)
    count = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.int64)
    offset = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.int64)
    order = sorted(lengths.items(), key=lambda t: (t[1], t[0]))
    symbols = np.array([s for s, _ in order], dtype=np.int64)
    for _, ln in order:
        count[ln] += 1
    code = 0
    idx = 0
    for ln in range(1, MAX_HUFFMAN_LENGTH + 1):
        first[ln] = code
        offset[ln] = idx
        code = (code + count[ln]) << 1
        idx += count[ln]
    return first, count, offset, symbols


def huffman_decode(raw, class_count, count):
    lengths, pos = _read_table(raw, class_count, count)
    out = np.empty(count, dtype=np.int64)
    if len(lengths) <= 1:
        if pos != raw.shape[0]:
            raise FormatError(f"label_stream huffman: a single-symbol stream expected "
                              f"{pos} bytes, got {raw.shape[0]}")
        out[:] = next(iter(lengths)) if lengths else 0
        return out
    first, cnt, offset, symbols = _decode_tables(lengths)
    st, end, _ = _decode_kernel(raw, pos, first, cnt, offset, symbols, out)
    if st == 1:
        raise TruncatedError(f"label_stream huffman: bitstream ends before item_count "
                             f"{count} labels (at byte {end})")
    if st == 2:
        raise FormatError(f"label_stream huffman: invalid code at byte {end}")
    if st == 3:
        raise FormatError("label_stream huffman: padding bits expected 0, got non-zero")
    if end != raw.shape[0]:
        raise FormatError(f"label_stream huffman: expected the stream to end at byte {end}, "
                          f"got {raw.shape[0] - end} trailing bytes")
    return out


def huffman_raw_size_bound(class_count, count):
    table = leb128_size(class_count) + min(class_count, count) * (leb128_size(class_count) + 1)
    return table + (count * MAX_HUFFMAN_LENGTH + 7) // 8


# ---- readable twins ----------------------------------------------------------------

def huffman_encode_twin(labels, class_count):
    if not labels:
        return write_varint_twin(0)
    counts = [0] * class_count
    for v in labels:
        counts[v] += 1
    lengths = code_lengths(np.array(labels), class_count)
    codes = canonical_codes(lengths)
    bits = "".join(f"{codes[v]:0{lengths[v]}b}" if lengths[v] else "" for v in labels)
    bits += "0" * (-len(bits) % 8)
    body = bytes(int(bits[i:i + 8][::-1], 2) for i in range(0, len(bits), 8))
    return bytes(_write_table(lengths)) + body


def huffman_decode_twin(raw, class_count, count):
    raw = bytes(raw)
    n, pos = read_varint_twin(raw, 0, class_count + 1)
    if n > count or (n == 0) != (count == 0):
        raise ValueError("symbol_count")
    lengths, prev = {}, -1
    for _ in range(n):
        g, pos = read_varint_twin(raw, pos, class_count - prev - 1)
        prev = prev + 1 + g
        lengths[prev] = raw[pos]                  # IndexError if the table is cut short
        pos += 1
    if n == 1 and lengths[prev] != 0:
        raise ValueError("single_length")
    if n > 1:
        if not all(1 <= ln <= MAX_HUFFMAN_LENGTH for ln in lengths.values()):
            raise ValueError("length_range")
        if sum(2.0 ** -ln for ln in lengths.values()) != 1.0:
            raise ValueError("kraft")
    if len(lengths) <= 1:
        if pos != len(raw):
            raise ValueError("trailing")
        return [next(iter(lengths))] * count if lengths else []
    by_code = {(lengths[s], c): s for s, c in canonical_codes(lengths).items()}
    bits = "".join(f"{b:08b}"[::-1] for b in raw[pos:])
    out, code, ln, i = [], 0, 0, 0
    while len(out) < count:
        if i >= len(bits):
            raise ValueError("truncated")
        code, ln, i = code * 2 + int(bits[i]), ln + 1, i + 1
        if (ln, code) in by_code:
            out.append(by_code[(ln, code)])
            code, ln = 0, 0
    if len(bits) - i >= 8 or "1" in bits[i:]:
        raise ValueError("padding")
    return out
