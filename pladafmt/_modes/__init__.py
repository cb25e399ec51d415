"""The two stream-mode tables of SPEC.md: Section_Mode id -> Mode.

TRANSITIONAL (format2 branch): wraps the 1.3 flat modules under the 2.0 ids until the
modes helper moves each mode into its own module here.
"""
from .. import _bitmap, _ctx_index, _ctx_labels, _packed, _rans, _rice, _varint
from .contract import CONTEXT, PLAIN, Mode

__all__ = ["INDEX_MODES", "LABEL_MODES", "Mode", "PLAIN", "CONTEXT", "mode_by_name"]


def _segmented_memory(module, per_slot, copies, extra):
    return lambda size, count, raw_len: per_slot * module.slot_bound(size) + copies * raw_len + extra


INDEX_MODES = {m.id: m for m in (
    Mode(0, "bitmap", "index", _bitmap.bitmap_encode, _bitmap.bitmap_decode,
         _bitmap.bitmap_encode_twin, _bitmap.bitmap_decode_twin, _bitmap.bitmap_raw_size_bound,
         decode_memory=lambda size, count, raw_len: size),
    Mode(1, "varint", "index", _varint.varint_encode, _varint.varint_decode,
         _varint.varint_encode_twin, _varint.varint_decode_twin, _varint.varint_raw_size_bound),
    Mode(2, "rice", "index", _rice.encode, _rice.decode, _rice.encode_twin, _rice.decode_twin,
         _rice.raw_size_bound),
    Mode(3, "ctx-rans", "index", _ctx_index.encode, _ctx_index.decode, _ctx_index.encode_twin,
         _ctx_index.decode_twin, _ctx_index.raw_size_bound,
         decode_memory=_segmented_memory(_ctx_index, 20, 2, 24), decode_class=CONTEXT,
         segments=_ctx_index),
)}

LABEL_MODES = {m.id: m for m in (
    Mode(0, "packed", "label", _packed.packed_encode, _packed.packed_decode,
         _packed.packed_encode_twin, _packed.packed_decode_twin, _packed.packed_raw_size_bound,
         decode_memory=lambda size, count, raw_len: 4 * count,
         decode_u32=_packed.packed_decode_with_u32),
    Mode(1, "rans", "label", _rans.encode, _rans.decode, _rans.encode_twin, _rans.decode_twin,
         _rans.raw_size_bound,
         decode_memory=lambda size, count, raw_len: 12 * (4 * count + 4096) + 4 * count,
         decode_u32=_rans.decode_with_u32),
    Mode(2, "ctx-rans", "label", _ctx_labels.encode, _ctx_labels.decode, _ctx_labels.encode_twin,
         _ctx_labels.decode_twin, _ctx_labels.raw_size_bound,
         decode_memory=lambda size, count, raw_len: (12 * _ctx_labels.slot_bound(size) + raw_len
                                                     + 4 * count),
         decode_class=CONTEXT, needs_indices=True, decode_u32=_ctx_labels.decode_with_u32,
         segments=_ctx_labels),
)}


def mode_by_name(table, name):
    for m in table.values():
        if m.name == name:
            return m
    return None


# TRANSITIONAL: the 1.3 container (_codec.py) imports these names until _container replaces it.
INDEX_MODE_TABLE, LABEL_MODE_TABLE = INDEX_MODES, LABEL_MODES
