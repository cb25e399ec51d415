"""build_payload's CLI on synthetic scores: no teacher needed when the scores carry class names,
a round trip through pladafmt.decode, deterministic bytes, and the teacher read with the safe loader."""

import json
from pathlib import Path

import numpy as np
import pytest

import pladafmt
from reference_pipeline import build_payload as B
from reference_pipeline import selection as S
from reference_pipeline.common import PipelineError
from reference_pipeline.npzio import save_npz
from reference_pipeline.synth_scores import synth_scores

N, C = 60_000, 11


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("payload")
    s = synth_scores(N, C, seed=4)
    save_npz(d / "scores.npz", **s)
    assert S.main(["--scores", str(d / "scores.npz"), "--rule", "safety-net", "--keep", "0.02",
                   "--out", str(d / "keep.npz")]) == 0
    return d, s


def _build(d, out, *extra, scores="scores.npz"):
    return B.main(["--scores", str(d / scores), "--keep", str(d / "keep.npz"), "--out", str(d / out), *extra])


def test_without_teacher_round_trips(files):
    d, s = files
    assert _build(d, "a.plada") == 0
    p = pladafmt.decode((d / "a.plada").read_bytes(), pool_digest=s["pool_digest"].tobytes())
    with np.load(d / "keep.npz") as keep:
        assert np.array_equal(p.indices, keep["indices"]) and np.array_equal(p.labels, keep["labels"])
    assert len(p.indices) == S.budget(0.02, N) == 1200
    assert p.pool_size == N and p.classes == tuple(s["classes"].tolist())
    assert p.metadata["rule"] == "safety-net" and p.metadata["p"] == 0.02 and p.metadata["task"] is None
    assert p.metadata["pool"] == str(s["pool_spec"])


def test_payload_bytes_deterministic(files):
    d, _ = files
    assert _build(d, "b1.plada") == 0 and _build(d, "b2.plada") == 0
    assert (d / "b1.plada").read_bytes() == (d / "b2.plada").read_bytes()


def test_teacher_adds_task_and_must_agree_on_classes(files):
    from reference_pipeline.common import save_checkpoint

    d, s = files
    names = [str(c) for c in s["classes"]]
    save_checkpoint(d / "teacher.pt", dict(task="synthetic", model_name="plada_cnn", classes=names))
    assert _build(d, "t.plada", "--teacher", str(d / "teacher.pt")) == 0
    meta = pladafmt.decode((d / "t.plada").read_bytes()).metadata
    assert (meta["task"], meta["teacher"]) == ("synthetic", "plada_cnn")
    save_checkpoint(d / "other.pt", dict(task="x", model_name="m", classes=names[::-1]))
    with pytest.raises(PipelineError) as exc:
        _build(d, "o.plada", "--teacher", str(d / "other.pt"))
    exc.match("class names differ")
    assert not (d / "o.plada").exists()


def test_teacher_needing_unsafe_unpickling_is_refused(files):
    import torch

    d, s = files
    # numpy arrays pickle as Python objects: weights_only=True refuses them, where the old
    # torch.load(weights_only=False) would have run whatever the pickle asked for
    torch.save(dict(task="x", model_name="m", classes=np.array(s["classes"]).astype(object)), d / "unsafe.pt")
    with pytest.raises(PipelineError) as exc:
        _build(d, "u.plada", "--teacher", str(d / "unsafe.pt"))
    exc.match("unsafe unpickling")


def test_scores_without_classes_need_a_teacher(files):
    d, s = files
    old = {k: v for k, v in s.items() if k != "classes"}
    save_npz(d / "old-scores.npz", **old)
    with pytest.raises(PipelineError) as exc:
        _build(d, "n.plada", scores="old-scores.npz")
    exc.match("has no class names .* pass --teacher")


def test_npz_length_reads_the_header_only(files):
    d, _ = files
    assert B.npz_length(d / "scores.npz", "labels") == N
    with pytest.raises(PipelineError) as exc:
        B.npz_length(d / "scores.npz", "nope")
    exc.match("lacks the array 'nope'")


def test_keep_sidecar_metadata(files):
    d, _ = files
    meta = json.loads(Path(str(d / "keep.npz") + ".json").read_text())
    assert meta == dict(rule="safety-net", keep=0.02, reserve=S.RESERVE, alpha=S.ALPHA,
                        rel_quantile=S.REL_QUANTILE, seed=S.SEED, k=1200)


def test_scale_script_runs_every_stage(capsys):
    """The scale script's table on a small pool (figures are not checked: they are measurements)."""
    from reference_pipeline import scale_selection

    assert scale_selection.main(["--items", "20000", "--rules", "random", "stratified", "--keeps", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "N = 20,000 items" in out and "bytes per item" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("synth_scores", "selection", "build_payload"))]
    assert [r[:2] for r in rows] == [["synth_scores", "-"], ["selection", "random"], ["build_payload", "random"],
                                     ["selection", "stratified"], ["build_payload", "stratified"]]
    assert all(r[3] == "200" for r in rows[1:]) and all(int(r[-1]) > 0 for r in rows[2::2])


def test_pipeline_tests_fail_when_the_codec_is_broken(tmp_path):
    """The end-to-end tests import pladafmt plainly (they once used importorskip, which turned
    a broken codec into a skip): with a package whose import fails first on sys.path,
    collecting them must error, not skip."""
    import subprocess
    import sys
    broken = tmp_path / "pladafmt"
    broken.mkdir()
    # a missing dependency (ModuleNotFoundError) is what importorskip turned into a skip
    (broken / "__init__.py").write_text("import pladafmt_dependency_missing_on_purpose\n")
    root = Path(__file__).resolve().parents[1]
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import pytest; "
            f"sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', "
            f"{str(root / 'tests' / 'test_pipeline_e2e.py')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                       timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode not in (0, 5), out          # 5: nothing collected (all skipped)
    assert "missing_on_purpose" in out and "SKIPPED" not in out and "skipped" not in out, out
