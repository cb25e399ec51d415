"""The mode contract: one frozen `Mode` per stream mode, exported as `MODE` by its module.

The container (pladafmt._container) sees modes only through this record and the two
tables of pladafmt._modes; it never names a mode. A new mode is one module exporting
MODE, one line in a table, one SPEC.md section and its conformance vectors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

PLAIN, CONTEXT = 0, 2     # decode classes: "auto" weighs a context mode's slower decode


def _no_extra_memory(size: int, count: int, raw_len: int) -> int:
    return 0


@dataclass(frozen=True)
class Mode:
    """One stream mode of SPEC.md.

    `size` is N (Pool_Size) for index modes and C (Class_Count) for label modes.
    encode(values int64[k], size[, indices]) -> bytes; decode(raw uint8[], size, count[,
    indices]) -> int64[count]; the twins are readable Python with the same signatures.
    raw_size_bound(size, count) is the largest raw body a valid stream has, in bytes (0 when
    count is 0). decode_memory(size, count, raw_len) is what decode allocates beyond its
    int64 output (tables, aligned copies, uint32 labels), for the container's budget.
    needs_indices: a label mode whose contexts read the decoded indices (one more argument,
    decoded after the index stream). decode_u32: labels as (int64, uint32) in one pass, for
    the content checksum. segments: the hooks (prepare, decode_segment, check_base) that let
    an index and a label stream with the same segments decode segment by segment on threads.
    """
    id: int
    name: str
    kind: str
    encode: Callable
    decode: Callable
    encode_twin: Callable
    decode_twin: Callable
    raw_size_bound: Callable
    decode_memory: Callable = _no_extra_memory
    decode_class: int = PLAIN
    needs_indices: bool = False
    decode_u32: Callable | None = None
    segments: object | None = None


@dataclass(frozen=True)
class Segments:
    """The hooks of a mode whose stream is cut into segments (the ctx-rans modes), so that
    an index and a label stream with the same segments decode segment by segment on
    threads. prepare(raw, size, count) -> a plan with .segs (parses the head, builds the
    decode tables); decode_segment(plan, s, indices[, labels, labels_u32]) decodes
    segment s into the full-length outputs; check_base(plan, indices, s) checks what
    segment s assumed of segment s - 1 (None when it assumes nothing)."""
    prepare: Callable
    decode_segment: Callable
    check_base: Callable | None = None
