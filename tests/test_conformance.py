"""The format 2.0 conformance suite: the manifest, the frozen vectors, pladafmt against every
vector, the kernel == twin == independent-writer leg, the encoder reproducing the writer, and
the runner (in process, as a standalone script, and end to end through the CLI)."""
import dataclasses
import hashlib
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pladafmt
from conformance import generate, runner
from conformance.writer.container import sections_at
from conformance.writer.index_modes import NAMES as INDEX_NAMES
from conformance.writer.label_modes import NAMES as LABEL_NAMES
from pladafmt._modes import INDEX_MODES, LABEL_MODES
from pladafmt.cli import default_decoder_command, main, payload_to_json

SUITE = Path(__file__).resolve().parent.parent / "conformance"
MANIFEST = json.loads((SUITE / "vectors.json").read_text(encoding="utf-8"))
VECTORS = MANIFEST["vectors"]
RECORDS = {v["id"]: v for v in generate.collect()}     # with the writer's raw stream bodies

def _data(vector) -> bytes:
    return (SUITE / "vectors" / vector["file"]).read_bytes()


def _decode(vector, data=None):
    digest = vector.get("local_pool_digest")
    kw = {"pool_digest": bytes.fromhex(digest)} if digest else {}
    return pladafmt.decode(_data(vector) if data is None else data, **kw)


def test_manifest_matches_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SUITE / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(MANIFEST, schema, cls=jsonschema.Draft202012Validator)
    assert MANIFEST["numberOfVectors"] == len(VECTORS) and MANIFEST["specVersion"] == "2.0"


def test_files_ids_hashes_and_sizes():
    ids = [v["id"] for v in VECTORS]
    assert ids == sorted(set(ids))
    assert all(v["id"][0] == {"valid": "y", "invalid": "n", "acceptable": "i"}[v["result"]]
               for v in VECTORS)
    assert sorted(p.name for p in (SUITE / "vectors").iterdir()) == [v["file"] for v in VECTORS]
    for v in VECTORS:
        data = _data(v)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (v["sha256"], v["size"]), v["id"]
    assert all(v["format"] == "2.0" for v in VECTORS)
    assert all(v["expected"]["version"] == [2, v["expected"]["version"][1]]
               for v in VECTORS if "expected" in v)


def test_generator_reproduces_committed_files(tmp_path):
    """Same input, same bytes: regenerating gives the committed vectors and manifest."""
    generate.write_suite(tmp_path)
    assert (tmp_path / "vectors.json").read_bytes() == (SUITE / "vectors.json").read_bytes()
    fresh = sorted(p.name for p in (tmp_path / "vectors").iterdir())
    assert fresh == sorted(p.name for p in (SUITE / "vectors").iterdir())
    assert [n for n in fresh if (tmp_path / "vectors" / n).read_bytes()
            != (SUITE / "vectors" / n).read_bytes()] == []


def test_the_writer_does_not_import_pladafmt():
    """The writer and the cases are the second implementation: no pladafmt inside."""
    for path in list((SUITE / "writer").glob("*.py")) + list((SUITE / "cases").glob("*.py")) + [
            SUITE / "generate.py", SUITE / "runner.py"]:
        assert not re.search(r"^\s*(from|import)\s+pladafmt", path.read_text(), re.M), path


def test_every_question_is_pinned():
    """Each of the 19 answers of FORMAT2.md section 5 / SPEC.md 9.3 has a vector flagged Q<n>,
    and each vector SPEC.md 9.3 names for question n exists and is flagged Q<n>."""
    for q in range(1, 20):
        assert any(f"Q{q}" in v["flags"] and v["result"] != "acceptable" for v in VECTORS), q
    spec = (SUITE.parent / "SPEC.md").read_text(encoding="utf-8")
    table = spec.split("### 9.3 Questions answered", 1)[1].split("\n## ", 1)[0]
    by_id = {v["id"]: v for v in VECTORS}
    rows = re.findall(r"^\| (\d+) \|.*\| ([^|]*) \|$", table, re.M)
    assert [int(q) for q, _ in rows] == list(range(1, 20))
    for q, cell in rows:
        for vid in re.findall(r"`([yni]_[a-z0-9_]+)`", cell):
            assert f"Q{q}" in by_id[vid]["flags"], (q, vid)
        count = re.search(r"the (\d+) `n_order_\*` vectors", cell)
        if count:
            assert int(count.group(1)) == sum(v["id"].startswith("n_order_") for v in VECTORS)


