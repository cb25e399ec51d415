"""The quick benchmark (python -m benchmarks.run --quick) runs and is correct.

Asserts correctness only -- round trips, well-formed outputs -- never timings.
"""

import glob
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import contenders as C  # noqa: E402
from benchmarks import workloads as W  # noqa: E402


def test_workloads_deterministic_and_valid():
    for w in W.quick_matrix():
        i1, l1 = w.generate()
        i2, l2 = w.generate()
        assert np.array_equal(i1, i2) and np.array_equal(l1, l2)
        assert i1.size == l1.size == w.k == math.floor(w.keep * w.n)
        assert np.all(np.diff(i1) > 0) and i1[0] >= 0 and i1[-1] < w.n
        assert l1.min() >= 0 and l1.max() < w.classes


def test_clustered_is_clustered():
    # Same k, but the clustered selection occupies far fewer blocks than a uniform one.
    wc = W.Workload("clustered", "IN-1K", W.N_IN1K, 0.01, 101, "block", "tight")
    wu = W.Workload("uniform", "IN-1K", W.N_IN1K, 0.01, 101)
    bounds = W.block_layout(W.N_IN1K, W.REGIMES["tight"], 0)
    occ = lambda idx: np.unique(np.searchsorted(bounds, idx, side="right")).size  # noqa: E731
    assert occ(wc.generate()[0]) < occ(wu.generate()[0]) / 5


def test_bound_matches_closed_form():
    # FORMAT-NOTES section 0: 1 % of IN-21K, index floor 143.4 kB.
    assert abs(W.log2_binom(W.N_IN21K, 141_971) / 8 / 1000 - 143.4) < 0.1
    assert W.label_entropy(np.array([0, 1, 0, 1])) == 1.0


@pytest.mark.parametrize("c", [2, 101, 1000])
def test_baseline_contenders_round_trip(c):
    w = W.Workload("uniform", "60K", W.N_MNIST, 0.05, c, "zipf")
    idx, lab = w.generate()
    for con in C.baseline_contenders():
        data = con.encode(idx, lab, w.n, c)
        i2, l2 = con.decode(data, w.n, c)
        assert np.array_equal(i2, idx) and np.array_equal(l2, lab), con.name


def test_paper_compact_sizes_match_paper():
    # Raw Compact Idx is 3 B/entry (u16 gap + u8 label) or 5 B when a gap needs u32.
    idx = np.array([0, 5, 70_000]); lab = np.array([1, 2, 3])
    assert len(C.compact_interleaved(idx, lab, 10**6, 101)) == 1 + 3 * 5
    assert len(C.compact_interleaved(idx[:2], lab[:2], 10**6, 101)) == 1 + 2 * 3


