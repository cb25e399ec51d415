"""The codec without compiled kernels (pladafmt/_jit.py): pure-Python mode
(PLADAFMT_PURE_PYTHON=1, or no importable Numba) and small calls before Numba is loaded.
Each case runs in a fresh interpreter, without the suite's PLADAFMT_JIT_ALWAYS.
Both must give the bytes and the errors of the compiled kernels."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pladafmt

ROOT = Path(__file__).resolve().parent.parent

# Payloads every way must encode to the same bytes: auto over every mode, and each mode.
CASES = [(20_000, 3_000, 7, "auto", "auto"), (1 << 40, 200, 20_000, "auto", "auto"),
         (5_000, 900, 12, "rice", "rans"), (5_000, 900, 12, "ctx-rans", "ctx-rans"),
         (5_000, 900, 12, "varint+zstd", "rans+zstd"), (5_000, 900, 3, "bitmap", "packed"),
         (5_000, 900, 12, "rice", "ctx-rans")]


def _case(n, k, c):
    rng = np.random.default_rng(k)
    idx = np.sort(rng.choice(min(n, 1 << 20), k, replace=False)) * (n // min(n, 1 << 20))
    return idx, rng.integers(0, c, k)


SCRIPT = r"""
import hashlib, json, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import numpy as np
    import pladafmt
    from tests.test_purepython import CASES, _case
    from conformance import runner
    from pladafmt.cli import payload_to_json
    # import pladafmt loads no Numba, so it compiles nothing, and reads no cache stamp
    after_import = "numba" in sys.modules or "pladafmt._jitcache" in sys.modules
    failed = runner.in_process_failures(
        lambda data, **kw: payload_to_json(pladafmt.decode(data, **kw)), pladafmt.PladaError)
    digests = []
    for n, k, c, im, lm in CASES:
        idx, lab = _case(n, k, c)
        data = pladafmt.encode(idx, lab, pool_size=n, classes=c, index_mode=im, label_mode=lm)
        p = pladafmt.decode(data)
        assert p.indices.tolist() == idx.tolist() and p.labels.tolist() == lab.tolist()
        digests.append(hashlib.sha256(data).hexdigest())
    small = "numba" in sys.modules
    big = np.arange(0, 40_000, 3)
    data = pladafmt.encode(big, big % 10, pool_size=40_000, classes=10)
    assert pladafmt.decode(data).labels.tolist() == (big % 10).tolist()
    pladafmt.decode(data)
print(json.dumps({"failed": failed, "digests": digests, "big_digest": hashlib.sha256(data)
                  .hexdigest(), "numba_after_import": after_import, "numba_after_small": small,
                  "numba_after_big": "numba" in sys.modules,
                  "warnings": [str(w.message) for w in caught
                               if "pladafmt" in str(w.message)]}))
"""


def _run(env_extra, pythonpath=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLADAFMT_")}
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), str(ROOT)])
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def compiled():
    """Digests from this process, whose kernels run compiled (conftest)."""
    assert os.environ.get("PLADAFMT_JIT_ALWAYS") == "1"
    out = []
    for n, k, c, im, lm in CASES:
        idx, lab = _case(n, k, c)
        out.append(hashlib.sha256(pladafmt.encode(idx, lab, pool_size=n, classes=c,
                                                  index_mode=im, label_mode=lm)).hexdigest())
    big = np.arange(0, 40_000, 3)
    return out, hashlib.sha256(pladafmt.encode(big, big % 10, pool_size=40_000,
                                               classes=10)).hexdigest()


def test_pure_python_mode_passes_the_whole_suite(compiled):
    out = _run({"PLADAFMT_PURE_PYTHON": "1"})
    assert out["failed"] == []
    assert (out["digests"], out["big_digest"]) == compiled
    assert not (out["numba_after_import"] or out["numba_after_small"] or out["numba_after_big"])
    assert len(out["warnings"]) == 1 and "PLADAFMT_PURE_PYTHON is set" in out["warnings"][0]


def test_numba_that_fails_to_import_falls_back_once(compiled, tmp_path):
    """A numba that is installed but cannot be imported (a CPython it has no wheel for):
    the first call big enough to compile warns once, then everything runs as Python."""
    (tmp_path / "numba").mkdir()
    (tmp_path / "numba" / "__init__.py").write_text(
        "raise ImportError('Numba needs a CPython < 3.99 (test stand-in)')\n")
    out = _run({}, pythonpath=[tmp_path])
    assert out["failed"] == []
    assert (out["digests"], out["big_digest"]) == compiled
    assert len(out["warnings"]) == 1 and "test stand-in" in out["warnings"][0]


def test_small_calls_run_as_python_until_a_big_one_loads_numba(compiled):
    out = _run({})
    assert out["failed"] == [] and out["warnings"] == []
    assert (out["digests"], out["big_digest"]) == compiled
    assert out["numba_after_import"] is False and out["numba_after_small"] is False
    assert out["numba_after_big"] is True