def test_every_mode_raw_and_zstd_and_every_error_class():
    valid = [v for v in VECTORS if v["result"] == "valid"]
    for kind, names in (("index_mode", INDEX_NAMES), ("label_mode", LABEL_NAMES)):
        got = {v["expected"][kind] for v in valid}
        assert {n for m in names.values() for n in (m, m + "+zstd")} <= got, kind
    assert {v["error"] for v in VECTORS if v["result"] == "invalid"} == {
        "FormatError", "TruncatedError", "TrailingDataError", "ChecksumError",
        "UnsupportedVersionError", "LimitError", "PoolMismatchError"}


def test_readme_counts_are_the_suite():
    """conformance/README.md's table: one row per SPEC.md section, counts as in the manifest."""
    readme = (SUITE / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([^|]+?) \| (\d+) \| (\d+) \| (\d+) \|$", readme, re.M)
    total = re.search(r"^\| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| "
                      r"\*\*(\d+)\*\* \|$", readme, re.M)
    count = {r: sum(v["result"] == r for v in VECTORS) for r in ("valid", "invalid", "acceptable")}
    assert [int(x) for x in total.groups()] == list(count.values())
    assert f"{len(VECTORS)} vectors" in readme
    for r in ("valid", "invalid", "acceptable"):
        col = ("valid", "invalid", "acceptable").index(r) + 1
        assert sum(int(row[col]) for row in rows) == count[r]
    sections = {v["spec"] for v in VECTORS}
    assert len(rows) == len(sections)


def test_spec_worked_example_is_a_vector():
    """The hex dump of SPEC.md 11.1 is y_spec_example, byte for byte."""
    spec = (SUITE.parent / "SPEC.md").read_text(encoding="utf-8")
    dump = spec.split("### 11.1 A payload", 1)[1].split("```", 2)[1]
    out = bytearray()
    for line in dump.splitlines():
        m = re.match(r"^([0-9a-f]{4})\s{2,}(.*)$", line)
        if not m:
            continue
        assert int(m.group(1), 16) == len(out), line
        for tok in m.group(2).split():
            if not re.fullmatch(r"[0-9a-f]{2}", tok):
                break
            out.append(int(tok, 16))
    assert bytes(out) == (SUITE / "vectors" / "y_spec_example.plada").read_bytes()


def test_comments_state_real_sizes():
    """Issue #15: a 1.3 comment said 13 bytes for a 33-byte word area. The word-area sizes
    in these comments are the ones in the files."""
    by_id = {v["id"]: v for v in VECTORS}
    data = _data(by_id["n_rans_word_area_odd"])
    pos, hlen, blen = sections_at(data)[1]
    area = blen - 4                                   # after the 4-byte table
    assert f"a word area of {area} bytes" in by_id["n_rans_word_area_odd"]["comment"]
    assert f"the {area - 1}-byte area" in by_id["n_rans_word_area_odd"]["comment"]
    for vid in ("y_rans_k2047_r1", "y_rans_k2048_r4"):
        pos, hlen, blen = sections_at(_data(by_id[vid]))[1]
        assert f"({blen}-byte body)" in by_id[vid]["comment"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_pladafmt_decodes_every_vector(vector):
    if vector["result"] == "invalid":
        with pytest.raises(pladafmt.PladaError) as info:
            _decode(vector)
        names = [vector["error"]] + vector.get("alternative_errors", [])
        assert type(info.value).__name__ in names, str(info.value)
        assert str(info.value)
        return
    try:
        payload = _decode(vector)
    except pladafmt.PladaError as exc:
        if vector["result"] != "acceptable":
            raise
        assert type(exc).__name__ == vector["error"], str(exc)
        return
    assert runner.compare_decoded(vector["expected"], payload_to_json(payload)) == []
    assert payload.indices.dtype == np.int64 and payload.labels.dtype == np.int64


def _twin_rows():
    """The stream bodies of every decodable vector, with the content the writer wrote."""
    return [(vid, r["replay"]) for vid, r in RECORDS.items() if r["result"] != "invalid"]


def test_kernel_twin_and_writer_agree_on_every_stream():
    """For every y_/i_ vector: each stream body the independent writer wrote decodes, with
    the mode's kernel and with its readable twin, to the content it was written from."""
    checked = 0
    for vid, r in _twin_rows():
        k = len(r["indices"])
        im, lm = INDEX_MODES[r["imode"]], LABEL_MODES[r["lmode"]]
        raw_i = np.frombuffer(r["raw_index"], dtype=np.uint8)
        raw_l = np.frombuffer(r["raw_label"], dtype=np.uint8)
        idx = np.asarray(r["indices"], dtype=np.int64)
        ctx = (idx,) if lm.needs_indices else ()
        for decode in (im.decode, im.decode_twin):
            got = decode(raw_i if decode is im.decode else bytes(r["raw_index"]), r["N"], k)
            assert [int(x) for x in got] == r["indices"], (vid, decode)
        for decode in (lm.decode, lm.decode_twin):
            raw = raw_l if decode is lm.decode else bytes(r["raw_label"])
            got = decode(raw, r["C"], k, *(ctx if decode is lm.decode else
                                            tuple(c.tolist() for c in ctx)))
            assert [int(x) for x in got] == r["labels"], (vid, decode)
        checked += 1
    assert checked == sum(v["result"] != "invalid" for v in VECTORS)


def test_twins_reject_like_the_kernels(monkeypatch):
    """Every vector through the container with the twins in place of the kernels: the same
    values, or the same error class and message, as with the kernels."""
    def outcome(vector):
        try:
            p = _decode(vector)
        except pladafmt.PladaError as exc:
            return type(exc).__name__, str(exc)
        return p.indices.tolist(), p.labels.tolist()

    kernel = {v["id"]: outcome(v) for v in VECTORS}
    for table in (INDEX_MODES, LABEL_MODES):
        for mid, mode in list(table.items()):
            monkeypatch.setitem(table, mid, dataclasses.replace(
                mode, decode_u32=None, segments=None,
                decode=lambda raw, size, count, *ctx, tw=mode.decode_twin: np.asarray(
                    tw(bytes(raw), size, count, *(c.tolist() for c in ctx)), dtype=np.int64)))
    twin = {v["id"]: outcome(v) for v in VECTORS}
    assert [vid for vid in kernel if kernel[vid] != twin[vid]] == []


# The reference encoder rewraps these (its rule: class table and metadata Zstd-wrapped when
# that is smaller), so its payload differs from the writer's raw one; it decodes the same.
ENCODER_WRAPS = {"y_class_name_4096_bytes"}


def test_encoder_reproduces_the_writer():
    """Where the writer follows the reference encoder rules (explicit modes, raw bodies, no
    departures: the records marked plain), pladafmt.encode writes the same bytes."""
    same = []
    for vid, v in RECORDS.items():
        r = v.get("replay")
        if v["result"] != "valid" or not r["plain"]:
            continue
        data = pladafmt.encode(r["indices"], r["labels"], pool_size=r["N"],
                               classes=r["names"] if r["names"] is not None else r["C"],
                               pool_digest=r["digest"], metadata=r["meta"],
                               index_mode=INDEX_NAMES[r["imode"]],
                               label_mode=LABEL_NAMES[r["lmode"]])
        if vid in ENCODER_WRAPS:
            assert data != v["data"]
            assert pladafmt.decode(data).indices.tolist() == r["indices"]
        else:
            assert data == v["data"], vid
            same.append(vid)
    assert len(same) >= 60 and {"y_spec_example", "y_rans_k2048_r4", "y_ctx_r4_k2100",
                                "y_zstd_k0_empty_frames"} - set(same) == {
        "y_zstd_k0_empty_frames"}       # Zstd frames: the writer's raw blocks are not level 19


# -------------------------------------------------------------------- the runner


def _sample_ids():
    """One vector per error class, per result and per mode, and the vectors that give a
    local pool digest: each decoder process pays its imports, so the CLI leg runs this
    cross-section (the in-process tests cover every vector)."""
    picked, seen = set(), set()
    for v in VECTORS:
        exp = v.get("expected", {})
        keys = {("error", v.get("error")), ("result", v["result"]),
                ("index", exp.get("index_mode")), ("label", exp.get("label_mode")),
                ("digest", v["id"] if "local_pool_digest" in v else None)}
        if keys - seen:
            picked.add(v["id"])
            seen |= keys
    return picked


def test_runner_end_to_end_through_the_cli():
    """A cross-section through `python -m pladafmt.cli decode --json [--pool-digest HEX]`,
    as a user runs it (without the tests' PLADAFMT_JIT_ALWAYS: small payloads decode
    without loading Numba)."""
    ids = _sample_ids()
    decoder = ["env", "PLADAFMT_JIT_ALWAYS=0", *default_decoder_command()]
    results = runner.run_suite(decoder, jobs=2, timeout=300, ids=ids)
    assert [(r.id, r.outcome, r.detail) for r in results if not r.passed] == []
    assert len(results) == len(ids) and any("local_pool_digest" in v for v in VECTORS
                                            if v["id"] in ids)


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path)]


