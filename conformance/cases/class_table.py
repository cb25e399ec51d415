"""SPEC.md "3.4 Class table" (Q1)."""
from ..writer import container as W
from ..writer.bits import varint_long
from .common import IDX, LAB, NAMES, base

SPEC = "3.4 Class table"


def table_section(body, **kw):
    return W.section(W.CLASS_TABLE, 0, 0, body, **kw)


def define(s):
    s.y("y_class_names_unicode", "class names: CJK, emoji, a combining mark (not "
        "normalised), an empty name, a newline", SPEC, IDX, LAB, 20, 5,
        names=["猫", "🐕 dog", "e\u0301meu", "", "two\nlines"], flags=["Sections"])
    s.y("y_class_name_4096_bytes", "a class name of exactly 4,096 UTF-8 bytes (2,048 x "
        "'é')", SPEC, [3], [1], 5, 2, names=["a", "é" * 2048], flags=["Limits", "Q1"])
    s.y("y_class_table_zstd", "class table Zstd-wrapped", SPEC, IDX, LAB, 20, 3,
        names=NAMES, cz="raw", flags=["Sections"])
    s.n("n_class_name_4097_bytes", "a class name of 4,097 bytes: a body rule", SPEC,
        "class-name-length", "FormatError", W.build([3], [1], 5, 2, names=["a", "b" * 4097]),
        flags=["Q1"])
    s.n("n_class_name_4097_bytes_zstd", "the same 4,097-byte name in a Zstd-wrapped table",
        SPEC, "class-name-length", "FormatError",
        W.build([3], [1], 5, 2, names=["a", "b" * 4097], cz="raw"), flags=["Q1"])
    s.n("n_class_table_bad_utf8", "class name 1 is the byte ff", SPEC, "class-utf8",
        "FormatError", base(names=None, before=[table_section(b"\x03cat\x01\xff\x03dog")]))
    s.n("n_class_table_surrogate_utf8", "class name 1 is ed a0 80 (a UTF-16 surrogate "
        "in UTF-8, invalid)", SPEC, "class-utf8", "FormatError",
        base(names=None, before=[table_section(b"\x03cat\x03\xed\xa0\x80\x03dog")]))
    s.n("n_class_table_trailing", "a 4th entry for C = 3", SPEC, "class-trailing",
        "FormatError", base(names=None, before=[table_section(W.class_table(NAMES + ["x"]))]))
    s.n("n_class_table_short", "2 entries for C = 3: the body ends where entry 2's length "
        "is due", SPEC, "class-truncated", "TruncatedError",
        base(names=None, before=[table_section(W.class_table(NAMES[:2]))]))
    s.n("n_class_table_name_past_end", "entry 2 declares 5 bytes, 4 remain", SPEC,
        "class-truncated", "TruncatedError",
        base(names=None, before=[table_section(W.class_table(NAMES[:2]) + b"\x05\xc3\xa9me")]))
    s.n("n_class_name_length_nonminimal", f"entry 0's length 3 as {varint_long(3, 2).hex(' ')}",
        SPEC, "varint-minimal", "FormatError",
        base(names=None, before=[table_section(varint_long(3, 2) + b"cat"
                                               + W.class_table(NAMES[1:]))]), flags=["Q14"])
    bound = 2 * 4098
    s.n("n_class_table_over_bound_zstd", f"Zstd-wrapped class table (C = 2) with "
        f"Frame_Content_Size {bound + 1}, one above the raw size bound C x 4098 = {bound}",
        SPEC, "zstd-fcs-bound", "FormatError",
        W.build([3], [1], 5, 2, names=["a", "b"],
                cz=lambda raw: W.zstd_frame(raw, fcs=bound + 1)), flags=["Q2"])
