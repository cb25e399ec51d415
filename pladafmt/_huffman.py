"""Label mode HUFFMAN (1): canonical Huffman, code lengths in the stream.

Body = Symbol_Count (varint) | Symbol_Count x (Symbol_Gap varint, Code_Length u8) |
bitstream. Codes are canonical (sorted by length, then symbol) and each code is
written most-significant bit first into the LSB-first bitstream, as in Deflate.
"""
import heapq

import numpy as np

from ._bitio import peek64 as _peek64
from ._bitio import words_of
from ._errors import FormatError, TruncatedError
from ._jit import njit
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
    """Decode count labels; the table-driven fast path first (see below)."""
    return huffman_decode_with_u32(raw, class_count, count)[0]


def huffman_decode_with_u32(raw, class_count, count):
    """(labels as int64, the same as uint32): the fast kernel writes both in one pass,
    which spares the container a second pass over the labels for their checksum."""
    out = np.empty(count, dtype=np.int64)
    out32 = np.empty(count, dtype=np.uint32)
    if _try_decode_fast(raw, class_count, count, out, out32=out32):
        return out, out32
    # Some doubt (or a broken stream): the careful path names the broken field.
    out = _huffman_decode_careful(raw, class_count, count)
    return out, out.astype(np.uint32)


def _huffman_decode_careful(raw, class_count, count):
    """Bit-serial decode with a message for every way the stream can be broken."""
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


# ---- fast decode path --------------------------------------------------------------
#
# The careful path above parses the table in Python and decodes one bit at a time
# (~39 ns a label). The fast path does what Deflate decoders do: one lookup in a table
# indexed by the next L stream bits gives a code's length and symbol. It only answers
# "valid" (out filled) or "not valid"; on any doubt huffman_decode reruns the careful
# path, which raises the error. So the fast path must accept exactly the streams the
# careful path accepts, never more (tests/test_huffman_fast.py checks both ways).
#
# Kernels are @njit(cache=True, nogil=True): cache=True keeps the compile cost out of
# every new process, and nogil lets callers decode sections on threads.

# Lookup width L = min(longest code, FAST_BITS). 12 bits: a 16 KiB table of int32 that
# stays in L1 and fills in a few us; it holds every code of a uniform 4000-class alphabet
# and the frequent codes of skewed ones. Measured on 141,971 labels (one code per
# lookup): for Zipf(1.1) over 1000 classes (codes of 2-14 bits) the kernel takes
# 1.31 / 1.07 / 0.84 / 0.67 / 0.70 / 0.81 ms at L = 9 / 10 / 11 / 12 / 13 / 14 (a 64 KiB
# table no longer fits L1); for uniform C = 1000 (9-10 bits) L >= 10 are all equal.
FAST_BITS = 12
# A table entry is (index of the symbol in canonical order) << _LEN_BITS | code length;
# 0 (length 0) marks the first L bits of a longer code. Canonical indices rather than
# symbols keep entries small for the grouped table; the extra load of symbols[index] is
# off the critical path (the next lookup depends only on the length).
_LEN_BITS = 5
_LEN_MASK = (1 << _LEN_BITS) - 1
# Small alphabets: when `group` codes of the longest length fit in FAST_BITS bits, one
# lookup in a second table gives `group` codes at once (zstd's multi-symbol Huffman
# tables do the same). The decode is latency-bound (bits -> lookup -> length -> shift ->
# next lookup, ~3 ns), so this cuts the kernel for uniform C = 10 (3 codes a lookup)
# from 0.44 to 0.20 ms. Entry: up to _MAX_GROUP canonical indices of _GROUP_IDX_BITS
# each (grouping needs maxlen <= 6, and a code of <= 6 bits has <= 64 symbols) above the
# total length (<= FAST_BITS <= 15, in _GROUP_LEN_BITS): 28 bits, an int32.
_MAX_GROUP = 4
_GROUP_IDX_BITS = 6
_GROUP_LEN_BITS = 4
_GROUP_IDX_MASK = (1 << _GROUP_IDX_BITS) - 1
_GROUP_SHIFT0, _GROUP_SHIFT1, _GROUP_SHIFT2, _GROUP_SHIFT3 = (
    _GROUP_LEN_BITS + _GROUP_IDX_BITS * j for j in range(_MAX_GROUP))