def test_runner_catches_a_decoder_that_accepts_everything(tmp_path):
    cmd = _script(tmp_path, "yes.py", "print('{}')\n")
    results = runner.run_suite(cmd, jobs=2, ids=_sample_ids())
    assert {r.outcome for r in results if r.expected == "invalid"} == {"accepted"}
    assert {r.outcome for r in results if r.expected != "invalid"} == {"wrong-output"}


def test_runner_catches_wrong_error_name_and_wrong_labels(tmp_path):
    vec_valid = next(v for v in VECTORS if v["result"] == "valid" and v["expected"]["k"] > 1)
    vec_invalid = next(v for v in VECTORS if v["result"] == "invalid")
    out = dict(vec_valid["expected"], indices=list(range(vec_valid["expected"]["k"])),
               labels=[0] * vec_valid["expected"]["k"])
    cmd = _script(tmp_path, "liar.py", (
        "import sys\n"
        f"if sys.argv[-1].endswith({vec_invalid['file']!r}):\n"
        "    sys.stderr.write('IndexError: list index out of range\\n'); sys.exit(1)\n"
        f"print({json.dumps(json.dumps(out))})\n"))
    r = runner.check_vector(cmd, vec_invalid, SUITE / "vectors", timeout=30)
    assert (r.passed, r.outcome) == (False, "wrong-error")
    assert runner.check_vector(cmd, vec_invalid, SUITE / "vectors", timeout=30,
                               strict_errors=False).passed
    r = runner.check_vector(cmd, vec_valid, SUITE / "vectors", timeout=30)
    assert (r.passed, r.outcome) == (False, "wrong-output")


