"""atheris fuzz target for pladafmt.decode (issue 6, target a).

Contract under test: for *any* input bytes, ``pladafmt.decode`` returns a well-formed
task or raises a ``PladaError`` subclass. Any other exception (IndexError from a Numba
kernel under NUMBA_BOUNDSCHECK=1, MemoryError, struct.error, ZstdError, OverflowError,
...) is a bug and makes atheris save the input as ``crash-<sha1>``.

Each input is decoded twice: as given, and "resealed" (header CRC and section CRCs
recomputed). The second pass is what an attacker can always do, and it is the only way
a byte-level fuzzer gets past CRC-32 into the stream decoders. A custom mutator also
edits the *decompressed* body of Zstd-wrapped sections and recompresses it, so the
fuzzer reaches the mode decoders behind the Zstd layer too.

Run (what ``make fuzz`` runs)::

    NUMBA_BOUNDSCHECK=1 .venv/bin/python tests/fuzz/fuzz_decode.py \
        -max_total_time=600 -rss_limit_mb=2048 -timeout=10 \
        tests/fuzz/corpus tests/fuzz/seeds conformance

``tests/fuzz/seeds`` is rewritten on start with a payload of every mode the installed
codec supports (and a copy of every conformance vector); libFuzzer writes new inputs to
the first directory, ``tests/fuzz/corpus``. Neither is committed. Bounded smoke (used by pytest)::

    NUMBA_BOUNDSCHECK=1 .venv/bin/python tests/fuzz/fuzz_decode.py -atheris_runs=3000 \
        tests/fuzz/corpus

or, without atheris, ``python tests/fuzz/fuzz_decode.py --smoke N`` replays the seeds
plus N random mutations through the same ``TestOneInput``.
"""

from __future__ import annotations

import os
import pathlib
import random
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

# Before numba is imported. Numba's on-disk cache (cache=True) does NOT key on the
# boundscheck setting (kernels cached by a normal run would be reused unchecked), nor on
# changes to @njit functions a kernel calls from another module. So the bounds-checked
# build gets its own cache directory, keyed by the package sources (_cachedir.py).
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")
if os.environ["NUMBA_BOUNDSCHECK"] == "1":
    from _cachedir import boundscheck_cache_dir      # keyed by a hash of pladafmt/*.py
    os.environ.setdefault("NUMBA_CACHE_DIR", boundscheck_cache_dir())

try:
    import atheris
except ImportError:                                # smoke mode works without it
    atheris = None



def _kernel_modules() -> list[str]:
    """pladafmt modules atheris must not rewrite: those with Numba kernels.

    atheris instruments whole modules by rewriting bytecode, and Numba cannot compile
    the rewritten @njit functions. Under NUMBA_DISABLE_JIT=1 every module is plain
    Python and all of them are instrumented (slower, but the kernels' branches then
    guide the fuzzer too).
    """
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return []
    pkg = HERE.parents[1] / "pladafmt"
    return [".".join(("pladafmt",) + f.relative_to(pkg).with_suffix("").parts)
            for f in sorted(pkg.rglob("*.py"))
            if "__pycache__" not in f.parts and "njit" in f.read_text(encoding="utf-8")]


if atheris is not None:
    with atheris.instrument_imports(include=["pladafmt"], exclude=_kernel_modules()):
        import pladafmt
else:
    import pladafmt

import fuzzlib  # noqa: E402

LIMITS = fuzzlib.bundled_limits()
CORPUS = HERE / "corpus"      # libFuzzer output corpus (not committed)
SEEDS = HERE / "seeds"        # regenerated on every start (not committed)


def _one(data: bytes) -> None:
    # decode_checked lets only PladaError through as a value; anything else raises.
    res = fuzzlib.decode_checked(data, **LIMITS)
    if not isinstance(res, pladafmt.PladaError) and len(data) < 1 << 16:
        pladafmt.inspect(data)          # the other public entry point that parses bytes


