"""SPEC.md "2. Conventions": the varint rule (Q14), in the header, a section and a stream."""
from ..writer import container as W
from ..writer.bits import varint, varint_long
from .common import IDX, LAB, NAMES, base

SPEC = "2. Conventions (varint rule)"


def define(s):
    n20 = varint_long(20, 2)
    s.n("n_varint_nonminimal_pool_size", f"Pool_Size 20 written as the 2-byte varint "
        f"{n20.hex(' ')} (last byte 0x00): header syntax", SPEC, "varint-minimal",
        "FormatError", base(hdr={"N": n20}), flags=["Q14"])
    ten = varint_long(3, 10)
    s.n("n_varint_ten_bytes_item_count", f"Item_Count 3 written in 10 bytes "
        f"({ten.hex(' ')}): the 9th byte has the continuation bit, no value < 2^63 needs a "
        "10th", SPEC, "varint-length", "FormatError",
        W.build(IDX[:3], LAB[:3], 20, 3, hdr={"k": ten}), flags=["Q14"])
    big = bytes([0xFF] * 8 + [0xFF, 0x01])
    s.n("n_varint_2p64_minus_1_class_count", f"Class_Count as the 10-byte varint "
        f"{big.hex(' ')} (2^64 - 1, not below the 2^63 every varint stays under)", SPEC,
        "varint-length", "FormatError", base(hdr={"C": big}), flags=["Q14"])
    assert len(varint(2**20)) == 3
    s.n("n_varint_truncated_pool_size", "input ends after the first byte of the 3-byte "
        "Pool_Size varint (N = 2^20; byte 12 of the header)", SPEC, "truncated",
        "TruncatedError", W.build(IDX, LAB, 2**20, 3, names=NAMES)[:13], flags=["Q14"])
    nine = base(hdr={"N": bytes([0x80] * 9)})[:12 + 9]
    s.n("n_varint_nine_bytes_then_end", "Pool_Size's 9th byte (80, like the 8 before it) has "
        "the continuation bit and the input ends there: no byte left comes before the "
        "10th-byte rule", SPEC, "truncated", "TruncatedError", nine, flags=["Q14"])
    s.n("n_varint_over_limit_then_end", "varint index stream (N = 100, k = 1) of the one byte "
        "ff: the value 127 already reaches the gap's limit 99 when the stream ends, so the "
        "limit is the error", SPEC, "index-lt-n", "FormatError",
        W.build([5], [0], 100, 1, ibody=b"\xff"), flags=["Q14"])
    s.n("n_varint_nonminimal_section_length", "index stream Section_Length 5 written as "
        "85 00", SPEC, "varint-minimal", "FormatError",
        base(sec_over={1: {"length": varint_long(5, 2)}}), flags=["Q14"])
    s.n("n_varint_nonminimal_gap", "varint index stream: gap 4 written as 84 00 (N = 200, "
        "6 bytes within the raw size bound 5 x 2 = 10)", SPEC, "varint-minimal",
        "FormatError", W.build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 0x84, 0x00, 9])),
        flags=["Q14"])
    gap = varint_long(1, 10)
    s.n("n_varint_ten_bytes_gap", f"varint index stream (N = 2^40, k = 2): gap 1 of 10 "
        f"bytes ({gap.hex(' ')}), within the raw size bound 2 x 6 = 12", SPEC,
        "varint-length", "FormatError",
        W.build([0, 2], [0, 0], 2**40, 1, ibody=varint(0) + gap), flags=["Q14"])
    assert len(varint(2**40 - 1)) == 6