def test_runner_passes_the_local_pool_digest(tmp_path):
    """A vector with local_pool_digest runs `CMD --pool-digest HEX FILE`."""
    vec = next(v for v in VECTORS if v["id"] == "n_pool_digest_nfc_names")
    cmd = _script(tmp_path, "args.py", "import sys\nsys.stderr.write(repr(sys.argv[1:]))\n"
                  "sys.exit(2)\n")
    r = runner.check_vector(cmd, vec, SUITE / "vectors", timeout=30, strict_errors=False)
    assert f"'--pool-digest', '{vec['local_pool_digest']}'" in r.detail


def test_plada_conformance_command_exit_codes(tmp_path, capsys):
    yes = _script(tmp_path, "yes.py", "print('{}')\n")
    rc = main(["conformance", "--decoder", shlex.join(yes), "-k", "n_magic_first_byte"])
    assert rc == 3 and "0/1 passed" in capsys.readouterr().out
    rc = main(["conformance", "-k", "y_spec_example", "--json", "--vectors", str(SUITE)])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0 and [r["id"] for r in rows] == ["y_spec_example"] and rows[0]["passed"]


def test_standalone_runner_command_line(tmp_path):
    """runner.py run by a Python without site-packages (-S): standard library only."""
    yes = _script(tmp_path, "yes.py", "print('{}')\n")
    run = [sys.executable, "-S", str(SUITE / "runner.py")]
    proc = subprocess.run(run + ["--decoder", shlex.join(yes), "--vectors", str(SUITE / "vectors"),
                                 "-k", "n_magic_first_byte", "--json"],
                          capture_output=True, text=True, timeout=120)
    rows = json.loads(proc.stdout)
    assert proc.returncode == 3 and [(r["id"], r["outcome"]) for r in rows] == [
        ("n_magic_first_byte", "accepted")]
    proc = subprocess.run(run + ["--vectors", str(SUITE)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "--decoder" in proc.stderr


def test_in_process_runner_passes_pladafmt_and_catches_broken_decoders():
    seen = {}       # each payload decoded once: the broken decoders below reuse the answer

    def ok(data, **kw):
        key = (data, kw.get("pool_digest"))
        if key not in seen:
            try:
                seen[key] = payload_to_json(pladafmt.decode(data, **kw))
            except pladafmt.PladaError as exc:
                seen[key] = exc
        if isinstance(seen[key], Exception):
            raise seen[key]
        return dict(seen[key])

    valid = {v["id"] for v in VECTORS if v["result"] == "valid"}
    invalid = {v["id"] for v in VECTORS if v["result"] == "invalid"}
    assert runner.in_process_failures(ok, pladafmt.PladaError) == []

    def rejects_all(data, **kw):
        raise pladafmt.FormatError("no")

    assert valid <= set(runner.in_process_failures(rejects_all, pladafmt.PladaError))

    def wrong_labels(data, **kw):
        got = ok(data, **kw)
        return dict(got, labels=[x + 1 for x in got["labels"]]) if got["labels"] else dict(
            got, k=-1)

    assert valid <= set(runner.in_process_failures(wrong_labels, pladafmt.PladaError))

    def accepts_all(data, **kw):
        try:
            return ok(data, **kw)
        except pladafmt.PladaError:
            return {}

    assert invalid <= set(runner.in_process_failures(accepts_all, pladafmt.PladaError))
