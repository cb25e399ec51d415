"""Training plumbing: safe checkpoints, input normalisation, resume, batch-by-batch student data.

Tiny models and a few steps each: these check the mechanics, not accuracy.
"""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from reference_pipeline import common, data, train_student, train_teacher  # noqa: E402
from reference_pipeline.common import PipelineError  # noqa: E402


class Carried:
    """Any Python object: unpickling it would run the class's code, so weights_only must refuse it."""


# -----------------------------------------------------------------------------
# checkpoints

def test_checkpoint_round_trip_numpy_back_and_same_bytes(tmp_path):
    ck = dict(a=np.arange(6, dtype=np.float32).reshape(2, 3), b=np.array([1, 2], np.int64), n=np.float64(0.5),
              classes=("x", "y"), w={"layer.weight": torch.ones(2, 2)}, mean=(0.5,))
    common.save_checkpoint(tmp_path / "one.pt", ck)
    common.save_checkpoint(tmp_path / "two.pt", ck)
    assert (tmp_path / "one.pt").read_bytes() == (tmp_path / "two.pt").read_bytes()
    got = common.load_checkpoint(tmp_path / "one.pt")
    assert isinstance(got["a"], np.ndarray) and got["a"].dtype == np.float32 and np.array_equal(got["a"], ck["a"])
    assert got["b"].dtype == np.int64 and got["n"] == 0.5 and type(got["n"]) is float
    assert got["classes"] == ("x", "y") and torch.equal(got["w"]["layer.weight"], torch.ones(2, 2))
    assert "numpy_keys" not in got
    assert not list(tmp_path.glob("*.tmp*"))   # the temp file was renamed, not left behind


def test_checkpoint_with_python_objects_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save(dict(state_dict={}, extra=Carried()), path)
    with pytest.raises(PipelineError) as exc:
        common.load_checkpoint(path)
    exc.match("unsafe unpickling")
    assert isinstance(exc.value.__cause__, pickle.UnpicklingError)
    # numpy arrays pickled by torch.save (the old teacher format) are refused the same way
    torch.save(dict(calib_logits=np.zeros((2, 3), np.float32)), path)
    with pytest.raises(PipelineError) as exc:
        common.load_checkpoint(path)
    exc.match("unsafe unpickling")


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(PipelineError) as exc:
        common.load_checkpoint(tmp_path / "missing.pt")
    exc.match("checkpoint not found")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(PipelineError) as exc:
        common.load_checkpoint(tmp_path / "junk.pt")
    exc.match("not a readable torch checkpoint")
    with pytest.raises(PipelineError) as exc:
        common.save_checkpoint(tmp_path / "x.pt", dict(knobs=dict(path=tmp_path)))
    exc.match(r"\['knobs'\]\['path'\]: expected plain types and tensors, got PosixPath")
    assert not (tmp_path / "x.pt").exists()


# -----------------------------------------------------------------------------
# normalisation

