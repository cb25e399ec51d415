"""SPEC.md "4.1 Index mode 0: bitmap" (Q10): exactly ceil(N/8) bytes for k >= 1, empty at
k = 0."""
from ..writer import container as W
from ..writer.index_modes import bitmap
from .common import IDX, LAB

SPEC = "4.1 Index mode 0: bitmap"


def b(body, idx=IDX, lab=LAB, N=20, **kw):
    return W.build(idx, lab, N, 3, imode=0, ibody=body, **kw)


def define(s):
    s.y("y_bitmap_n13_k13", "k = N = 13: 3 used bits in the last byte", SPEC,
        list(range(13)), [1] * 13, 13, 2, imode=0, flags=["EdgeK"])
    s.y("y_bitmap_max_gap", "indices 0 and N - 1 = 4095", SPEC, [0, 4095], [1, 1], 4096, 2,
        imode=0, flags=["MaxGap"])
    s.y("y_bitmap_k0_n2p40", "k = 0 with N = 2^40: the body is empty (not 2^37 zero "
        "bytes)", SPEC, [], [], 2**40, 2, imode=0, flags=["EdgeK", "EdgeN"])
    good = bitmap(IDX, 20)
    assert good == bytes([0x1C, 0x02, 0x08])
    s.n("n_bitmap_bit_past_n", "bit 21 set instead of 19 (a padding bit, N = 20)", SPEC,
        "index-lt-n", "FormatError", b(bytes([0x1C, 0x02, 0x20])))
    s.n("n_bitmap_count_high", "6 bits set for k = 5", SPEC, "bitmap-count", "FormatError",
        b(bytes([0x1D, 0x02, 0x08])))
    s.n("n_bitmap_count_low", "4 bits set for k = 5", SPEC, "bitmap-count", "FormatError",
        b(bytes([0x1C, 0x02, 0x00])))
    s.n("n_bitmap_long", "4 bytes for N = 20 (exactly 3): above the raw size bound", SPEC,
        "raw-bound", "FormatError", b(good + b"\x00"), flags=["Q10"])
    s.n("n_bitmap_short", "2 bytes for N = 20 (exactly 3 needed)", SPEC, "stream-truncated",
        "TruncatedError", b(good[:2]), flags=["Q10"])
    s.n("n_bitmap_empty_k5", "an empty body for k = 5", SPEC, "stream-truncated",
        "TruncatedError", b(b""), flags=["Q10"])
    s.n("n_bitmap_k0_nonempty", "k = 0 with the 3 zero bytes format 1.3 wrote: above the "
        "raw size bound 0", SPEC, "raw-bound", "FormatError",
        W.build([], [], 20, 3, imode=0, ibody=bytes(3)))
