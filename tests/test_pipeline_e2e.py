"""End to end on CPU: torchrun-sharded scoring equals one process; a tiny --quick-style demo learns.

Small on purpose (tiny pools, few steps): these check the plumbing and that the
student clearly beats chance, not the demo's accuracy targets (the demo reports those).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")
import pladafmt  # noqa: E402,F401  (a broken codec must fail these tests, never skip them)

from reference_pipeline import demo, score_pool, train_teacher  # noqa: E402
from reference_pipeline.pools import FASHION_DIR, FONT_DIRS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HAVE_DATA = (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file() and any(d.is_dir() for d in FONT_DIRS)


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    """A barely trained digits teacher (sklearn's bundled digits: no data package needed)."""
    path = tmp_path_factory.mktemp("teacher") / "teacher.pt"
    train_teacher.train_teacher("digits", str(path), model="plada_cnn", img_size=28, steps=3, batch_size=32,
                                verbose=False)
    return path


def test_torchrun_two_processes_equal_one(tmp_path, tiny_teacher):
    images = np.random.default_rng(0).integers(0, 256, (1000, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "pool.npy", images)
    spec = f"npy:{tmp_path / 'pool.npy'}"
    one = score_pool.score_pool(str(tiny_teacher), spec, str(tmp_path / "one.npz"), batch_size=128, verbose=False)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "reference_pipeline.score_pool", "--teacher", str(tiny_teacher), "--pool", spec,
           "--batch-size", "128", "--out", str(tmp_path / "two.npz")]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = np.load(tmp_path / "two.npz")
    for key in ("labels", "energy", "entropy", "ref_energy", "pool_digest"):
        assert np.array_equal(one[key], two[key]), key
    assert len(np.unique(one["labels"])) >= 1 and np.isfinite(one["energy"]).all()


def test_energy_and_entropy_definitions():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    labels, energy, entropy = score_pool.energy_entropy(logits, T=2.0)
    assert labels.tolist() == [0, 0]
    expect = -2.0 * np.log(np.exp(logits / 2).sum(1))
    assert np.allclose(energy, expect, atol=1e-6)
    assert np.isclose(entropy[1], np.log(3), atol=1e-6)


@pytest.mark.skipif(not HAVE_DATA, reason="apt-get install dataset-fashion-mnist fonts-dejavu-core")
def test_quick_demo_student_beats_chance_widely(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    records = demo.run(out, "quick", cache, pool_spec="broad:2000,2000", teacher_steps=120,
                       student_steps_range=(120, 120), verbose=False)
    results = json.loads((out / "results.json").read_text())
    assert (out / "report.md").is_file() and (out / "accuracy_vs_payload.png").is_file()
    runs = {r["rule"]: r for r in results["records"]}
    assert set(runs) >= {"teacher", demo.DEFAULT_RULE, "random"}
    default = runs[demo.DEFAULT_RULE]
    assert default["student_acc"] > 0.5, default   # chance is 0.10
    assert default["k"] == 40 and default["precision"] > 0.5
    assert 0 < default["payload_bytes"] < 1024   # header + metadata + 40 entries
    assert all(r["deterministic"] for r in records if "deterministic" in r)
    assert len(list((out / "payloads").glob("*.plada"))) == 2
    # the same seed gives the same payload bytes on a second run (cached teacher and scores)
    before = {p.name: p.read_bytes() for p in (out / "payloads").glob("*.plada")}
    demo.run(tmp_path / "again", "quick", cache, pool_spec="broad:2000,2000", teacher_steps=120,
             student_steps_range=(1, 1), verbose=False)
    after = {p.name: p.read_bytes() for p in (tmp_path / "again" / "payloads").glob("*.plada")}
    assert before == after


def test_demo_cli_rejects_unknown_model(tmp_path):
    from reference_pipeline.common import PipelineError

    with pytest.raises(PipelineError) as exc:
        demo.main(["--quick", "--out", str(tmp_path), "--model", "no_such_model_xyz"])
    exc.match("unknown model 'no_such_model_xyz'")


def test_report_gives_mean_sd_and_seed_count_per_row():
    base = dict(task="digits", keep=0.01, alpha=None, reserve=None, teacher_acc=0.9, precision=0.5, k=12,
                classes_kept=10, min_class_count=1, label_acc=None, deterministic=True)
    records = [dict(base, rule="random", seed=s, student_acc=a, payload_bytes=b, seconds=1.0)
               for s, a, b in [(0, 0.7, 100), (1, 0.8, 110), (2, 0.9, 120)]]
    records.append(dict(base, rule="stratified", seed=0, student_acc=0.85, payload_bytes=90, seconds=1.0))
    rows = {r["rule"]: r for r in demo.aggregate(records)}
    assert rows["random"]["n_seeds"] == 3 and rows["random"]["payload_bytes"] == 110
    assert rows["random"]["student_acc"] == pytest.approx(0.8)
    assert rows["random"]["student_sd"] == pytest.approx(np.std([0.7, 0.8, 0.9], ddof=1))
    assert rows["stratified"]["n_seeds"] == 1 and rows["stratified"]["student_sd"] is None
    summary = dict(mode="full", pool="p", pool_size=1, pool_digest="00" * 32, model="m", img_size=28, temperature=1.0,
                   safety_net_reserve=0.5, default_rule="stratified", seed=0, seeds_1pct=[0, 1, 2], torch="t",
                   threads=2, wall_seconds=1.0, tasks={})
    text = demo.report(records, summary)
    assert "| random | 0.01 |  |  | 3 | 12 | 110 |" in text and "0.8000 ± 0.1000" in text
    assert "| stratified | 0.01 |  |  | 1 | 12 | 90 |" in text and "0.8500 |" in text
    assert demo.seeds("full", 0.01) == demo.FULL_SEEDS and demo.seeds("full", 0.1) == (demo.SEED,)
    assert demo.seeds("default", 0.01) == (demo.SEED,)
