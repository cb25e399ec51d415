"""SPEC.md "4.4 Index mode 3: ctx-rans" and the ctx-rans shared layout (segments, tables,
directory, word areas with R = 1 lane below 2048 items, else 4; Q3, Q4, Q7, Q8)."""
from ..writer import container as W
from ..writer.index_modes import ctx_rans
from ..writer.label_modes import ctx_rans as ctx_labels
from ..writer.bits import varint_long
from ..writer.rans import RANS_L as L
from ..writer.rans import words_bytes

SPEC = "4.4 Index mode 3: ctx-rans"
SEGMENTS, WORDS = "6.4 Segmented streams", "6.3 rANS word areas"
TABLES = "6.2 rANS frequency tables"
EXAMPLE = ("01 85 00 80 d4 06 00 00 1a 00 04 50 03 00 00 05 00 08 01 0e 00 00 00 10 00 00 00 "
           "02")                                  # SPEC.md 11.2
IDX6, LAB6 = [2, 3, 7, 20, 21, 22], [0, 0, 1, 0, 2, 0]
# synset-like blocks: 8 blocks of 100 kept items (gap 3 inside, ~700 between), C = 101
BLOCKS = [b * 1000 + j for b in range(8) for j in range(0, 300, 3)]
BLAB = [(b * 37) % 101 if j % 23 else (b * 11 + j) % 101 for b in range(8) for j in range(100)]


