"""Label mode 4 "adaptive": run/recency flags plus an adaptive binary tree, range coded.

SPEC.md ("Label mode 4: adaptive").  For every label after the first, a `same` flag says
whether it repeats the previous label (context: the current run length, capped at 15).
After a change, an `back` flag says whether it returns to the label of the run before
(context: 1 model), and only otherwise the label itself is coded MSB-first through an
adaptive binary tree of W = bitlen(C - 1) levels (order-0, learned on the fly).

Why: along the pool order labels come in runs (a synset block maps mostly to one class) with
occasional outliers that fall back to the block's class; the flags make a repeated label
cost a few hundredths of a bit and a return after an outlier a fraction of a bit, and the
tree learns the class distribution without a transmitted table.

The kernels and twins take a context layout and the kept indices so that label mode 5
(`_adaptive_gap_labels`) is the same code with its flags split by the index gap.
"""

from __future__ import annotations

import numpy as np

from . import _rangecoder as rc
from ._errors import EncodeError, FormatError, TruncatedError
from ._jit import njit

MODE_ID = 4
NAME = "adaptive"
KIND = "label"
MIN_MINOR = 1
DECODE_CLASS = 2          # CONTEXT (_modes): "auto" weighs its decode cost (_codec.auto_choice)

RUN_CTX = 16         # same-flag contexts: run length 0..15 (15 = 15 or more)
BACK_CTX = RUN_CTX   # index of the single back-flag context
TREE_BASE = RUN_CTX + 1
STREAM = "adaptive labels"

# The context layout (run contexts R, gap buckets G, back contexts B), shared with label
# mode 5 (`_adaptive_gap_labels`), which splits the flags by the index gap: same flag in
# context min(run, R-1)*G + bucket, back flag in R*G + min(bucket, B-1), tree nodes from
# R*G + B on.  Mode 4 is the case G = B = 1 (the bucket is then always 0).
LAYOUT = (RUN_CTX, 1, 1)


def _width(class_count: int) -> int:
    return (class_count - 1).bit_length()


def _contexts(class_count: int, layout=LAYOUT) -> int:
    r, g, b = layout
    return r * g + b + (1 << _width(class_count))


def gap_bucket_twin(indices, i: int, gap_ctx: int) -> int:
    """min(floor(log2(indices[i] - indices[i-1])), gap_ctx - 1); 0 when gap_ctx = 1."""
    if gap_ctx == 1:
        return 0
    return min((int(indices[i]) - int(indices[i - 1])).bit_length() - 1, gap_ctx - 1)


# ---------------------------------------------------------------------------------------
# twin

def encode_twin(labels: list[int], class_count: int, indices=None, layout=LAYOUT) -> bytes:
    labels = [int(v) for v in _check(labels, class_count)]
    if not labels:
        return b""
    runs, gaps, backs = layout
    wd = _width(class_count)
    tree = runs * gaps + backs
    probs = [rc.PROB_INIT] * (2 * _contexts(class_count, layout))
    enc = rc.RangeEncoder()
    prev = back = -1        # previous label; label of the run before (-1: none yet)
    run = 0
    for i, lab in enumerate(labels):
        if i > 0:
            bucket = gap_bucket_twin(indices, i, gaps)
            same = 1 if lab == prev else 0
            enc.encode_bit(probs, min(run, runs - 1) * gaps + bucket, same)
            if same:
                run += 1
                continue
            if back >= 0:
                is_back = 1 if lab == back else 0
                enc.encode_bit(probs, runs * gaps + min(bucket, backs - 1), is_back)
                if is_back:
                    back, prev, run = prev, lab, 0
                    continue
        node = 1
        for b in range(wd - 1, -1, -1):
            bit = (lab >> b) & 1
            enc.encode_bit(probs, tree + node, bit)
            node = 2 * node + bit
        back, prev, run = prev, lab, 0
    return enc.finish()


def decode_twin(raw: bytes, class_count: int, count: int, indices=None, layout=LAYOUT,
                stream: str = STREAM) -> list[int]:
    raw = bytes(raw)
    if count == 0:
        if raw:
            raise FormatError(f"{stream}: trailing bytes: expected 0 bytes, got {len(raw)}")
        return []
    runs, gaps, backs = layout
    wd = _width(class_count)
    tree = runs * gaps + backs
    probs = [rc.PROB_INIT] * (2 * _contexts(class_count, layout))
    dec = rc.RangeDecoder(raw, stream)
    out = []
    prev = back = -1
    run = 0
    for i in range(count):
        if i > 0:
            bucket = gap_bucket_twin(indices, i, gaps)
            if dec.decode_bit(probs, min(run, runs - 1) * gaps + bucket):
                dec.check_overrun(f"label {i}")
                out.append(prev)
                run += 1
                continue
            if back >= 0 and dec.decode_bit(probs, runs * gaps + min(bucket, backs - 1)):
                dec.check_overrun(f"label {i}")
                out.append(back)
                back, prev, run = prev, back, 0
                continue
        node = 1
        for _ in range(wd):
            node = 2 * node + dec.decode_bit(probs, tree + node)
        lab = node - (1 << wd)
        dec.check_overrun(f"label {i}")
        if lab >= class_count:
            raise FormatError(f"{stream}: label {i} must be < class_count {class_count}, "
                              f"got {lab}")
        if lab == prev or lab == back:
            raise FormatError(f"{stream}: label {i} coded in full must differ from the "
                              f"previous label {prev} and the label before it {back}, "
                              f"got {lab}")
        out.append(lab)
        back, prev, run = prev, lab, 0
    dec.finish()
    return out


