"""End-to-end tests for the `plada` command-line tool.

Most cases call pladafmt.cli.main([...]) in-process (each new interpreter pays the
numba import); a handful run the real console script through a subprocess.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pladafmt
from pladafmt.cli import main

ROOT = Path(__file__).resolve().parent.parent
PLADA = [sys.executable, "-m", "pladafmt.cli"]


def run_cli(*args, stdin=b""):
    """Run the real CLI in a new interpreter; returns CompletedProcess with text output."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(PLADA + [str(a) for a in args], input=stdin, capture_output=True,
                          env=env, cwd=ROOT, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


@pytest.fixture
def task(tmp_path):
    """A small task as files: unsorted indices with their labels, class names, manifest."""
    indices = np.array([7, 2, 19, 0, 11], dtype=np.int64)
    labels = np.array([1, 0, 2, 2, 1], dtype=np.int64)
    (tmp_path / "idx.txt").write_text("\n".join(map(str, indices)) + "\n")
    (tmp_path / "lab.txt").write_text("\n".join(map(str, labels)) + "\n")
    np.save(tmp_path / "idx.npy", indices)
    np.save(tmp_path / "lab.npy", labels)
    (tmp_path / "classes.txt").write_text("chat\nchien\noiseau 🐦\n", encoding="utf-8")
    lines = [f"{hashlib.sha256(f'img{i}'.encode()).hexdigest()}  img{i}.png" for i in range(20)]
    (tmp_path / "pool.sha256").write_text("\n".join(lines) + "\n")
    return tmp_path, indices, labels


def encode_args(d, *extra):
    return ["encode", "--pool-size", "20", "--indices", str(d / "idx.txt"),
            "--labels", str(d / "lab.txt"), "--classes", str(d / "classes.txt"),
            "-o", str(d / "t.plada"), "-q", *extra]


# ---------------------------------------------------------------- encode / decode


