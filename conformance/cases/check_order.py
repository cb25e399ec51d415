"""SPEC.md "9.2 Check order" (Q18): payloads that break two rules whose errors
differ; the one checked first names the error. Each comment names both rules."""
import hashlib

from ..writer import container as W
from ..writer.bits import varint_long
from ..writer.container import zstd_frame
from .common import IDX, LAB, NAMES, base, edit_section

SPEC = "9.2 Check order"


def define(s):
    def n(vid, first, second, error, data, **kw):
        s.n(vid, f"{first}, and {second}: the first is checked first", SPEC, "check-order",
            error, data, flags=["Q18"], **kw)

    ok = base()
    n("n_order_magic_before_major", "Magic byte 0 is 0x88 (FormatError)",
      "Version_Major 3 (UnsupportedVersionError)", "FormatError",
      b"\x88" + base(hdr={"major": 3})[1:])
    n("n_order_major_before_syntax", "Version_Major 3 (UnsupportedVersionError)",
      "the input ends in the header (TruncatedError)", "UnsupportedVersionError",
      base(hdr={"major": 3})[:14])
    bad_crc = base(hdr={"N": varint_long(20, 2), "crc": 0})
    n("n_order_syntax_before_crc", "Pool_Size non-minimal (FormatError)",
      "Header_CRC32 0 (ChecksumError)", "FormatError", bad_crc)
    n("n_order_crc_before_values", "Header_CRC32 0 (ChecksumError)",
      "Required_Features 1 (UnsupportedVersionError)", "ChecksumError",
      base(hdr={"required": 1, "crc": 0}))
    n("n_order_flags_before_required", "Header_Flags bit 1 (FormatError)",
      "Required_Features 1 (UnsupportedVersionError)", "FormatError",
      base(hdr={"flags": 2, "required": 1}))
    n("n_order_required_before_pool_size", "Required_Features 1 (UnsupportedVersionError)",
      "Pool_Size 2^48 + 1 (LimitError)", "UnsupportedVersionError",
      W.build([0], [0], 2**48 + 1, 1, hdr={"required": 1}))
    n("n_order_pool_size_before_class_count", "Pool_Size 2^48 + 1 (LimitError)",
      "Class_Count 0 (FormatError)", "LimitError",
      W.build([], [], 2**48 + 1, 1, hdr={"C": 0}))
    n("n_order_class_count_before_section_count", "Class_Count 2^20 + 1 (LimitError)",
      "Section_Count 1 (FormatError)", "LimitError",
      W.build([], [], 20, 2**20 + 1, hdr={"sections": 1}, order=[0]))
    digest = hashlib.sha256(b"pool A").digest()
    other = hashlib.sha256(b"pool B").digest()
    n("n_order_values_before_pool_digest", "Section_Count 1 (FormatError)",
      "a local pool digest that differs (PoolMismatchError)", "FormatError",
      W.build([], [], 20, 3, digest=digest, hdr={"sections": 1}, order=[0]),
      local_pool_digest=other)
    n("n_order_pool_digest_before_sections", "a local pool digest that differs "
      "(PoolMismatchError)", "the index stream's Section_CRC32 0 (ChecksumError)",
      "PoolMismatchError", base(digest=digest, sec_over={1: {"crc": 0}}),
      local_pool_digest=other)
    n("n_order_section_crc_before_next_header", "section 0's Section_CRC32 0 "
      "(ChecksumError)", "the input ends inside section 1's header (TruncatedError)",
      "ChecksumError", base(sec_over={0: {"crc": 0}})[:W.sections_at(ok)[1][0] + 2])
    n("n_order_section_crcs_before_layout", "the label stream's Section_CRC32 0 "
      "(ChecksumError)", "an unknown critical type 0x04 as the first section "
      "(UnsupportedVersionError)", "ChecksumError",
      base(before=[W.section(0x04, 0, 0, b"")], sec_over={2: {"crc": 0}}))
    n("n_order_trailing_before_layout", "a byte after the last section "
      "(TrailingDataError)", "two metadata sections (FormatError)", "TrailingDataError",
      base(order=[0, 1, 2, 3, 3]) + b"\x00")
    n("n_order_layout_in_section_order", "index Section_Mode 9 (UnsupportedVersionError)",
      "a second metadata section after it (FormatError)", "UnsupportedVersionError",
      edit_section(base(order=[0, 1, 2, 3, 3]), 1, mode=9))
    n("n_order_layout_before_missing", "an unknown critical type 0x04 "
      "(UnsupportedVersionError)", "no label stream (FormatError)", "UnsupportedVersionError",
      base(order=[0, 1, 3, 4], after=[W.section(0x04, 0, 0, b"")]))
    n("n_order_layout_before_bodies", "no label stream (FormatError)",
      "the index stream's Zstd Window_Size 16 MiB (LimitError)", "FormatError",
      base(iz=lambda raw: zstd_frame(raw, window_log=24), order=[0, 1, 3]))
    n("n_order_unknown_mode_before_bodies", "label Section_Mode 7 (UnsupportedVersionError)",
      "the index body's Zstd frame has a Dictionary_ID (FormatError)",
      "UnsupportedVersionError",
      edit_section(base(iz=lambda raw: zstd_frame(raw, dict_id=1)), 2, mode=7))
    n("n_order_bodies_before_streams", "the label body's Zstd Window_Size 16 MiB "
      "(LimitError)", "the index stream ends before its 5th gap (TruncatedError)", "LimitError",
      base(ibody=bytes([2, 0, 0, 4]), lz=lambda raw: zstd_frame(raw, window_log=24)))
    n("n_order_raw_bound_before_streams", "the label body is longer than its raw size "
      "bound (FormatError)", "the index stream ends inside a gap (TruncatedError)",
      "FormatError", W.build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 4, 0x89]),
                             lbody=bytes([0x90, 0x02, 0x00])))
    n("n_order_class_table_body_before_streams", "the class table's Zstd Window_Size "
      "16 MiB (LimitError)", "the index stream ends before its 5th gap (TruncatedError)",
      "LimitError", base(cz=lambda raw: zstd_frame(raw, window_log=24),
                         ibody=bytes([2, 0, 0, 4])))
    n("n_order_metadata_body_before_streams", "the metadata's Zstd Frame_Content_Size "
      "above 1 MiB (FormatError)", "the index stream ends before its 5th gap "
      "(TruncatedError)", "FormatError", base(mz=lambda raw: zstd_frame(raw, fcs=(1 << 20) + 1),
                          ibody=bytes([2, 0, 0, 4])))
    n("n_order_fcs_bound_before_window", "Frame_Content_Size above the raw size bound "
      "(FormatError)", "Window_Size 16 MiB (LimitError)", "FormatError",
      base(iz=lambda raw: zstd_frame(raw + b"\x00", window_log=24)))
    n("n_order_index_before_labels", "the index stream ends inside a gap (TruncatedError)",
      "label 4 is 3 with C = 3 (FormatError)", "TruncatedError",
      W.build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 4, 0x89]),
              lbody=bytes([0x90, 0x03])))
    n("n_order_streams_before_class_table", "the label stream is 1 byte short "
      "(TruncatedError)", "a class name is not UTF-8 (FormatError)", "TruncatedError",
      base(names=None, before=[W.section(W.CLASS_TABLE, 0, 0, b"\x03cat\x01\xff\x03dog")],
           lbody=bytes([0x90])))
    n("n_order_class_table_before_metadata", "the class table is short (TruncatedError)",
      "the metadata is a JSON array (FormatError)", "TruncatedError",
      base(names=None, meta=b"[1]",
           before=[W.section(W.CLASS_TABLE, 0, 0, W.class_table(NAMES[:2]))]))
    n("n_order_metadata_before_content_checksum", "the metadata is a JSON array "
      "(FormatError)", "Content_Checksum of other labels (ChecksumError)", "FormatError",
      base(meta=b"[1]", checksum=W.content_checksum(IDX, [0, 0, 2, 1, 2])))
