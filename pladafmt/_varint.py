"""Index modes VARINT (1) and RUNS (2); label mode RLE (2). All built on LEB128.

VARINT: k varints g_0 = i_0, g_j = i_j - i_{j-1} - 1.
RUNS:   pairs (gap, length - 1); gap_0 = start_0, gap_j = start_j - end_{j-1} - 2,
        so adjacent runs cannot touch and runs are maximal by construction.
RLE:    pairs (label, length - 1); adjacent runs MUST carry different labels.
"""
import numpy as np

from ._errors import FormatError, TruncatedError
from ._jit import njit
from ._leb128 import (ERR_NONMINIMAL, ERR_OVERFLOW, ERR_TRUNCATED, OK, leb128_size,
                      read_varint, read_varint_twin, write_varint, write_varint_twin)

ERR_RUN_SUM = 10        # run lengths add up past k
ERR_TRAILING = 11       # bytes left after k items
ERR_SAME_LABEL = 12     # two adjacent RLE runs with one label


def _raise(status, mode, field, pos, count=None):
    if status == ERR_TRUNCATED:
        raise TruncatedError(f"{mode}: stream ends inside {field} at byte {pos}: "
                             f"expected {count} items")
    if status == ERR_NONMINIMAL:
        raise FormatError(f"{mode}: {field} at byte {pos} is not a minimal LEB128 varint "
                          "(expected no trailing 0x00 group)")
    if status == ERR_OVERFLOW:
        raise FormatError(f"{mode}: {field} at byte {pos} runs past the end of the range: "
                          "expected every index < pool_size (and label < class_count)")
    if status == ERR_RUN_SUM:
        raise FormatError(f"{mode}: run lengths add up past item_count {count} "
                          f"(run ending at byte {pos})")
    if status == ERR_TRAILING:
        raise FormatError(f"{mode}: {field}: expected the stream to end after {count} items, "
                          f"got trailing bytes from byte {pos}")
    if status == ERR_SAME_LABEL:
        raise FormatError(f"{mode}: run at byte {pos} repeats the previous run's label: "
                          "expected adjacent runs to differ (canonical form)")
    raise FormatError(f"{mode}: kernel status {status} at byte {pos}")


# ---- VARINT ------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _varint_encode_kernel(indices, out):
    pos = 0
    prev = -1
    for j in range(indices.shape[0]):
        pos = write_varint(out, pos, indices[j] - prev - 1)
        prev = indices[j]
    return pos


@njit(cache=True, nogil=True)
def _varint_decode_kernel(buf, pool_size, out):
    pos = 0
    nxt = 0                              # smallest index the next item may take
    for j in range(out.shape[0]):
        g, pos, st = read_varint(buf, pos, pool_size - nxt)
        if st != OK:
            return st, pos
        out[j] = nxt + np.int64(g)
        nxt = out[j] + 1
    if pos != buf.shape[0]:
        return ERR_TRAILING, pos
    return OK, pos


def varint_encode(indices, pool_size):
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    out = np.empty(len(indices) * leb128_size(max(pool_size - 1, 0)), dtype=np.uint8)
    n = _varint_encode_kernel(indices, out)
    return out[:n].tobytes()


def varint_decode(raw, pool_size, count):
    out = np.empty(count, dtype=np.int64)
    st, pos = _varint_decode_kernel(raw, pool_size, out)
    if st != OK:
        _raise(st, "index_stream varint", "gap", pos, count)
    return out


def varint_raw_size_bound(pool_size, count):
    return count * leb128_size(max(pool_size - 1, 0))


def varint_encode_twin(indices, pool_size):
    out, prev = bytearray(), -1
    for i in indices:
        out += write_varint_twin(i - prev - 1)
        prev = i
    return bytes(out)


def varint_decode_twin(raw, pool_size, count):
    raw, pos, nxt, out = bytes(raw), 0, 0, []
    for _ in range(count):
        g, pos = read_varint_twin(raw, pos, pool_size - nxt)
        out.append(nxt + g)
        nxt = out[-1] + 1
    if pos != len(raw):
        raise ValueError("trailing")
    return out


# ---- RUNS --------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _runs_encode_kernel(indices, out):
    pos = 0
    n = indices.shape[0]
    j = 0
    prev_end = -2                       # so that gap_0 = start_0
    while j < n:
        start = indices[j]
        end = start
        while j + 1 < n and indices[j + 1] == end + 1:
            j += 1
            end += 1
        pos = write_varint(out, pos, start - prev_end - 2)
        pos = write_varint(out, pos, end - start)
        prev_end = end
        j += 1
    return pos


