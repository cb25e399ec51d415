"""The stream-mode tables of SPEC.md, once, as data: Section_Mode id -> implementation."""
from collections import namedtuple

from . import (_adaptive, _adaptive_gap_labels, _adaptive_labels, _bitmap, _ctx_index, _ctx_labels,
               _huffman, _packed, _rans, _rice, _varint)

# encode(values, size) -> bytes; decode(raw uint8 array, size, count) -> int64 array;
# bound(size, count) -> the largest raw body a valid stream can have.
# For index modes size = pool_size; for label modes size = class_count.
# needs_indices: a label mode whose contexts read the kept indices; its encode, decode
# and twins take them as one more argument, and it decodes after the index stream.
# decode_u32 (optional, label modes): decode returning (int64 labels, the same as uint32),
# for a kernel that writes the checksum form of the labels in the same pass.
# segments (optional): the module of a segmented mode (format 1.3 ctx-rans), whose
# prepare/decode_segment let an index and a label stream with the same segments decode
# segment by segment on several threads.
# decode_class: how costly the mode's decode is per item, for "auto" (_codec.auto_choice):
# PLAIN (the default, ~2-4 ns per item here) or CONTEXT (a context model: adaptive range
# coding or context-chained table lookups, 9-40 ns per item); a Zstd wrapper adds one
# (an extra pass, ~1 ns per item), so a plain mode with Zstd still costs less than a
# context mode.  "auto" takes a costlier candidate only when it saves AUTO_MIN_GAIN.
PLAIN, CONTEXT = 0, 2
Mode = namedtuple("Mode", "id name min_minor encode decode bound encode_twin decode_twin "
                          "needs_indices decode_u32 segments decode_class",
                  defaults=(False, None, None, PLAIN))

INDEX_MODE_TABLE = {
    0: Mode(0, "bitmap", 0, _bitmap.bitmap_encode, _bitmap.bitmap_decode,
            _bitmap.bitmap_raw_size_bound, _bitmap.bitmap_encode_twin, _bitmap.bitmap_decode_twin),
    1: Mode(1, "varint", 0, _varint.varint_encode, _varint.varint_decode,
            _varint.varint_raw_size_bound, _varint.varint_encode_twin, _varint.varint_decode_twin),
    2: Mode(2, "runs", 0, _varint.runs_encode, _varint.runs_decode,
            _varint.runs_raw_size_bound, _varint.runs_encode_twin, _varint.runs_decode_twin),
}

LABEL_MODE_TABLE = {
    0: Mode(0, "packed", 0, _packed.packed_encode, _packed.packed_decode,
            _packed.packed_raw_size_bound, _packed.packed_encode_twin, _packed.packed_decode_twin,
            decode_u32=_packed.packed_decode_with_u32),
    1: Mode(1, "huffman", 0, _huffman.huffman_encode, _huffman.huffman_decode,
            _huffman.huffman_raw_size_bound, _huffman.huffman_encode_twin,
            _huffman.huffman_decode_twin, decode_u32=_huffman.huffman_decode_with_u32),
    2: Mode(2, "rle", 0, _varint.rle_encode, _varint.rle_decode,
            _varint.rle_raw_size_bound, _varint.rle_encode_twin, _varint.rle_decode_twin),
}


def _register(table, module):
    table[module.MODE_ID] = Mode(module.MODE_ID, module.NAME, module.MIN_MINOR, module.encode,
                                 module.decode, module.raw_size_bound, module.encode_twin,
                                 module.decode_twin, getattr(module, "NEEDS_INDICES", False),
                                 getattr(module, "decode_with_u32", None),
                                 module if hasattr(module, "prepare") else None,
                                 getattr(module, "DECODE_CLASS", PLAIN))


def mode_by_name(table, name):
    for m in table.values():
        if m.name == name:
            return m
    return None


# Format 1.1: the near-entropy modes (SPEC.md "Format 1.1 modes").
_register(INDEX_MODE_TABLE, _rice)
_register(INDEX_MODE_TABLE, _adaptive)
_register(LABEL_MODE_TABLE, _rans)
_register(LABEL_MODE_TABLE, _adaptive_labels)
# Format 1.2: labels with index-gap contexts (SPEC.md "Label mode 5: adaptive-gap").
_register(LABEL_MODE_TABLE, _adaptive_gap_labels)
# Format 1.3: static context rANS in segments (SPEC.md "Format 1.3 modes").
_register(INDEX_MODE_TABLE, _ctx_index)
_register(LABEL_MODE_TABLE, _ctx_labels)
