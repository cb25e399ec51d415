"""The quick benchmark (python -m benchmarks.run --quick) runs and is correct.

Asserts correctness only -- round trips, well-formed outputs -- never timings.
"""

import glob
import json
import math
import os
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