def _check(labels, class_count) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    if not 1 <= class_count <= (1 << 20):
        raise EncodeError(f"{STREAM}: class_count must be in [1, 2^20], got {class_count}")
    if labels.size and (labels.min() < 0 or labels.max() >= class_count):
        raise EncodeError(f"{STREAM}: labels must lie in [0, {class_count}), got "
                          f"[{int(labels.min())}, {int(labels.max())}]")
    return labels


# ---------------------------------------------------------------------------------------
# kernels

@njit(cache=True, nogil=True)
def _bucket(indices, i, gaps):
    if gaps == 1:
        return 0
    g = indices[i] - indices[i - 1]
    b = -1
    while g > 0:
        g >>= 1
        b += 1
    return min(b, gaps - 1)


@njit(cache=True, nogil=True)
def _encode_kernel(labels, indices, runs, gaps, backs, wd, probs, es, out):
    rc.enc_init(es)
    tree = runs * gaps + backs
    prev = -1
    back = -1
    run = 0
    for i in range(labels.shape[0]):
        lab = labels[i]
        if i > 0:
            bucket = _bucket(indices, i, gaps)
            same = 1 if lab == prev else 0
            rc.enc_bit(es, out, probs, min(run, runs - 1) * gaps + bucket, same)
            if same:
                run += 1
                continue
            if back >= 0:
                is_back = 1 if lab == back else 0
                rc.enc_bit(es, out, probs, runs * gaps + min(bucket, backs - 1), is_back)
                if is_back:
                    back = prev
                    prev = lab
                    run = 0
                    continue
        node = 1
        for b in range(wd - 1, -1, -1):
            bit = (lab >> b) & 1
            rc.enc_bit(es, out, probs, tree + node, bit)
            node = 2 * node + bit
        back = prev
        prev = lab
        run = 0
    return rc.enc_finish(es, out)


@njit(cache=True, nogil=True)
def _decode_kernel(raw, class_count, indices, runs, gaps, backs, wd, count, probs, ds, out, info):
    """0 ok, 1 truncated (info[0] = label), 2 label >= C, 3 full label repeats prev/back."""
    tree = runs * gaps + backs
    prev = -1
    back = -1
    run = 0
    for i in range(count):
        if i > 0:
            bucket = _bucket(indices, i, gaps)
            if rc.dec_bit(ds, raw, probs, min(run, runs - 1) * gaps + bucket):
                if ds[3] != 0:
                    info[0] = i
                    info[1] = ds[3]
                    return 1
                out[i] = prev
                run += 1
                continue
            if back >= 0 and rc.dec_bit(ds, raw, probs, runs * gaps + min(bucket, backs - 1)):
                if ds[3] != 0:
                    info[0] = i
                    info[1] = ds[3]
                    return 1
                out[i] = back
                t = back
                back = prev
                prev = t
                run = 0
                continue
        node = 1
        for _ in range(wd):
            node = 2 * node + rc.dec_bit(ds, raw, probs, tree + node)
        lab = node - (1 << wd)
        if ds[3] != 0:
            info[0] = i
            info[1] = ds[3]
            return 1
        info[0] = i
        info[1] = lab
        info[2] = prev
        info[3] = back
        if lab >= class_count:
            return 2
        if lab == prev or lab == back:
            return 3
        out[i] = lab
        back = prev
        prev = lab
        run = 0
    return 0


_NO_INDICES = np.zeros(0, dtype=np.int64)


def encode_with(labels, class_count: int, indices=None, layout=LAYOUT) -> bytes:
    labels = _check(labels, class_count)
    if labels.size == 0:
        return b""
    wd = _width(class_count)
    out = np.zeros(2 * (wd + 2) * labels.size + 16, dtype=np.uint8)  # < 2 bytes per bit
    es = np.zeros(5, dtype=np.int64)
    idx = _NO_INDICES if indices is None else np.ascontiguousarray(indices, dtype=np.int64)
    probs = rc.new_probs(_contexts(class_count, layout))
    n = _encode_kernel(labels, idx, *layout, wd, probs, es, out)
    return out[:n].tobytes()


def decode_with(raw, class_count: int, count: int, indices=None, layout=LAYOUT,
                stream: str = STREAM) -> np.ndarray:
    raw, ds = rc.open_stream(raw, count, stream)
    if ds is None:
        return np.empty(0, dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    info = np.zeros(4, dtype=np.int64)
    wd = _width(class_count)
    idx = _NO_INDICES if indices is None else np.ascontiguousarray(indices, dtype=np.int64)
    st = _decode_kernel(raw, class_count, idx, *layout, wd, count,
                        rc.new_probs(_contexts(class_count, layout)), ds, out, info)
    if st == 1:
        raise TruncatedError(f"{stream}: stream ends inside label {info[0]}: needs "
                             f"{info[1]} more bytes, 0 left")
    if st == 2:
        raise FormatError(f"{stream}: label {info[0]} must be < class_count {class_count}, "
                          f"got {info[1]}")
    if st == 3:
        raise FormatError(f"{stream}: label {info[0]} coded in full must differ from the "
                          f"previous label {info[2]} and the label before it {info[3]}, "
                          f"got {info[1]}")
    rc.raise_finish(ds, raw, stream)
    return out


def encode(labels: np.ndarray, class_count: int) -> bytes:
    return encode_with(labels, class_count)


def decode(raw, class_count: int, count: int) -> np.ndarray:
    return decode_with(raw, class_count, count)


def raw_size_bound(class_count: int, count: int) -> int:
    """< 16 bits per coded bit; a label codes at most 2 flags + W tree bits; + 5 bytes."""
    if count == 0:
        return 0
    return 5 + 2 * (_width(class_count) + 2) * count


def applicable(class_count: int, count: int) -> bool:
    return 1 <= class_count <= (1 << 20)
