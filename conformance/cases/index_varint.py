"""SPEC.md "4.2 Index mode 1: varint": k varint gaps, nothing else."""
from ..writer import container as W
from ..writer.bits import varint
from .common import IDX, LAB, base

SPEC = "4.2 Index mode 1: varint"


def define(s):
    n40 = 2**40
    s.y("y_varint_n2p40_max_gap", f"N = 2^40: indices 0 and N - 1 (gap 2^40 - 2, a "
        f"{len(varint(n40 - 2))}-byte varint)", SPEC, [0, n40 - 1], [1, 0], n40, 2,
        flags=["EdgeN", "MaxGap"])
    s.y("y_varint_long_gaps", "gaps of 1, 2, 3, 4 and 5 varint bytes", SPEC,
        [0, 200, 20000, 2_200_000, 300_000_000, 50_000_000_000], [0, 1, 0, 1, 0, 1],
        10**11, 2)
    s.n("n_varint_index_eq_n", "last gap 10 instead of 9: index 20 = N", SPEC, "index-lt-n",
        "FormatError", base(ibody=bytes([2, 0, 0, 4, 10])))
    s.n("n_varint_extra_gap", "a 6th gap after the k-th index (N = 200: 6 bytes within the "
        "bound 5 x 2 = 10)", SPEC, "stream-end", "FormatError",
        W.build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 4, 9, 1])))
    s.n("n_varint_truncated", "the stream ends inside the last gap (89 with no next byte; "
        "N = 200)", SPEC, "stream-truncated", "TruncatedError",
        W.build(IDX, LAB, 200, 3, ibody=bytes([2, 0, 0, 4, 0x89])))
    s.n("n_varint_short", "4 gaps for k = 5", SPEC, "stream-truncated", "TruncatedError",
        base(ibody=bytes([2, 0, 0, 4])))
    s.n("n_varint_over_bound", "6 bytes for k = 5, N = 20: above the raw size bound 5 x 1",
        SPEC, "raw-bound", "FormatError", base(ibody=bytes([2, 0, 0, 4, 9, 0])))
    s.n("n_varint_k0_nonempty", "k = 0 with one 00 byte", SPEC, "raw-bound", "FormatError",
        W.build([], [], 20, 3, ibody=b"\x00"))