def test_to_input_numpy_and_torch_agree_and_default_is_pm1():
    x = np.random.default_rng(0).integers(0, 256, (3, 9, 9, 3), dtype=np.uint8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    a = common.to_input(x, 9, "cpu", mean, std)
    b = common.to_input(torch.from_numpy(x).permute(0, 3, 1, 2), 9, "cpu", mean, std)
    assert a.dtype == torch.float32 and a.shape == (3, 3, 9, 9)
    assert torch.equal(a, b)
    expect = (x.astype(np.float32) / 255 - np.array(mean, np.float32)) / np.array(std, np.float32)
    assert np.allclose(a.permute(0, 2, 3, 1).numpy(), expect, atol=1e-6)
    grey = x[..., 0]
    assert np.allclose(common.to_input(grey, 9, "cpu")[:, 0].numpy(), grey / 127.5 - 1.0, atol=1e-6)
    assert common.to_input(grey, 5, "cpu").shape == (3, 1, 5, 5)
    with pytest.raises(PipelineError) as exc:
        common.to_input(x.astype(np.float32), 9, "cpu")
    exc.match("expected a uint8 array")
    with pytest.raises(PipelineError) as exc:
        common.to_input(x, 9, "cpu", (0.5, 0.5), (0.5, 0.5))
    exc.match("2 means and 2 stds, the input has 3 channels")


def test_to_input_adapts_channels_to_the_model():
    rgb = np.random.default_rng(1).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    grey = rgb[..., 1]
    as_rgb = common.to_input(grey, 4, "cpu", in_chans=3)           # a grey task for an RGB-pool student
    assert as_rgb.shape == (2, 3, 4, 4) and all(torch.equal(as_rgb[:, c], as_rgb[:, 0]) for c in (1, 2))
    assert torch.allclose(as_rgb[:, 0], torch.from_numpy(grey / 127.5 - 1.0).float(), atol=1e-6)
    luma = common.to_input(rgb, 4, "cpu", in_chans=1)              # an RGB pool for a grey task's teacher
    expect = (rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])) / 127.5 - 1.0
    assert luma.shape == (2, 1, 4, 4) and np.allclose(luma[:, 0].numpy(), expect, atol=1e-5)
    assert torch.equal(common.to_input(rgb, 4, "cpu", in_chans=3), common.to_input(rgb, 4, "cpu"))
    with pytest.raises(PipelineError, match="has 3 channels, the model takes 2"):
        common.to_input(rgb, 4, "cpu", in_chans=2)


def test_input_norm_uses_timm_data_config_for_pretrained_models():
    from timm.data import resolve_model_data_config

    net = common.create_model("resnet10t", 10, 3)
    cfg = resolve_model_data_config(net)
    assert common.input_norm(net, "auto", pretrained=True, in_chans=3) == (tuple(cfg["mean"]), tuple(cfg["std"]))
    assert common.input_norm(net, "auto", pretrained=False, in_chans=3) == common.PM1
    assert common.input_norm(net, "timm", pretrained=False, in_chans=3)[0] == tuple(cfg["mean"])
    assert common.input_norm(net, "pm1", pretrained=True, in_chans=3) == common.PM1
    grey_mean, grey_std = common.input_norm(common.create_model("resnet10t", 10, 1), "auto", True, 1)
    assert grey_mean == (pytest.approx(sum(cfg["mean"]) / 3),) and grey_std == (pytest.approx(sum(cfg["std"]) / 3),)
    with pytest.raises(PipelineError) as exc:
        common.input_norm(net, "imagenet", True, 3)
    exc.match("normalisation 'imagenet'")


def test_teacher_records_and_applies_its_normalisation(tmp_path):
    # the demo's default: a plada_cnn teacher from scratch keeps [-1, 1]
    ck = train_teacher.train_teacher("digits", str(tmp_path / "t.pt"), steps=2, batch_size=16, verbose=False)
    assert (ck["mean"], ck["std"]) == common.PM1
    # a timm model from local pretrained weights takes timm's data config (1 channel: the RGB mean)
    init = tmp_path / "init.pth"
    torch.save(common.create_model("resnet10t", 10, 1).state_dict(), init)
    ck = train_teacher.train_teacher("digits", str(tmp_path / "r.pt"), model="resnet10t", checkpoint=str(init),
                                     steps=1, batch_size=16, verbose=False)
    assert ck["mean"] == (pytest.approx((0.485 + 0.456 + 0.406) / 3),)
    net, loaded = train_teacher.load_teacher(str(tmp_path / "r.pt"), "cpu")
    assert loaded["mean"] == ck["mean"] and loaded["std"] == ck["std"]
    x = train_teacher.load_task("digits")["train_x"]
    kw = dict(img_size=28, batch_size=512, device="cpu")
    recorded = common.predict_logits(net, x, mean=loaded["mean"], std=loaded["std"], **kw)
    assert np.allclose(recorded, loaded["calib_logits"], atol=1e-4)   # calib logits were made with it
    assert not np.allclose(common.predict_logits(net, x, **kw), loaded["calib_logits"], atol=1e-2)


# -----------------------------------------------------------------------------
# student data path and resume

