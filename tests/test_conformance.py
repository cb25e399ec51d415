"""The conformance suite: manifest schema, frozen vectors, reference decoder, runner."""
import hashlib
import json
import os
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

import pladafmt
from conformance import generate, runner
from pladafmt._cli import default_decoder_command, main, payload_to_json

SUITE = Path(__file__).resolve().parent.parent / "conformance"
MANIFEST = json.loads((SUITE / "vectors.json").read_text(encoding="utf-8"))
VECTORS = MANIFEST["vectors"]


def test_manifest_matches_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SUITE / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(MANIFEST, schema, cls=jsonschema.Draft202012Validator)
    assert MANIFEST["numberOfVectors"] == len(VECTORS)


def test_suite_size_and_unique_ids():
    ids = [v["id"] for v in VECTORS]
    assert len(ids) == len(set(ids))
    assert sum(v["result"] == "valid" for v in VECTORS) >= 40
    assert sum(v["result"] == "invalid" for v in VECTORS) >= 30
    assert all(v["id"][0] == {"valid": "y", "invalid": "n", "acceptable": "i"}[v["result"]]
               for v in VECTORS)
    on_disk = sorted(p.name for p in (SUITE / "vectors").iterdir())
    assert on_disk == sorted(v["file"] for v in VECTORS)


def test_generator_reproduces_committed_files(tmp_path):
    """Frozen: regenerating must give byte-identical vectors and manifest."""
    generate.write_suite(tmp_path)
    assert (tmp_path / "vectors.json").read_bytes() == (SUITE / "vectors.json").read_bytes()
    fresh = sorted(p.name for p in (tmp_path / "vectors").iterdir())
    committed = sorted(p.name for p in (SUITE / "vectors").iterdir())
    assert fresh == committed
    changed = [n for n in fresh
               if (tmp_path / "vectors" / n).read_bytes() != (SUITE / "vectors" / n).read_bytes()]
    assert changed == []


def test_spec_worked_example_is_a_vector():
    """The hex dump under "Worked example" in SPEC.md is y_spec_example, byte for byte."""
    spec = (SUITE.parent / "SPEC.md").read_text(encoding="utf-8")
    dump = spec.split("## Worked example", 1)[1].split("```", 2)[1]
    out = bytearray()
    for line in dump.splitlines():
        m = re.match(r"^([0-9a-f]{4})\s{2,}(.*)$", line)
        if not m:
            continue
        assert int(m.group(1), 16) == len(out), line
        toks = [t for t in m.group(2).split() if t != "|"]
        i = 0
        while i < len(toks) and re.fullmatch(r"[0-9a-f]{2}", toks[i]):
            if toks[i + 1:i + 2] == ["x"]:
                out += bytes([int(toks[i], 16)]) * int(toks[i + 2])
                i += 3
            else:
                out.append(int(toks[i], 16))
                i += 1
    assert bytes(out) == (SUITE / "vectors" / "y_spec_example.plada").read_bytes()


def _ref_rejects(data, vector):
    with pytest.raises(pladafmt.PladaError) as info:
        pladafmt.decode(data)
    names = [vector["error"]] + vector.get("alternative_errors", [])
    assert type(info.value).__name__ in names, str(info.value)
    assert str(info.value)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_reference_decoder_in_process(vector):
    data = (SUITE / "vectors" / vector["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == vector["sha256"]
    if vector["result"] == "invalid":
        _ref_rejects(data, vector)
        return
    try:
        payload = pladafmt.decode(data)
    except pladafmt.PladaError:
        if vector["result"] != "acceptable":
            raise
        _ref_rejects(data, vector)
        return
    assert runner.compare_decoded(vector["expected"], payload_to_json(payload)) == []
    assert payload.indices.dtype == np.int64 and payload.labels.dtype == np.int64


def _sample_ids():
    """One vector per expected error name and per flag: each decoder process pays the
    numba import, so the default run checks a cross-section through the external
    protocol (the in-process test above covers every vector). PLADA_FULL_CONFORMANCE=1
    runs them all."""
    if os.environ.get("PLADA_FULL_CONFORMANCE"):
        return None
    picked, seen = set(), set()
    for v in VECTORS:
        if v.get("expected", {}).get("class_count", 0) > 2**16:
            continue  # a million class names in JSON: slow, and covered in-process
        keys = {("error", v.get("error"))} if v["result"] != "valid" else set()
        keys |= {("flag", v["result"], f) for f in v["flags"]}
        if keys - seen:
            picked.add(v["id"])
            seen |= keys
    return picked


def test_reference_decoder_passes_through_external_protocol():
    """Vectors through `python -m pladafmt._cli decode --json FILE`, as a user would."""
    ids = _sample_ids()
    results = runner.run_suite(default_decoder_command(), jobs=4, timeout=300, ids=ids)
    failed = [(r.id, r.outcome, r.detail) for r in results if not r.passed]
    assert failed == []
    assert len(results) == (len(VECTORS) if ids is None else len(ids))


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path)]