def test_encode_then_decode_json_sorts_indices_with_labels(task, capsys):
    d, indices, labels = task
    assert main(encode_args(d, "--metadata", '{"task": "demo"}')) == 0
    capsys.readouterr()
    assert main(["decode", str(d / "t.plada"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    order = np.argsort(indices)
    assert out["indices"] == indices[order].tolist()
    assert out["labels"] == labels[order].tolist()
    assert out["pool_size"] == 20 and out["k"] == 5 and out["class_count"] == 3
    assert out["classes"] == ["chat", "chien", "oiseau 🐦"]
    assert out["metadata"] == {"task": "demo"}
    assert out["pool_digest"] is None
    assert len(out["version"]) == 2


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv", "txt"])
def test_encode_reads_every_input_format(task, fmt, capsys):
    d, indices, labels = task
    if fmt == "npz":
        np.savez(d / "both.npz", indices=indices, labels=labels)
        ipath = lpath = d / "both.npz"
    elif fmt == "csv":
        (d / "both.csv").write_text("index,label\n" + "".join(
            f"{i},{v}\n" for i, v in zip(indices, labels)))
        ipath = lpath = d / "both.csv"
    else:
        ipath, lpath = d / f"idx.{fmt}", d / f"lab.{fmt}"
    assert main(["encode", "--pool-size", "20", "--indices", str(ipath), "--labels", str(lpath),
                 "--num-classes", "3", "-o", str(d / "f.plada"), "-q"]) == 0
    p = pladafmt.decode((d / "f.plada").read_bytes())
    order = np.argsort(indices)
    assert p.indices.tolist() == indices[order].tolist()
    assert p.labels.tolist() == labels[order].tolist()
    assert p.class_count == 3


@pytest.mark.parametrize("index_mode", ["bitmap", "varint", "rice+zstd", "ctx-rans"])
@pytest.mark.parametrize("label_mode", ["packed", "rans+zstd", "ctx-rans"])
def test_encode_honours_modes(task, index_mode, label_mode):
    d, _, _ = task
    assert main(encode_args(d, "--index-mode", index_mode, "--label-mode", label_mode)) == 0
    p = pladafmt.decode((d / "t.plada").read_bytes())
    assert p.index_mode == index_mode and p.label_mode == label_mode


def test_decode_writes_npz_and_csv(task, capsys):
    d, indices, labels = task
    assert main(encode_args(d)) == 0
    assert main(["decode", str(d / "t.plada"), "-o", str(d / "out.npz")]) == 0
    with np.load(d / "out.npz") as z:
        assert z["indices"].tolist() == sorted(indices.tolist())
        assert z["classes"].tolist() == ["chat", "chien", "oiseau 🐦"]
    assert main(["decode", str(d / "t.plada"), "-o", str(d / "out.csv")]) == 0
    rows = (d / "out.csv").read_text().splitlines()
    assert rows[0] == "index,label" and rows[1] == "0,2" and len(rows) == 6
    # the CSV feeds back into encode
    capsys.readouterr()
    assert main(["encode", "--pool-size", "20", "--indices", str(d / "out.csv"), "--labels",
                 str(d / "out.csv"), "--num-classes", "3", "-o", str(d / "again.plada"), "-q"]) == 0
    assert pladafmt.decode((d / "again.plada").read_bytes()).labels.tolist() == \
        pladafmt.decode((d / "t.plada").read_bytes()).labels.tolist()


def test_encode_pool_manifest_and_verify(task, capsys):
    d, _, _ = task
    assert main(["encode", "--indices", str(d / "idx.txt"), "--labels", str(d / "lab.txt"),
                 "--pool-manifest", str(d / "pool.sha256"), "-o", str(d / "m.plada"), "-q"]) == 0
    p = pladafmt.decode((d / "m.plada").read_bytes())
    assert p.pool_size == 20  # taken from the manifest
    assert main(["verify", str(d / "m.plada"), "--pool-manifest", str(d / "pool.sha256")]) == 0
    assert capsys.readouterr().out.startswith("OK: pool digest ")

    # another pool order: rejected with exit 2
    lines = (d / "pool.sha256").read_text().splitlines()
    (d / "other.sha256").write_text("\n".join(lines[1:] + lines[:1]) + "\n")
    assert main(["verify", str(d / "m.plada"), "--pool-manifest", str(d / "other.sha256")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("PoolMismatchError: ")


def test_verify_rejects_payload_without_digest(task, capsys):
    d, _, _ = task
    assert main(encode_args(d)) == 0
    assert main(["verify", str(d / "t.plada"), "--pool-manifest", str(d / "pool.sha256")]) == 2
    assert capsys.readouterr().err.startswith("PoolMismatchError: ")


def test_inspect_table_and_json(task, capsys):
    d, _, _ = task
    assert main(encode_args(d)) == 0
    capsys.readouterr()
    assert main(["inspect", str(d / "t.plada"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info == pladafmt.inspect((d / "t.plada").read_bytes())
    assert main(["inspect", str(d / "t.plada")]) == 0
    table = capsys.readouterr().out
    assert "index_stream" in table and "label_stream" in table


# ---------------------------------------------------------------- bad inputs


def test_missing_file_is_usage_error(task, capsys):
    d, _, _ = task
    rc = main(["encode", "--pool-size", "20", "--indices", str(d / "nope.txt"),
               "--labels", str(d / "lab.txt"), "-o", str(d / "x.plada")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("FileNotFoundError: ") and "nope.txt" in err
    assert not (d / "x.plada").exists()


def test_wrong_length_is_usage_error(task, capsys):
    d, _, _ = task
    (d / "short.txt").write_text("0\n1\n")
    rc = main(["encode", "--pool-size", "20", "--indices", str(d / "idx.txt"),
               "--labels", str(d / "short.txt"), "-o", str(d / "x.plada")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err == "UsageError: indices and labels differ in length: 5 indices, 2 labels\n"


def test_label_not_below_class_count_is_usage_error(task, capsys):
    d, _, _ = task
    rc = main(["encode", "--pool-size", "20", "--indices", str(d / "idx.txt"),
               "--labels", str(d / "lab.txt"), "--num-classes", "2", "-o", str(d / "x.plada")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("UsageError: label 2 at index ") and "class count 2" in err


@pytest.mark.parametrize("content, message", [
    ("3\n3\n1\n", "duplicate index 3"),
    ("3\n20\n1\n", "index 20 out of range for pool size 20"),
    ("3\n-1\n1\n", "negative value -1"),
    ("3\nfour\n1\n", "line 2: not an integer: 'four'"),
])
def test_bad_indices_are_usage_errors(task, capsys, content, message):
    d, _, _ = task
    (d / "bad.txt").write_text(content)
    (d / "l3.txt").write_text("0\n0\n0\n")
    rc = main(["encode", "--pool-size", "20", "--indices", str(d / "bad.txt"),
               "--labels", str(d / "l3.txt"), "-o", str(d / "x.plada")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("UsageError: ") and message in err


def test_argparse_errors_exit_1_not_2(capsys):
    rc = main(["encode", "--pool-size", "ten"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("UsageError: plada encode: argument --pool-size: invalid int value")
    assert main([]) == 1
    assert main(["frobnicate"]) == 1


def test_unknown_mode_is_usage_error(task, capsys):
    d, _, _ = task
    rc = main(encode_args(d, "--index-mode", "nonsense"))
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("EncodeError: ")


def test_corrupt_payload_exit_2(task, capsys):
    d, _, _ = task
    assert main(encode_args(d)) == 0
    data = bytearray((d / "t.plada").read_bytes())
    data[-1] ^= 0xFF
    (d / "bad.plada").write_bytes(bytes(data))
    for cmd in (["decode", str(d / "bad.plada")], ["inspect", str(d / "bad.plada")]):
        capsys.readouterr()
        rc = main(cmd)
        err = capsys.readouterr().err
        if cmd[0] == "inspect" and rc == 0:
            continue  # inspect may describe a payload whose content checksum is wrong
        assert rc == 2
        name = err.split(":", 1)[0]
        assert issubclass(getattr(pladafmt, name), pladafmt.PladaError)
    (d / "magic.plada").write_bytes(b"GIF89a" + bytes(data[6:]))
    assert main(["decode", str(d / "magic.plada")]) == 2
    assert capsys.readouterr().err.startswith("FormatError: ")


def test_help_on_every_command(capsys):
    for cmd in ([], ["encode"], ["decode"], ["inspect"], ["verify"], ["conformance"]):
        assert main([*cmd, "--help"]) == 0
        assert "usage: plada" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def test_atomic_write_leaves_no_temp_files(task):
    d, _, _ = task
    assert main(encode_args(d)) == 0
    assert sorted(p.name for p in d.iterdir() if p.name.startswith(".")) == []


# ---------------------------------------------------------------- real subprocesses


def test_subprocess_stdin_stdout_round_trip(task):
    d, indices, labels = task
    rc, payload, err = run_cli("encode", "--pool-size", 20, "--indices", "-", "--labels",
                               d / "lab.txt", "--num-classes", 3, "-o", "-",
                               stdin=(d / "idx.txt").read_bytes())
    assert rc == 0, err
    assert payload[:1] == b"\x89"
    rc, out, err = run_cli("decode", "-", "--json", stdin=payload)
    assert rc == 0, err
    decoded = json.loads(out)
    order = np.argsort(indices)
    assert decoded["indices"] == indices[order].tolist()
    assert decoded["labels"] == labels[order].tolist()
    rc, out, err = run_cli("inspect", "-", stdin=payload)
    assert rc == 0, err


def test_subprocess_errors_have_no_traceback(task):
    d, _, _ = task
    rc, _, err = run_cli("decode", d / "missing.plada")
    assert rc == 1
    assert err.startswith("FileNotFoundError: ") and "Traceback" not in err
    rc, _, err = run_cli("decode", "-", stdin=b"\x89PLD\r\n\x1a\n\x02\x00\x00\x00")
    assert rc == 2
    assert err.startswith("TruncatedError: ") and "Traceback" not in err
    (d / "l4.txt").write_text("0\n1\n2\n3\n")
    rc, _, err = run_cli("encode", "--pool-size", 20, "--indices", d / "idx.txt",
                         "--labels", d / "l4.txt", "-o", d / "x.plada")
    assert rc == 1
    assert err == "UsageError: indices and labels differ in length: 5 indices, 4 labels\n"


def test_subprocess_verify_and_conformance(task):
    d, _, _ = task
    assert main(["encode", "--indices", str(d / "idx.txt"), "--labels", str(d / "lab.txt"),
                 "--pool-manifest", str(d / "pool.sha256"), "-o", str(d / "m.plada"), "-q"]) == 0
    rc, out, err = run_cli("verify", d / "m.plada", "--pool-manifest", d / "pool.sha256")
    assert rc == 0, err
    assert out.startswith(b"OK: pool digest ")
    rc, _, err = run_cli("verify", d / "m.plada", "--pool-digest", "00" * 32)
    assert rc == 2
    assert err.startswith("PoolMismatchError: Pool_Digest: expected 0000")
    rc, out, err = run_cli("conformance", "-k", "y_spec_example")
    assert rc == 0, err
    assert b"1/1 passed" in out


def test_console_script_help():
    exe = Path(sys.executable).with_name("plada")
    if not exe.exists():
        pytest.skip("console script not installed (pip install -e .)")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "encode" in proc.stdout and "conformance" in proc.stdout


def test_demo_forwards_arguments(monkeypatch):
    import types

    seen = {}
    fake = types.ModuleType("pladafmt.pipeline.demo")
    fake.main = lambda argv: seen.setdefault("argv", argv) and 0
    package = types.ModuleType("pladafmt.pipeline")
    package.demo = fake
    monkeypatch.setitem(sys.modules, "pladafmt.pipeline", package)
    monkeypatch.setitem(sys.modules, "pladafmt.pipeline.demo", fake)
    assert main(["demo", "--quick", "--help"]) == 0
    assert seen["argv"] == ["--quick", "--help"]


def test_demo_without_pipeline_extra_names_it(monkeypatch, capsys):
    """A missing pipeline dependency is one line naming the extra, not a traceback
    (tests/test_install.py runs it for real, in a venv without the extra)."""
    from pladafmt import cli as _cli

    monkeypatch.setattr(_cli, "PIPELINE_MODULES", _cli.PIPELINE_MODULES + ("no_such_mod_xyz",))
    assert main(["demo", "--quick"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'pladafmt[pipeline]'" in err and "missing: no_such_mod_xyz" in err


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_get_umask_permissions(task, umask):
    """Every file the CLI and the pipeline write atomically gets 0666 & ~umask, as open()
    gives a new file (a temporary file from mkstemp would keep 0600), and no temporary
    file is left behind."""
    from reference_pipeline.common import write_json
    from reference_pipeline.npzio import save_npz

    d, indices, labels = task
    out = d / "out"
    out.mkdir()
    old = os.umask(umask)
    try:
        assert main(encode_args(d)[:-3] + ["-o", str(out / "t.plada"), "-q"]) == 0
        assert main(["decode", str(out / "t.plada"), "-o", str(out / "t.npz")]) == 0
        assert main(["decode", str(out / "t.plada"), "-o", str(out / "t.csv")]) == 0
        save_npz(out / "p.npz", indices=indices)
        write_json(out / "p.json", {"k": 5})
    finally:
        os.umask(old)
    modes = {f.name: f.stat().st_mode & 0o777 for f in out.iterdir()}
    assert modes == {name: 0o666 & ~umask for name in
                     ("t.plada", "t.npz", "t.csv", "p.npz", "p.json")}
