"""Regenerate the PLADA 2.0 conformance vectors and their manifest, deterministically.

    python -m conformance.generate            # rewrites conformance/vectors/ and vectors.json

The bytes come from conformance/writer/, a writer of its own built from SPEC.md alone (it
never imports pladafmt), and the cases from conformance/cases/, one module per SPEC.md
section. Zstd frames are written by hand (raw, RLE and reserved blocks) or frozen as hex,
so the output does not depend on the installed libzstd. Names: y_* must decode, n_* must
be rejected with the named error, i_* may do either (limit-dependent only).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from .cases import MODULES
from .cases.common import Suite

HERE = Path(__file__).resolve().parent
SPEC_VERSION = "2.0"

NOTES = {
    "SpecExample": "A worked example of SPEC.md.",
    "ModeMatrix": "Every index mode with every label mode, raw and Zstd-wrapped.",
    "Unusual": "A legal stream or frame the reference encoder never writes.",
    "EdgeK": "k at an edge: 0, 1 or N.",
    "EdgeN": "N at an edge: 1, 2^40 (every decoder supports it) or 2^48.",
    "EdgeC": "C at an edge: 1, a non-power of two, 65,536 or 2^20.",
    "MaxGap": "The largest gap the pool allows.",
    "Lanes": "rANS word areas on either side of the lane rule: R = 1 below 2048 items, "
             "else 4.",
    "Sections": "Section layout: optional, ancillary and unknown sections.",
    "Forward": "Forward compatibility: other minor versions, unknown ancillary sections.",
    "Header": "Header fields.",
    "Limits": "At a limit of SPEC.md.",
    **{f"Q{q}": f"Pins the answer to question {q} of the format 2.0 review (SPEC.md "
                "answers all 19; the comment says how)." for q in range(1, 20)},
}


def collect() -> list[dict]:
    """Every vector, sorted by id (records with the bytes, expected fields and replay
    data; see cases/common.py)."""
    suite = Suite()
    for module in MODULES:
        module.define(suite)
    return sorted(suite.vectors, key=lambda v: v["id"])


def manifest_entry(v: dict) -> dict:
    entry = {"id": v["id"], "file": v["id"] + ".plada",
             "sha256": hashlib.sha256(v["data"]).hexdigest(), "size": len(v["data"]),
             "spec": v["spec"], "result": v["result"], "comment": v["comment"],
             "flags": v["flags"], "format": SPEC_VERSION}
    for key in ("rule", "error", "alternative_errors", "local_pool_digest", "expected"):
        if key in v:
            entry[key] = v[key]
    return entry


def write_suite(root: Path = HERE) -> list[dict]:
    """Write root/vectors/*.plada and root/vectors.json; returns the manifest entries."""
    root = Path(root)
    vectors = collect()
    out = root / "vectors"
    out.mkdir(parents=True, exist_ok=True)
    wanted = {v["id"] + ".plada" for v in vectors}
    for stale in out.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for v in vectors:
        path = out / (v["id"] + ".plada")
        if not path.is_file() or path.read_bytes() != v["data"]:
            path.write_bytes(v["data"])
    entries = [manifest_entry(v) for v in vectors]
    manifest = {
        "suite": "pladafmt-conformance",
        "schema": "schema.json",
        "specVersion": SPEC_VERSION,
        "numberOfVectors": len(entries),
        "canonicalForm": "content_sha256 = SHA-256 of the k indices as u64 little-endian "
                         "followed by the k labels as u32 little-endian (SPEC.md, "
                         "Canonical content)",
        "notes": NOTES,
        "vectors": entries,
    }
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    (root / "vectors.json").write_text(text, encoding="utf-8")
    return entries


def main(argv=None) -> int:
    entries = write_suite(HERE)
    count = {r: sum(e["result"] == r for e in entries) for r in ("valid", "invalid", "acceptable")}
    print(f"wrote {len(entries)} vectors ({count['valid']} must-decode, {count['invalid']} "
          f"must-reject, {count['acceptable']} implementation-defined) to {HERE / 'vectors'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