@njit(cache=True, nogil=True, inline="always")
def _read_small_varint(raw, pos, limit):
    """(value, new_pos, ok): a minimal varint of at most 3 bytes, < limit.

    Accepts what read_varint accepts wherever limit <= 2^21 (every table field, as
    Class_Count <= 2^20; beyond that it is only stricter, and the careful path decides)
    and nothing more. Inlined, it is ~6x faster than read_varint, which is worth it for
    tables of up to 2^20 entries.
    """
    n = raw.shape[0]
    value = 0
    shift = 0
    for k in range(3):
        if pos >= n:
            return 0, pos, False
        b = np.int64(raw[pos])
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:                            # last byte: non-zero unless the only one
            return value, pos, value < limit and not (b == 0 and k > 0)
        shift += 7
    return 0, pos, False


@njit(cache=True, nogil=True)
def _parse_table_fast(raw, class_count, count):
    """The code-length table if _read_table accepts it: (True, pos, syms, lens), symbols
    ascending; else (False, ...). The checks of _read_table, without messages (and
    without a Python loop over up to 2^20 entries); never more lenient."""
    syms = np.empty(0, dtype=np.int64)
    lens = np.empty(0, dtype=np.int64)
    n, pos, ok = _read_small_varint(raw, 0, class_count + 1)
    if not ok:
        return False, 0, syms, lens
    if n > count or (n == 0) != (count == 0) or n > raw.shape[0]:
        return False, 0, syms, lens
    syms = np.empty(n, dtype=np.int64)
    lens = np.empty(n, dtype=np.int64)
    prev = -1
    kraft = 0                                   # < 2^20 * 2^23: no overflow
    for j in range(n):
        g, pos, ok = _read_small_varint(raw, pos, class_count - prev - 1)
        if not ok or pos >= raw.shape[0]:
            return False, 0, syms, lens
        s = prev + 1 + g
        ln = np.int64(raw[pos])
        pos += 1
        syms[j] = s
        lens[j] = ln
        prev = s
        if n > 1:
            if ln < 1 or ln > MAX_HUFFMAN_LENGTH:
                return False, 0, syms, lens
            kraft += 1 << (MAX_HUFFMAN_LENGTH - ln)
    if n == 1 and lens[0] != 0:
        return False, 0, syms, lens
    if n > 1 and kraft != 1 << MAX_HUFFMAN_LENGTH:
        return False, 0, syms, lens
    return True, pos, syms, lens


@njit(cache=True, nogil=True, inline="always")
def _swap_bit_groups(x, width, mask):
    """Swap each `width`-bit group of uint64 x that mask selects with the one above it."""
    w = np.uint64(width)
    m = np.uint64(mask)
    return ((x >> w) & m) | ((x & m) << w)


@njit(cache=True, nogil=True)
def _reverse_low_bits(x, length):
    """The low `length` (1..32) bits of uint64 x in reverse order (a swap ladder rather
    than an intrinsic, so it runs under NUMBA_DISABLE_JIT=1 too)."""
    x = _swap_bit_groups(x, 1, 0x55555555)
    x = _swap_bit_groups(x, 2, 0x33333333)
    x = _swap_bit_groups(x, 4, 0x0F0F0F0F)
    x = _swap_bit_groups(x, 8, 0x00FF00FF)
    x = _swap_bit_groups(x, 16, 0x0000FFFF)
    return (x & np.uint64(0xFFFFFFFF)) >> np.uint64(32 - length)