def _stream_pass(data: bytes) -> None:
    """Decode each stream section directly with its mode, below the Content_Checksum.

    The end-to-end checksum turns every wrong-but-plausible stream output into a
    ChecksumError, which hides validity bugs (an index >= N, a label >= C) from a byte
    fuzzer: it would need a CRC-32 collision to see them. Here the mode decoders get
    the section bodies with the header's N / C / k, and their output must be valid
    whatever the input; small inputs are also checked against the readable twin.
    """
    import numpy as np
    from pladafmt._modes import INDEX_MODES, LABEL_MODES
    lay = fuzzlib.find_layout(data)
    if lay is None or data[:8] != pladafmt.MAGIC:
        return
    head, _ = fuzzlib.payloads.parse_head(data)
    n, k, c = head.pool_size, head.item_count, head.class_count
    if not (1 <= n <= 1 << 48 and 1 <= c <= 1 << 20):
        return
    k = min(k, n, 1 << 16)                          # keep the fuzzer's allocations small
    for sec in lay.sections:
        table = {fuzzlib.INDEX: INDEX_MODES, fuzzlib.LABEL: LABEL_MODES}.get(sec.type)
        mode = table.get(sec.mode) if table else None
        if mode is None:
            continue
        body = data[sec.body_offset:sec.end]
        raw = fuzzlib.zstd_decompress(body, 1 << 20) if sec.zstd else body
        if raw is None:
            continue
        size = n if sec.type == fuzzlib.INDEX else c
        if mode.raw_size_bound(size, 1) > 1 << 20:     # a bitmap of a huge pool
            continue
        ctx = (fuzzlib.gap_context(k),) if mode.needs_indices else ()
        try:
            got = mode.decode(np.frombuffer(raw, dtype=np.uint8), size, k, *ctx)
        except pladafmt.PladaError:
            got = None
        if got is not None:
            got = np.asarray(got)
            ok = got.dtype == np.int64 and got.shape == (k,)
            if ok and k:
                ok = (got[0] >= 0 and got[-1] < size and bool(np.all(np.diff(got) > 0))
                      if sec.type == fuzzlib.INDEX else got.min() >= 0 and got.max() < size)
            if not ok:
                raise fuzzlib.OracleFailure(f"{mode.name}: invalid output {got[:8]} for "
                                            f"size {size}, k {k}, raw {bytes(raw[:32]).hex()}")
        if len(raw) <= 64 and k <= 64 and len(raw) <= mode.raw_size_bound(size, k):
            try:
                twin = list(mode.decode_twin(bytes(raw), size, k, *ctx))
            except (ValueError, EOFError):
                twin = None
            except (IndexError, KeyError, OverflowError):
                continue        # the readable twins may crash on garbage: not a decode bug
            if (twin is None) != (got is None) or (twin is not None and twin != got.tolist()):
                raise fuzzlib.OracleFailure(
                    f"{mode.name}: kernel {'rejects' if got is None else got.tolist()} but twin "
                    f"{'rejects' if twin is None else twin} on raw {bytes(raw).hex()} "
                    f"size {size} k {k}")


# Signatures of open bugs (fuzzlib.OPEN_BUGS). With PLADA_FUZZ_TOLERATE_KNOWN=<file>, an
# input that hits one is appended (hex) to <file> instead of stopping the run, so a long
# run keeps looking for *other* bugs while a known one waits for its fix.
# e.g. ("bug6", "IndexError", "_rice.py") while BUG-6 was open; empty: none open now.
KNOWN: list[tuple[str, str, str]] = []
TOLERATE = os.environ.get("PLADA_FUZZ_TOLERATE_KNOWN")


def _body(data: bytes) -> None:
    _one(data)
    if len(data) > 8:
        resealed = fuzzlib.reseal(data)
        if resealed != data:
            _one(resealed)
        _stream_pass(data)


def TestOneInput(data: bytes) -> None:
    if not TOLERATE:
        return _body(data)
    import traceback
    try:
        _body(data)
    except Exception as e:          # noqa: BLE001 -- re-raised unless it is a known bug
        text = type(e).__name__ + " " + str(e) + "".join(traceback.format_tb(e.__traceback__))
        for name, cls, where in KNOWN:
            if type(e).__name__ == cls and where in text:
                with open(TOLERATE, "a") as f:
                    f.write(f"{name} {data.hex()}\n")
                return
        raise


def _structured_mutate(data: bytes, rng: random.Random, inner) -> bytes | None:
    """Mutate the decompressed body of one section, recompress, re-seal."""
    layout = fuzzlib.find_layout(data)
    if layout is None or not layout.sections:
        return None
    header, secs = fuzzlib.split(data, layout)
    i = rng.randrange(len(secs))
    t, m, f, body = secs[i]
    raw = fuzzlib.zstd_decompress(body) if f & 1 else body
    if raw is None:
        return None
    raw = inner(raw)
    body = fuzzlib.zstd_compress(raw, level=1) if f & 1 else raw
    secs[i] = (t, m, f, body)
    return fuzzlib.reseal(fuzzlib.rebuild(header, secs))