def test_quick_run(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, BENCH_QUIET="1")
    p = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    files = glob.glob(str(tmp_path / "results" / "*.json"))
    assert len(files) == 1
    with open(files[0]) as f:
        doc = json.load(f)  # well-formed JSON (written with allow_nan=False)
    assert doc["schema"] == "pladafmt-bench/1" and doc["mode"] == "quick"
    env_keys = {"machine", "python", "numpy", "numba", "zstandard", "zstd_level"}
    assert env_keys <= set(doc["environment"])
    assert doc["roundtrip_failures"] == []
    names = {c["name"] for c in doc["contenders"]}
    assert {"paper Idx zstd (interleaved)", "paper Bmp zstd", "npz compressed",
            "roaring zstd", "paper Idx xz-9 (interleaved)"} <= names
    for case in doc["cases"]:
        assert case["bound_bits"] > 0
        for name, r in case["results"].items():
            if "error" in r:
                continue
            assert r["roundtrip_ok"] is True, (case["workload"]["name"], name)
            assert r["bytes"] > 0
    if doc["composition_check"] is not None:
        assert doc["composition_check"]["mismatches"] == []
        assert "pladafmt auto" in names
    for case in doc["cases"]:          # auto follows its rule (AUTO_MIN_GAIN)
        if "pladafmt_auto_equals_rule_pair" in case:
            assert case["pladafmt_auto_equals_rule_pair"] is True, case["workload"]["name"]
    md = (tmp_path / "RESULTS.md").read_text()
    assert "uniform IN-1K C=101 uniform" in md and "```" in md
    if "pladafmt auto" in names:            # the paired decode-speed phase ran and rendered
        sp = doc["decode_speed"]
        assert [r["k"] for r in sp["cases"]] == [141_971] * 4
        for r in sp["cases"]:
            for th in ("threads_1", "threads_2"):
                t = r[th]
                assert 0 < t["pladafmt_min_ms"] <= t["pladafmt_median_ms"]
                assert 0 < t["baseline_min_ms"] <= t["baseline_median_ms"]
                assert 0 < t["pair_ratio_p10"] <= t["median_pair_ratio"] <= t["pair_ratio_p90"]
        assert "## Decode speed at 1 % of IN-21K: paired calls" in md
    png = (tmp_path / "size_vs_keep.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------ --selection FILE --pool-size N (issue #15)
def _small_selection():
    w = W.Workload("clustered", "300K", 300_000, 0.01, 101, "block", "caltech")
    idx, lab = w.generate()
    return idx, lab, w.n, w.classes


def test_selection_table_is_measured(tmp_path, capsys):
    import pladafmt
    from benchmarks import run as R
    idx, lab, n, c = _small_selection()
    path = tmp_path / "keep.npz"
    order = np.random.default_rng(0).permutation(idx.size)   # unsorted, as plada encode takes
    np.savez(path, indices=idx[order], labels=lab[order])
    assert R.main(["--selection", str(path), "--pool-size", str(n), "--num-classes", str(c)]) == 0
    out = capsys.readouterr().out
    # cells: contender, bytes, b/it, x bound, x paper, enc ms, dec ms, Mit/s, dec x, chose
    rows = {cells[0]: cells for cells in (re.split(r"\s{2,}", line.strip())
                                          for line in out.splitlines())}
    auto = len(pladafmt.encode(idx, lab, pool_size=n, classes=c, zstd_level=C.ZSTD_LEVEL))
    paper = len(C.zc(C.compact_separated(idx, lab, n, c)))
    cells = rows["pladafmt auto"]
    assert int(cells[1].lstrip("*").replace(",", "")) == auto
    assert float(cells[2]) == pytest.approx(8 * auto / idx.size, abs=1e-3)
    assert float(cells[3]) == pytest.approx(8 * auto / W.bound_bits(n, lab), abs=1e-3)
    assert float(rows["paper Idx zstd (separated)"][4]) == pytest.approx(
        paper / min(paper, *(len(C.zc(f(idx, lab, n, c))) for f in
                             (C.compact_interleaved, C.bitmap_layout))), abs=1e-3)
    assert float(cells[5].lstrip("*")) > 0 and float(cells[6].lstrip("*")) > 0  # enc, dec ms
    assert int(rows["bound"][1].replace(",", "")) == int(W.bound_bits(n, lab) / 8)
    assert f"k = {idx.size:,}" in out and "ROUND TRIP" not in out


def test_selection_reads_what_plada_encode_reads(tmp_path):
    from benchmarks import selection_table as S
    idx, lab, n, c = _small_selection()
    csv_path = tmp_path / "keep.csv"
    csv_path.write_text("index,label\n" + "".join(f"{i},{l}\n" for i, l in zip(idx, lab)))
    np.save(tmp_path / "i.npy", idx)
    np.save(tmp_path / "l.npy", lab)
    for args in ((str(csv_path),), (str(tmp_path / "i.npy"), str(tmp_path / "l.npy"))):
        i2, l2, c2 = S.read_selection(args[0], n, *args[1:])
        assert np.array_equal(i2, idx) and np.array_equal(l2, lab) and c2 == lab.max() + 1
    bad = [((str(tmp_path / "i.npy"),), n, "--labels FILE"),           # one array, no labels
           ((str(csv_path),), int(idx[-1]), f"index {idx[-1]} out of range"),
           ((str(tmp_path / "missing.npz"),), n, "missing.npz")]
    np.savez(tmp_path / "one.npz", indices=idx)
    bad.append(((str(tmp_path / "one.npz"),), n, "'labels' or 'label'"))
    for args, pool, message in bad:
        with pytest.raises(S.SelectionError, match=message):
            S.read_selection(args[0], pool, *args[1:])


# ------------------------------------------------------------ mode audit (issue #15)
def test_mode_audit_losses_are_real_encodes(tmp_path):
    import pladafmt
    from benchmarks import mode_audit as A
    cases = {}
    for name, (idx, lab, n, c) in {
            "clustered": _small_selection(),
            "uniform": W.Workload("uniform", "60K", W.N_MNIST, 0.05, 1000, "zipf").generate()
            + (W.N_MNIST, 1000)}.items():
        case = A.measure(idx, lab, n, c)          # raises if auto disagrees with encode
        assert case["checked_against_encode"]
        case.update(name=name, family=name, keep=0.01)
        cases[name] = case
        loss = A.losses(case)
        for (kind, removed), (lost, then) in loss.items():
            assert then.split("+")[0] != removed and not (removed == A.ZSTD_ROW
                                                          and then.endswith("+zstd"))
            picked = case["auto"][kind]
            if removed not in (picked.split("+")[0], A.ZSTD_ROW if "+" in picked else None):
                assert lost == 0 and then == picked
            modes = dict(case["auto"], **{kind: then})
            data = pladafmt.encode(idx, lab, pool_size=n, classes=c, zstd_level=19,
                                   index_mode=modes["index"], label_mode=modes["labels"])
            assert len(data) == case["payload_bytes"] + lost, (name, kind, removed)
    md = tmp_path / "audit.md"
    A.write_markdown({"cases": cases, "environment": A._environment()}, str(md))
    text = md.read_text()
    assert "## Index stream" in text and "## Label stream" in text
    assert "- index `varint`: **keep**" in text         # one of the paper's own encodings
