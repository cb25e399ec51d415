"""Install pladafmt as a user would, and use it.

`python -m build` makes the sdist and, from it, the wheel; the wheel goes into a fresh
venv offline (pip --no-index: pladafmt from the build, its dependencies from the
wheelhouse `make wheelhouse` downloads once, the versions of .venv). Then the commands
the README names run there, from a folder outside the checkout, without the pipeline
extra. About 30-60 s, most of it creating the venv and unpacking numpy and llvmlite.

`python tests/test_install.py --requirements` prints the core dependencies, pinned to
the installed versions, for `make wheelhouse`; `--startup` prints the start-up times of
such a fresh install (import, first and warm `plada inspect`).
"""
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("PLADAFMT_WHEELHOUSE", ROOT / ".venv" / "wheelhouse"))
# the only names the wheel may put into site-packages
TOP_LEVEL = {"pladafmt", "pladafmt-{version}.dist-info"}


def core_requirements(dist="pladafmt"):
    """name==version of every distribution the core install needs (no extras), as
    installed here; recursive, so numba brings llvmlite."""
    seen, todo = {}, [dist]
    while todo:
        name = todo.pop()
        for req in metadata.requires(name) or []:
            if "extra ==" in req or "extra==" in req:
                continue
            dep = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower().replace("_", "-")
            if dep not in seen:
                seen[dep] = metadata.version(dep)
                todo.append(dep)
    return [f"{n}=={v}" for n, v in sorted(seen.items())]


def _run(cmd, cwd, env, ok=True, timeout=300):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if ok:
        assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return proc


def missing_wheels():
    have = [p.name.lower() for p in WHEELHOUSE.glob("*.whl")]
    return [r for r in core_requirements() if not any(
        h.startswith(r.replace("-", "_").replace("==", "-").lower() + "-") for h in have)]


def fresh_install(tmp):
    """Build sdist and wheel into tmp/dist, install the wheel into the new venv tmp/venv
    offline. Returns (venv bin folder, a user's env, a work folder outside the checkout,
    the wheel, the installed suite folder)."""
    dist = tmp / "dist"
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT], ROOT,
         dict(os.environ))
    wheel = next(dist.glob("pladafmt-*.whl"))
    assert len(list(dist.glob("pladafmt-*.tar.gz"))) == 1
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp, dict(os.environ))
    # A user's environment: none of this checkout's settings, pip's config ignored.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PLADAFMT_", "PIP_", "PYTHON", "NUMBA_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--isolated", "--no-index",
          "--find-links", WHEELHOUSE, "--find-links", dist, "pladafmt"], tmp, env)
    work = tmp / "work"
    work.mkdir()
    suite = _run([venv / "bin" / "python", "-c", "from pladafmt.conformance import runner; "
                  "print(runner.HERE)"], work, env).stdout.strip()
    return venv / "bin", env, work, wheel, Path(suite)


def startup_times(repeats=5):
    """Print the start-up figures of a fresh install: `import pladafmt`, then `plada
    inspect` of a small payload (1,000 items of a 100,000 pool, C = 10) the first time
    after the install and warm, and of a 10,000-item one (above the size that runs as
    Python, so Numba compiles its kernels the first time)."""
    import tempfile
    import time

    import numpy as np
    import pladafmt
    with tempfile.TemporaryDirectory() as tmp:
        bin_, env, work, wheel, _ = fresh_install(Path(tmp))
        print(f"wheel {wheel.name}: {wheel.stat().st_size:,} bytes")
        rng = np.random.default_rng(1)
        for name, n, k, c in (("small", 100_000, 1_000, 10), ("medium", 1_000_000, 10_000, 100)):
            idx = np.sort(rng.choice(n, k, replace=False))
            (work / f"{name}.plada").write_bytes(pladafmt.encode(idx, rng.integers(0, c, k),
                                                                 pool_size=n, classes=c))

        def wall(*cmd):
            t0 = time.perf_counter()
            _run(cmd, work, env)
            return time.perf_counter() - t0

        times = [wall(bin_ / "python", "-c", "import pladafmt") for _ in range(repeats)]
        print(f"import pladafmt: {' '.join(f'{t:.2f}' for t in times)} s")
        for name in ("small", "medium"):
            times = [wall(bin_ / "plada", "inspect", f"{name}.plada") for _ in range(repeats)]
            print(f"plada inspect {name}.plada: first {times[0]:.2f} s, then "
                  f"{' '.join(f'{t:.2f}' for t in times[1:])} s")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """fresh_install() in a temporary folder, once for this file."""
    missing = missing_wheels()
    if missing:
        pytest.skip(f"no wheels for {missing} in {WHEELHOUSE}: run `make wheelhouse` "
                    "(make test does)")
    return fresh_install(tmp_path_factory.mktemp("install"))