def _short_body(raw: bytes, rng: random.Random) -> bytes:
    """Cut a stream body to a prefix (often empty or a word multiple) or a few odd bytes:
    the sizes where bit readers run off their buffers."""
    choice = rng.randrange(4)
    if choice == 0:
        return raw[:rng.choice([0, 1, 7, 8, 9, 15, 16, 24])]
    if choice == 1:
        return raw[:rng.randrange(len(raw) + 1)]
    if choice == 2:
        return bytes(rng.choice([0x00, 0xFF, 0x80, 0x01]) for _ in range(rng.randrange(0, 33)))
    return raw + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))


def CustomMutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if rng.random() < 0.15:
        out = _structured_mutate(data, rng, lambda raw: _short_body(raw, rng))
        if out is not None and len(out) <= max_size:
            return out
    if rng.random() < 0.5:
        out = _structured_mutate(data, rng, lambda raw: atheris.Mutate(raw, max(len(raw) * 2, 64)))
        if out is not None and len(out) <= max_size:
            return out
    out = atheris.Mutate(data, max_size)
    # sometimes edit the header fields directly (counts, sizes) and re-seal
    if len(out) > 8 and rng.random() < 0.25:
        out = fuzzlib.reseal(out)
    return out


def seed_corpus(dest: pathlib.Path = SEEDS) -> int:
    return fuzzlib.write_corpus(dest)


def smoke(n: int, seed: int = 0) -> int:
    """Replay every seed, then ``n`` random byte/structure mutations; returns inputs run."""
    rng = random.Random(seed)
    seeds = [s.data for s in fuzzlib.make_seeds("tiny") + fuzzlib.make_seeds("small")
             + fuzzlib.edge_seeds()] + [p.read_bytes() for p in fuzzlib.conformance_files()] \
        + list(fuzzlib.regression_payloads(include_open=False).values())
    runs = 0
    for s in seeds:
        TestOneInput(s)
        runs += 1
    for _ in range(n):
        buf = bytearray(rng.choice(seeds))
        op = rng.randrange(5)
        if op == 0 and buf:
            pos = rng.randrange(len(buf))
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            del buf[rng.randrange(len(buf)):]
        elif op == 2:
            pos = rng.randrange(len(buf) + 1)
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        elif op == 3 and buf:
            pos = rng.randrange(len(buf))
            buf[pos] = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
        elif rng.random() < 0.3:
            out = _structured_mutate(bytes(buf), rng, lambda raw: _short_body(raw, rng))
            buf = bytearray(out if out is not None else buf)
        else:
            out = _structured_mutate(bytes(buf), rng, lambda raw: _byte_mutate(raw, rng))
            buf = bytearray(out if out is not None else buf)
        TestOneInput(bytes(buf))
        runs += 1
    return runs


def _byte_mutate(raw: bytes, rng: random.Random) -> bytes:
    b = bytearray(raw)
    for _ in range(rng.randrange(1, 4)):
        if b and rng.random() < 0.6:
            b[rng.randrange(len(b))] = rng.randrange(256)
        else:
            b.insert(rng.randrange(len(b) + 1), rng.choice([0, 0x80, 0xFF, 1]))
    return bytes(b)


def main(argv: list[str]) -> None:
    if len(argv) > 2 and argv[1] == "--smoke":
        print(f"smoke: {smoke(int(argv[2]))} inputs, no failure")
        return
    if atheris is None:
        raise SystemExit("atheris is not installed; use --smoke N")
    # Seeds are regenerated on every start (every mode the installed codec supports);
    # the first corpus directory is where libFuzzer writes what it finds.
    n = seed_corpus(SEEDS)
    dirs = [a for a in argv[1:] if not a.startswith("-")]
    if not dirs:
        CORPUS.mkdir(exist_ok=True)
        argv = argv + [str(CORPUS)]
    for d in dirs:
        pathlib.Path(d).mkdir(parents=True, exist_ok=True)
    if str(SEEDS) not in dirs and "tests/fuzz/seeds" not in dirs:
        argv = argv + [str(SEEDS)]
    print(f"fuzz_decode: {n} seed payloads in {SEEDS}", file=sys.stderr)
    # Compile every decoder before libFuzzer's per-input -timeout clock runs: with an
    # empty cache (a fresh clone, or kernels just changed) the first seed that reaches a
    # kernel would pay its JIT compile under NUMBA_BOUNDSCHECK, which can take > 20 s.
    for seed in sorted(SEEDS.iterdir()):
        TestOneInput(seed.read_bytes())
    atheris.Setup(argv, TestOneInput, custom_mutator=CustomMutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
