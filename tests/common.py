"""The mode checker (issue #16): every stream mode of the two tables, checked the same way.

- check_round_trip: encode == encode_twin == the conformance writer (conformance/writer,
  written from the spec alone) byte for byte, the body within raw_size_bound, decode ==
  decode_twin == the values (and decode_u32 the same labels as uint32);
- check_k0: the k = 0 rule: empty body, bound 0, no extra decode memory, and a non-empty
  body rejected alike by both decoders;
- check_same_outcome: the garbage differential: the same damaged or random body to decode
  and to decode_twin must give the same values, or the same error class with the same
  message. Anything but a PladaError from either side (IndexError, ValueError, ...) is a
  test failure, never a "rejection".
"""
import numpy as np

from conformance.writer import index_modes as writer_index
from conformance.writer import label_modes as writer_labels
from pladafmt._errors import PladaError


def as_raw(b: bytes) -> np.ndarray:
    """A stream body as the decoders get it: a read-only uint8 view (so a kernel that
    writes to its input fails)."""
    a = np.frombuffer(bytes(b), dtype=np.uint8)
    a.flags.writeable = False
    return a


def extra(mode, indices):
    """The decoded indices, for the label modes whose contexts read them."""
    return (np.asarray(indices, dtype=np.int64),) if mode.needs_indices else ()


def writer_body(mode, values: list, size, indices: list, segments) -> bytes:
    """The conformance writer's body for this mode (segments: the encoder's S)."""
    if mode.kind == "index":
        if mode.segments:
            return writer_index.ctx_rans(values, size, S=segments)
        return writer_index.WRITERS[mode.id](values, size)
    if mode.segments:
        return writer_labels.ctx_rans(values, size, indices, S=segments)
    return writer_labels.write(mode.id, values, size, indices)


def check_round_trip(mode, values, size, indices=None) -> bytes:
    values = np.ascontiguousarray(values, dtype=np.int64)
    ctx = extra(mode, indices)
    body = mode.encode(values, size, *ctx)
    assert isinstance(body, bytes)
    twin_ctx = tuple(c.tolist() for c in ctx)
    assert mode.encode_twin(values.tolist(), size, *twin_ctx) == body, \
        f"{mode.kind} {mode.name}: kernel and twin encoders differ"
    written = writer_body(mode, values.tolist(), size, twin_ctx[0] if twin_ctx else None,
                          body[0] if mode.segments and body else None)
    assert written == body, f"{mode.kind} {mode.name}: the conformance writer differs"
    assert len(body) <= mode.raw_size_bound(size, values.size)
    got = mode.decode(as_raw(body), size, values.size, *ctx)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, values)
    assert mode.decode_twin(body, size, values.size, *twin_ctx) == values.tolist()
    if mode.decode_u32 is not None:
        as64, as32 = mode.decode_u32(as_raw(body), size, values.size, *ctx)
        assert as32.dtype == np.uint32
        np.testing.assert_array_equal(as64, values)
        np.testing.assert_array_equal(as32, values.astype(np.uint32))
    return body


def outcome(decode, *args):
    """("ok", values) or (error class name, message); other exceptions propagate."""
    try:
        got = decode(*args)
    except PladaError as e:
        return type(e).__name__, str(e)
    return "ok", [int(v) for v in got]


def check_same_outcome(mode, body: bytes, size, count, indices=None):
    """Kernel and twin decoders agree on this body; returns the outcome."""
    ctx = extra(mode, indices)
    kernel = outcome(mode.decode, as_raw(body), size, count, *ctx)
    twin = outcome(mode.decode_twin, body, size, count, *(c.tolist() for c in ctx))
    assert kernel == twin, f"{mode.kind} {mode.name}: kernel {kernel} != twin {twin}"
    if mode.decode_u32 is not None:
        assert outcome(lambda *a: mode.decode_u32(*a)[0], as_raw(body), size, count,
                       *ctx) == kernel
    if kernel[0] == "ok":                       # accepted garbage is still a valid stream
        got = np.array(kernel[1], dtype=np.int64)
        assert got.size == count
        if mode.kind == "index" and count:
            assert got[0] >= 0 and got[-1] < size and np.all(np.diff(got) > 0)
        if mode.kind == "label" and count:
            assert got.min() >= 0 and got.max() < size
    return kernel


def check_k0(mode, size):
    """The k = 0 rule: every body empty, the bound 0; one byte more is rejected."""
    empty = np.empty(0, dtype=np.int64)
    ctx = extra(mode, empty)
    assert mode.raw_size_bound(size, 0) == 0
    assert mode.decode_memory(size, 0, 0) == 0
    assert mode.encode(empty, size, *ctx) == b""
    assert mode.encode_twin([], size, *(c.tolist() for c in ctx)) == b""
    assert check_same_outcome(mode, b"", size, 0, empty) == ("ok", [])
    kind, message = check_same_outcome(mode, b"\x00", size, 0, empty)
    assert kind == "FormatError", message


def mutations(body: bytes, rng, n: int):
    """n damaged copies of body: bit flips, cuts, appended or replaced bytes, random
    bodies of the same length."""
    out = []
    for _ in range(n):
        b = bytearray(body)
        how = rng.integers(0, 5)
        if how == 0 and b:
            for _ in range(rng.integers(1, 4)):
                p = int(rng.integers(0, 8 * len(b)))
                b[p >> 3] ^= 1 << (p & 7)
        elif how == 1 and b:
            b = b[:int(rng.integers(0, len(b)))]
        elif how == 2:
            b += rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
        elif how == 3 and b:
            p = int(rng.integers(0, len(b)))
            b[p] = int(rng.integers(0, 256))
        else:
            b = bytearray(rng.integers(0, 256, len(b), dtype=np.uint8).tobytes())
        out.append(bytes(b))
    return out


def check_garbage(mode, values, size, indices=None, n=60, seed=0):
    """The garbage differential over n mutations of the body of `values` (and the body
    decoded with a count or size off by one)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    ctx = extra(mode, indices)
    body = mode.encode(values, size, *ctx)
    rng = np.random.default_rng(seed)
    k = values.size
    for bad in mutations(body, rng, n):
        check_same_outcome(mode, bad, size, k, indices)
    if mode.kind == "index":
        if k:
            check_same_outcome(mode, body, max(1, int(values[-1])), k, indices)
        if k + 1 <= size:
            check_same_outcome(mode, body, size, k + 1, indices)
    else:
        if size > 1:
            check_same_outcome(mode, body, size - 1, k, indices)
    if k:
        check_same_outcome(mode, body, size, k - 1, None if indices is None else indices[:-1])
