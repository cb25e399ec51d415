"""Every stream mode's decoder on hostile raw bodies, kernel vs readable twin (issue 6).

Below the container (no CRCs, no content checksum): arbitrary bytes are fed straight
to each mode's ``decode(raw, size, count)``. Oracle:

* only ``PladaError`` escapes the kernel path;
* a kernel result is well formed: int64, length ``count``, indices strictly
  increasing in ``[0, N)`` / labels in ``[0, C)``;
* differential: the Numba kernel and the pure-Python twin agree -- both reject, or
  both return the same values. A kernel that accepts what the twin rejects (or decodes
  it differently) is a silent wrong answer the content checksum would only catch
  end-to-end;
* bodies longer than the mode's raw size bound are not required to be rejected here
  (the container rejects them first).

Modes come from the registered tables *and* from any pladafmt module that declares
``MODE_ID``/``KIND`` (format 1.1 modes before they are registered), so new modes are
fuzzed as soon as they exist. Examples: ``PLADA_MUTATOR_EXAMPLES`` (default 150).
"""

from __future__ import annotations

import importlib
import os
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import pladafmt
from fuzzlib import gap_context
from pladafmt import PladaError
from pladafmt._modes import INDEX_MODES, LABEL_MODES

EXAMPLES = int(os.environ.get("PLADA_MUTATOR_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _with_context(enc, dec, twin):
    """(values, size[, count]) functions for a mode that also takes the kept indices."""
    return (lambda vals, size: enc(vals, size, gap_context(len(vals))),
            lambda raw, size, count: dec(raw, size, count, gap_context(count)),
            lambda raw, size, count: twin(raw, size, count, gap_context(count)))


def _all_modes():
    """Every mode of the two tables (the only registry: a mode not in a table is not one)."""
    modes = {}
    for kind, table in (("index", INDEX_MODES), ("label", LABEL_MODES)):
        for m in table.values():
            fns = (m.encode, m.decode, m.decode_twin)
            modes[(kind, m.name)] = (*(_with_context(*fns) if m.needs_indices else fns),
                                     m.raw_size_bound)
    return modes


MODES = _all_modes()
KEYS = sorted(MODES)


def _valid_stream(kind, enc, rng, size, count):
    if kind == "index":
        vals = np.sort(rng.choice(size, count, replace=False)).astype(np.int64)
    else:
        vals = rng.integers(0, size, count).astype(np.int64)
    return vals, enc(vals, size)


def _run_both(kind, dec, twin, raw, size, count):
    arr = np.frombuffer(raw, dtype=np.uint8)
    try:
        got = dec(arr, size, count)
        k_err = None
    except PladaError as e:
        got, k_err = None, e
    try:
        t_got = twin(raw, size, count)
        t_err = None
    except (ValueError, EOFError) as e:       # twins raise ValueError or PladaError
        t_got, t_err = None, e
    except (IndexError, KeyError, OverflowError):
        t_got, t_err = None, "twin-crash"     # a twin bug, not a decoder safety bug
    if got is not None:
        got = np.asarray(got)
        assert got.dtype == np.int64 and got.shape == (count,)
        if count:
            if kind == "index":
                assert got[0] >= 0 and got[-1] < size and np.all(np.diff(got) > 0), got
            else:
                assert got.min() >= 0 and got.max() < size, got
    return got, k_err, t_got, t_err


@pytest.mark.parametrize("key", KEYS, ids=["-".join(k) for k in KEYS])
@SETTINGS
@given(data=st.data())
def test_mode_decoder_on_mutated_bodies(key, data):
    kind, name = key
    enc, dec, twin, bound = MODES[key]
    size = data.draw(st.sampled_from([1, 2, 3, 7, 40, 300, 5000]) if kind == "index"
                     else st.sampled_from([1, 2, 3, 5, 17, 300]))
    count = data.draw(st.integers(0, min(size, 60) if kind == "index" else 60))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    try:
        vals, raw = _valid_stream(kind, enc, rng, size, count)
    except PladaError:
        return
    b = bytearray(raw)
    for _ in range(data.draw(st.integers(0, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "ins", "del", "trunc", "app"]))
        pos = data.draw(st.integers(0, max(len(b), 1) - 1))
        if op == "flip" and b:
            b[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set" and b:
            b[pos] = data.draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif op == "ins":
            b[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif op == "del" and b:
            del b[pos:pos + data.draw(st.integers(1, 8))]
        elif op == "trunc":
            del b[pos:]
        elif op == "app":
            b += data.draw(st.binary(min_size=1, max_size=8))
    # the count the header would carry may be wrong too
    dcount = data.draw(st.sampled_from([count, count, count + 1, max(count - 1, 0), 0]))
    if kind == "index":
        dcount = min(dcount, size)
    raw2 = bytes(b)
    got, k_err, t_got, t_err = _run_both(kind, dec, twin, raw2, size, dcount)
    if t_err == "twin-crash":
        return
    if len(raw2) <= bound(size, dcount):
        assert (got is None) == (t_got is None), (
            f"{name}: kernel {'accepts' if got is not None else 'rejects'} but twin "
            f"{'rejects' if t_got is None else 'accepts'}: raw={raw2.hex()} size={size} "
            f"count={dcount} kernel_err={k_err!r} twin_err={t_err!r}")
        if got is not None:
            assert got.tolist() == list(t_got), f"{name}: kernel != twin on {raw2.hex()}"


@pytest.mark.parametrize("key", KEYS, ids=["-".join(k) for k in KEYS])
@SETTINGS
@given(raw=st.binary(max_size=200), size_i=st.integers(0, 5), count=st.integers(0, 300))
@example(raw=b"", size_i=0, count=0)
@example(raw=b"\xff" * 64, size_i=5, count=300)
@example(raw=b"\x00" * 64, size_i=5, count=300)
def test_mode_decoder_on_random_bodies(key, raw, size_i, count):
    kind, name = key
    enc, dec, twin, bound = MODES[key]
    size = [1, 2, 3, 40, 300, 2 ** 40][size_i] if kind == "index" else [1, 2, 3, 17, 300, 2 ** 20][size_i]
    if kind == "index":
        count = min(count, size)
    got, k_err, t_got, t_err = _run_both(kind, dec, twin, raw, size, count)
    if t_err == "twin-crash" or len(raw) > bound(size, count):
        return
    assert (got is None) == (t_got is None), (
        f"{name}: kernel/twin disagree on raw={raw.hex()} size={size} count={count}: "
        f"kernel_err={k_err!r} twin_err={t_err!r}")
    if got is not None:
        assert got.tolist() == list(t_got)