def test_runner_catches_decoder_that_accepts_everything(tmp_path):
    cmd = _script(tmp_path, "yes.py", "print('{}')\n")
    results = runner.run_suite(cmd, jobs=4, ids=_sample_ids() or None)
    rejected_ok = [r for r in results if r.expected == "invalid" and r.passed]
    assert rejected_ok == []
    assert {r.outcome for r in results if r.expected == "invalid"} == {"accepted"}
    assert {r.outcome for r in results if r.expected != "invalid"} == {"wrong-output"}
    assert not any(r.passed for r in results)


def test_runner_catches_decoder_that_ignores_checksums(tmp_path):
    """A decoder that swallows ChecksumError (prints the header fields, exit 0) fails
    exactly the checksum vectors."""
    cmd = _script(tmp_path, "lax.py", (
        "import sys, json\n"
        "import pladafmt\n"
        "from pladafmt._cli import main\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "try:\n"
        "    pladafmt.decode(data)\n"
        "except pladafmt.ChecksumError:\n"
        "    print(json.dumps({'ignored': 'checksum'}))\n"
        "    sys.exit(0)\n"
        "except pladafmt.PladaError:\n"
        "    pass\n"
        "sys.exit(main(['decode', '--json', sys.argv[1]]))\n"))
    checksum_ids = {v["id"] for v in VECTORS if v.get("error") == "ChecksumError"}
    assert len(checksum_ids) >= 3
    results = runner.run_suite(cmd, jobs=4, select="checksum")
    failed = {r.id for r in results if not r.passed}
    assert failed == checksum_ids
    assert all(r.outcome == "accepted" for r in results if r.id in checksum_ids)


def test_runner_catches_wrong_error_name_and_wrong_labels(tmp_path):
    vec_valid = next(v for v in VECTORS if v["result"] == "valid" and v["expected"]["k"] > 1)
    vec_invalid = next(v for v in VECTORS if v["result"] == "invalid")
    out = dict(vec_valid["expected"])
    out["indices"] = out.get("indices", [])
    out["labels"] = [0] * out["k"]
    out["indices"] = list(range(out["k"]))
    cmd = _script(tmp_path, "liar.py", (
        "import sys\n"
        f"if sys.argv[1].endswith({vec_invalid['file']!r}):\n"
        "    sys.stderr.write('IndexError: list index out of range\\n'); sys.exit(1)\n"
        f"print({json.dumps(json.dumps(out))})\n"))
    r = runner.check_vector(cmd, vec_invalid, SUITE / "vectors", timeout=30)
    assert (r.passed, r.outcome) == (False, "wrong-error")
    r = runner.check_vector(cmd, vec_invalid, SUITE / "vectors", timeout=30, strict_errors=False)
    assert r.passed
    r = runner.check_vector(cmd, vec_valid, SUITE / "vectors", timeout=30)
    assert (r.passed, r.outcome) == (False, "wrong-output")
    assert "content_sha256" in r.detail or "indices differ" in r.detail


def test_plada_conformance_command_exit_codes(tmp_path, capsys):
    yes = _script(tmp_path, "yes.py", "print('{}')\n")
    rc = main(["conformance", "--decoder", shlex.join(yes), "-k", "n_magic_first_byte"])
    out = capsys.readouterr().out
    assert rc == 3
    assert "FAIL" in out and "0/1 passed" in out
    sel = VECTORS[0]["id"]
    rc = main(["conformance", "-k", sel, "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0 and [r["id"] for r in rows] == [sel] and rows[0]["passed"]
