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
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

# Before numba is imported. Numba's on-disk cache (cache=True) does NOT key on the
# boundscheck setting: kernels cached by a normal run are reused unchecked under
# NUMBA_BOUNDSCHECK=1 (and checked kernels cached here would slow normal runs). So the
# bounds-checked build gets its own cache directory.
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")
if os.environ["NUMBA_BOUNDSCHECK"] == "1":
    os.environ.setdefault("NUMBA_CACHE_DIR", str(HERE / ".numba-cache-boundscheck"))

try:
    import atheris
except ImportError:                                # smoke mode works without it
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["pladafmt"]):
        import pladafmt
else:
    import pladafmt

import fuzzlib  # noqa: E402

LIMITS = fuzzlib.bundled_limits()
CORPUS = HERE / "corpus"      # libFuzzer output corpus (not committed)
SEEDS = HERE / "seeds"        # regenerated on every start (not committed)


def TestOneInput(data: bytes) -> None:
    # decode_checked lets only PladaError through as a value; anything else raises.
    fuzzlib.decode_checked(data, **LIMITS)
    if len(data) > 8:
        resealed = fuzzlib.reseal(data)
        if resealed != data:
            fuzzlib.decode_checked(resealed, **LIMITS)


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


def CustomMutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
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
             + fuzzlib.edge_seeds()] + [p.read_bytes() for p in fuzzlib.conformance_files()]
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
    atheris.Setup(argv, TestOneInput, custom_mutator=CustomMutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
