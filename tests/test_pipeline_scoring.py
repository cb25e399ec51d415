"""score_pool: streamed scores equal the full-matrix computation; shards resume to the same
bytes without re-scoring; a shard directory of another run is refused; torchrun = one process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from reference_pipeline import common, score_pool, train_teacher  # noqa: E402
from reference_pipeline.pools import FASHION_DIR, FONT_DIRS, open_pool  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HAVE_DATA = (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file() and any(d.is_dir() for d in FONT_DIRS)
KW = dict(batch_size=64, shard_size=128, workers=0, verbose=False)   # 1,000 items: 8 shards of 2 batches


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A barely trained digits teacher (sklearn's bundled digits: no data package needed)."""
    path = tmp_path_factory.mktemp("teacher") / "teacher.pt"
    train_teacher.train_teacher("digits", str(path), model="plada_cnn", img_size=28, steps=3, batch_size=32,
                                verbose=False)
    return str(path)


@pytest.fixture(scope="module")
def npy_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "pool.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, (1000, 28, 28), dtype=np.uint8))
    return f"npy:{path}"


@pytest.fixture(scope="module")
def reference(teacher, npy_spec, tmp_path_factory):
    """Bytes of one uninterrupted single-process run."""
    out = tmp_path_factory.mktemp("ref") / "scores.npz"
    score_pool.score_pool(teacher, npy_spec, str(out), **KW)
    return out.read_bytes()


def _log(shard_dir):
    return [json.loads(line) for line in (Path(shard_dir) / "log.jsonl").read_text().splitlines()]


@pytest.mark.skipif(not HAVE_DATA, reason="apt-get install dataset-fashion-mnist fonts-dejavu-core")
def test_streamed_scores_equal_the_full_matrix(teacher, tmp_path):
    pool = open_pool("broad:300,300", tmp_path / "cache")   # a slice of the demo pool: both item kinds
    res = score_pool.score_pool(teacher, pool.spec, str(tmp_path / "s.npz"), pool=pool, **KW)
    net, ckpt = train_teacher.load_teacher(teacher, "cpu")
    logits = common.predict_logits(net, pool.images, img_size=28, batch_size=64, device="cpu", mean=ckpt["mean"],
                                   std=ckpt["std"])
    labels, energy, entropy = score_pool.energy_entropy(logits, 1.0)   # the old N x C computation
    top = np.sort(logits, 1)
    # bit for bit: the same batches through the net, the same float64 row arithmetic
    assert np.array_equal(res["labels"], labels) and np.array_equal(res["energy"], energy)
    assert np.array_equal(res["entropy"], entropy)
    assert np.array_equal(res["margin"], top[:, -1] - top[:, -2]) and (res["margin"] >= 0).all()
    assert res["energy"].dtype == res["entropy"].dtype == res["margin"].dtype == np.float32
    assert list(res["classes"]) == [str(c) for c in ckpt["classes"]]
    assert bytes(res["pool_digest"]) == pool.digest()


def test_workers_and_reruns_give_the_same_bytes(teacher, npy_spec, reference, tmp_path):
    out = tmp_path / "w.npz"
    score_pool.score_pool(teacher, npy_spec, str(out), **dict(KW, workers=1))
    assert out.read_bytes() == reference
    assert not (tmp_path / "w.npz.shards").exists(), "the shard directory is removed after the merge"
    assert json.loads((tmp_path / "w.npz.run.json").read_text())["scored_this_run"] == list(range(8))


