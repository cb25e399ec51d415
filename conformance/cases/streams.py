"""SPEC.md "Index stream modes" and "Label stream modes", together: every index mode with
every label mode, raw and Zstd-wrapped, and k = 0, 1, N for each mode."""
from ..writer.index_modes import NAMES as INAMES
from ..writer.label_modes import NAMES as LNAMES

SPEC = "4. Index stream modes; 5. Label stream modes"
IDX = [0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 34, 62]
LAB = [1, 1, 1, 0, 3, 3, 2, 0, 0, 1, 2, 3]


def tag(im, lm, iz=False, lz=False):
    return (f"{INAMES[im]}{'_zstd' if iz else ''}_{LNAMES[lm]}{'_zstd' if lz else ''}"
            .replace("-", "_"))


def define(s):
    for im in INAMES:
        for lm in LNAMES:
            s.y(f"y_{tag(im, lm)}", f"index {INAMES[im]}, labels {LNAMES[lm]}, raw bodies "
                "(N = 63, k = 12, C = 4)", SPEC, IDX, LAB, 63, 4, imode=im, lmode=lm,
                flags=["ModeMatrix"])
            both = (im + lm) % 2 == 0
            s.y(f"y_{tag(im, lm, both, not both)}", f"index {INAMES[im]}"
                f"{' Zstd-wrapped' if both else ''}, labels {LNAMES[lm]}"
                f"{'' if both else ' Zstd-wrapped'} (frames of one raw block)", SPEC, IDX, LAB,
                63, 4, imode=im, lmode=lm, iz="raw" if both else None,
                lz=None if both else "raw", flags=["ModeMatrix"])
    for im in INAMES:
        for lm in LNAMES:
            if (im + lm) % 2:
                continue
            s.y(f"y_k0_{tag(im, lm)}", f"k = 0: every stream body is empty (index "
                f"{INAMES[im]}, labels {LNAMES[lm]})", SPEC, [], [], 10, 5, imode=im, lmode=lm,
                flags=["EdgeK"] + (["Q8"] if 3 in (im,) or lm == 2 else []))
        s.y(f"y_k1_first_{INAMES[im].replace('-', '_')}", f"k = 1, index 0 ({INAMES[im]}; "
            f"labels {LNAMES[im % 3]})", SPEC, [0], [4], 1000, 5, imode=im, lmode=im % 3,
            flags=["EdgeK"])
        s.y(f"y_k1_last_{INAMES[im].replace('-', '_')}", f"k = 1, index N - 1 "
            f"({INAMES[im]}; labels {LNAMES[(im + 1) % 3]})", SPEC, [999], [0], 1000, 5,
            imode=im, lmode=(im + 1) % 3, flags=["EdgeK"])
        s.y(f"y_k_eq_n_{INAMES[im].replace('-', '_')}", f"k = N = 50 ({INAMES[im]}, every gap "
            f"0; labels {LNAMES[(im + 2) % 3]})", SPEC, list(range(50)),
            [j % 3 for j in range(50)], 50, 3, imode=im, lmode=(im + 2) % 3, flags=["EdgeK"])
        s.y(f"y_n1_{INAMES[im].replace('-', '_')}", f"N = 1, k = 1, C = 1 ({INAMES[im]}, "
            f"labels {LNAMES[im % 3]})", SPEC, [0], [0], 1, 1, imode=im, lmode=im % 3,
            flags=["EdgeN", "EdgeC"])
