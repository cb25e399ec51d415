"""SPEC.md "5.3 Label mode 2: ctx-rans" (Q7, Q8, Q13): same/back/new events and literals
under static rANS, contexts from the decoded indices."""
from ..writer import container as W
from ..writer.label_modes import BACK, NEW, ctx_label_pairs, ctx_rans
from ..writer.rans import RANS_L as L

SPEC = "5.3 Label mode 2: ctx-rans"
EXAMPLE = ("01 85 00 64 4b 00 00 0a 00 04 00 40 01 00 00 00 00 40 21 00 d9 02 08 f8 02 00 00 "
           "00 02 00 00")                         # SPEC.md 11.2
IDX6, LAB6 = [2, 3, 7, 20, 21, 22], [0, 0, 1, 0, 2, 0]


def c(body, idx=IDX6, lab=LAB6, N=32, C=3):
    return W.build(idx, lab, N, C, imode=2, lmode=2, lbody=body)


def define(s):
    good = ctx_rans(LAB6, 3, IDX6)
    assert good.hex(" ") == EXAMPLE, good.hex(" ")
    pairs = ctx_label_pairs(LAB6, IDX6, 0, 6)
    s.y("y_ctx_labels_example", f"C = 3, indices 2 3 7 20 21 22, labels 0 0 1 0 2 0: "
        f"{len(pairs)} symbols {pairs}, one lane, {len(good)} bytes", SPEC, IDX6, LAB6, 32, 3,
        imode=2, lmode=2, flags=["SpecExample"])
    s.y("y_ctx_labels_k1", "k = 1: one literal, no event", SPEC, [7], [4], 10, 5, imode=2,
        lmode=2, flags=["EdgeK"])
    s.y("y_ctx_labels_c1", "C = 1, k = N = 40: a literal table of one symbol (P = 0), then "
        "only same events", SPEC, list(range(40)), [0] * 40, 40, 1, imode=3, lmode=2,
        flags=["EdgeC", "EdgeK"])
    c16 = 65536
    s.y("y_ctx_labels_c65536", "C = 65,536: the literal table's P limit is max(10, "
        "bitlen(C - 1)) = 16", SPEC, list(range(0, 40, 2)),
        [(j * 4099) % c16 for j in range(20)], 40, c16, imode=3, lmode=2, flags=["EdgeC"])
    gidx = [0]
    for e in range(21):
        gidx.append(gidx[-1] + (1 << e))
    glab = [(j // 3) % 2 if j % 5 else (j * 7) % 11 for j in range(len(gidx))]
    s.y("y_ctx_labels_every_bucket", "gaps 1, 2, 4, ..., 2^20: every gap bucket (15 "
        "capped six times); same, back and new events (C = 11)", SPEC, gidx, glab,
        gidx[-1] + 1, 11, imode=2, lmode=2, flags=["Unusual"])
    # -- must reject
    s.n("n_ctx_labels_segment_count_gt_k", "Segment_Count 7 with k = 6", SPEC,
        "ctx-segment-count", "FormatError", c(b"\x07" + good[1:]))
    s.n("n_ctx_labels_back_first", "label 1 as a back event (no earlier run)", SPEC,
        "ctx-back", "FormatError", c(ctx_rans(LAB6, 3, IDX6,
                                              pairs=[[(64, 0), (0, BACK)] + pairs[2:]])))
    s.n("n_ctx_labels_literal_eq_prev", "label 1 as a new event with literal 0, the previous "
        "label", SPEC, "ctx-canonical", "FormatError",
        c(ctx_rans(LAB6, 3, IDX6, pairs=[[(64, 0), (0, NEW), (64, 0)] + pairs[2:]])))
    s.n("n_ctx_labels_literal_eq_back", "label 3 as a new event with literal 0, the label "
        "before the run", SPEC, "ctx-canonical", "FormatError",
        c(ctx_rans(LAB6, 3, IDX6,
                   pairs=[pairs[:3] + [(64, 1), (3, NEW), (64, 0)] + pairs[5:]])))
    s.n("n_ctx_labels_event_symbol_count", "event context 0's symbol_count_minus_1 = 3: "
        "D = 4 > the 3 events, checked before any entry", SPEC, "rans-symbol-count",
        "FormatError", c(_with_d_field(LAB6, IDX6, 0, 3)), flags=["Q7"])
    s.n("n_ctx_labels_absent_literal_table", "the literal table's present bit cleared",
        SPEC, "ctx-absent-table", "FormatError",
        c(ctx_rans(LAB6, 3, IDX6, present_over={64: 0})))
    area = len(good) - _head_len(LAB6, IDX6) - 1       # the directory is 1 byte here
    s.n("n_ctx_labels_word_area_4_bytes", "word_bytes 4, shorter than 8 x R = 8", SPEC,
        "rans-word-area", "TruncatedError",
        c(ctx_rans(LAB6, 3, IDX6, sizes={0: 4}, edit=lambda d: d.__setitem__(0, d[0][:4]))),
        flags=["Q3"])
    s.n("n_ctx_labels_word_area_6_bytes", "word_bytes 6: not a multiple of 4 (checked "
        "before the length)", SPEC, "rans-word-area", "FormatError",
        c(ctx_rans(LAB6, 3, IDX6, sizes={0: 6}, edit=lambda d: d.__setitem__(0, d[0][:6]))),
        flags=["Q4"])
    s.n("n_ctx_labels_final_state", "the lane coded from L + 7", SPEC, "rans-final-state",
        "FormatError", c(ctx_rans(LAB6, 3, IDX6, x0={0: [L + 7]})))
    s.n("n_ctx_labels_directory_past_end", f"word_bytes {area + 4} for a {area}-byte area",
        SPEC, "stream-truncated", "TruncatedError", c(ctx_rans(LAB6, 3, IDX6,
                                                               sizes={0: area + 4})))
    s.n("n_ctx_labels_trailing", "a 00 byte after the segment data", SPEC, "trailing",
        "FormatError", c(good + b"\x00"))
    s.n("n_ctx_labels_k0_nonempty", "k = 0 with the body 01 (a Segment_Count byte, no "
        "table): above the raw size bound 0", SPEC, "raw-bound", "FormatError",
        W.build([], [], 32, 3, imode=2, lmode=2, lbody=b"\x01"), flags=["Q8"])
    idx, lab, body, at = _value_error_at_renormalisation()
    s.n("n_ctx_labels_value_before_renorm", f"a literal equal to the previous label (symbol "
        f"{at}) whose decoding would read a renormalisation word, and the word area ends "
        "right there: the canonical rule is checked before the read", SPEC, "ctx-canonical",
        "FormatError", W.build(idx, lab, idx[-1] + 1, 40, imode=1, lmode=2, lbody=body),
        flags=["Q13"])


def _head_len(lab, idx, d_over=None):
    """Bytes of Segment_Count and tables of a one-segment body (C = 3), optionally with
    other symbol_count_minus_1 fields."""
    return len(_head(lab, idx, d_over))


def _head(lab, idx, d_over=None):
    from ..writer.label_modes import alphabets
    from ..writer.rans import ctx_head, ctx_tables
    tables = ctx_tables(ctx_label_pairs(lab, idx, 0, len(lab)), alphabets(3))
    return ctx_head(1, tables, alphabets(3), d_over=d_over)


def _with_d_field(lab, idx, t, value):
    """The body with context t's symbol_count_minus_1 replaced by `value`."""
    return _head(lab, idx, {t: value}) + ctx_rans(lab, 3, idx)[_head_len(lab, idx):]


def _value_error_at_renormalisation():
    """Labels, indices, a non-canonical stream cut at the word the bad literal needs, and
    the bad symbol's position: the first label position j (a 'same' label) where coding
    it as a new event with literal = prev puts a renormalisation read on that literal."""
    k = 60
    idx = [4 * j + j % 3 for j in range(k)]
    lab = [(j * 17 + j // 3) % 40 for j in range(k)]
    for j in range(1, k):
        lab2 = lab[:j] + [lab[j - 1]] + lab[j + 1:]
        pairs = ctx_label_pairs(lab2, idx, 0, k)
        n = len(ctx_label_pairs(lab2, idx, 0, j))     # label j's event is symbol n
        assert pairs[n][1] == 0            # a same event
        bad = pairs[:n] + [(pairs[n][0], NEW), (64, lab2[j - 1])] + pairs[n + 1:]
        pushes = []
        ctx_rans(lab2, 40, idx, pairs=[bad], pushes=pushes)
        if n + 1 not in pushes:
            continue
        reads_before = sum(1 for p in pushes if p < n + 1)
        cut = 8 + 4 * reads_before          # R = 1: one state of 2 words, then the reads
        body = ctx_rans(lab2, 40, idx, pairs=[bad], sizes={0: cut},
                        edit=lambda d: d.__setitem__(0, d[0][:cut]))
        return idx, lab2, body, n + 1
    raise AssertionError("no literal with a renormalisation read")
