"""pladafmt against a second decoder written from SPEC.md alone (tests/spec_decoder.py):
every conformance vector, and a differential fuzz of mutated vectors with their CRCs
re-fixed (the differences issue #15 found between two decoders came from what the 1.3 spec
left open; this checks that the 2.0 text decides every case the same way)."""
import hashlib
import json
import random
import struct
from pathlib import Path

import pytest

import pladafmt
import spec_decoder as S
from payloads import reseal

ROOT = Path(__file__).resolve().parents[1] / "conformance"
MANIFEST = json.loads((ROOT / "vectors.json").read_text())


def _canonical(indices, labels):
    return (struct.pack(f"<{len(indices)}Q", *indices) + struct.pack(f"<{len(labels)}I", *labels))


def test_spec_decoder_passes_every_vector():
    failures = []
    for v in MANIFEST["vectors"]:
        data = (ROOT / "vectors" / v["file"]).read_bytes()
        pd = bytes.fromhex(v["local_pool_digest"]) if v.get("local_pool_digest") else None
        try:
            out, err = S.decode(data, pd), None
        except S.PladaError as e:
            out, err = None, e
        if v["result"] == "valid" or (v["result"] == "acceptable" and err is None):
            if err is not None:
                failures.append((v["id"], "rejected", type(err).__name__))
            elif hashlib.sha256(_canonical(out["indices"], out["labels"])).hexdigest() \
                    != v["expected"]["content_sha256"]:
                failures.append((v["id"], "content"))
        elif err is None:
            failures.append((v["id"], "accepted"))
        elif type(err).__name__ != v["error"]:
            failures.append((v["id"], v["error"], type(err).__name__))
    assert not failures, failures
    assert len(MANIFEST["vectors"]) > 300


def _outcome(decode, data):
    try:
        return ("ok", decode(data))
    except (pladafmt.PladaError, S.PladaError) as e:
        return ("error", type(e).__name__)


def _mutate(rng, b):
    b = bytearray(b)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not b:
            break
        op, i = rng.random(), rng.randrange(len(b))
        if op < 0.6:
            b[i] ^= 1 << rng.randrange(8)
        elif op < 0.75:
            b[i] = rng.choice((0, 0xFF, 0x80, 0x7F, rng.randrange(256)))
        elif op < 0.85:
            del b[i]
        elif op < 0.95:
            b[i:i] = bytes([rng.randrange(256)])
        else:
            del b[i:]
    return bytes(b)


@pytest.mark.parametrize("seed", range(3))
def test_pladafmt_and_the_spec_decoder_agree_on_mutated_payloads(seed):
    seeds = [(ROOT / "vectors" / v["file"]).read_bytes() for v in MANIFEST["vectors"]]
    seeds = [s for s in seeds if len(s) < 20_000]
    rng = random.Random(seed)
    mine = lambda d: (lambda p: (p.indices.tolist(), p.labels.tolist(), list(p.classes),
                                 p.metadata))(pladafmt.decode(d))
    theirs = lambda d: (lambda o: (o["indices"], o["labels"], o["classes"], o["metadata"]))(
        S.decode(d))
    differ, kinds = [], set()
    for _ in range(2000):
        m = _mutate(rng, rng.choice(seeds))
        if rng.random() < 0.85:
            m = reseal(m)                   # re-fix the CRCs so the damage reaches deeper
        a, b = _outcome(mine, m), _outcome(theirs, m)
        kinds.add(a[1] if a[0] == "error" else "ok")
        if a != b:
            differ.append((a[0], a[1] if a[0] == "error" else "", b[0],
                           b[1] if b[0] == "error" else "", m.hex()[:120]))
    assert not differ, differ[:5]
    assert "ok" in kinds and len(kinds) >= 4     # the mutations reached several checks
