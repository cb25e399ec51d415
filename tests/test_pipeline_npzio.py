"""reference_pipeline.npzio: deterministic bytes, numpy.load compatibility, atomic writes."""

import os
import time

import numpy as np
import pytest

from reference_pipeline.common import PipelineError
from reference_pipeline.npzio import save_npz


def test_same_arrays_same_bytes_across_time(tmp_path):
    arrays = dict(labels=np.arange(1000, dtype=np.int32) % 7, energy=np.linspace(-3, 1, 1000, dtype=np.float32),
                  spec=np.str_("broad"), T=np.float64(1.0))
    a = save_npz(tmp_path / "a.npz", **arrays).read_bytes()
    time.sleep(2.1)  # zip timestamps have 2-second resolution; np.savez would differ now
    b = save_npz(tmp_path / "b.npz", **arrays).read_bytes()
    assert a == b
    with np.load(tmp_path / "a.npz") as z:
        assert list(z.keys()) == ["labels", "energy", "spec", "T"]
        for k, v in arrays.items():
            np.testing.assert_array_equal(z[k], v)
            assert z[k].dtype == np.asarray(v).dtype


def test_object_array_refused_and_target_untouched(tmp_path):
    p = tmp_path / "keep.npz"
    save_npz(p, x=np.arange(3))
    before = p.read_bytes()
    with pytest.raises(PipelineError, match="'bad'.*dtype object"):
        save_npz(p, x=np.arange(5), bad=np.array([{"a": 1}], dtype=object))
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.npz"]  # no temporary file left behind


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_permissions_follow_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        p = save_npz(tmp_path / "s.npz", x=np.zeros(2))
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask
