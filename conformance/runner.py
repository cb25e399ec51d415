"""Run the conformance vectors through any decoder command (the external-command protocol).

Protocol (also in conformance/README.md). For each vector the runner executes

    CMD... /path/to/vector.plada
    CMD... --pool-digest HEX /path/to/vector.plada     (vectors with local_pool_digest)

The second form gives the decoder the digest of "its local pool" (64 hex digits), which
it compares with the payload's Pool_Digest (SPEC.md check order, step 7).

- must-decode vectors (`"result": "valid"`): the command exits 0 and prints one JSON object
  on stdout with at least the keys
      version [major, minor] ([2, 0] in this suite), pool_size, class_count, classes [str],
      pool_digest (hex or null), indices [int], labels [int]
  and optionally k, metadata {object}, index_mode, label_mode, all checked when present.
  This is the output of `plada decode --json`.
- must-reject vectors (`"result": "invalid"`): the command exits non-zero and its stderr
  contains the expected error class name (e.g. `ChecksumError`, or one of the entry's
  `alternative_errors`). With strict_errors=False any non-zero exit counts.
- implementation-defined vectors (`"result": "acceptable"`): either of the above.

Standard library only, so it can be copied next to a decoder in another language:

    python runner.py --decoder "CMD" [--vectors DIR] [--json]

(`--help` lists the rest). `plada conformance` is this same command line with the
reference decoder as the default --decoder and the suite bundled with pladafmt.
Exit status: 0 every vector passed, 3 at least one failed, 1 a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import json
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_MANIFEST = HERE / "vectors.json"
EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 1, 3

REQUIRED_KEYS = (
    "version", "pool_size", "class_count", "classes", "pool_digest", "indices", "labels",
)
OPTIONAL_KEYS = ("k", "metadata", "index_mode", "label_mode")


def canonical_bytes(indices, labels) -> bytes:
    """Canonical content form: indices as u64 little-endian, then labels as u32 little-endian."""
    return struct.pack(f"<{len(indices)}Q", *indices) + struct.pack(f"<{len(labels)}I", *labels)


def classes_sha256(names) -> str:
    """SHA-256 over each class name as u32 LE byte length + UTF-8 bytes."""
    h = hashlib.sha256()
    for name in names:
        b = name.encode("utf-8")
        h.update(struct.pack("<I", len(b)) + b)
    return h.hexdigest()


def content_sha256(indices, labels) -> str:
    return hashlib.sha256(canonical_bytes(indices, labels)).hexdigest()


@dataclass
class Result:
    id: str
    expected: str  # "valid", "invalid" or "acceptable"
    passed: bool
    outcome: str  # short: "decoded", "rejected ChecksumError", "crashed", ...
    detail: str = ""
    error: str | None = None  # expected error name for invalid vectors
    spec: str = ""
    returncode: int | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def load_manifest(path: str | Path | None = None) -> dict:
    path = Path(path) if path else DEFAULT_MANIFEST
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _tail(text: str, limit: int = 300) -> str:
    text = text.strip().replace("\n", " | ")
    return text if len(text) <= limit else "..." + text[-limit:]


def compare_decoded(expected: dict, got: dict) -> list[str]:
    """Differences between the manifest's expected fields and a decoder's JSON output."""
    problems = []
    if not isinstance(got, dict):
        return [f"stdout JSON is a {type(got).__name__}, expected an object"]
    for key in REQUIRED_KEYS:
        if key not in got:
            problems.append(f"missing key {key!r}")
    if problems:
        return problems
    checks = [k for k in REQUIRED_KEYS if k not in ("indices", "labels")]
    checks += [k for k in OPTIONAL_KEYS if k in got and k in expected]
    if "classes_sha256" in expected and "classes" in checks:
        checks.remove("classes")
        classes = got["classes"]
        if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
            problems.append("classes: expected a list of strings")
        elif classes_sha256(classes) != expected["classes_sha256"]:
            problems.append(f"classes: {len(classes)} names whose hash differs from "
                            "classes_sha256")
    for key in checks:
        want, have = expected.get(key), got.get(key)
        if key == "version":
            have = list(have) if isinstance(have, (list, tuple)) else have
        if key == "pool_digest" and isinstance(have, str):
            have = have.lower()
        if want != have:
            problems.append(f"{key}: expected {want!r}, got {have!r}")
    indices, labels = got["indices"], got["labels"]
    if not (isinstance(indices, list) and isinstance(labels, list)):
        return problems + ["indices and labels must be JSON arrays"]
    if "indices" in expected and indices != expected["indices"]:
        problems.append(f"indices differ (expected {len(expected['indices'])} items, got {len(indices)})")
    if "labels" in expected and labels != expected["labels"]:
        problems.append(f"labels differ (expected {len(expected['labels'])} items, got {len(labels)})")
    if len(indices) != expected["k"] or len(labels) != expected["k"]:
        problems.append(f"k: expected {expected['k']} items, got {len(indices)} indices and {len(labels)} labels")
    else:
        try:
            digest = content_sha256(indices, labels)
        except (struct.error, TypeError):
            problems.append("indices/labels are not unsigned integers in range")
        else:
            if digest != expected["content_sha256"]:
                problems.append(f"content_sha256: expected {expected['content_sha256']}, got {digest}")
    return problems


def check_vector(decoder: list[str], vector: dict, vectors_dir: Path, timeout: float,
                 strict_errors: bool = True) -> Result:
    res = Result(id=vector["id"], expected=vector["result"], passed=False, outcome="",
                 error=vector.get("error"), spec=vector.get("spec", ""))
    path = vectors_dir / vector["file"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        res.outcome, res.detail = "missing", f"cannot read vector file: {exc}"
        return res
    if hashlib.sha256(data).hexdigest() != vector["sha256"]:
        res.outcome, res.detail = "corrupt", "vector file's SHA-256 differs from the manifest"
        return res
    digest = vector.get("local_pool_digest")
    command = decoder + (["--pool-digest", digest] if digest else []) + [str(path)]
    try:
        proc = subprocess.run(command, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        res.outcome, res.detail = "timeout", f"no answer within {timeout:g} s"
        return res
    except OSError as exc:
        res.outcome, res.detail = "no-decoder", f"cannot run decoder: {exc}"
        return res
    res.returncode = proc.returncode
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    if vector["result"] == "acceptable":
        if proc.returncode == 0:
            vector = dict(vector, result="valid")
        else:
            vector = dict(vector, result="invalid")
    if vector["result"] == "valid":
        if proc.returncode != 0:
            res.outcome = "rejected"
            res.detail = f"exit {proc.returncode}: {_tail(stderr)}"
            return res
        try:
            got = json.loads(stdout)
        except json.JSONDecodeError as exc:
            res.outcome, res.detail = "bad-json", f"stdout is not JSON: {exc}"
            return res
        problems = compare_decoded(vector["expected"], got)
        res.passed = not problems
        res.outcome = "decoded" if res.passed else "wrong-output"
        res.detail = "; ".join(problems)
        return res
    # must-reject
    if proc.returncode == 0:
        res.outcome, res.detail = "accepted", "decoder accepted a must-reject file"
        return res
    if proc.returncode < 0:
        res.outcome, res.detail = "crashed", f"killed by signal {-proc.returncode}"
        return res
    names = [vector["error"]] + vector.get("alternative_errors", [])
    named = next((w for w in names if re.search(rf"\b{re.escape(w)}\b", stderr)), None)
    if named or not strict_errors:
        res.passed = True
        res.outcome = f"rejected {named}" if named else "rejected"
        res.detail = _tail(stderr, 160)
    else:
        res.outcome = "wrong-error"
        res.detail = f"expected {' or '.join(names)} on stderr, got: {_tail(stderr)}"
    return res


def in_process_failures(decode, error_type=Exception, manifest_path=None, vectors_dir=None) -> list[str]:
    """The ids of the vectors that a Python decoder fails, run in this process.

    For a decoder written in Python (no command line needed): `decode(data)` returns the
    decoded payload as the JSON object the decoder protocol prints, and rejects by raising
    `error_type`, whose class name must be the vector's error or one of its alternatives.
    For a vector with `local_pool_digest` it is called as `decode(data, pool_digest=bytes)`.
    An "acceptable" vector passes either way, as in check_vector.
    """
    manifest_path = Path(manifest_path) if manifest_path else DEFAULT_MANIFEST
    vectors_dir = Path(vectors_dir) if vectors_dir else manifest_path.parent / "vectors"
    failed = []
    for v in load_manifest(manifest_path)["vectors"]:
        data = (vectors_dir / v["file"]).read_bytes()
        digest = v.get("local_pool_digest")
        try:
            got = decode(data, pool_digest=bytes.fromhex(digest)) if digest else decode(data)
        except error_type as exc:
            ok = v["result"] != "valid" and type(exc).__name__ in [v.get("error")] + v.get("alternative_errors", [])
        else:
            ok = v["result"] != "invalid" and compare_decoded(v["expected"], got) == []
        if not ok:
            failed.append(v["id"])
    return failed


def run_suite(decoder: list[str], manifest_path=None, vectors_dir=None, jobs: int = 1,
              timeout: float = 60.0, strict_errors: bool = True, select: str | None = None,
              ids=None) -> list[Result]:
    """Check every vector (or those whose id contains `select`, or whose id is in `ids`)."""
    manifest_path = Path(manifest_path) if manifest_path else DEFAULT_MANIFEST
    manifest = load_manifest(manifest_path)
    vectors_dir = Path(vectors_dir) if vectors_dir else manifest_path.parent / "vectors"
    vectors = [v for v in manifest["vectors"] if (not select or select in v["id"])
               and (ids is None or v["id"] in ids)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(
            lambda v: check_vector(decoder, v, vectors_dir, timeout, strict_errors), vectors))


def print_table(results: list[Result], verbose: bool = False, file=None) -> None:
    file = file or sys.stdout
    width = max((len(r.id) for r in results), default=2)
    print(f"{'vector':<{width}}  {'expect':<10}  {'outcome':<28}  status", file=file)
    for r in results:
        expect = r.expected
        status = "pass" if r.passed else "FAIL"
        print(f"{r.id:<{width}}  {expect:<10}  {r.outcome:<28}  {status}", file=file)
        if r.detail and (not r.passed or verbose):
            print(f"{'':<{width}}    {r.detail}", file=file)
    passed = sum(r.passed for r in results)
    parts = []
    for kind, label in (("valid", "must-decode"), ("invalid", "must-reject"),
                        ("acceptable", "implementation-defined")):
        group = [r for r in results if r.expected == kind]
        if group:
            parts.append(f"{label} {sum(r.passed for r in group)}/{len(group)}")
    print(f"\n{passed}/{len(results)} passed ({', '.join(parts)})", file=file)


def locate_suite(vectors=None, manifest=None) -> tuple[Path, Path]:
    """(vectors.json, folder of vector files) from --vectors / --manifest.

    --vectors may name the vector files' folder (the manifest then is vectors.json beside
    it, else the one next to this file) or a copy of the whole suite (vectors.json and
    vectors/ inside)."""
    if vectors is None:
        manifest = Path(manifest) if manifest else DEFAULT_MANIFEST
        return manifest, manifest.parent / "vectors"
    vectors = Path(vectors)
    if (vectors / "vectors.json").is_file() and (vectors / "vectors").is_dir():
        return Path(manifest) if manifest else vectors / "vectors.json", vectors / "vectors"
    if manifest is None:
        beside = vectors.parent / "vectors.json"
        manifest = beside if beside.is_file() else DEFAULT_MANIFEST
    return Path(manifest), vectors


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 (argparse's 2 would read as a failed decoder elsewhere)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def add_arguments(parser, decoder_help="decoder command line, shell-quoted; it gets a "
                  "vector's path as its last argument (required)", decoder_required=True):
    """The options of `python runner.py` and `plada conformance`."""
    parser.add_argument("--decoder", metavar="CMD", required=decoder_required, help=decoder_help)
    parser.add_argument("--vectors", metavar="DIR", help="folder of vector files, or a copy "
                        "of the suite holding vectors.json and vectors/ (default: the suite "
                        "next to this runner)")
    parser.add_argument("--manifest", metavar="FILE", help="vectors.json (default: beside "
                        "the vector folder)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="J",
                        help="decoder processes to run at once (default: CPU count)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="seconds per vector (default 60)")
    parser.add_argument("--any-error", action="store_true", help="count any non-zero exit "
                        "as a correct rejection, without checking the error name")
    parser.add_argument("-k", "--select", metavar="TEXT", help="only vectors whose id "
                        "contains TEXT")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show details for passing vectors too")
    parser.add_argument("--json", action="store_true", help="print results as JSON "
                        "instead of a table")


def run(args, decoder: list[str]) -> int:
    """Run the suite as parsed by add_arguments; print the table or JSON; exit status."""
    manifest, vectors_dir = locate_suite(args.vectors, args.manifest)
    if not manifest.is_file():
        print(f"runner: no manifest at {manifest} (give --manifest or --vectors)",
              file=sys.stderr)
        return EXIT_USAGE
    results = run_suite(decoder, manifest_path=manifest, vectors_dir=vectors_dir,
                        jobs=args.jobs, timeout=args.timeout,
                        strict_errors=not args.any_error, select=args.select)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
    else:
        print_table(results, verbose=args.verbose)
    return EXIT_OK if results and all(r.passed for r in results) else EXIT_FAILED


def main(argv=None) -> int:
    parser = _Parser(prog="runner.py", description="Run the PLADA conformance vectors "
                     "through a decoder command (protocol: this file's docstring, "
                     "conformance/README.md).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    decoder = shlex.split(args.decoder)
    if not decoder:
        parser.error("--decoder: empty command")
    return run(args, decoder)


if __name__ == "__main__":
    sys.exit(main())
