"""SPEC.md "3.2 Sections": section headers and CRCs, the end of the payload, and
the layout rules (types, order, flags, modes)."""
from ..writer import container as W
from .common import IDX, LAB, NAMES, base, edit_section

SPEC = "3.2 Sections"
UNKNOWN = W.section(0x8A, 0x7F, 0xFF, b"future ancillary data")


def define(s):
    s.y("y_no_class_table", "no class table: classes are named 0..C-1", SPEC, IDX, LAB, 20, 3,
        flags=["Sections"])
    s.y("y_unknown_ancillary_first", "an unknown ancillary section (type 0x8a, mode 0x7f, "
        "flags 0xff: never interpreted) before the critical sections: skipped", SPEC, IDX,
        LAB, 20, 3, names=NAMES, before=[UNKNOWN], flags=["Sections", "Forward"])
    s.y("y_unknown_ancillary_between", "unknown ancillary sections between the streams "
        "and after them, one empty (type 0xff)", SPEC, IDX, LAB, 20, 3, between=[UNKNOWN],
        after=[W.section(0xFF, 0, 0, b"")], flags=["Sections", "Forward"])
    s.y("y_metadata_first", "metadata (ancillary) placed before the class table", SPEC,
        IDX, LAB, 20, 3, names=NAMES, meta={"task": "demo"}, order=[3, 0, 1, 2],
        flags=["Sections"])
    s.y("y_metadata_between_streams", "metadata between the index and label streams", SPEC,
        IDX, LAB, 20, 3, meta={"task": "demo"}, order=[0, 2, 1], flags=["Sections"])
    ok = base()
    secs = W.sections_at(ok)
    pos0, hlen0, _ = secs[0]
    # -- 8. section headers
    s.n("n_trunc_section_header", "input ends 2 bytes into the first section header",
        SPEC, "truncated", "TruncatedError", ok[:pos0 + 2])
    long_body = base(names=["x" * 200, "dog", "émeu"])
    p, h, b = W.sections_at(long_body)[0]
    s.n("n_trunc_section_length", f"input ends inside the 2-byte Section_Length varint of "
        f"the class table (length {b})", SPEC, "truncated", "TruncatedError",
        long_body[:p + 4])
    s.n("n_trunc_section_crc", "input ends inside the first Section_CRC32", SPEC,
        "truncated", "TruncatedError", ok[:pos0 + hlen0 - 1])
    last_pos, last_h, last_b = secs[-1]
    s.n("n_trunc_last_section_body", f"input ends 1 byte before the end of the last "
        f"section's {last_b}-byte body", SPEC, "section-length", "TruncatedError", ok[:-1])
    s.n("n_section_length_past_end", "index stream Section_Length 100, past the end", SPEC,
        "section-length", "TruncatedError", base(sec_over={1: {"length": 100}}))
    s.n("n_section_crc", "index stream Section_CRC32 0", SPEC, "section-crc",
        "ChecksumError", base(sec_over={1: {"crc": 0}}))
    s.n("n_section_crc_unknown_ancillary", "an unknown ancillary section with a wrong CRC "
        "(skipped sections are still checked)", SPEC, "section-crc", "ChecksumError",
        base(after=[W.section(0x8A, 0, 0, b"x", crc=0)]))
    s.n("n_trailing_byte", "one byte after the last section", SPEC, "trailing",
        "TrailingDataError", ok + b"\x00")
    s.n("n_trailing_section_header", "a complete empty ancillary section after the "
        "Section_Count sections", SPEC, "trailing", "TrailingDataError",
        ok + W.section(0x8A, 0, 0, b""))
    # -- 9. layout
    s.n("n_unknown_critical_type_4", "an unknown critical Section_Type 0x04 at the end",
        SPEC, "unknown-critical", "UnsupportedVersionError",
        base(after=[W.section(0x04, 0, 0, b"")]))
    s.n("n_unknown_critical_type_0", "Section_Type 0x00 (critical, unknown) first", SPEC,
        "unknown-critical", "UnsupportedVersionError",
        base(before=[W.section(0x00, 0, 0, b"")]))
    s.n("n_critical_order", "label stream before index stream", SPEC, "critical-order",
        "FormatError", base(order=[0, 2, 1, 3]))
    s.n("n_class_table_after_streams", "class table after the label stream", SPEC,
        "critical-order", "FormatError", base(order=[1, 2, 0, 3]))
    s.n("n_duplicate_index_stream", "two identical index stream sections", SPEC,
        "critical-order", "FormatError", W.build(IDX, LAB, 20, 3, order=[0, 0, 1]))
    s.n("n_duplicate_class_table", "two class tables", SPEC, "critical-order",
        "FormatError", base(order=[0, 0, 1, 2, 3]))
    s.n("n_duplicate_metadata", "two identical metadata sections, both valid", SPEC,
        "metadata-once", "FormatError", base(order=[0, 1, 2, 3, 3]), flags=["Q5"])
    s.n("n_duplicate_metadata_apart", "a metadata section first and another last", SPEC,
        "metadata-once", "FormatError", base(order=[3, 0, 1, 2, 3]), flags=["Q5"])
    for which, name in ((0, "class_table"), (1, "index"), (2, "label"), (3, "metadata")):
        for bit in (1, 7):
            if bit == 7 and which in (1, 2):
                continue
            s.n(f"n_{name}_flags_bit{bit}", f"{name} Section_Flags reserved bit {bit} set",
                SPEC, "section-flags-reserved", "FormatError",
                edit_section(ok, which, flags=1 << bit))
    s.n("n_class_table_mode_1", "class table Section_Mode 1", SPEC, "mode-zero",
        "FormatError", edit_section(ok, 0, mode=1))
    s.n("n_metadata_mode_1", "metadata Section_Mode 1", SPEC, "mode-zero", "FormatError",
        edit_section(ok, 3, mode=1))
    s.n("n_unknown_index_mode_4", "index Section_Mode 4 (2.0 defines 0-3)", SPEC,
        "unknown-mode", "UnsupportedVersionError", edit_section(ok, 1, mode=4))
    s.n("n_unknown_index_mode_255", "index Section_Mode 255", SPEC, "unknown-mode",
        "UnsupportedVersionError", edit_section(ok, 1, mode=255))
    s.n("n_unknown_label_mode_3", "label Section_Mode 3 (2.0 defines 0-2; 1.3's rans id)",
        SPEC, "unknown-mode", "UnsupportedVersionError", edit_section(ok, 2, mode=3))
    s.n("n_missing_index_stream", "no index stream section", SPEC, "missing-stream",
        "FormatError", base(order=[0, 2, 3]))
    s.n("n_missing_label_stream", "no label stream section", SPEC, "missing-stream",
        "FormatError", base(order=[0, 1, 3]))
    s.n("n_only_ancillary", "only two unknown ancillary sections: no stream at all",
        SPEC, "missing-stream", "FormatError",
        W.build(IDX, LAB, 20, 3, before=[UNKNOWN, UNKNOWN], order=[0, 1]))
