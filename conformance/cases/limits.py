"""SPEC.md "8. Limits": N <= 2^48 (decoders support >= 2^40), C <= 2^20 (>= 65,536),
Section_Count <= 64 (Q17: a decoder's own limits never decide a vector's outcome)."""
from ..writer import container as W
from .common import IDX, LAB, NAMES, base

SPEC = "8. Limits"
N48, C20, C16 = 2**48, 2**20, 65536
BIG_IDX = [0, 5, 9, 100, 1000, 4095, 4096, 65535]
BIG_LAB = [0, 65535, 1, 65534, 32768, 255, 256, 65535]


def define(s):
    s.y("y_c65536_packed", "C = 65,536 (every decoder supports it) without a class table: "
        "16-bit packed labels incl. 0 and 65,535, and 65,536 default class names, which a "
        "decoder's memory budget must allow", SPEC, BIG_IDX, BIG_LAB, C16, C16,
        flags=["EdgeC", "Q17"])
    s.y("y_c65536_rans", "C = 65,536: rans with a 16-bit symbol_count_minus_1", SPEC,
        BIG_IDX, BIG_LAB, C16, C16, imode=2, lmode=1, flags=["EdgeC"])
    s.y("y_sections_64", "Section_Count = 64 (the limit): 61 empty unknown ancillary "
        "sections", SPEC, IDX, LAB, 20, 3, names=NAMES,
        after=[W.section(0x90 + t % 0x60, 0, 0, b"") for t in range(61)],
        flags=["Limits", "Sections"])
    s.n("n_section_count_65", "Section_Count 65: 62 empty ancillary sections", SPEC,
        "section-count-high", "LimitError",
        base(after=[W.section(0x90 + t % 0x60, 0, 0, b"") for t in range(61)]))
    s.n("n_pool_size_2p48_plus_1", "Pool_Size 2^48 + 1 (above the format limit; k = 1)",
        SPEC, "pool-size-limit", "LimitError", W.build([0], [0], N48 + 1, 1))
    s.n("n_pool_size_2p63_minus_1", "Pool_Size 2^63 - 1, the largest varint value", SPEC,
        "pool-size-limit", "LimitError", W.build([0], [0], 2**63 - 1, 1))
    s.n("n_class_count_2p20_plus_1", "Class_Count 2^20 + 1", SPEC, "class-count-limit",
        "LimitError", W.build([1], [5], 20, C20 + 1))
    for vid, comment, idx, lab, N, C, kw in (
            ("i_n2p48_varint", "N = 2^48 (decoders need only 2^40) with index N - 1",
             [N48 - 1], [0], N48, 1, {}),
            ("i_n2p48_rice_r47", "N = 2^48, indices 0 and N - 1: rice with r = 47",
             [0, N48 - 1], [0, 0], N48, 1, dict(imode=2, lmode=1)),
            ("i_n2p48_ctx_rans", "N = 2^48, indices 0 and N - 1: ctx-rans class 94, 46 raw "
             "bits", [0, N48 - 1], [0, 0], N48, 1, dict(imode=3, lmode=2)),
            ("i_c2p20_packed", "C = 2^20 (decoders need only 65,536): 20-bit packed labels",
             [0, 1, 2], [0, C20 - 1, 12345], 3, C20, {}),
            ("i_c2p20_rans", "C = 2^20: rans with a 20-bit symbol_count_minus_1",
             [0, 1, 2], [0, C20 - 1, 12345], 3, C20, dict(imode=2, lmode=1))):
        rule = "pool-size-limit" if N == N48 else "class-count-limit"
        s.y(vid, comment + ": decode, or reject as above this decoder's limit", SPEC, idx,
            lab, N, C, result="acceptable", error="LimitError", rule=rule,
            flags=["Limits", "EdgeN" if N == N48 else "EdgeC"], **kw)
