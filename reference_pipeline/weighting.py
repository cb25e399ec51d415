"""Importance weights for the kept items: zero-byte schemes on the client, and a prototype weight stream.

The student's loss is the weighted mean of the per-item cross-entropy (common.fit,
`weights`). Weights are relative: fit rescales them to mean 1 over the kept items, so
the learning rate means the same with or without them.

Zero-byte schemes (computed by the client from the decoded payload alone)
  none            no weights: the plain mean cross-entropy (the paper's Eq. 4)
  class-balanced  w_i = k / (C' * n_{y_i}), n_c = kept items labelled c, C' = classes with
                  n_c > 0: every class that appears carries the same total weight k / C',
                  and the weights sum to k. Why: a long-tailed payload (the random or
                  Safety-Net rules on fashion-lt) otherwise trains the head classes n_c/n_c'
                  times harder, while the test set is balanced.
  class-sqrt      w_i proportional to n_{y_i}^(-1/2), scaled to sum to k: half way (in log
                  terms) between none and class-balanced, the usual tempered choice when the
                  rare classes' few items are noisy (inverse frequency multiplies their noise too).
                  train_student's default: the decision rule of WEIGHTING_RESULTS.md chose it.
  A payload whose kept label counts are all equal (the stratified rule's balanced quotas)
  gets all-equal class weights; those are returned as None, the plain loss, so such a
  student is the unweighted student bit for bit.

Weight stream (sent by the server; a prototype carried outside the codec)
  confidence      per kept item, the teacher's confidence in the label it sent,
                  c = tanh(margin / 2) in [0, 1), margin = top-1 minus top-2 logit
                  (score_pool): the two-way softmax P(label) - P(runner-up). Quantised to
                  BITS bits, level q = min(floor(c * 2^BITS), 2^BITS - 1), weight (q + 1/2) / 2^BITS
                  (the bin's midpoint). Why the margin: on the demo's stratified selections
                  the kept items with c < 0.5 carry a right label about half the time, those
                  with c >= 0.5 about 96 % of the time (fashion, diagnostics only).

Weight stream coding. The levels, in payload order (pool index ascending), are coded by
the LZMA binary range coder (reference_pipeline/rangecoder.py; format 1.x's, dropped from
the codec in 2.0), each level as
BITS binary decisions down a binary tree whose contexts are (the item's label, tree
node): the client decodes the labels first, and the teacher's confidence differs between
classes. Each context's probability is a Krichevsky-Trofimov count estimate (`_Model`).
Measured on the demo's selections this codes within 2 % (12,000 items, 2 bits) to 35 %
(1,200 items, 1 bit: 41 body bytes against 31) of k * H(q | label) / 8, the empirical
conditional entropy (`entropy_bytes`; the gap is the per-context learning cost and 6
bytes of coder framing, and shrinks with k), and below k * H(q) / 8.

How it travels and how its bytes are counted. The stream is written as exactly the bytes
one ancillary section of a format 2.0 payload would hold (SPEC.md "Sections"): a section
header (Section_Type WEIGHT_SECTION, Section_Mode = BITS, Section_Flags 0, Section_Length
as a varint, Section_CRC32 over those header bytes and the body) and the range-coder body. The prototype keeps it in a sidecar file next to the payload; its byte cost is the
sidecar's length, which is what appending it to the payload as a section would add
(the header's Section_Count changes in place; pladafmt.decode skips an unknown
ancillary section). WEIGHT_SECTION is an unregistered private number, not part of SPEC.md.

Usage (server side, the sidecar for a keep file):
  python -m reference_pipeline.weighting --scores scores.npz --keep keep.npz --bits 2 --out payload.weights
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import zlib

import numpy as np

from .common import PipelineError, write_bytes_atomic

# -----------------------------------------------------------------------------
# knobs

SCHEMES = ("none", "class-balanced", "class-sqrt", "confidence")   # --weighting of train_student
BITS = 2                  # levels per item of the confidence stream: 2^BITS
WEIGHT_SECTION = 0xFF     # ancillary (bit 7 set), unregistered: a prototype outside SPEC.md


# -----------------------------------------------------------------------------
# zero-byte schemes

def class_weights(labels, power: float = 1.0):
    """w_i proportional to n_{y_i}^(-power), summing to k; None when all are equal (balanced counts).

    power 1: class-balanced (each present class sums to k / C'); 0.5: class-sqrt.
    """
    y = np.asarray(labels, np.int64)
    if y.ndim != 1 or y.size == 0:
        raise PipelineError(f"class weights: expected a non-empty 1-D label array, got shape {y.shape}")
    if y.min() < 0:
        raise PipelineError(f"class weights: label of item {int(np.argmin(y))} is {int(y.min())}, expected >= 0")
    counts = np.bincount(y)
    if np.unique(counts[counts > 0]).size == 1:
        return None
    w = counts[y].astype(np.float64) ** -power
    return w * (len(y) / w.sum())


def client_weights(scheme: str, labels, stream: bytes | None = None):
    """The per-item weights a client uses for `scheme`, or None for the plain loss.

    `labels`: the decoded payload's labels, in payload order. `stream`: the weight
    section (sidecar bytes), needed by `confidence` only.
    """
    if scheme not in SCHEMES:
        raise PipelineError(f"weighting {scheme!r}: expected one of {', '.join(SCHEMES)}")
    if (stream is not None) != (scheme == "confidence"):
        raise PipelineError(f"weighting {scheme!r}: a weight stream is " +
                            ("required (--weight-stream)" if scheme == "confidence" else "used only by 'confidence'"))
    if scheme == "none":
        return None
    if scheme == "class-balanced":
        return class_weights(labels, 1.0)
    if scheme == "class-sqrt":
        return class_weights(labels, 0.5)
    bits, body = parse_section(stream)
    return level_weights(decode_levels(body, labels, bits), bits)


# -----------------------------------------------------------------------------
# the confidence stream: levels and weights

def _check_bits(bits: int) -> int:
    if bits not in (1, 2, 3):
        raise PipelineError(f"weight stream bits: expected 1, 2 or 3, got {bits!r}")
    return bits


def confidence_levels(margin, bits: int = BITS) -> np.ndarray:
    """Level q in [0, 2^bits) of c = tanh(margin / 2) per item (uint8)."""
    _check_bits(bits)
    m = np.asarray(margin, np.float64)
    bad = np.flatnonzero(~np.isfinite(m) | (m < 0))
    if bad.size:
        raise PipelineError(f"margin of item {bad[0]} is {float(m[bad[0]])}: expected a finite top-1 minus top-2 logit >= 0")
    top = (1 << bits) - 1
    return np.minimum(np.floor(np.tanh(m / 2) * (1 << bits)), top).astype(np.uint8)


def level_weights(levels, bits: int = BITS) -> np.ndarray:
    """Bin midpoints (q + 1/2) / 2^bits: the weight of each level."""
    _check_bits(bits)
    return (np.asarray(levels, np.float64) + 0.5) / (1 << bits)


def entropy_bytes(levels, labels) -> dict:
    """k * H(q | label) / 8 and k * H(q) / 8: what a static code with known frequencies would need."""
    q = np.asarray(levels, np.int64)
    y = np.asarray(labels, np.int64)

    def h(x):
        _, n = np.unique(x, return_counts=True)
        p = n / n.sum()
        return float(-(n * np.log2(p)).sum())   # bits over all items

    cond = sum(h(q[y == c]) for c in np.unique(y))
    return dict(conditional=cond / 8, marginal=h(q) / 8)


# -----------------------------------------------------------------------------
# the probability model for the codec's binary range coder: KT estimates per context (label, tree node)

_ONE = 1 << 15


class _Model:
    """Krichevsky-Trofimov estimates of P(bit = 0) per context, in 15 bits: (n0 + 1/2) / (n + 1).

    Counts rather than SPEC.md's fast/slow shift estimators: a payload has a few hundred
    items per label context, too few for the slow estimator (1/128 per step) to settle; the
    KT estimate costs about log2(n)/2 + 1 bits per context over the source's entropy.
    """

    def __init__(self):
        self.counts: dict = {}

    def p0(self, ctx) -> int:
        n0, n1 = self.counts.get(ctx, (0, 0))
        return min(max(((2 * n0 + 1) << 15) // (2 * (n0 + n1) + 2), 1), _ONE - 1)

    def update(self, ctx, bit: int) -> None:
        n0, n1 = self.counts.get(ctx, (0, 0))
        self.counts[ctx] = (n0, n1 + 1) if bit else (n0 + 1, n1)


def encode_levels(levels, labels, bits: int = BITS) -> bytes:
    """The range-coder body for the levels (payload order); the labels are the contexts.

    The coder is format 1.x's binary range coder (reference_pipeline.rangecoder); the
    probability model (_Model) is this stream's.
    """
    from .rangecoder import RangeEncoder

    _check_bits(bits)
    q = np.asarray(levels, np.int64)
    y = np.asarray(labels, np.int64)
    if q.shape != y.shape or q.ndim != 1:
        raise PipelineError(f"weight stream: expected one level per label, got {q.shape} levels and {y.shape} labels")
    if q.size and (q.min() < 0 or q.max() >= 1 << bits):
        raise PipelineError(f"weight stream: levels must be in [0, {1 << bits}), got [{q.min()}, {q.max()}]")
    model, enc = _Model(), RangeEncoder()
    for level, label in zip(q.tolist(), y.tolist()):
        node = 1
        for i in range(bits - 1, -1, -1):
            bit = (level >> i) & 1
            enc.code(bit, model.p0((label, node)))
            model.update((label, node), bit)
            node = 2 * node + bit
    return enc.finish()


def decode_levels(body: bytes, labels, bits: int = BITS) -> np.ndarray:
    """The levels (uint8, payload order) from a range-coder body; every byte must be used."""
    from .rangecoder import RangeDecoder

    _check_bits(bits)
    y = np.asarray(labels, np.int64)
    if len(body) < 5:
        raise PipelineError(f"weight stream: body of {len(body)} bytes, a range-coder stream has at least 5")
    if body[0] != 0:
        raise PipelineError(f"weight stream: first body byte is {body[0]}, expected 0")
    if int.from_bytes(body[1:5], "big") == 0xFFFFFFFF:
        raise PipelineError("weight stream: initial range-coder code must be < 0xffffffff, got 0xffffffff")
    dec = RangeDecoder(body)
    model = _Model()
    out = np.empty(len(y), np.uint8)
    for j, label in enumerate(y.tolist()):
        node = 1
        for _ in range(bits):
            bit = dec.decode(model.p0((label, node)))
            model.update((label, node), bit)
            node = 2 * node + bit
        if dec.overrun:  # the decoder reads zeros past the end and counts them
            raise PipelineError(f"weight stream: body ends inside item {j} of {len(y)} (truncated)")
        out[j] = node - (1 << bits)
    if dec.pos != len(body) or dec.code != 0:
        raise PipelineError(f"weight stream: {len(body) - dec.pos} unconsumed bytes, final code {dec.code} "
                            f"(expected 0 and 0: a stream for other labels or a corrupt body)")
    return out


# -----------------------------------------------------------------------------
# the section bytes (sidecar)

def _varint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def section(body: bytes, bits: int = BITS) -> bytes:
    """Section header + body, laid out as an ancillary section of a format 2.0 payload:
    Section_Type u8, Section_Mode u8 (= bits), Section_Flags u8, Section_Length varint,
    Section_CRC32 u32 over the header bytes before it and the body."""
    head = bytes([WEIGHT_SECTION, _check_bits(bits), 0]) + _varint(len(body))
    return head + struct.pack("<I", zlib.crc32(head + body)) + body


def parse_section(blob: bytes) -> tuple:
    """(bits, body) of a weight section; PipelineError naming the field that is wrong."""
    blob = bytes(blob)
    if len(blob) < 8:
        raise PipelineError(f"weight stream: {len(blob)} bytes, shorter than a section header (8 bytes)")
    typ, bits, flags = blob[0], blob[1], blob[2]
    if typ != WEIGHT_SECTION:
        raise PipelineError(f"weight stream: Section_Type 0x{typ:02X}, expected 0x{WEIGHT_SECTION:02X}")
    if flags:
        raise PipelineError(f"weight stream: Section_Flags {flags}, expected 0")
    length, shift, pos = 0, 0, 3
    while True:                      # Section_Length: a minimal varint of at most 9 bytes
        if pos >= len(blob) or pos > 11:
            raise PipelineError("weight stream: Section_Length varint truncated or longer than 9 bytes")
        byte = blob[pos]
        length |= (byte & 0x7F) << shift
        shift, pos = shift + 7, pos + 1
        if not byte & 0x80:
            break
    head = pos
    if length != len(blob) - head - 4:
        raise PipelineError(f"weight stream: Section_Length {length}, the body has {len(blob) - head - 4} bytes")
    crc = struct.unpack_from("<I", blob, head)[0]
    if crc != zlib.crc32(blob[:head] + blob[head + 4:]):
        raise PipelineError("weight stream: Section_CRC32 mismatch (corrupt sidecar)")
    return _check_bits(bits), blob[head + 4:]


def weight_section(margin, labels, bits: int = BITS) -> bytes:
    """Server side: the confidence levels of the kept items (payload order), coded, as section bytes."""
    return section(encode_levels(confidence_levels(margin, bits), labels, bits), bits)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.weighting", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scores", required=True, help="scores .npz from score_pool (labels, margin)")
    ap.add_argument("--keep", required=True, help="keep .npz from selection (indices, labels)")
    ap.add_argument("--bits", type=int, default=BITS, help=f"bits per level, 1-3 (default {BITS})")
    ap.add_argument("--out", required=True, help="the weight-stream sidecar to write")
    a = ap.parse_args(argv)
    with np.load(a.keep) as keep, np.load(a.scores) as scores:
        if "margin" not in scores:
            raise PipelineError(f"scores file {a.scores} has no 'margin' (an older score_pool wrote it): rescore")
        idx, labels = np.asarray(keep["indices"], np.int64), np.asarray(keep["labels"], np.int64)
        order = np.argsort(idx, kind="stable")   # payload order: pool index ascending
        idx, labels = idx[order], labels[order]
        margin = scores["margin"][idx]
    blob = weight_section(margin, labels, a.bits)
    write_bytes_atomic(a.out, blob)
    ent = entropy_bytes(confidence_levels(margin, a.bits), labels)
    body = parse_section(blob)[1]
    print(f"weight stream: {len(idx)} items x {a.bits} bits -> {len(blob)} bytes ({len(blob) - len(body)} header + "
          f"{len(body)} body; k*H(q|label)/8 = {math.ceil(ent['conditional'])}) -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
