"""Label mode "huffman": the table-driven fast path agrees with the careful kernel.

huffman_decode first runs the fast path (_try_decode_fast), which only says "valid"
or "not valid", and reruns the careful bit-serial path (_huffman_decode_careful) on any
doubt. So the fast path must accept exactly the streams the careful path accepts, with
the same output. These tests check both directions on random valid streams (including
codes longer than the lookup table, up to MAX_HUFFMAN_LENGTH bits) and on mutated,
truncated and extended ones, and against the readable twin.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pladafmt import _huffman as H
from pladafmt._errors import PladaError
from common import as_raw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def careful(raw, c, k):
    """("ok", labels) or ("error", type, message) of the careful path."""
    try:
        return ("ok", H._huffman_decode_careful(raw, c, k).tolist())
    except PladaError as e:
        return ("error", type(e), str(e))


def check_agree(raw_bytes, c, k):
    """The fast path accepts iff the careful path does, with the same labels, and
    huffman_decode behaves exactly as the careful path (same error and message)."""
    raw = as_raw(raw_bytes)
    want = careful(raw, c, k)
    # group: codes per lookup (None: as huffman_decode picks; larger ones are capped at
    # what fits, so each grouped table the stream allows is tried)
    for group in (None, 1, 2, 3, 4):
        out = np.full(k, -1, dtype=np.int64)
        fast_ok = H._try_decode_fast(raw, c, k, out, group)
        assert fast_ok == (want[0] == "ok"), (group, fast_ok, want)
        if fast_ok:
            assert out.tolist() == want[1], group
    try:
        got = ("ok", H.huffman_decode(raw, c, k).tolist())
    except PladaError as e:
        got = ("error", type(e), str(e))
    assert got == want
    return want


def encode_with_lengths(labels, lengths):
    """A stream with the given code lengths ({symbol: length}, any complete code, not
    only what the encoder would choose), written like huffman_encode_twin."""
    codes = H.canonical_codes(lengths)
    bits = "".join(f"{codes[v]:0{lengths[v]}b}" if lengths[v] else "" for v in labels)
    bits += "0" * (-len(bits) % 8)
    body = bytes(int(bits[i:i + 8][::-1], 2) for i in range(0, len(bits), 8))
    return bytes(H._write_table(lengths)) + body


@st.composite
def complete_codes(draw, max_symbols=40):
    """({symbol: length}, class_count): a random complete prefix code, grown by splitting
    leaves; `deep` splits the deepest leaf so lengths reach MAX_HUFFMAN_LENGTH."""
    n = draw(st.integers(2, max_symbols))
    deep = draw(st.booleans())
    depths = [0]
    while len(depths) < n:
        open_ = [i for i, d in enumerate(depths) if d < H.MAX_HUFFMAN_LENGTH]
        if not open_:
            break
        if deep and draw(st.booleans()):
            i = max(open_, key=lambda j: (depths[j], j))
        else:
            i = draw(st.sampled_from(open_))
        d = depths.pop(i)
        depths += [d + 1, d + 1]
    c = draw(st.sampled_from([len(depths), len(depths) + 3, 1000, 65536, 1 << 20]))
    syms = sorted(draw(st.lists(st.integers(0, c - 1), min_size=len(depths),
                                max_size=len(depths), unique=True)))
    perm = draw(st.permutations(depths))
    return dict(zip(syms, perm)), c


@st.composite
def coded_streams(draw):
    """(raw bytes, class_count, labels) of a valid stream."""
    lengths, c = draw(complete_codes())
    syms = sorted(lengths)
    k = draw(st.integers(len(syms), len(syms) + 300))
    # every symbol once (Symbol_Count <= item_count), the rest uniform or skewed to the
    # short codes (as real Huffman tables are)
    rest = draw(st.lists(st.sampled_from(syms), min_size=k - len(syms), max_size=k - len(syms)))
    if draw(st.booleans()):
        short = sorted(syms, key=lambda s: lengths[s])[:3]
        rest = [short[v % len(short)] if v % 4 else v for v in rest]
    labels = draw(st.permutations(syms + rest))
    return encode_with_lengths(labels, lengths), c, labels


# ---- valid streams -----------------------------------------------------------------

@FAST
@given(coded_streams())
def test_fast_path_decodes_valid_streams(case):
    raw, c, labels = case
    assert check_agree(raw, c, len(labels)) == ("ok", labels)
    assert H.huffman_decode_twin(raw, c, len(labels)) == labels


@FAST
@given(st.sampled_from([1, 2, 3, 10, 1000, 65536]), st.sampled_from(["uniform", "skewed"]),
       st.integers(0, 3000), st.integers(0, 2**32 - 1))
def test_fast_path_encoder_round_trip(c, dist, k, seed):
    rng = np.random.default_rng(seed)
    if dist == "uniform":
        labels = rng.integers(0, c, k)
    else:                                       # geometric: long codes for rare labels
        labels = np.minimum(rng.geometric(0.4, k) - 1, c - 1)
    raw = H.huffman_encode(labels, c)
    assert check_agree(raw, c, k) == ("ok", labels.tolist())


def test_codes_longer_than_the_table_every_length():
    """Codes of every length 1..24 (a 'comb' code), each symbol several times."""
    lengths = {s: s + 1 for s in range(H.MAX_HUFFMAN_LENGTH)}     # 1/2 + 1/4 + ...
    lengths[H.MAX_HUFFMAN_LENGTH] = H.MAX_HUFFMAN_LENGTH          # ... + 2 * 2^-24 = 1
    rng = np.random.default_rng(7)
    labels = rng.permutation(np.repeat(np.arange(H.MAX_HUFFMAN_LENGTH + 1), 5)).tolist()
    raw = encode_with_lengths(labels, lengths)
    assert check_agree(raw, 30, len(labels)) == ("ok", labels)
    assert max(lengths.values()) > H.FAST_BITS


def test_large_uniform_alphabet():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 65536, 150_000)
    raw = H.huffman_encode(labels, 65536)
    assert check_agree(raw, 65536, labels.size) == ("ok", labels.tolist())


# ---- broken streams ----------------------------------------------------------------

@FAST
@given(coded_streams(), st.data())
def test_fast_path_rejects_what_careful_rejects(case, data):
    raw, c, labels = case
    raw = bytearray(raw)
    k = len(labels)
    kind = data.draw(st.sampled_from(["flip", "truncate", "append", "count", "classes",
                                      "last_byte", "set_byte"]))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 3))):
            bit = data.draw(st.integers(0, 8 * len(raw) - 1))
            raw[bit >> 3] ^= 1 << (bit & 7)
    elif kind == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif kind == "append":
        raw += bytes(data.draw(st.lists(st.integers(0, 255), min_size=1, max_size=9)))
    elif kind == "count":
        k = max(0, k + data.draw(st.integers(-5, 5)))
    elif kind == "classes":
        c = data.draw(st.integers(1, c + 2))
    elif kind == "last_byte":                   # padding bits and the final code
        raw[-1] = data.draw(st.integers(0, 255))
    else:
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    check_agree(bytes(raw), c, k)


@FAST
@given(complete_codes(max_symbols=20), st.data())
def test_fast_path_rejects_incomplete_and_oversubscribed_tables(code, data):
    """Streams that decode fine bit by bit but whose table is not a complete code."""
    lengths, c = code
    syms = sorted(lengths)
    kind = data.draw(st.sampled_from(["longer", "shorter", "drop", "add", "zero"]))
    s = data.draw(st.sampled_from(syms))
    if kind == "longer":
        lengths[s] += 1                         # Kraft sum < 1 (or > 24 bits)
    elif kind == "shorter" and lengths[s] > 1:
        lengths[s] -= 1                         # Kraft sum > 1
    elif kind == "drop" and len(syms) > 2:
        del lengths[s]
    elif kind == "add" and len(syms) < c:
        lengths[min(set(range(c)) - set(syms))] = data.draw(st.integers(1, 24))
    else:
        lengths[s] = 0                          # only a single symbol may have length 0
    used = sorted(lengths)
    labels = data.draw(st.permutations(used + data.draw(st.lists(st.sampled_from(used),
                                                                 max_size=50))))
    assert check_agree(encode_with_lengths(labels, lengths), c, len(labels))[0] == "error"


@FAST
@given(st.binary(max_size=64), st.integers(1, 1100), st.integers(0, 200))
def test_fast_path_on_random_bytes(raw, c, k):
    check_agree(raw, c, k)


def test_padding_and_trailing_bytes():
    labels = [0, 1, 1, 0, 2, 0]                 # with these lengths: 9 bits, 7 padding
    lengths = {0: 1, 1: 2, 2: 2}
    raw = encode_with_lengths(labels, lengths)
    assert check_agree(raw, 3, 6) == ("ok", labels)
    for bit in range(1, 8):                     # every padding bit must be zero
        bad = bytearray(raw)
        bad[-1] |= 1 << bit
        assert check_agree(bytes(bad), 3, 6)[0] == "error"
    assert check_agree(raw + b"\0", 3, 6)[0] == "error"      # a trailing zero byte
    assert check_agree(raw[:-1], 3, 6)[0] == "error"          # the last code cut short
    assert check_agree(raw, 3, 5)[0] == "error"               # one label fewer: a byte left


@pytest.mark.parametrize("table", [
    bytes([0x83, 0x00, 0, 1, 0, 2, 0, 2]),          # Symbol_Count 3, not minimal
    bytes([3, 0x80, 0x00, 1, 0, 2, 0, 2]),          # Symbol_Gap 0, not minimal
    bytes([3, 0, 1, 0, 2, 0x80, 0x80, 0x00, 2]),    # Symbol_Gap 0, three bytes
    bytes([3, 0, 1, 0, 2, 0x80, 0x80, 0x80, 0x00, 2]),
    bytes([3, 0, 1, 0, 2, 0, 2]),                   # the minimal table: accepted
])
def test_table_varints_must_be_minimal(table):
    body = table + bytes([0b010110])                # labels 0, 2, 0, 1 (codes 0, 11, 0, 10)
    want = check_agree(body, 3, 4)
    assert want == ("ok", [0, 2, 0, 1]) if table == bytes([3, 0, 1, 0, 2, 0, 2]) \
        else want[0] == "error"


def test_single_symbol_and_empty():
    assert check_agree(H.huffman_encode(np.full(7, 4), 9), 9, 7) == ("ok", [4] * 7)
    assert check_agree(H.huffman_encode(np.full(7, 4), 9) + b"\0", 9, 7)[0] == "error"
    assert check_agree(H.huffman_encode(np.zeros(0, np.int64), 9), 9, 0) == ("ok", [])


# ---- other Numba settings ----------------------------------------------------------

SUBPROCESS_SCRIPT = r"""
import numpy as np
from pladafmt import _huffman as H
rng = np.random.default_rng(5)
cases = []
for c, k in ((2, 500), (10, 2000), (1000, 3000), (40, 20000)):
    labels = np.minimum(rng.geometric(0.45, k) - 1, c - 1) if c == 40 else rng.integers(0, c, k)
    cases.append((H.huffman_encode(labels, c), c, labels))