@njit(cache=True, nogil=True)
def _build_fast_tables(syms, lens, fast_bits):
    """Canonical decode tables of a validated complete code (>= 2 symbols).

    Returns (table, bits, maxlen, lj_limit, first, offset, symbols): the lookup table
    indexed by the next `bits` stream bits (entries as _LEN_BITS says), and for codes
    longer than `bits`: lj_limit[l] = (first[l] + count[l]) << (maxlen - l), one past the
    last code of length l, left-justified to maxlen bits, so that a code's length is the
    smallest l whose lj_limit exceeds the next maxlen bits read MSB first. first, offset
    and symbols (in canonical order) are those of _decode_tables.
    """
    n = syms.shape[0]
    count = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.int64)
    maxlen = 0
    for j in range(n):
        count[lens[j]] += 1
        maxlen = max(maxlen, lens[j])
    first = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.int64)
    offset = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.int64)
    lj_limit = np.zeros(MAX_HUFFMAN_LENGTH + 2, dtype=np.uint64)
    code = 0
    idx = 0
    for ln in range(1, MAX_HUFFMAN_LENGTH + 1):
        first[ln] = code
        offset[ln] = idx
        if ln <= maxlen:
            lj_limit[ln] = np.uint64(code + count[ln]) << np.uint64(maxlen - ln)
        code = (code + count[ln]) << 1
        idx += count[ln]
    # canonical order (length, then symbol): a stable counting sort, syms are ascending
    symbols = np.empty(n, dtype=np.int64)
    fill = offset.copy()
    for j in range(n):
        symbols[fill[lens[j]]] = syms[j]
        fill[lens[j]] += 1
    bits = min(maxlen, fast_bits)
    size = 1 << bits
    # Codes go MSB first into an LSB-first stream, so the next `bits` stream bits hold a
    # code of length l bit-reversed in their low l bits: the code owns every index whose
    # low l bits are reverse(code, l), i.e. reverse(code, l) + k * 2^l. The code is
    # complete, so the indices no short code owns (left 0) start longer codes.
    table = np.zeros(size, dtype=np.int32)
    for ln in range(1, bits + 1):
        for d in range(count[ln]):
            entry = ((offset[ln] + d) << _LEN_BITS) | ln
            r = np.int64(_reverse_low_bits(np.uint64(first[ln] + d), ln))
            for k in range(r, size, 1 << ln):
                table[k] = entry
    return table, bits, maxlen, lj_limit, first, offset, symbols


@njit(cache=True, nogil=True)
def _build_group_table(table, maxlen, group):
    """The table of `group` codes at a time, indexed by the next group * maxlen stream
    bits; `table` has width maxlen (so all codes are in it) and group * maxlen <= 12."""
    mask = (1 << maxlen) - 1
    # one code at a time, in the grouped layout
    gtable = np.empty(1 << maxlen, dtype=np.int32)
    for idx in range(1 << maxlen):
        e = table[idx]
        gtable[idx] = ((e >> _LEN_BITS) << _GROUP_LEN_BITS) | (e & _LEN_MASK)
    # g codes: the first from `table`, the other g - 1 from the (g - 1)-code table at the
    # bits after it (at least (g - 1) * maxlen of them are left)
    for g in range(2, group + 1):
        rest_mask = (1 << ((g - 1) * maxlen)) - 1
        longer = np.empty(1 << (g * maxlen), dtype=np.int32)
        for idx in range(1 << (g * maxlen)):
            e = table[idx & mask]
            ln = e & _LEN_MASK
            rest = gtable[(idx >> ln) & rest_mask]
            longer[idx] = (((rest >> _GROUP_LEN_BITS) << (_GROUP_LEN_BITS + _GROUP_IDX_BITS))
                           | ((e >> _LEN_BITS) << _GROUP_LEN_BITS)
                           | (ln + (rest & ((1 << _GROUP_LEN_BITS) - 1))))
        gtable = longer
    return gtable


