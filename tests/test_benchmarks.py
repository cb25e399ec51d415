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


# The 2.0 contenders: every mode of the two tables, raw and Zstd-wrapped, plus auto.
V20_CONTENDERS = (["pladafmt auto"]
                  + [f"pladafmt idx={m}{z}" for m in ("bitmap", "varint", "rice", "ctx-rans")
                     for z in ("", "+zstd")]
                  + [f"pladafmt lab={m}{z}" for m in ("packed", "rans", "ctx-rans")
                     for z in ("", "+zstd")])


def test_contenders_are_the_2_0_modes():
    assert [c.name for c in C.pladafmt_contenders()] == V20_CONTENDERS


def test_stream_sections_read_the_2_0_container():
    import pladafmt
    idx, lab = W.Workload("uniform", "60K", W.N_MNIST, 0.01, 10, "zipf").generate()
    for im, lm in (("rice", "rans+zstd"), ("bitmap+zstd", "ctx-rans"), ("auto", "auto")):
        data = pladafmt.encode(idx, lab, pool_size=W.N_MNIST, classes=10, index_mode=im,
                               label_mode=lm)
        sec = C.stream_sections(data)
        p = pladafmt.decode(data)
        for kind, mode in (("index", p.index_mode), ("label", p.label_mode)):
            names = pladafmt.INDEX_MODES if kind == "index" else pladafmt.LABEL_MODES
            assert names[sec[kind][0]] + ("+zstd" if sec[kind][1] else "") == mode
        # header (8 + 3 + 5 varints + checksum + CRC) and 2 section headers (3 + varint + 4)
        assert 8 + 3 + 5 + 8 + 4 + 2 * 8 <= len(data) - sec["index"][2] - sec["label"][2] < 64
    with pytest.raises(ValueError, match="not a format 2"):
        C.stream_sections(b"\x89PLD\r\n\x1a\n\x01\x03" + bytes(40))


def test_auto_rule():
    # a costlier decode (class 2, or + 1 for Zstd) must save 0.5 % of the stream
    assert C.auto_rule([(1000, 0, False, 0), (996, 1, False, 2)]) == 0
    assert C.auto_rule([(1000, 0, False, 0), (994, 1, False, 2)]) == 1
    assert C.auto_rule([(1000, 0, False, 0), (996, 0, True, 0)]) == 0
    assert C.auto_rule([(1000, 0, False, 0), (996, 1, False, 2)], min_gain=0) == 1
    assert C.auto_rule([(500, 3, False, 0), (500, 1, False, 0)]) == 1    # ties: lower id


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
    env_keys = {"machine", "python", "numpy", "numba", "zstandard", "zstd_level", "commit"}
    assert env_keys <= set(doc["environment"])
    assert doc["environment"]["pladafmt"] == "2.0.0"
    assert doc["roundtrip_failures"] == []
    names = [c["name"] for c in doc["contenders"]]
    assert names[:len(V20_CONTENDERS)] == V20_CONTENDERS
    assert {"paper Idx zstd (interleaved)", "paper Idx zstd (separated)", "paper Bmp zstd",
            "npz compressed", "roaring zstd", "paper Idx xz-9 (interleaved)"} <= set(names)
    for case in doc["cases"]:
        assert case["bound_bits"] > 0
        assert set(case["results"]) == set(names), case["workload"]["name"]
        for name, r in case["results"].items():
            assert r["roundtrip_ok"] is True, (case["workload"]["name"], name)
            assert r["bytes"] > 0
        # auto is within 0.2 % of the pair the spec's rule picks from the exact stream sizes
        # (FORMAT2 section 6: the fast auto may skip Zstd-19 where it cannot win)
        assert case["pladafmt_auto_over_rule_pair"] <= 0.002, case["workload"]["name"]
        auto = case["results"]["pladafmt auto"]
        assert auto["bytes"] - sum(auto["stream_body_bytes"].values()) < 64
    comp = doc["composition_check"]
    assert comp["pairs"] == 2 * 8 * 6 and comp["mismatches"] == []
    sp = doc["decode_speed"]["cases"]
    assert [r["family"] for r in sp] == ["uniform", "clustered", "in21k-like"]
    for r in sp:
        assert r["k"] == 141_971 and 0 < r["auto_bytes"] < r["paper_bytes"]
        for t in (r, r["threads_1"]):      # the container on two threads, then on one
            assert 0 < t["pladafmt_min_ms"] <= t["pladafmt_median_ms"]
            assert 0 < t["baseline_min_ms"] <= t["baseline_median_ms"]
            assert 0 < t["pair_ratio_p10"] <= t["median_pair_ratio"] <= t["pair_ratio_p90"]
    es = doc["encode_speed"]["cases"]
    assert [r["k"] for r in es] == [128_116] * 2
    assert all(0 < r["median_s"] and r["items_per_s"] == r["k"] / r["median_s"] for r in es)
    # 1.3's sizes come from the committed files, by workload name
    v13 = {r["workload"]: r for r in doc["v13"]["cases"]}
    assert v13["uniform IN-1K C=101 uniform keep=1%"]["v13_bytes"] == 23_867
    assert v13["IN-21K-like synth_scores C=101 stratified keep=1%"]["v13_bytes"] == 112_625
    md = (tmp_path / "RESULTS.md").read_text()
    for section in ("## Headline", "## Uniform selections", "## Clustered selections",
                    "## Real selections", "## Small payloads", "## Decode speed at 1 % of "
                    "IN-21K", "## Encode speed", "## 2.0 against 1.3"):
        assert section in md
    assert len(md.splitlines()) <= 400
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