class CountingImages:
    """A pool's image array that records how many rows each read returns."""

    def __init__(self, a):
        self.a, self.reads = a, []
        self.ndim, self.shape = a.ndim, a.shape

    def __len__(self):
        return len(self.a)

    def __getitem__(self, sel):
        out = self.a[sel]
        self.reads.append(len(out))
        return out


def _payload(idx, labels, n_cls=4):
    return SimpleNamespace(indices=np.asarray(idx, np.int64), labels=np.asarray(labels, np.int64),
                           classes=tuple(str(c) for c in range(n_cls)))


def test_student_reads_kept_items_batch_by_batch():
    rng = np.random.default_rng(1)
    images = CountingImages(rng.integers(0, 256, (2000, 12, 12), dtype=np.uint8))
    idx = np.sort(rng.choice(2000, 300, replace=False))
    res = train_student.train_student(_payload(idx, rng.integers(0, 4, 300)), common.ArrayPool(images),
                                      img_size=12, steps=3, batch_size=16, verbose=False, device="cpu")
    assert res["k"] == 300 and (res["mean"], res["std"]) == common.PM1
    assert images.reads == [16, 16, 16]   # three batches, never the 300 kept items at once


def _fit(pool, labels, state=None, every=0, resume=False, steps=6):
    common.setup_torch(seed=0)
    net = common.create_model("plada_cnn", 4, 1)
    common.fit(net, data.PoolDataset(pool), labels, steps=steps, batch_size=16, lr=1e-3, weight_decay=0.05,
               img_size=12, max_shift=2, hflip=True, seed=3, device="cpu", checkpoint=state, checkpoint_every=every,
               resume=resume)
    return net.state_dict()


class Crash(Exception):
    pass


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path):
    rng = np.random.default_rng(2)
    images, labels = rng.integers(0, 256, (40, 12, 12), dtype=np.uint8), rng.integers(0, 4, 40)
    straight = _fit(common.ArrayPool(images), labels)

    class CrashingImages(CountingImages):
        def __getitem__(self, sel):
            if len(self.reads) == 4:   # the 5th step's batch: after the checkpoint at step 4
                raise Crash
            return super().__getitem__(sel)

    state = tmp_path / "state.pt"
    with pytest.raises(Crash):
        _fit(common.ArrayPool(CrashingImages(images)), labels, state, every=2)
    assert common.load_checkpoint(state)["step"] == 4
    counting = CountingImages(images)
    resumed = _fit(common.ArrayPool(counting), labels, state, every=2, resume=True)
    assert counting.reads == [16, 16]   # steps 5 and 6 only
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    # a different run must not resume from this state
    with pytest.raises(PipelineError) as exc:
        _fit(common.ArrayPool(images), labels, state, every=2, resume=True, steps=8)
    exc.match("this run has steps = 8, the checkpoint 6")


def test_student_checkpoint_records_normalisation(tmp_path):
    rng = np.random.default_rng(3)
    pool = common.ArrayPool(rng.integers(0, 256, (50, 12, 12), dtype=np.uint8))
    payload = _payload(np.arange(20), rng.integers(0, 4, 20))
    res = train_student.train_student(payload, pool, img_size=12, steps=1, batch_size=8, verbose=False,
                                      device="cpu", norm="timm")
    train_student.save_student(tmp_path / "s.pt", res, payload, img_size=12, in_chans=1)
    ck = common.load_checkpoint(tmp_path / "s.pt")
    assert ck["mean"] == res["mean"] and ck["std"] == res["std"] and len(ck["mean"]) == 1
    assert ck["classes"] == payload.classes and ck["model_name"] == "plada_cnn"
    net = common.create_model(ck["model_name"], ck["num_classes"], ck["in_chans"])
    net.load_state_dict(ck["state_dict"])


def test_resume_needs_a_checkpoint_file():
    pool = common.ArrayPool(np.zeros((20, 12, 12), np.uint8))
    with pytest.raises(PipelineError) as exc:
        _fit(pool, np.zeros(20, np.int64), state=None, resume=True)
    exc.match("--resume and --checkpoint-every need a --checkpoint file")