def wide(k, seed=1):
    """k indices with varied gaps (0..40), labels in runs: enough items for R = 4."""
    idx, x, i = [], seed, -1
    for _ in range(k):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        i += 1 + (x >> 33) % 41 * ((x >> 20) % 3 == 0)
        idx.append(i)
    lab = [(j // 17 + (j % 13 == 0)) % 11 for j in range(k)]
    return idx, lab


def x(body, idx=IDX6, lab=LAB6, N=32, C=3, lmode=1):
    return W.build(idx, lab, N, C, imode=3, lmode=lmode, ibody=body)


def first_segment(fn):
    def edit(data):
        data[0] = fn(data[0])
    return edit


def define(s):
    good = ctx_rans(IDX6, 32)
    assert good.hex(" ") == EXAMPLE, good.hex(" ")
    s.y("y_ctx_index_example", f"the ctx-rans index example: N = 32, indices 2 3 7 20 21 "
        f"22, one segment, one lane: {len(good)} bytes", SPEC, IDX6, LAB6, 32, 3, imode=3,
        lmode=1, flags=["SpecExample"])
    n40 = 2**40
    s.y("y_ctx_index_max_gap", "N = 2^40: indices 0 and N - 1 (gap 2^40 - 2: class 78, 38 "
        "raw bits)", SPEC, [0, n40 - 1], [1, 1], n40, 2, imode=3, lmode=2,
        flags=["EdgeN", "MaxGap"])
    s.y("y_ctx_blocks", "synset-like blocks (k = 800, C = 101), one segment", SPEC, BLOCKS,
        BLAB, 8000, 101, imode=3, lmode=2)
    for S in (2, 3, 7):
        s.y(f"y_ctx_blocks_s{S}", f"the blocks in {S} segments (the encoder writes 1 below "
            "2^17 items): bases, fresh contexts and lanes per segment", SPEC, BLOCKS, BLAB,
            8000, 101, imode=3, lmode=2, ibody=ctx_rans(BLOCKS, 8000, S=S),
            lbody=ctx_labels(BLAB, 101, BLOCKS, S=S), flags=["Unusual"])
    s.y("y_ctx_s_eq_k", "Segment_Count = k = 6: one item per segment", SPEC, IDX6, LAB6,
        32, 3, imode=3, lmode=2, ibody=ctx_rans(IDX6, 32, S=6),
        lbody=ctx_labels(LAB6, 3, IDX6, S=6), flags=["Unusual", "Limits"])
    many = list(range(0, 256, 4))
    mlab = [(j // 5) % 7 for j in range(64)]
    s.y("y_ctx_s64", "Segment_Count = 64, the largest allowed", SPEC, many, mlab, 256, 7,
        imode=3, lmode=2, ibody=ctx_rans(many, 256, S=64),
        lbody=ctx_labels(mlab, 7, many, S=64), flags=["Unusual", "Limits"])
    p10 = (10, [0, 2, 3], [512, 256, 256])
    s.y("y_ctx_p10", "context 0's table with P = 10, the limit (the encoder picks P = 2)",
        SPEC, IDX6, LAB6, 32, 3, imode=3, lmode=1, ibody=ctx_rans(IDX6, 32, override={0: p10}),
        flags=["Unusual", "Limits"])
    s.y("y_ctx_segments_differ", "index stream in 2 segments, label stream in 5: each "
        "stream's segments are its own", SPEC, BLOCKS, BLAB, 8000, 101, imode=3, lmode=2,
        ibody=ctx_rans(BLOCKS, 8000, S=2), lbody=ctx_labels(BLAB, 101, BLOCKS, S=5),
        flags=["Unusual"])
    s.y("y_ctx_unused_table", "context 15's table is present (P = 0, class 0) though no "
        "gap uses it", SPEC, IDX6, LAB6, 32, 3, imode=3, lmode=1,
        ibody=ctx_rans(IDX6, 32, override={15: (0, [0], [1])}), flags=["Unusual"])
    idx, lab = wide(2100)
    s.y("y_ctx_r4_k2100", f"k = 2,100 >= 2048 in one segment: 4 lanes (N = {idx[-1] + 1})",
        SPEC, idx, lab, idx[-1] + 1, 11, imode=3, lmode=2, flags=["Lanes"])
    idx, lab = wide(2047)
    s.y("y_ctx_r1_k2047", "k = 2,047 in one segment: 1 lane (the largest such area)", SPEC,
        idx, lab, idx[-1] + 1, 11, imode=3, lmode=2, flags=["Lanes"])
    idx, lab = wide(4095, 3)
    s.y("y_ctx_lanes_2047_2048", "k = 4,095 in 2 segments: segment 0 holds 2,047 items (1 "
        "lane), segment 1 holds 2,048 (4 lanes), in both streams", SPEC, idx, lab,
        idx[-1] + 1, 11, imode=3, lmode=2, ibody=ctx_rans(idx, idx[-1] + 1, S=2),
        lbody=ctx_labels(lab, 11, idx, S=2), flags=["Lanes", "Unusual"])
    # -- must reject: the shared layout
    s.n("n_ctx_segment_count_0", "Segment_Count 0", SEGMENTS, "ctx-segment-count", "FormatError",
        x(b"\x00" + good[1:]))
    s.n("n_ctx_segment_count_gt_k", "Segment_Count 7 with k = 6", SEGMENTS, "ctx-segment-count",
        "FormatError", x(b"\x07" + good[1:]))
    s.n("n_ctx_segment_count_65", "Segment_Count 65 with k = 100 (the rest as for 1 "
        "segment)", SEGMENTS, "ctx-segment-count", "FormatError",
        x(b"\x41" + ctx_rans(list(range(100)), 100)[1:], list(range(100)), [0] * 100, 100, 1,
          lmode=0))
    s.n("n_ctx_symbol_count_over_alphabet", "context 0's symbol_count_minus_1 = 97: D = 98 "
        "> the 97 classes, checked before any entry", TABLES, "rans-symbol-count",
        "FormatError", x(ctx_rans(IDX6, 32, d_over={0: 97})), flags=["Q7"])
    s.n("n_ctx_precision_11", "context 0's table with P = 11 (limit max(10, bitlen(96)) = "
        "10); the words are coded with it", SEGMENTS, "ctx-precision", "FormatError",
        x(ctx_rans(IDX6, 32, override={0: (11, [0, 2, 3], [1024, 512, 512])})))
    s.n("n_ctx_absent_table", "context 3's present bit cleared (gap 4 needs it)", SPEC,
        "ctx-absent-table", "FormatError", x(ctx_rans(IDX6, 32, present_over={3: 0})))
    s.n("n_ctx_table_padding", "a padding bit after the tables", SEGMENTS, "padding",
        "FormatError", x(ctx_rans(IDX6, 32, pad=1)))
    s.n("n_ctx_zero_frequency", "context 0 lists class 2 with frequency 0", TABLES,
        "rans-zero-frequency", "FormatError",
        x(ctx_rans(IDX6, 32, write_over={0: (2, [0, 2, 3], [4, 0, 0])})))
    s.n("n_ctx_sum", "context 0's frequencies sum to 4 with P = 3", TABLES, "rans-sum",
        "FormatError", x(ctx_rans(IDX6, 32, write_over={0: (3, [0, 2, 3], [2, 1, 1])})))
    area = _word_area(IDX6)
    s.n("n_ctx_directory_nonminimal", f"word_bytes {area} written as the 2-byte varint "
        f"{varint_long(area, 2).hex(' ')}", SEGMENTS, "varint-minimal", "FormatError",
        x(ctx_rans(IDX6, 32, rows={0: (None, varint_long(area, 2), None)})), flags=["Q14"])
    s.n("n_ctx_trailing", "a 00 byte after the segment data", SEGMENTS, "trailing",
        "FormatError", x(good + b"\x00"))
    s.n("n_ctx_truncated", "the last byte of the segment data missing", SEGMENTS,
        "stream-truncated", "TruncatedError", x(good[:-1]))
    # -- word areas (R = 1 here: 8 bytes of state)
    s.n("n_ctx_word_area_odd", f"word_bytes {area - 1} (the area is {area} bytes), "
        "raw_bytes 2 keeps the total: not a multiple of 4", WORDS, "rans-word-area",
        "FormatError", x(ctx_rans(IDX6, 32, rows={0: (None, area - 1, 2)})))
    s.n("n_ctx_word_area_4_bytes", "word_bytes 4: a multiple of 4, shorter than 8 x R = 8",
        WORDS, "rans-word-area", "TruncatedError",
        x(ctx_rans(IDX6, 32, rows={0: (None, 4, None)},
                   edit=first_segment(lambda d: [d[0][:4], d[1]]))), flags=["Q3"])
    s.n("n_ctx_word_area_5_bytes", "word_bytes 5: shorter than 8 and not a multiple of 4 "
        "(the multiple-of-4 check comes first)", WORDS, "rans-word-area", "FormatError",
        x(ctx_rans(IDX6, 32, rows={0: (None, 5, None)},
                   edit=first_segment(lambda d: [d[0][:5], d[1]]))), flags=["Q4"])
    s.n("n_ctx_initial_state", "the one lane's initial state is 2^31 - 1", WORDS,
        "rans-initial-state", "FormatError",
        x(ctx_rans(IDX6, 32, edit=first_segment(lambda d: [_state(d[0], 0, L - 1), d[1]]))))
    s.n("n_ctx_final_state", "the lane coded from L + 7, so it ends there", WORDS,
        "rans-final-state", "FormatError", x(ctx_rans(IDX6, 32, x0={0: [L + 7]})))
    s.n("n_ctx_unconsumed_word", "a word after segment 0's words", WORDS, "rans-unconsumed",
        "FormatError", x(ctx_rans(IDX6, 32, rows={0: (None, area + 4, None)},
                                  edit=first_segment(lambda d: [d[0] + bytes(4), d[1]]))))
    idx, lab = wide(2100)
    s.n("n_ctx_r4_initial_state", "k = 2,100 (4 lanes): lane 2's initial state is 2^63",
        WORDS, "rans-initial-state", "FormatError",
        x(ctx_rans(idx, idx[-1] + 1,
                   edit=first_segment(lambda d: [_state(d[0], 2, 1 << 63), d[1]])),
          idx, lab, idx[-1] + 1, 11))
    s.n("n_ctx_r4_word_area_28_bytes", "k = 2,100 (4 lanes): word_bytes 28, a multiple of "
        "4 shorter than 8 x R = 32", WORDS, "rans-word-area", "TruncatedError",
        x(ctx_rans(idx, idx[-1] + 1, rows={0: (None, 28, None)},
                   edit=first_segment(lambda d: [d[0][:28], d[1]])), idx, lab, idx[-1] + 1,
          11), flags=["Q3"])
    # -- index rules
    s.n("n_ctx_gap_past_n", "the stream of N = 32 in a payload with N = 22: gap 0 after "
        "index 21 makes index 22 = N", SPEC, "index-lt-n", "FormatError", x(good, N=22))
    s.n("n_ctx_raw_long", "a 00 byte after the raw area of segment 0", SPEC, "trailing",
        "FormatError", x(ctx_rans(IDX6, 32, rows={0: (None, None, 2)},
                                  edit=first_segment(lambda d: [d[0], d[1] + b"\x00"]))))
    s.n("n_ctx_raw_padding", "a padding bit in the raw area", SPEC, "padding", "FormatError",
        x(ctx_rans(IDX6, 32, raw_pad={0: 1})))
    s.n("n_ctx_raw_truncated", "segment 0 without its raw area (gap 3 needs a raw bit)",
        SPEC, "stream-truncated", "TruncatedError",
        x(ctx_rans(IDX6, 32, rows={0: (None, None, 0)},
                   edit=first_segment(lambda d: [d[0], b""]))))
    idx40, lab40 = list(range(0, 400, 10)), [j % 3 for j in range(40)]
    s.n("n_ctx_base_past_n", "segment 1's base 399 with N = 400 (base above N - 2)", SPEC,
        "ctx-base", "FormatError",
        x(ctx_rans(idx40, 400, S=2, rows={1: (399, None, None)}), idx40, lab40, 400))
    s.n("n_ctx_base_mismatch", "segment 1's base 189, segment 0 ends at 190", SPEC,
        "ctx-base", "FormatError",
        x(ctx_rans(idx40, 400, S=2, rows={1: (189, None, None)}), idx40, lab40, 400))
    idx, N, body, at = _range_error_at_renormalisation()
    s.n("n_ctx_gap_past_n_before_renorm", f"N = {N}: gap {at} makes index {N} = N, its "
        "decoding would read a renormalisation word, and the word area ends right there: "
        "the gap range is checked before the read", SPEC, "index-lt-n", "FormatError",
        x(body, idx, [0] * len(idx), N, 1, lmode=0), flags=["Q13"])
    s.n("n_ctx_index_k0_nonempty", "k = 0 with the body 01 (a Segment_Count byte): above "
        "the raw size bound 0", SPEC, "raw-bound", "FormatError",
        W.build([], [], 32, 3, imode=3, lmode=1, ibody=b"\x01"), flags=["Q8"])


def _state(area, lane, value):
    """The word area with lane `lane`'s initial state replaced by `value`."""
    return area[:8 * lane] + words_bytes([value & 0xFFFFFFFF, value >> 32]) + area[8 * lane + 8:]


def _word_area(indices):
    from ..writer.index_modes import ALPHABETS, ctx_index_segments
    from ..writer.rans import ctx_tables, ctx_words
    seg = ctx_index_segments(indices, 1)[0]
    tables = ctx_tables(seg[2], ALPHABETS)
    return len(ctx_words(seg[2], tables, seg[1]))


def _range_error_at_renormalisation():
    """Indices, a pool size N that the first gap n >= 1 with a renormalisation read takes
    to N, and the stream (coded for the real indices) cut right before that read."""
    idx, _ = wide(300, 5)
    pushes = []
    ctx_rans(idx, idx[-1] + 1, pushes=pushes)
    at = next(n for n in sorted(pushes) if idx[n] >= len(idx))
    cut = 8 + 4 * sum(1 for p in pushes if p < at)      # R = 1: one state, then the reads
    body = ctx_rans(idx, idx[-1] + 1, rows={0: (None, cut, None)},
                    edit=first_segment(lambda d: [d[0][:cut], d[1]]))
    return idx, idx[at], body, at