def test_interrupted_run_resumes_without_rescoring(teacher, npy_spec, reference, tmp_path, monkeypatch):
    out, shards = tmp_path / "s.npz", tmp_path / "s.npz.shards"
    calls = []
    real = score_pool.reduce_logits

    def dies_in_batch_8(logits, T):   # batch 8 (the 9th) is the first batch of shard 4
        calls.append(1)
        if len(calls) == 9:
            raise KeyboardInterrupt("killed")
        return real(logits, T)

    monkeypatch.setattr(score_pool, "reduce_logits", dies_in_batch_8)
    with pytest.raises(KeyboardInterrupt):
        score_pool.score_pool(teacher, npy_spec, str(out), **KW)
    monkeypatch.setattr(score_pool, "reduce_logits", real)
    assert not out.exists() and sorted(p.name for p in shards.glob("shard-*.npz")) == [
        f"shard-{k:06d}.npz" for k in range(4)]
    score_pool.score_pool(teacher, npy_spec, str(out), keep_shards=True, **KW)
    assert out.read_bytes() == reference
    runs = {}
    for r in _log(shards):
        runs.setdefault(r["run"], []).append(r["shard"])
    assert list(runs.values()) == [[0, 1, 2, 3], [4, 5, 6, 7]], "no finished shard is scored twice"
    # a lost shard is re-scored alone; --merge-only refuses to merge with one missing
    (shards / "shard-000002.npz").unlink()
    with pytest.raises(common.PipelineError) as exc:
        score_pool.score_pool(teacher, npy_spec, str(out), merge_only=True, **KW)
    exc.match(r"--merge-only: 1 of 8 shards are not finished .*first missing: \[2\]")
    out.unlink()
    score_pool.score_pool(teacher, npy_spec, str(out), keep_shards=True, **KW)
    assert out.read_bytes() == reference and [r["shard"] for r in _log(shards)][8:] == [2]
    out.unlink()
    score_pool.score_pool(teacher, npy_spec, str(out), merge_only=True, **KW)
    assert out.read_bytes() == reference and not shards.exists()


def test_shards_of_another_run_are_refused(teacher, npy_spec, tmp_path):
    out, shards = tmp_path / "s.npz", tmp_path / "shards"
    score_pool.score_pool(teacher, npy_spec, str(out), shard_dir=shards, keep_shards=True, **KW)
    other_teacher = tmp_path / "other.pt"
    common.save_checkpoint(other_teacher, dict(common.load_checkpoint(teacher), teacher_acc=0.5))
    other_pool = tmp_path / "other.npy"
    np.save(other_pool, np.zeros((1000, 28, 28), np.uint8))
    sha = common.sha256_file(teacher)
    cases = [
        (dict(teacher=str(other_teacher)), f"teacher_sha256 expected '{common.sha256_file(other_teacher)}' "
                                           f"\\(this run\\), got '{sha}'"),
        (dict(pool_spec=f"npy:{other_pool}"), "pool_digest expected '[0-9a-f]{64}' \\(this run\\), got '[0-9a-f]{64}'"),
        (dict(T=2.0), "T expected 2.0 \\(this run\\), got 1.0"),
        (dict(shard_size=192), "shard_size expected 192 \\(this run\\), got 128"),
        (dict(batch_size=32), "batch_size expected 32 \\(this run\\), got 64"),
        (dict(amp="bf16"), "compute expected 'cpu/bfloat16' \\(this run\\), got 'cpu/float32'"),
    ]
    for change, msg in cases:
        args = dict(dict(teacher=teacher, pool_spec=npy_spec, out=str(tmp_path / "x.npz"), shard_dir=shards),
                    **KW)
        args.update(change)
        with pytest.raises(common.PipelineError) as exc:
            score_pool.score_pool(args.pop("teacher"), args.pop("pool_spec"), args.pop("out"), **args)
        exc.match(f"shard directory {shards} belongs to another scoring run: {msg}")
    with pytest.raises(common.PipelineError) as exc:
        score_pool.score_pool(teacher, npy_spec, str(out), **dict(KW, shard_size=100))
    exc.match("shard size expected a positive multiple of the batch size 64, got 100")


def test_torchrun_two_processes_write_the_same_bytes(teacher, npy_spec, reference, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "reference_pipeline.score_pool", "--teacher", teacher, "--pool", npy_spec, "--batch-size", "64",
           "--shard-size", "128", "--workers", "0", "--keep-shards", "--out", str(tmp_path / "two.npz")]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "two.npz").read_bytes() == reference
    by_rank = {}
    for r in _log(tmp_path / "two.npz.shards"):
        by_rank.setdefault(r["rank"], []).append(r["shard"])
    assert by_rank == {0: [0, 2, 4, 6], 1: [1, 3, 5, 7]}
