"""SPEC.md "5.2 Label mode 1: rans" and the rANS engine (lanes: R = 1 below 2048 labels, else
4; Q3, Q4, Q7)."""
from ..writer import container as W
from ..writer.bits import Bits
from ..writer.label_modes import rans, rans_policy, rans_table, rans_words
from ..writer.rans import RANS_L as L
from ..writer.rans import quantize, table_bits, words_bytes

SPEC = "5.2 Label mode 1: rans"
TABLES, WORDS = "6.2 rANS frequency tables", "6.3 rANS word areas"
IDX6, LAB6 = [2, 3, 7, 20, 21, 22], [0, 0, 1, 0, 2, 0]
IDX12 = [0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 34, 62]
LAB12 = [1, 1, 1, 0, 3, 3, 2, 0, 0, 1, 2, 3]


def lr(body, idx=IDX6, lab=LAB6, N=32, C=3):
    return W.build(idx, lab, N, C, imode=2, lmode=1, lbody=body)


def runs_labels(k, C=5):
    return [(j // 7 + (j % 5 == 0)) % C for j in range(k)]


def define(s):
    ex = rans(LAB6, 3)
    P, sy, fr = rans_policy(LAB6)
    tab = rans_table(3, P, sy, fr)
    s.y("y_rans_example", f"C = 3, labels 0 0 1 0 2 0: P = {P}, f = {tuple(fr)}, one lane: "
        f"{len(ex)} bytes ({len(tab)}-byte table, {len(ex) - len(tab)}-byte word area)",
        SPEC, IDX6, LAB6, 32, 3, imode=2, lmode=1, flags=["SpecExample"])
    q24 = quantize([LAB12.count(v) for v in range(4)], 24)
    s.y("y_rans_p24", "precision 24 (the largest): many renormalisation words", SPEC, IDX12,
        LAB12, 63, 4, imode=2, lmode=1, lbody=rans(LAB12, 4, P=24, symbols=[0, 1, 2, 3],
                                                    freqs=q24), flags=["Unusual"])
    s.y("y_rans_pmin", "the smallest precision for 4 symbols (P = 2, every frequency 1)",
        SPEC, IDX12, LAB12, 63, 4, imode=2, lmode=1,
        lbody=rans(LAB12, 4, P=2, symbols=[0, 1, 2, 3], freqs=[1, 1, 1, 1]), flags=["Unusual"])
    s.y("y_rans_one_symbol_p0", "one present symbol (3 of 5), precision 0", SPEC,
        [0, 1, 2, 3], [3] * 4, 4, 5, imode=2, lmode=1,
        lbody=rans([3] * 4, 5, P=0, symbols=[3], freqs=[1]), flags=["Unusual"])
    s.y("y_rans_one_symbol_p24", "one present symbol with frequency 2^24", SPEC,
        [0, 1, 2, 3], [3] * 4, 4, 5, imode=2, lmode=1,
        lbody=rans([3] * 4, 5, P=24, symbols=[3], freqs=[1 << 24]), flags=["Unusual"])
    s.y("y_rans_rs31_rf31", "Rice parameters rs = rf = 31", SPEC, IDX12, LAB12, 63, 4,
        imode=2, lmode=1, lbody=rans(LAB12, 4, P=4, symbols=[0, 1, 2, 3],
                                     freqs=[5, 4, 3, 4], rs=31, rf=31), flags=["Unusual"])
    s.y("y_rans_rs0_rf0", "rs = rf = 0 (frequencies in unary), symbol gaps > 0", SPEC,
        [0, 1, 2, 3, 4], [1, 5, 5, 1, 9], 20, 10, imode=2, lmode=1,
        lbody=rans([1, 5, 5, 1, 9], 10, P=5, symbols=[1, 5, 9], freqs=[13, 11, 8], rs=0,
                   rf=0), flags=["Unusual"])
    s.y("y_rans_unused_symbols", "the table lists all 6 symbols, only 1 and 4 occur", SPEC,
        [0, 1, 2, 3], [1, 4, 4, 1], 4, 6, imode=2, lmode=1,
        lbody=rans([1, 4, 4, 1], 6, P=4, symbols=list(range(6)), freqs=[1, 5, 1, 2, 6, 1]),
        flags=["Unusual"])
    counts = [LAB12.count(v) for v in range(4)]
    aligned = next((P, f, rf) for P in range(2, 25) for f in [quantize(counts, P)]
                   for rf in range(32)
                   if len(table_bits(Bits(), 4, P, [0, 1, 2, 3], f, rf=rf).bits) % 8 == 0)
    s.y("y_rans_table_byte_aligned", f"a table of P = {aligned[0]}, rf = {aligned[2]} that "
        "ends on a byte boundary (no padding bits)", SPEC, IDX12, LAB12, 63, 4, imode=2,
        lmode=1, lbody=rans(LAB12, 4, P=aligned[0], symbols=[0, 1, 2, 3], freqs=aligned[1],
                            rf=aligned[2]), flags=["Unusual"])
    dom = [0] * 120 + [3] + [0] * 60 + [7] + [0] * 17 + [9]
    s.y("y_rans_dominant", "one symbol covers 197 of 200 labels", SPEC, list(range(200)),
        dom, 200, 10, imode=1, lmode=1, flags=["Unusual"])
    s.y("y_rans_c1_p0", "C = 1: one symbol, precision 0; the state never changes", SPEC,
        [1, 4, 6, 7], [0] * 4, 8, 1, imode=2, lmode=1, flags=["EdgeC"])
    for k in (2047, 2048):
        lab = runs_labels(k)
        body = rans(lab, 5)
        R = 1 if k < 2048 else 4
        s.y(f"y_rans_k{k}_r{R}", f"k = {k}: {R} lane{'s' if R > 1 else ''} ({len(body)}-byte "
            "body)", SPEC, list(range(k)), lab, k, 5, imode=1, lmode=1, flags=["Lanes"])
    # -- must reject: the table
    entries = [(0, 2), (0, 1), (0, 1)]
    words = words_bytes(rans_words(LAB6, 2, [0, 1, 2], [2, 1, 1]))
    assert (P, fr) == (2, [2, 1, 1]) and ex == tab + words
    assert ex.hex(" ") == "42 00 b2 05 58 00 00 00 80 00 00 00"     # SPEC.md 11.2

    def bad(P=2, entries=entries, words=words, pad=0, **kw):
        return lr(table_bits(Bits(), 3, P, None, None, entries=entries, **kw).bytes(pad)
                  + words)
    s.n("n_rans_precision_25", "precision 25", TABLES, "rans-precision", "FormatError",
        bad(P=25))
    s.n("n_rans_precision_31", "precision 31 (the field's largest value)", TABLES,
        "rans-precision", "FormatError", bad(P=31))
    s.n("n_rans_symbol_count_gt_c", "symbol_count_minus_1 = 3: D = 4 > C = 3, checked "
        "before any entry", TABLES, "rans-symbol-count", "FormatError", bad(d_field=3),
        flags=["Q7"])
    s.n("n_rans_symbol_ge_c", "the third symbol gap 1 makes symbol 3 with C = 3 (rs = 0)",
        TABLES, "label-lt-c", "FormatError", bad(entries=[(0, 2), (0, 1), (1, 1)], rs=0))
    s.n("n_rans_symbol_ge_c_low_bits", "symbol 3 with C = 3, caught in the low bits "
        "(rs = 1)", TABLES, "label-lt-c", "FormatError",
        bad(entries=[(0, 2), (0, 1), (1, 1)], rs=1))
    s.n("n_rans_zero_frequency", "frequency 0 for symbol 1 (the sum is still 4)", TABLES,
        "rans-zero-frequency", "FormatError", bad(entries=[(0, 2), (0, 0), (0, 2)]))
    s.n("n_rans_sum_over", "frequencies 2 2 1 pass 2^P = 4 at entry 2", TABLES, "rans-sum",
        "FormatError", bad(entries=[(0, 2), (0, 2), (0, 1)]))
    s.n("n_rans_sum_under", "frequencies 1 1 1 sum to 3, not 4", TABLES, "rans-sum",
        "FormatError", bad(entries=[(0, 1), (0, 1), (0, 1)]))
    s.n("n_rans_table_padding", "a table padding bit set", SPEC, "padding", "FormatError",
        bad(pad=0x01))
    s.n("n_rans_trunc_table", "the body ends inside the table (in rs)", SPEC,
        "stream-truncated", "TruncatedError", lr(tab[:1]))
    s.n("n_rans_empty_body", "k = 6 with an empty body", SPEC, "stream-truncated",
        "TruncatedError", lr(b""))
    # -- must reject: the word area
    s.n("n_rans_word_area_odd", f"a word area of {len(words) + 1} bytes (the "
        f"{len(words)}-byte area and a 00 byte): not a multiple of 4", WORDS, "rans-word-area",
        "FormatError", bad(words=words + b"\x00"))
    s.n("n_rans_word_area_4_bytes", "a word area of 4 bytes: a multiple of 4, shorter than "
        "8 x R = 8", WORDS, "rans-word-area", "TruncatedError", bad(words=words[:4]),
        flags=["Q3"])
    s.n("n_rans_word_area_5_bytes", "a word area of 5 bytes: shorter than 8 and not a "
        "multiple of 4 (that check comes first)", WORDS, "rans-word-area", "FormatError",
        bad(words=words[:5]), flags=["Q4"])
    s.n("n_rans_word_area_empty", "the table and no word area", WORDS, "rans-word-area",
        "TruncatedError", lr(tab), flags=["Q3"])
    s.n("n_rans_initial_state_low", "the lane's initial state is 2^31 - 1", WORDS,
        "rans-initial-state", "FormatError",
        bad(words=words_bytes([0x7FFFFFFF, 0]) + words[8:]))
    s.n("n_rans_initial_state_high", "the lane's initial state is 2^63", WORDS,
        "rans-initial-state", "FormatError", bad(words=words_bytes([0, 1 << 31]) + words[8:]))
    s.n("n_rans_unconsumed_word", "a word after the last one read", WORDS, "rans-unconsumed",
        "FormatError", bad(words=words + bytes(4)))
    s.n("n_rans_final_state", "the lane coded from 2^31 + 1: same labels, final state "
        "2^31 + 1", WORDS, "rans-final-state", "FormatError",
        bad(words=words_bytes(rans_words(LAB6, 2, [0, 1, 2], [2, 1, 1], x0=[L + 1]))))
    f24 = [2, 2**24 - 3, 1]
    w24 = rans_words(LAB6, 24, [0, 1, 2], f24)
    assert len(w24) > 2
    s.n("n_rans_trunc_words", f"P = 24: {len(w24) - 2} renormalisation words, the last "
        "missing", SPEC, "stream-truncated", "TruncatedError",
        bad(P=24, entries=[(0, f) for f in f24], words=words_bytes(w24[:-1])))
    s.n("n_rans_k0_nonempty", "k = 0 with an 8-byte body (one lane state 2^31)", SPEC,
        "raw-bound", "FormatError",
        W.build([], [], 32, 3, imode=2, lmode=1, lbody=words_bytes([L, 0])))
    # -- 4 lanes (k = 2048)
    k = 2048
    lab = runs_labels(k)
    P4, sy4, fr4 = rans_policy(lab)
    tab4 = rans_table(5, P4, sy4, fr4)
    w4 = rans_words(lab, P4, sy4, fr4)

    def wide(words):
        return lr(tab4 + words_bytes(words) if isinstance(words, list) else tab4 + words,
                  list(range(k)), lab, k, 5)
    s.n("n_rans_r4_word_area_28_bytes", "k = 2,048 (4 lanes): a word area of 28 bytes, "
        "shorter than 8 x R = 32", WORDS, "rans-word-area", "TruncatedError",
        wide(words_bytes(w4)[:28]), flags=["Q3"])
    s.n("n_rans_r4_word_area_30_bytes", "k = 2,048 (4 lanes): a word area of 30 bytes "
        "(not a multiple of 4, checked first)", WORDS, "rans-word-area", "FormatError",
        wide(words_bytes(w4)[:30]), flags=["Q4"])
    s.n("n_rans_r4_initial_state", "k = 2,048: lane 2's initial state is 2^31 - 1", WORDS,
        "rans-initial-state", "FormatError", wide(w4[:4] + [0x7FFFFFFF, 0] + w4[6:]))
    s.n("n_rans_r4_final_state", "k = 2,048: lane 3 coded from 2^31 + 5", WORDS,
        "rans-final-state", "FormatError",
        wide(rans_words(lab, P4, sy4, fr4, x0=[L, L, L, L + 5])))