# a bitstream of exactly one word, that ends at the word's last bit: the final peek
# reads the word after the next (the last slack word of _words_of)
labels = rng.integers(0, 2, 64)
raw = H.huffman_encode(labels, 2)
assert len(raw) == 5 + 8
cases.append((raw, 2, labels))
assert max(H._read_table(np.frombuffer(cases[3][0], np.uint8), 40, 20000)[0].values()) > H.FAST_BITS
for raw, c, labels in cases:
    raw = np.frombuffer(raw, np.uint8)
    out = np.empty(labels.size, np.int64)
    for group in (1, 2, 3, 4):
        assert H._try_decode_fast(raw, c, labels.size, out, group)
        assert (out == labels).all()
    # cut short, one byte too many, non-zero padding: rejected, and no out-of-bounds read
    for bad in (raw[:-1], raw[:raw.size // 2], np.append(raw, np.uint8(0)),
                np.append(raw[:-1], raw[-1] | np.uint8(0x80))):
        try:
            want = H._huffman_decode_careful(bad, c, labels.size)
        except H.FormatError:                   # TruncatedError is one too
            want = None
        for group in (1, 2, 3, 4):
            ok = H._try_decode_fast(bad, c, labels.size, out, group)
            assert ok == (want is not None) and (not ok or (out == want).all())
print("ok")
"""


@pytest.mark.parametrize("env", [{"NUMBA_DISABLE_JIT": "1"}, {"NUMBA_BOUNDSCHECK": "1"}],
                         ids=["nojit", "boundscheck"])
def test_fast_path_under_other_numba_modes(env, tmp_path):
    # the on-disk cache does not key on boundscheck: compile into a private cache
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), **env)
    proc = subprocess.run([sys.executable, "-c", SUBPROCESS_SCRIPT], capture_output=True,
                          text=True, timeout=600, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert proc.stdout.strip() == "ok"


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2000), st.integers(0, 2**32 - 1), st.booleans())
def test_decode_with_u32_is_the_labels_as_uint32(c, k, seed, skewed):
    """The second array (what the container checksums) equals the labels, on the fast
    path and on the careful path (forced by a fast path that always declines)."""
    rng = np.random.default_rng(seed)
    labels = (rng.zipf(1.2, k) - 1) % c if skewed else rng.integers(0, c, k)
    raw = np.frombuffer(H.huffman_encode(labels, c), np.uint8)
    out, out32 = H.huffman_decode_with_u32(raw, c, k)
    np.testing.assert_array_equal(out, labels)
    assert out32.dtype == np.uint32
    np.testing.assert_array_equal(out32, labels)
    saved = H._try_decode_fast
    try:
        H._try_decode_fast = lambda *a, **kw: False
        out, out32 = H.huffman_decode_with_u32(raw, c, k)
    finally:
        H._try_decode_fast = saved
    np.testing.assert_array_equal(out, labels)
    assert out32.dtype == np.uint32
    np.testing.assert_array_equal(out32, labels)