def test_wheel_installs_one_top_level_name(installed):
    wheel = installed[3]
    names = zipfile.ZipFile(wheel).namelist()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert {n.split("/")[0] for n in names} == {t.format(version=version) for t in TOP_LEVEL}
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    # every package of the checkout, under its installed name (pyproject's package-dir)
    installed_as = {"pladafmt": "pladafmt", "conformance": "pladafmt/conformance",
                    "reference_pipeline": "pladafmt/pipeline"}
    expected = {installed_as[p.relative_to(ROOT).parts[0]] + "".join(
                    "/" + x for x in p.parent.relative_to(ROOT).parts[1:])
                for top in installed_as for p in (ROOT / top).rglob("__init__.py")
                if "__pycache__" not in p.parts}
    assert packages == expected
    assert {"pladafmt/_container", "pladafmt/_modes", "pladafmt/_coders"} <= packages
    manifest = json.loads((ROOT / "conformance" / "vectors.json").read_text(encoding="utf-8"))
    vectors = {n for n in names if n.startswith("pladafmt/conformance/vectors/")}
    assert vectors == {f"pladafmt/conformance/vectors/{v['file']}" for v in manifest["vectors"]}
    assert "pladafmt/conformance/vectors.json" in names
    assert not any(n.startswith(("benchmarks", "tests", "reference_pipeline")) for n in names)


# Decode every bundled vector in one process of the fresh venv, against its manifest;
# `import pladafmt` must not import Numba, and small payloads never need it.
EVERY_VECTOR = r"""
import json, sys
from pathlib import Path
import pladafmt
assert "numba" not in sys.modules, "import pladafmt imported numba"
from pladafmt.conformance import runner
from pladafmt.cli import payload_to_json
manifest = runner.load_manifest()
failed = runner.in_process_failures(
    lambda data, **kw: payload_to_json(pladafmt.decode(data, **kw)), pladafmt.PladaError)
print(json.dumps({"vectors": len(manifest["vectors"]), "failed": failed,
                  "numba": "numba" in sys.modules, "suite": str(runner.HERE)}))
"""


def test_bundled_suite_decodes_in_fresh_venv(installed):
    bin_, env, work, _, suite = installed
    out = json.loads(_run([bin_ / "python", "-c", EVERY_VECTOR], work, env).stdout)
    assert out["failed"] == [] and out["vectors"] > 300
    assert out["suite"] == str(suite) and "site-packages" in out["suite"]
    assert out["numba"] is False


def test_plada_commands_in_fresh_venv(installed):
    bin_, env, work, _, suite = installed
    plada = bin_ / "plada"
    proc = _run([plada, "conformance", "-k", "k0"], work, env)
    assert re.search(r"\n(\d+)/\1 passed \(must-decode \d+/\d+, must-reject", proc.stdout)
    proc = _run([plada, "inspect", suite / "vectors" / "y_rice_rans.plada"], work, env)
    assert re.search(r"index_mode\s+rice", proc.stdout)

    (work / "i.txt").write_text("\n".join(str(i) for i in range(3, 3000, 7)))
    (work / "l.txt").write_text("\n".join(str(i % 5) for i in range(3, 3000, 7)))
    _run([plada, "encode", "--pool-size", "3000", "--indices", "i.txt", "--labels", "l.txt",
          "-o", "t.plada"], work, env)
    out = json.loads(_run([plada, "decode", "t.plada", "--json"], work, env).stdout)
    assert out["indices"] == list(range(3, 3000, 7))
    assert out["labels"] == [i % 5 for i in range(3, 3000, 7)]

    proc = _run([plada, "demo", "--quick"], work, env, ok=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "pip install 'pladafmt[pipeline]'" in proc.stderr


def test_runner_copied_next_to_a_decoder(installed):
    """runner.py alone, run by a Python without site-packages (-S: standard library only)
    against the suite installed with the wheel."""
    bin_, env, work, _, suite = installed
    copy = work / "runner.py"
    copy.write_bytes((suite / "runner.py").read_bytes())
    decoder = f"{bin_ / 'python'} -m pladafmt.cli decode --json"
    proc = _run([bin_ / "python", "-S", copy, "--decoder", decoder, "--vectors", suite,
                 "-k", "rice", "--json"], work, env)
    rows = json.loads(proc.stdout)
    assert len(rows) >= 5 and all(r["passed"] for r in rows)
    proc = _run([bin_ / "python", "-S", copy, "--decoder", "false", "--vectors",
                 suite / "vectors", "-k", "y_spec_example"], work, env, ok=False)
    assert proc.returncode == 3 and "0/1 passed" in proc.stdout


if __name__ == "__main__":
    if sys.argv[1:] == ["--requirements"]:      # for `make wheelhouse`
        print(" ".join(core_requirements()))
    elif sys.argv[1:] == ["--startup"]:
        startup_times()
    else:
        sys.exit("usage: python tests/test_install.py --requirements | --startup")
