"""Render a results JSON document (benchmarks.run) as RESULTS.md and size_vs_keep.png.

    python -m benchmarks.report results/<file>.json [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
from collections import OrderedDict

def _fmt_bytes(n):
    return "-" if n is None else f"{n:,d}"


def _f(x, spec=".3f", none="-"):
    return none if x is None else format(x, spec)


def _table(headers, rows, align=None):
    """Fixed-width table inside a code block."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    align = align or ["<"] + [">"] * (len(headers) - 1)
    line = lambda cells: "  ".join(format(str(c), a + str(w))  # noqa: E731
                                   for c, w, a in zip(cells, widths, align)).rstrip()
    out = ["```", line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append("```")
    return "\n".join(out)


def _groups(doc):
    g = OrderedDict()
    for case in doc["cases"]:
        g.setdefault(case["workload"]["group"], []).append(case)
    for v in g.values():
        v.sort(key=lambda c: c["workload"]["keep"])
    return g


def _bits(case, name):
    if name == "@bound":
        return case["bound_bits"] / max(case["k"], 1)
    r = case["results"].get(name, {})
    return r.get("bits_per_item") if r.get("roundtrip_ok") else None


# ------------------------------------------------------------------- targets (issue #15)
UNIFORM_MAX_X_BOUND = 1.02       # uniform: <= 1.02 x the bound (k >= SMALL_K)
CLUSTERED_MAX_X_PAPER = 0.80     # calibrated clustered (caltech) at 1 % of IN-21K
PAPER_MAX_X = 1.0                # never larger than the paper's format
V13_MAX_RATIO = 1.01             # every workload within 1 % of 1.3's auto
DECODE_UNIFORM_MIN = 1.5         # x Zstd + cumsum, median of paired calls
DECODE_ANY_MIN = 0.5             # clustered, and every auto payload at 1 % of IN-21K
ENCODE_MIN_ITEMS_PER_S = 2e6     # at 1.4 M items
ENCODE_MAX_S_7M = 4.0            # at 7.1 M items
AUTO_MAX_OVER_RULE = 0.002      # the fast auto: within 0.2 % of the exact rule's choice
SMALL_K = 1000                   # "small payloads": k below this (a few hundred bytes)
CONTENDER_TABLES = ("uniform IN-21K C=101 uniform keep=1%", "clustered-caltech IN-21K C=101 keep=1%")


def _pct(x):
    return f"{x * 100:g} %"


def _auto(case):
    return case["results"]["pladafmt auto"]


def _cases(doc, family=None, pool=None):
    return [c for c in doc["cases"] if (family is None or c["workload"]["family"] == family)
            and (pool is None or c["workload"]["pool"] == pool)]


def _speed(doc):
    return (doc.get("decode_speed") or {}).get("cases", [])


def _enc(doc):
    return [r for r in (doc.get("encode_speed") or {}).get("cases", []) if "median_s" in r]


def targets(doc) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every size and speed target of issue #15 this run
    measured."""
    out = []
    for pool in ("IN-21K", "IN-1K", "60K"):
        uni = [c for c in _cases(doc, "uniform", pool) if c["k"] >= SMALL_K]
        if uni:
            w = max(uni, key=lambda c: _auto(c)["ratio_to_bound"])
            x = _auto(w)["ratio_to_bound"]
            out.append((f"uniform <= {UNIFORM_MAX_X_BOUND} x bound, {pool} (k >= {SMALL_K:,})",
                        f"worst {x:.4f} x ({w['workload']['name']})", x <= UNIFORM_MAX_X_BOUND))
    cal = [c for c in _cases(doc, "clustered") if c["workload"]["regime"] == "caltech"
           and c["workload"]["pool"] == "IN-21K" and abs(c["workload"]["keep"] - 0.01) < 1e-9]
    for c in cal:
        x = _auto(c)["ratio_to_paper_best"]
        out.append((f"clustered-caltech 1 % IN-21K <= {CLUSTERED_MAX_X_PAPER} x paper",
                    f"{x:.3f} x", x <= CLUSTERED_MAX_X_PAPER))
    sized = [(c["workload"]["name"], _auto(c)["bytes"], c["paper_best_bytes"]) for c in doc["cases"]]
    sized += [(r["workload"], r["auto_bytes"], r["paper_best_bytes"]) for r in _speed(doc)
              if r["family"] == "in21k-like"]
    if sized:
        w = max(sized, key=lambda t: t[1] / t[2])
        out.append(("never larger than the paper's format (every workload, k = 60 included)",
                    f"worst {w[1] / w[2]:.3f} x ({w[0]}: {w[1]:,} vs {w[2]:,} B)",
                    w[1] <= w[2]))
    rule = [c for c in doc["cases"] if "pladafmt_auto_over_rule_pair" in c]
    if rule:
        w = max(rule, key=lambda c: c["pladafmt_auto_over_rule_pair"])
        x = w["pladafmt_auto_over_rule_pair"]
        out.append((f"auto within {AUTO_MAX_OVER_RULE:.1%} of the pair the spec's rule picks "
                    "from exact sizes", f"equal on {sum(c['pladafmt_auto_equals_rule_pair'] for c in rule)}"
                    f" of {len(rule)}; worst {x:+.2%} ({w['workload']['name']})",
                    x <= AUTO_MAX_OVER_RULE))
    v13 = (doc.get("v13") or {}).get("cases", [])
    if v13:
        w = max(v13, key=lambda r: r["ratio"])
        out.append((f"every workload within 1 % of 1.3's auto ({len(v13)} compared)",
                    f"worst {w['ratio']:.4f} x ({w['workload']})", w["ratio"] <= V13_MAX_RATIO))
    sp = _speed(doc)
    if sp:
        uni = [r for r in sp if r["family"] == "uniform"]
        if uni:
            w = min(uni, key=lambda r: r["median_pair_ratio"])
            out.append((f"decode, uniform 1 % IN-21K >= {DECODE_UNIFORM_MIN} x Zstd + cumsum",
                        f"lowest {w['median_pair_ratio']:.2f} x ({w['workload']})",
                        w["median_pair_ratio"] >= DECODE_UNIFORM_MIN))
        w = min(sp, key=lambda r: r["median_pair_ratio"])
        out.append((f"decode, every auto payload at 1 % IN-21K >= {DECODE_ANY_MIN} x "
                    "(clustered and IN-21K-like included)",
                    f"lowest {w['median_pair_ratio']:.2f} x ({w['workload']})",
                    w["median_pair_ratio"] >= DECODE_ANY_MIN))
    for r in _enc(doc):
        if 1_000_000 <= r["k"] < 2_000_000:
            out.append((f"encode >= {ENCODE_MIN_ITEMS_PER_S / 1e6:g} M items/s at 1.4 M items "
                        f"({r['workload'].split(' keep')[0]})",
                        f"{r['items_per_s'] / 1e6:.2f} M items/s ({r['median_s']:.2f} s)",
                        r["items_per_s"] >= ENCODE_MIN_ITEMS_PER_S))
        elif r["k"] >= 5_000_000:
            out.append((f"encode <= {ENCODE_MAX_S_7M:g} s at 7.1 M items "
                        f"({r['workload'].split(' keep')[0]})",
                        f"{r['median_s']:.2f} s", r["median_s"] <= ENCODE_MAX_S_7M))
    return out


def _load(phase):
    """The phase's load average, 1 minute, at start and end (2 CPUs: > 2 means others ran)."""
    la = [phase.get("loadavg_start"), phase.get("loadavg_end")]
    return (" Load average (1 min) during this phase: " + " -> ".join(f"{x[0]:.1f}" for x in la if x)
            + f" on {os.cpu_count()} CPUs." if la[0] else "")


def _size_row(case):
    a = _auto(case)
    return [f"{case['k']:,}", _fmt_bytes(a["bytes"]), _f(a["bits_per_item"]),
            _f(a.get("ratio_to_bound")), _f(a.get("ratio_to_paper_best")), a.get("chosen", "")]


SIZE_HEAD = ["k", "auto B", "b/it", "x bound", "x paper", "auto chose"]


def write_markdown(doc: dict, path: str, json_name: str = "") -> None:
    env = doc["environment"]
    L = ["# pladafmt benchmarks\n"]
    la = [env.get("loadavg_start"), env.get("loadavg_end")]
    L.append(
        f"Generated by `{doc['command']}` ({doc['mode']} run, {doc.get('runtime_s', 0):.0f} s) "
        f"into `results/{json_name}`, which holds every matrix this page summarises (all "
        f"contenders per workload, every pladafmt index x label pair, timings); "
        f"re-render with `python -m benchmarks.report <json>`. Method, workloads and "
        f"contenders: [README.md](README.md). pladafmt {env.get('pladafmt')} (commit "
        f"{env.get('commit')}"
        + (", with uncommitted changes to pladafmt/" if env.get("pladafmt_uncommitted") else "")
        + f"), "
        f"{env.get('cpu')} x {env.get('cpu_count')}, Python {env.get('python')}, NumPy "
        f"{env.get('numpy')}, Numba {env.get('numba')}, zstandard {env.get('zstandard')} "
        f"(libzstd {env.get('zstd_library')}), Zstd level {env.get('zstd_level')}, "
        f"{env.get('date')}. Load average (1 min) "
        + " -> ".join(f"{x[0]:.1f}" for x in la if x)
        + ": timings are comparable only within this file.\n")
    if doc.get("notes"):
        L.append(doc["notes"] + "\n")
    if doc.get("missing_cases"):
        L.append("**Not in this run**: " + "; ".join(doc["missing_cases"]) + ".\n")
    L.append("Units: B = bytes; b/it = bits per kept item; **x bound** = size / (log2 C(N,k) "
             "+ k H0(labels)); **x paper** = size / the paper's best format (min of Compact "
             "Idx + Zstd-19, interleaved or separated, and Bmp + Zstd-19); **dec x** = time "
             "of the paper's decoder (Zstd decompress + cumsum) / pladafmt.decode time, "
             "> 1 is faster.\n")

    # ---------------------------------------------------------------- headline
    L.append("## Headline\n")
    rows = []
    for c in doc["cases"]:
        if c["workload"]["name"] in CONTENDER_TABLES:
            rows.append([c["workload"]["name"]] + _size_row(c))
    for r in _speed(doc):
        if r["family"] == "in21k-like":
            rows.append([r["workload"], f"{r['k']:,}", _fmt_bytes(r["auto_bytes"]),
                         _f(8 * r["auto_bytes"] / r["k"]), _f(8 * r["auto_bytes"] / r["bound_bits"]),
                         _f(r["auto_bytes"] / r["paper_best_bytes"]), r["chosen"]])
    if rows:
        L.append(_table(["1 % of ImageNet-21K"] + SIZE_HEAD, rows,
                        align=["<"] + [">"] * 5 + ["<"]))
        L.append("")
    t = targets(doc)
    if t:
        L.append("Issue #15's targets, as measured in this run:\n")
        L.append(_table(["target", "measured", "verdict"], [[a, b, "met" if ok else "MISSED"]
                                                   for a, b, ok in t], align=["<", "<", "<"]))
        L.append("")

    # ---------------------------------------------------------------- uniform
    uni = _cases(doc, "uniform")
    if uni:
        L.append(f"## Uniform selections: size against the bound (target <= "
                 f"{UNIFORM_MAX_X_BOUND} x)\n")
        L.append("Keep sweep, C = 101 uniform labels, then the label sweep at 1 %. Below "
                 f"k = {SMALL_K:,} the fixed bytes (header, section headers, tables) weigh "
                 "more than 2 % of the bound; see \"Small payloads\".\n")
        sweep = lambda c: c["workload"]["classes"] == 101 and c["workload"]["labels"] == "uniform"  # noqa: E731
        rows = [[c["workload"]["pool"], f"C={c['workload']['classes']} {c['workload']['labels']}",
                 _pct(c["workload"]["keep"])] + _size_row(c)
                for c in sorted(uni, key=lambda c: not sweep(c))]
        L.append(_table(["pool", "labels", "keep"] + SIZE_HEAD, rows,
                        align=["<", "<", ">"] + [">"] * 5 + ["<"]))
        L.append("")

    # ---------------------------------------------------------------- clustered
    cl = _cases(doc, "clustered")
    if cl:
        L.append(f"## Clustered selections: size against the paper (target <= "
                 f"{CLUSTERED_MAX_X_PAPER} x for caltech at 1 % of IN-21K)\n")
        L.append("The synthetic synset-ordered model (README \"Workloads\"). `LB x paper` = "
                 "the model's entropy H(X | Z) against the paper: no code averages below it.\n")
        rows = []
        for c in cl:
            lb = c.get("model_bounds", {}).get("lower_bits")
            rows.append([c["workload"]["group"].split(" C=")[0], _pct(c["workload"]["keep"]),
                         f"{c['k']:,}", _fmt_bytes(_auto(c)["bytes"]),
                         _fmt_bytes(c["paper_best_bytes"]), _f(_auto(c)["ratio_to_paper_best"]),
                         _f(lb and lb / 8 / c["paper_best_bytes"]), _auto(c).get("chosen", "")])
        L.append(_table(["regime, pool", "keep", "k", "auto B", "paper B", "x paper",
                         "LB x paper", "auto chose"], rows, align=["<"] + [">"] * 6 + ["<"]))
        L.append("")

    # ---------------------------------------------------------------- real
    real = _cases(doc, "real")
    like = [r for r in _speed(doc) if r["family"] == "in21k-like"]
    if real or like:
        L.append("## Real selections\n")
        pools = sorted({c["workload"]["n"] for c in real})
        L.append("`real`: the lowest-energy p % of each score file the reference pipeline "
                 "left on this machine (the demo's teachers; pools of "
                 + " to ".join(f"{n:,}" for n in (pools[:1] + pools[-1:] if len(pools) > 1 else pools))
                 + " items, C = " + ", ".join(str(x) for x in sorted({c["workload"]["classes"]
                                                                       for c in real}))
                 + "). `IN-21K-like`: the reference pipeline's selection rules at 1 % of "
                 "synthetic IN-21K-sized scores (`reference_pipeline.synth_scores`, seed 0; "
                 "measured in the decode-speed phase).\n")
        rows = [[c["workload"]["pool"], _pct(c["workload"]["keep"])] + _size_row(c)
                for c in real]
        rows += [[r["workload"].replace(" synth_scores", ""), "1 %", f"{r['k']:,}",
                  _fmt_bytes(r["auto_bytes"]), _f(8 * r["auto_bytes"] / r["k"]),
                  _f(8 * r["auto_bytes"] / r["bound_bits"]),
                  _f(r["auto_bytes"] / r["paper_best_bytes"]), r["chosen"]] for r in like]
        L.append(_table(["selection", "keep"] + SIZE_HEAD, rows,
                        align=["<", "<"] + [">"] * 5 + ["<"]))
        L.append("")

    # ---------------------------------------------------------------- small payloads
    small = sorted((c for c in doc["cases"] if c["k"] < SMALL_K), key=lambda c: c["k"])
    if small:
        L.append("## Small payloads: against the paper's format (target: never larger)\n")
        L.append("Every workload with k < " f"{SMALL_K:,}" ". `fixed` = the payload minus "
                 "its two stream bodies (header, section headers).\n")
        rows = []
        for c in small:
            a = _auto(c)
            body = sum(a["stream_body_bytes"].values())
            rows.append([c["workload"]["name"], f"{c['k']:,}", _fmt_bytes(a["bytes"]),
                         _fmt_bytes(body and a["bytes"] - body),
                         _fmt_bytes(c["paper_best_bytes"]), _f(a["ratio_to_paper_best"]),
                         a.get("chosen", "")])
        L.append(_table(["workload", "k", "auto B", "fixed B", "paper B", "x paper",
                         "auto chose"], rows, align=["<"] + [">"] * 5 + ["<"]))
        L.append("")

    # ---------------------------------------------------------------- decode speed
    sp = doc.get("decode_speed") or {}
    if sp.get("cases"):
        L.append(f"## Decode speed at 1 % of IN-21K: paired calls (targets: uniform >= "
                 f"{DECODE_UNIFORM_MIN} x, every payload >= {DECODE_ANY_MIN} x)\n")
        L.append(f"`pladafmt.decode` of the `auto` payload and the paper's decoder (Zstd "
                 f"decompress + cumsum of Compact Idx) called alternately, {sp['pairs']} "
                 "times each after warm-up. **x pairs** = median over the pairs of baseline "
                 "time / pladafmt time (consecutive calls share the machine's momentary "
                 "speed, so this is the robust ratio on a shared VM); p10-p90 = spread of the "
                 "pair ratios; x mins = ratio of the fastest calls; `1 thread`: the same "
                 "with the container decoding its two streams one after the other (from "
                 "k = 32,768 it uses two threads; the baseline uses one)." + _load(sp) + "\n")
        one = lambda r, key: _f(r.get("threads_1", {}).get(key), ".2f")  # noqa: E731
        rows = [[r["workload"].replace(" keep=1%", "").replace(" synth_scores", ""),
                 r["chosen"], _fmt_bytes(r["auto_bytes"]), f"{r['pladafmt_min_ms']:.2f}",
                 f"{r['baseline_min_ms']:.2f}", f"{r['median_pair_ratio']:.2f}",
                 f"{r['pair_ratio_p10']:.2f}-{r['pair_ratio_p90']:.2f}",
                 f"{r['ratio_of_mins']:.2f}", one(r, "median_pair_ratio"),
                 one(r, "ratio_of_mins")] for r in sp["cases"]]
        L.append(_table(["workload (1 %)", "auto chose", "auto B", "ours min ms",
                         "paper min ms", "x pairs", "p10-p90", "x mins",
                         "1 thread: x pairs", "x mins"], rows, align=["<", "<"] + [">"] * 8))
        L.append("")

    # ---------------------------------------------------------------- encode speed
    es = doc.get("encode_speed") or {}
    if es.get("cases"):
        L.append(f"## Encode speed of `auto` (targets: >= {ENCODE_MIN_ITEMS_PER_S / 1e6:g} M "
                 f"items/s at 1.4 M items, <= {ENCODE_MAX_S_7M:g} s at 7.1 M)\n")
        L.append(f"`pladafmt.encode(indices, labels, pool_size=N, classes=C)` (index and label "
                 f"mode `auto`, Zstd level 19): median of {es['runs']} call(s) after one "
                 "warm-up call (`first`, which loads the compiled kernels)." + _load(es) + "\n")
        rows = [[r["workload"], f"{r['k']:,}"] + (["-", "-", "-", "-", f"skipped: {r['skipped']}"]
                                                 if "skipped" in r else
                                                 [f"{r['median_s']:.3f}",
                                                  f"{r['items_per_s'] / 1e6:.2f}",
                                                  f"{r['first_s']:.2f}",
                                                  _fmt_bytes(r["bytes"]), r["chosen"]])
                for r in es["cases"]]
        L.append(_table(["workload", "k", "s", "M items/s", "first s", "bytes", "auto chose"],
                        rows, align=["<"] + [">"] * 5 + ["<"]))
        L.append("")

    # ---------------------------------------------------------------- 2.0 vs 1.3
    v13 = doc.get("v13") or {}
    if v13.get("cases"):
        cs = sorted(v13["cases"], key=lambda r: -r["ratio"])
        over = [r for r in cs if r["ratio"] > V13_MAX_RATIO]
        L.append("## 2.0 against 1.3: `auto` payload sizes\n")
        L.append(f"{len(cs)} workloads of this run that a committed 1.3 file measured "
                 f"(`{'`, `'.join(sorted({r['source'] for r in cs}))}`): 2.0 is smaller on "
                 f"{sum(r['ratio'] < 1 for r in cs)}, equal on "
                 f"{sum(r['ratio'] == 1 for r in cs)}, larger on "
                 f"{sum(r['ratio'] > 1 for r in cs)}, more than 1 % larger on {len(over)}. "
                 f"Median ratio {cs[len(cs) // 2]['ratio']:.4f}. The largest ratios:\n")
        rows = [[r["workload"], f"{r['k']:,}", _fmt_bytes(r["v13_bytes"]),
                 _fmt_bytes(r["bytes"]), f"{r['ratio']:.4f}"] for r in cs[:max(8, len(over))]]
        rows.append(["... the smallest ratio: " + cs[-1]["workload"], f"{cs[-1]['k']:,}",
                     _fmt_bytes(cs[-1]["v13_bytes"]), _fmt_bytes(cs[-1]["bytes"]),
                     f"{cs[-1]['ratio']:.4f}"])
        L.append(_table(["workload", "k", "1.3 B", "2.0 B", "2.0 / 1.3"], rows))
        if v13.get("not_in_v13"):
            L.append(f"\nNot measured by 1.3 (no comparison): {len(v13['not_in_v13'])} "
                     "workloads (" + ", ".join(v13["not_in_v13"][:4])
                     + (", ..." if len(v13["not_in_v13"]) > 4 else "") + ").")
        L.append("")

    # ---------------------------------------------------------------- contenders
    for c in doc["cases"]:
        if c["workload"]["name"] not in CONTENDER_TABLES:
            continue
        L.append(f"## Every contender: {c['workload']['name']}\n")
        L.append(contender_table(c, [x["name"] for x in doc["contenders"]]))
        m = c.get("pladafmt_matrix_bytes")
        if m:
            labs = list(next(iter(m.values())))
            best = c["pladafmt_best_pair"]["bytes"]
            L.append("\npladafmt index x label pairs (bytes; composed from the single-mode "
                     "rows, which the run checks against real encodes):\n")
            L.append(_table(["index \\ label"] + labs,
                            [[i] + [("*" if m[i][l] == best else "") + _fmt_bytes(m[i][l])
                                    for l in labs] for i in m]))
        L.append("")
    comp = doc.get("composition_check")
    if comp:
        L.append(f"Composition check (`{comp['workload']}`): {comp['pairs']} pairs encoded, "
                 f"{len(comp['mismatches'])} differ from the composed sizes.\n")

    # ---------------------------------------------------------------- memory, CLI, JIT
    mem = doc.get("decode_memory") or {}
    if mem.get("contenders"):
        L.append(f"## Decode memory, largest case ({mem['workload']})\n")
        L.append("Fresh subprocess per decoder after a warm-up: tracemalloc peak (Python and "
                 "NumPy allocations; Numba's are not traced) and the peak RSS increase.\n")
        L.append(_table(["decoder", "tracemalloc MiB", "RSS + MiB", "output MiB"],
                        [[n, f"{r['tracemalloc_peak_bytes'] / 2**20:.1f}",
                          f"{r['rss_peak_increase_bytes'] / 2**20:.1f}",
                          f"{r['output_bytes'] / 2**20:.1f}"]
                         for n, r in mem["contenders"].items()]))
        L.append("")
    cli = doc.get("cli_inspect") or {}
    fp = (doc.get("numba") or {}).get("fresh_process") or {}
    if cli or fp:
        L.append("## Start-up\n")
    if cli:
        L.append(f"`plada inspect` of a {cli['payload_bytes']:,} B payload ({cli['command']}): "
                 f"cold {cli['cold_s']:.2f} s (empty Numba cache), warm "
                 f"{_f(cli['warm_median_s'], '.2f')} s (median).\n")
    if fp:
        tot = lambda key: sum(sum(v) for v in fp[key]["first_calls_ms"].values()  # noqa: E731
                              if isinstance(v, list))
        L.append(f"First calls of every mode on 600 items in a fresh process: "
                 f"{tot('cold_cache') / 1e3:.1f} s with an empty Numba cache (compiling), "
                 f"{tot('warm_cache') / 1e3:.1f} s with the cache it left; `import pladafmt` "
                 f"{fp['warm_cache']['first_calls_ms'].get('import_pladafmt_ms', 0):.0f} ms. "
                 "Per kernel: the JSON.\n")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(path + ".tmp", path)


def contender_table(case: dict, order: list) -> str:
    """The contender table of one case: bytes, bits per item, x bound, x paper, encode and
    decode time (`*` = best per column)."""
    res = case["results"]
    best = {key: min((r[key] for r in res.values() if r.get(key)), default=None)
            for key in ("bytes", "encode_s", "decode_s")}
    star = lambda key, v: "*" if v is not None and v == best[key] else ""  # noqa: E731
    ms = lambda v: v and v * 1e3  # noqa: E731
    rows = []
    for name in order:
        r = res.get(name)
        if r is None:
            continue
        rows.append([
            name + ("" if r["roundtrip_ok"] else " FAIL"),
            star("bytes", r["bytes"]) + _fmt_bytes(r["bytes"]),
            _f(r["bits_per_item"]), _f(r.get("ratio_to_bound")), _f(r.get("ratio_to_paper_best")),
            star("encode_s", r.get("encode_s")) + _f(ms(r.get("encode_s")), ".2f"),
            star("decode_s", r.get("decode_s")) + _f(ms(r.get("decode_s")), ".2f"),
            _f(r.get("decode_speed_vs_zstd_cumsum"), ".3g"), r.get("chosen", "")])
    k = max(case["k"], 1)
    rows.append(["bound", _fmt_bytes(int(case["bound_bits"] / 8)), _f(case["bound_bits"] / k),
                 "1.000", "", "", "", "", ""])
    return _table(["contender", "bytes", "b/it", "x bound", "x paper", "enc ms", "dec ms",
                   "dec x", "auto chose"], rows, align=["<"] + [">"] * 7 + ["<"])


FIG_WORKLOADS = ("uniform IN-21K C=101 uniform", "clustered-caltech IN-21K C=101",
                 "uniform IN-1K C=101 uniform", "clustered-tight IN-21K C=101")


def write_figure(doc: dict, path: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _groups(doc)
    names = [g for g in FIG_WORKLOADS if g in groups] or list(groups)[:4]
    ncols = 2 if len(names) > 1 else 1
    nrows = (len(names) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(7 * ncols if ncols > 1 else 11, 5 * nrows + 2.6),
                             squeeze=False)
    cons = [c["name"] for c in doc["contenders"]
            if c["family"] not in ("pladafmt-index", "pladafmt-label")]
    modes = []
    for g in names:
        for c in groups[g]:
            for m in c.get("pladafmt_index_best", {}):
                if m not in modes:
                    modes.append(m)
    cmap = plt.get_cmap("tab10")
    others = [n for n in cons if n != "pladafmt auto"]
    color = {n: cmap(i % 10) for i, n in enumerate(others)}
    color.update({f"pladafmt idx={m} (+best labels)": cmap(i % 10) for i, m in enumerate(modes)})
    color["pladafmt auto"] = "black"
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax, g in zip(axes.flat, names):
        cases = groups[g]
        x = [c["workload"]["keep"] * 100 for c in cases]
        for n in cons:
            y = [_bits(c, n) for c in cases]
            if any(v is not None for v in y):
                lw = 2.6 if n == "pladafmt auto" else 1.2
                ax.plot(x, [float("nan") if v is None else v for v in y], marker="o", ms=3,
                        lw=lw, color=color[n], label=n)
        # pladafmt per index mode (with the best label mode for it): composed sizes
        for m in modes:
            y = [c.get("pladafmt_index_best", {}).get(m) for c in cases]
            y = [float("nan") if v is None else 8 * v / max(c["k"], 1) for v, c in zip(y, cases)]
            n = f"pladafmt idx={m} (+best labels)"
            ax.plot(x, y, marker="x", ms=4, lw=1.3, ls=":", color=color[n], label=n)
        ax.plot(x, [c["bound_bits"] / max(c["k"], 1) for c in cases], "--", color="0.45", lw=2.2,
                label="bound (log2 C(N,k) + k*H0) / k")
        ax.set_xscale("log")
        # Clip the y axis to where the contest is (raw bitmaps reach ~1000 b/it at 0.1 %).
        bvals = [c["bound_bits"] / max(c["k"], 1) for c in cases]
        vals = [v for ln in ax.get_lines() for v in ln.get_ydata() if v == v]
        ax.set_ylim(0.9 * min(vals + bvals), 2.0 * max(bvals))
        ax.set_xlabel("keep rate (%)")
        ax.set_ylabel("bits per kept item")
        ax.set_title(g)
        ax.grid(True, which="both", alpha=0.3)
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="lower center", ncol=3, fontsize=8, frameon=False,
               title="lines above the top edge are off-scale (see RESULTS.md)")
    fig.tight_layout(rect=(0, 2.4 / (5 * nrows + 2.6), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args(argv)
    with open(a.json) as f:
        doc = json.load(f)
    write_markdown(doc, os.path.join(a.out, "RESULTS.md"), os.path.basename(a.json))
    write_figure(doc, os.path.join(a.out, "size_vs_keep.png"))


if __name__ == "__main__":
    main()
