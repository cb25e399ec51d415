"""SPEC.md "5.1 Label mode 0: packed" (Q10): exactly ceil(k*w/8) bytes, w = bitlen(C - 1)."""
from ..writer import container as W
from ..writer.label_modes import packed
from .common import LAB, base

SPEC = "5.1 Label mode 0: packed"


def define(s):
    s.y("y_packed_c1_empty", "C = 1: fields of 0 bits, the body is empty for k = 3", SPEC,
        [1, 4, 6], [0, 0, 0], 8, 1, flags=["EdgeC"])
    s.y("y_packed_c3_nonpow2", "C = 3: 2-bit fields, value 3 never used", SPEC,
        list(range(0, 22, 2)), [2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 1], 22, 3, flags=["EdgeC"])
    good = packed(LAB, 3)
    assert good == bytes([0x90, 0x02])
    s.n("n_packed_label_ge_c", "label 4 is 3 with C = 3", SPEC, "label-lt-c", "FormatError",
        base(lbody=packed([0, 0, 1, 2, 3], 3)))
    s.n("n_packed_padding", "a padding bit set (10 bits used, 6 padding)", SPEC, "padding",
        "FormatError", base(lbody=bytes([0x90, 0x06])))
    s.n("n_packed_long", "3 bytes for k = 5, C = 3 (exactly 2): above the raw size bound",
        SPEC, "raw-bound", "FormatError", base(lbody=good + b"\x00"), flags=["Q10"])
    s.n("n_packed_short", "1 byte for k = 5, C = 3 (exactly 2 needed)", SPEC,
        "stream-truncated", "TruncatedError", base(lbody=good[:1]), flags=["Q10"])
    s.n("n_packed_k0_nonempty", "k = 0 with one 00 byte", SPEC, "raw-bound", "FormatError",
        W.build([], [], 20, 3, lbody=b"\x00"))