@njit(cache=True, nogil=True)
def _runs_decode_kernel(buf, pool_size, out):
    pos = 0
    nxt = 0                              # smallest start the next run may take
    j = 0
    k = out.shape[0]
    while j < k:
        g, pos, st = read_varint(buf, pos, pool_size - nxt)
        if st != OK:
            return st, pos
        start = nxt + np.int64(g)
        m, pos, st = read_varint(buf, pos, pool_size - start)
        if st != OK:
            return st, pos
        length = np.int64(m) + 1
        if length > k - j:
            return ERR_RUN_SUM, pos
        for t in range(length):
            out[j] = start + t
            j += 1
        nxt = start + length + 1         # +1: runs are maximal, so a gap of >= 1 follows
    if pos != buf.shape[0]:
        return ERR_TRAILING, pos
    return OK, pos


def runs_encode(indices, pool_size):
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    out = np.empty(runs_raw_size_bound(pool_size, len(indices)), dtype=np.uint8)
    n = _runs_encode_kernel(indices, out)
    return out[:n].tobytes()


def runs_decode(raw, pool_size, count):
    out = np.empty(count, dtype=np.int64)
    st, pos = _runs_decode_kernel(raw, pool_size, out)
    if st != OK:
        _raise(st, "index_stream runs", "run", pos, count)
    return out


def runs_raw_size_bound(pool_size, count):
    return 2 * count * leb128_size(max(pool_size - 1, 0))


def runs_encode_twin(indices, pool_size):
    out, prev_end, j = bytearray(), -2, 0
    while j < len(indices):
        start = end = indices[j]
        while j + 1 < len(indices) and indices[j + 1] == end + 1:
            j, end = j + 1, end + 1
        out += write_varint_twin(start - prev_end - 2) + write_varint_twin(end - start)
        prev_end, j = end, j + 1
    return bytes(out)


def runs_decode_twin(raw, pool_size, count):
    raw, pos, nxt, out = bytes(raw), 0, 0, []
    while len(out) < count:
        g, pos = read_varint_twin(raw, pos, pool_size - nxt)
        start = nxt + g
        m, pos = read_varint_twin(raw, pos, pool_size - start)
        if m + 1 > count - len(out):
            raise ValueError("run_sum")
        out.extend(range(start, start + m + 1))
        nxt = start + m + 2
    if pos != len(raw):
        raise ValueError("trailing")
    return out


# ---- RLE labels --------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _rle_encode_kernel(labels, out):
    pos = 0
    n = labels.shape[0]
    j = 0
    while j < n:
        lab = labels[j]
        t = j
        while t + 1 < n and labels[t + 1] == lab:
            t += 1
        pos = write_varint(out, pos, lab)
        pos = write_varint(out, pos, t - j)
        j = t + 1
    return pos


@njit(cache=True, nogil=True)
def _rle_decode_kernel(buf, class_count, out):
    pos = 0
    j = 0
    k = out.shape[0]
    prev = -1
    while j < k:
        lab, pos, st = read_varint(buf, pos, class_count)
        if st != OK:
            return st, pos
        if np.int64(lab) == prev:
            return ERR_SAME_LABEL, pos
        m, pos, st = read_varint(buf, pos, k - j)
        if st == ERR_OVERFLOW:
            return ERR_RUN_SUM, pos
        if st != OK:
            return st, pos
        for t in range(np.int64(m) + 1):
            out[j] = np.int64(lab)
            j += 1
        prev = np.int64(lab)
    if pos != buf.shape[0]:
        return ERR_TRAILING, pos
    return OK, pos


def rle_encode(labels, class_count):
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    out = np.empty(rle_raw_size_bound(class_count, len(labels)), dtype=np.uint8)
    n = _rle_encode_kernel(labels, out)
    return out[:n].tobytes()


def rle_decode(raw, class_count, count):
    out = np.empty(count, dtype=np.int64)
    st, pos = _rle_decode_kernel(raw, class_count, out)
    if st != OK:
        _raise(st, "label_stream rle", "run", pos, count)
    return out


def rle_raw_size_bound(class_count, count):
    return count * (leb128_size(max(class_count - 1, 0)) + leb128_size(max(count - 1, 0)))


def rle_encode_twin(labels, class_count):
    out, j = bytearray(), 0
    while j < len(labels):
        t = j
        while t + 1 < len(labels) and labels[t + 1] == labels[j]:
            t += 1
        out += write_varint_twin(labels[j]) + write_varint_twin(t - j)
        j = t + 1
    return bytes(out)


def rle_decode_twin(raw, class_count, count):
    raw, pos, out, prev = bytes(raw), 0, [], None
    while len(out) < count:
        lab, pos = read_varint_twin(raw, pos, class_count)
        if lab == prev:
            raise ValueError("same_label")
        m, pos = read_varint_twin(raw, pos, count - len(out))
        out.extend([lab] * (m + 1))
        prev = lab
    if pos != len(raw):
        raise ValueError("trailing")
    return out