# ------------------------------------------------ a broken codec fails the benchmark (#16)
BROKEN = {
    # the package does not import
    "import": "raise ImportError('deliberately broken pladafmt')\n",
    # encode raises (the old run_case turned this into an "error" cell and went on)
    "raises": ("def encode(*args, **kwargs):\n"
               "    raise RuntimeError('deliberately broken encode')\n"),
    # encode writes the wrong labels: every payload decodes, to the wrong task
    "encode": ("_encode = encode\n\n\n"
               "def encode(indices, labels, **kw):\n"
               "    import numpy\n"
               "    return _encode(indices, (numpy.asarray(labels) + 1) % kw['classes'], **kw)\n"),
}


@pytest.mark.parametrize("how", [None, *BROKEN])
def test_broken_codec_fails_the_benchmark(tmp_path, how):
    """The benchmark on a copy of the package, deliberately broken (or intact, as the
    control): it must exit non-zero, where it used to leave pladafmt out of the table."""
    import shutil
    shutil.copytree(os.path.join(ROOT, "pladafmt"), tmp_path / "pladafmt",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = tmp_path / "pladafmt" / "__init__.py"
    if how == "import":
        init.write_text(BROKEN[how] + init.read_text())
    elif how is not None:
        init.write_text(init.read_text() + "\n\n" + BROKEN[how])
    idx, lab = W.Workload("uniform", "60K", W.N_MNIST, 0.005, 10, "uniform").generate()
    np.savez(tmp_path / "keep.npz", indices=idx, labels=lab)
    # cwd = the copy's parent: `python -m` puts it first on sys.path, ahead of ROOT; small
    # calls then run the kernels' Python (no compile of the copy's kernels)
    env = dict(os.environ, PYTHONPATH=ROOT, PLADAFMT_JIT_ALWAYS="0")
    p = subprocess.run([sys.executable, "-m", "benchmarks.run", "--selection", "keep.npz",
                        "--pool-size", str(W.N_MNIST), "--num-classes", "10", "--size-only"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    if how is None:
        assert p.returncode == 0, p.stderr[-3000:]
        assert "pladafmt auto" in p.stdout and "pladafmt lab=ctx-rans+zstd" in p.stdout
    else:
        assert p.returncode != 0, p.stdout[-3000:]
        assert ("ROUND TRIP FAILURES: pladafmt auto" in p.stdout if how == "encode"
                else "deliberately broken" in p.stderr), (p.stdout + p.stderr)[-3000:]


# ------------------------------------------------------------ mode audit (issue #15)
def test_mode_audit_renders_the_committed_record(tmp_path):
    """MODE_AUDIT.md is what its committed JSON renders to (1.3's measurements; 2.0 has no
    1.3 modes to measure again), the 2.0-set section included."""
    from benchmarks import mode_audit as A
    out = tmp_path / "MODE_AUDIT.md"
    assert A.main(["--md", str(out)]) == 0
    text = out.read_text()
    with open(A.MD_PATH) as f:
        assert text == f.read()
    assert "- index `varint`: **keep**" in text         # one of the paper's own encodings
    assert "## The 2.0 set" in text


def test_mode_audit_rule_and_losses():
    from benchmarks import mode_audit as A
    case = {"name": "w", "family": "uniform", "keep": 0.01, "k": 5000, "payload_bytes": 1412,
            "streams": {"index": {"varint": 500, "rice": 400, "rice+zstd": 410,
                                  "adaptive": 300, "adaptive+zstd": 310},
                        "labels": {"packed": 1000, "huffman": 900, "rans": 950,
                                   "adaptive": 800}}}
    case["auto"] = {kind: A.choose(kind, case["streams"][kind]) for kind in A.STREAMS}
    assert case["auto"] == {"index": "adaptive", "labels": "adaptive"}
    loss = A.losses(case)
    assert loss["index", "adaptive"] == (100, "rice")          # the next plain one
    assert loss["index", "rice"] == (0, "adaptive")            # not picked: costs nothing
    assert loss["labels", "adaptive"] == (100, "huffman")
    assert A.v20_loss(case) == (100 + 150, {"index": "rice", "labels": "rans"})
    # within 0.5 %, the cheaper decode wins
    case["streams"]["index"].update(adaptive=399, **{"adaptive+zstd": 409})
    assert A.choose("index", case["streams"]["index"]) == "rice"


def test_v13_reference_without_the_1_3_commit(monkeypatch, capsys):
    """A clone without format 1.3's commit (shallow, or an sdist) gets no 1.3 size for real
    selections the committed 1.3 files did not see (they are listed under not_in_v13), and a
    note saying why, instead of a failed benchmark run."""
    from benchmarks import run as R
    monkeypatch.setattr(R, "V13_COMMIT", "0" * 40)
    assert R.v13_encode_real(["real 0000000000000000 keep=1%"]) == {}
    assert "no 1.3 reference for 1 real selection" in capsys.readouterr().err
