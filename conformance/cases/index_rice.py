"""SPEC.md "4.3 Index mode 2: rice" (Q15): Rice-coded gaps, one parameter per 128 gaps."""
from ..writer import container as W
from ..writer.index_modes import rice_writer

SPEC = "4.3 Index mode 2: rice"
IDX6, LAB6 = [2, 3, 7, 20, 21, 22], [0, 0, 1, 0, 2, 0]     # the worked example


def r(body, idx=IDX6, lab=LAB6, N=32, C=3):
    return W.build(idx, lab, N, C, imode=2, lmode=1, ibody=body)


def cut_inside(w, start, end):
    """The stream of w cut to whole bytes so that it ends inside bits [start, end)."""
    nbytes = end // 8 if end % 8 else end // 8 - 1
    assert start <= 8 * nbytes < end, (start, end)
    return w.bytes()[:nbytes]


def spread(k, N, seed):
    out, x = set(), seed
    while len(out) < k:
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        out.add((x >> 16) % N)
    return sorted(out)


def define(s):
    ex = rice_writer(IDX6).bytes()
    assert ex.hex() == "1901e0", ex.hex()          # SPEC.md's worked example
    s.y("y_rice_spec_example", f"the rice worked example: N = 32, indices 2 3 7 20 21 22 "
        f"-> {ex.hex(' ')}", SPEC, IDX6, LAB6, 32, 3, imode=2, lmode=1, flags=["SpecExample"])
    dens = sorted(set(list(range(0, 256, 2)) + spread(128, 200000, 7)))
    dens += [dens[-1] + 1 + j for j in range(1, 150)]
    s.y("y_rice_blocks_varying", f"{len(dens)} gaps in blocks of different density "
        "(explicit r, then same_r)", SPEC, dens, [j % 7 for j in range(len(dens))],
        dens[-1] + 5, 7, imode=2, lmode=1, flags=["Unusual"])
    n40 = 2**40
    s.y("y_rice_n2p40_max_gap", "N = 2^40: indices 0 and N - 1 (r = 39 for the largest "
        "gap)", SPEC, [0, n40 - 1], [1, 0], n40, 2, imode=2, lmode=1, flags=["EdgeN", "MaxGap"])
    s.y("y_rice_nonoptimal_r", "r = 5 for gaps that want r = 0", SPEC, IDX6, LAB6, 32, 3,
        imode=2, lmode=1, ibody=rice_writer(IDX6, rs=[5]).bytes(), flags=["Unusual"])
    same = list(range(0, 600, 2))
    s.y("y_rice_same_r0_repeat", "same_r = 0 with the r the block would inherit (block 0 "
        "writes r = 0 explicitly, block 2 repeats r = 3)", SPEC, same, [1] * 300, 600, 2,
        imode=2, lmode=1, ibody=rice_writer(same, rs=[0, 3, 3], explicit={0, 2}).bytes(),
        flags=["Unusual"])
    s.y("y_rice_r47", "r = 47 (the largest allowed) for small gaps, N = 2^40", SPEC,
        [5, 6, 100], [0, 1, 0], n40, 2, imode=2, lmode=1,
        ibody=rice_writer([5, 6, 100], rs=[47]).bytes(), flags=["Unusual"])
    s.y("y_rice_long_unary", "r = 0 and a gap of 5,000 (5,000 zero bits)", SPEC,
        [3, 5004, 5005], [0, 1, 1], 10000, 2, imode=2, lmode=1,
        ibody=rice_writer([3, 5004, 5005], rs=[0]).bytes(), flags=["Unusual"])
    s.y("y_rice_k0", "k = 0: an empty rice body (its raw size bound is 0 bytes)", SPEC,
        [], [], 32, 3, imode=2, lmode=1, flags=["Q15", "EdgeK"])
    # -- must reject
    s.n("n_rice_r48", "block 0 has r = 48", SPEC, "rice-r", "FormatError",
        r(rice_writer(IDX6, rs=[48]).bytes()))
    s.n("n_rice_r63", "block 1 has r = 63 (k = 130)", SPEC, "rice-r", "FormatError",
        r(rice_writer(list(range(130)), rs=[0, 63]).bytes(), list(range(130)), [0] * 130,
          200, 1))
    s.n("n_rice_gap_past_n", "last gap 10 makes index 32 = N (r = 0: the quotient is past "
        "the limit)", SPEC, "index-lt-n", "FormatError",
        r(rice_writer(None, gaps=[2, 0, 3, 12, 0, 10], rs=[0]).bytes()))
    s.n("n_rice_gap_past_n_low_bits", "last gap 10 makes index 32 = N (r = 2: the quotient "
        "fits, the low bits do not)", SPEC, "index-lt-n", "FormatError",
        r(rice_writer(None, gaps=[2, 0, 3, 12, 0, 10], rs=[2]).bytes()))
    s.n("n_rice_trailing_byte", "a 00 byte after the stream", SPEC, "stream-end",
        "FormatError", r(ex + b"\x00"))
    w5 = rice_writer(IDX6[:5])
    used = len(w5.bits) % 8
    assert used
    s.n("n_rice_padding", f"the last padding bit set ({len(w5.bits)} bits, "
        f"{8 - used} padding)", SPEC, "padding", "FormatError",
        r(w5.bytes(pad=1 << (7 - used)), IDX6[:5], LAB6[:5]))
    w = rice_writer([3, 500], rs=[0])
    s.n("n_rice_trunc_unary", "the stream ends inside the 496 zero bits of gap 1", SPEC,
        "stream-truncated", "TruncatedError", r(cut_inside(w, 6, 502), [3, 500], [0, 0],
                                                1000, 1))
    w = rice_writer(None, gaps=[2, 0, 3, 12, 0, 9], rs=[6])
    s.n("n_rice_trunc_low_bits", "the stream ends inside the 6 low bits of gap 5", SPEC,
        "stream-truncated", "TruncatedError",
        r(cut_inside(w, len(w.bits) - 6, len(w.bits)), [2, 3, 7, 20, 21, 31]))
    ix = list(range(203, 331)) + [500, 501]
    w = rice_writer(ix, rs=[0, 5])
    at = len(rice_writer(ix[:128], rs=[0]).bits) + 1
    s.n("n_rice_trunc_r", "the stream ends inside the 6-bit r of block 1", SPEC,
        "stream-truncated", "TruncatedError", r(cut_inside(w, at, at + 6), ix, [0] * 130,
                                                1000, 1))
    ix = [7] + list(range(8, 135)) + [136, 140]
    w = rice_writer(ix, rs=[0, 0])
    assert len(w.bits) > 136 and w.bits[136] == 1
    s.n("n_rice_trunc_same_r", "the stream ends right before same_r of block 1 (block 0 "
        "fills 17 bytes exactly)", SPEC, "stream-truncated", "TruncatedError",
        r(w.bytes()[:17], ix, [0] * 130, 1000, 1))
    s.n("n_rice_empty_body", "k = 6 with an empty body", SPEC, "stream-truncated",
        "TruncatedError", r(b""))
    s.n("n_rice_k0_nonempty", "k = 0 with a 1-byte body: above the raw size bound 0 (not "
        "ceil(N/8))", SPEC, "raw-bound", "FormatError",
        W.build([], [], 32, 3, imode=2, lmode=1, ibody=b"\x00"), flags=["Q15"])