@njit(cache=True, nogil=True)
def _decode_fast(words, total_bits, table, bits, maxlen, lj_limit, first, offset, symbols,
                 gtable, group, out, out32):
    """True and out (int64) and out32 (uint32, the checksum form) filled if the bitstream
    (total_bits long, in words) is valid.

    If group > 1, labels are decoded `group` at a time from gtable, and the last
    (count mod group) one at a time from table.

    v caches the 64 stream bits from bit p on, avail of them not yet consumed; it is
    refilled whenever fewer than a lookup may need remain (maxlen for one code, as
    bits <= maxlen; group * maxlen for a group), so every code is whole in v. A truncated
    stream decodes zero bits past its end, which is harmless: p > total_bits is caught at
    the next refill (so every peek is at p <= total_bits, see _words_of) and at the end.
    """
    p = 0                                       # stream bits consumed
    v = np.uint64(0)
    avail = 0
    n = np.uint64(out.shape[0])
    i = np.uint64(0)
    if group > 1:
        gbits = group * maxlen
        gmask = np.uint64((1 << gbits) - 1)
        g = np.uint64(group)
        while i + g <= n:
            if avail < gbits:
                if p > total_bits:
                    return False
                v = _peek64(words, p)
                avail = 64
            e = np.int64(gtable[v & gmask])
            # written out, not a loop over j: ~30% faster (measured)
            s0 = symbols[np.uint64((e >> _GROUP_SHIFT0) & _GROUP_IDX_MASK)]
            s1 = symbols[np.uint64((e >> _GROUP_SHIFT1) & _GROUP_IDX_MASK)]
            out[i] = s0
            out32[i] = s0
            out[i + np.uint64(1)] = s1
            out32[i + np.uint64(1)] = s1
            if group > 2:
                s2 = symbols[np.uint64((e >> _GROUP_SHIFT2) & _GROUP_IDX_MASK)]
                out[i + np.uint64(2)] = s2
                out32[i + np.uint64(2)] = s2
                if group > 3:
                    s3 = symbols[np.uint64((e >> _GROUP_SHIFT3) & _GROUP_IDX_MASK)]
                    out[i + np.uint64(3)] = s3
                    out32[i + np.uint64(3)] = s3
            ln = e & ((1 << _GROUP_LEN_BITS) - 1)
            v >>= np.uint64(ln)
            avail -= ln
            p += ln
            i += g
    mask = np.uint64((1 << bits) - 1)
    lj_shift = np.uint64(32 - maxlen)
    while i < n:
        if avail < maxlen:
            if p > total_bits:
                return False
            v = _peek64(words, p)
            avail = 64
        e = np.int64(table[v & mask])
        ln = e & _LEN_MASK
        if ln != 0:
            k = e >> _LEN_BITS
        else:
            # Longer than the table: canonical decode of the next maxlen bits read MSB
            # first; lengths up to `bits` are ruled out by the table, so search on from
            # bits + 1. The search ends by maxlen (lj_limit[maxlen] = 2^maxlen, the code
            # is complete); the bound only keeps a broken table from reading past it.
            w = _reverse_low_bits(v, 32) >> lj_shift
            ln = bits + 1
            while w >= lj_limit[np.uint64(ln)]:
                ln += 1
                if ln > maxlen:
                    return False
            k = (offset[np.uint64(ln)] + np.int64(w >> np.uint64(maxlen - ln))
                 - first[np.uint64(ln)])
        sym = symbols[np.uint64(k)]
        out[i] = sym
        out32[i] = sym
        v >>= np.uint64(ln)
        avail -= ln
        p += ln
        i += np.uint64(1)
    # as strict as the careful kernel: the stream ends in the byte of the last code bit,
    # and that byte's remaining (padding) bits, like all words past the end, are zero
    if p > total_bits or (p + 7) >> 3 != total_bits >> 3:
        return False
    return _peek64(words, p) == np.uint64(0)


def _words_of(stream):
    """The bitstream as zero-padded little-endian uint64 words, for _peek64.

    Two zero words of slack: _decode_fast peeks at bit positions p <= total_bits, which
    reads words[p // 64 + 1], up to index len(stream) // 8 + 1."""
    return words_of(stream, 2)


_NO_GROUP_TABLE = np.zeros(1, dtype=np.int32)


def _try_decode_fast(raw, class_count, count, out, group=None, out32=None):
    """Decode into out (and out32, as uint32) and return True if the stream is valid;
    False on any doubt.

    group: codes per lookup, capped at what fits (None: the most that pays off; the
    tests force each)."""
    if out32 is None:
        out32 = np.empty(count, dtype=np.uint32)
    ok, pos, syms, lens = _parse_table_fast(raw, class_count, count)
    if not ok:
        return False
    if syms.shape[0] <= 1:
        if pos != raw.shape[0]:
            return False
        out[:] = syms[0] if syms.shape[0] else 0
        out32[:] = out
        return True
    table, bits, maxlen, lj_limit, first, offset, symbols = _build_fast_tables(
        syms, lens, FAST_BITS)
    most = min(FAST_BITS // maxlen, _MAX_GROUP) if maxlen <= _GROUP_IDX_BITS else 1
    if group is None:
        # a grouped table of 2^(group * maxlen) entries (~3 ns each to fill) pays off
        # from about one label per entry
        group = most
        while group > 1 and count < 1 << (group * maxlen):
            group -= 1
    group = max(1, min(group, most))
    gtable = _build_group_table(table, maxlen, group) if group > 1 else _NO_GROUP_TABLE
    return _decode_fast(_words_of(raw[pos:]), 8 * (raw.shape[0] - pos), table, bits, maxlen,
                        lj_limit, first, offset, symbols, gtable, group, out, out32)


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
