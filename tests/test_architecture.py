"""The package's layer rule (FORMAT2.md section 7, pladafmt/__init__.py), read from the
imports of every module of pladafmt/ with `ast`, and proved able to fail on a copy of the
package with one bad import and one mode-name branch.

    _coders     imports only _errors, _constants, _jit and other _coders
    _modes      imports only _coders, _errors, _constants, _jit and _modes.contract
                (its __init__, the two tables, imports its mode modules)
    _container  imports _modes only as `from .._modes import INDEX_MODES, LABEL_MODES,
                Mode`, plus _coders, _errors, _constants, _crc, _jit and itself; it never
                compares a mode's name and never spells one
    cli, __init__  import only the public API of _container and _errors
    _errors, _constants, _crc, _jitcache  import nothing of the package; _jit only _jitcache
and no module imports torch.
"""
import ast
import shutil
from pathlib import Path

import pladafmt

PKG = Path(pladafmt.__file__).resolve().parent
BASE = {"_errors", "_constants", "_jit"}


def _module_name(root, path):
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(["pladafmt"] + parts), is_pkg


def _imports(root, path):
    """(line, target module, imported names or None) for every import in `path`, the
    targets as pladafmt-relative dotted names ("_modes.index_rice", "" for pladafmt)."""
    name, is_pkg = _module_name(root, path)
    package = name if is_pkg else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            names = [a.name for a in node.names]
            if mod.startswith("pladafmt"):
                sub = [n for n in names
                       if (root.joinpath(*mod.split(".")[1:], n + ".py")).exists()
                       or (root.joinpath(*mod.split(".")[1:], n)).is_dir()]
                for n in sub:               # `from . import module`: the module itself
                    yield node.lineno, f"{mod}.{n}", None
                rest = [n for n in names if n not in sub]
                if rest or not sub:
                    yield node.lineno, mod, rest
            else:
                yield node.lineno, mod, names


def _layer(rel):
    """pladafmt-relative module name -> its layer."""
    head = rel.split(".")[0] if rel else ""
    return head


def violations(root):
    """Every breach of the layer rule in the package at `root`, as readable lines."""
    root = Path(root)
    container_names = set()
    for node in ast.walk(ast.parse((root / "_container" / "__init__.py").read_text("utf-8"))):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__"
                                                for t in node.targets):
            container_names |= {c.value for c in node.value.elts}
    out = []
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name, _ = _module_name(root, path)
        me = name[len("pladafmt."):] if name != "pladafmt" else ""
        layer = _layer(me)
        where = f"{path.relative_to(root)}"
        for line, target, names in _imports(root, path):
            if target.split(".")[0] == "torch":
                out.append(f"{where}:{line} imports torch")
            if not target.startswith("pladafmt"):
                continue
            rel = target[len("pladafmt."):] if target != "pladafmt" else ""
            tl = _layer(rel)
            ok = True
            if layer == "_coders":
                ok = tl in BASE or tl == "_coders"
            elif layer == "_modes":
                ok = tl in BASE or tl == "_coders" or rel == "_modes.contract" or (
                    me == "_modes" and rel.startswith("_modes."))
            elif layer == "_container":
                if tl == "_modes":
                    ok = rel == "_modes" and names and set(names) <= {
                        "INDEX_MODES", "LABEL_MODES", "Mode"}
                else:
                    ok = tl in BASE | {"_coders", "_crc", "_container"}
            elif me in ("", "cli"):
                ok = rel in ("", "_errors", "_container", "conformance", "pipeline") and not (
                    rel == "_container" and names and not set(names) <= container_names)
            elif me in ("_errors", "_constants", "_crc", "_jitcache"):
                ok = False
            elif me == "_jit":
                ok = rel == "_jitcache"
            if not ok:
                what = f"{target} ({', '.join(names)})" if names else target
                out.append(f"{where}:{line} ({layer or me}) imports {what}")
    # the container never branches on a mode's name, nor spells one
    mode_names = set(pladafmt.INDEX_MODES) | set(pladafmt.LABEL_MODES)
    for path in sorted((root / "_container").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                    isinstance(x, ast.Attribute) and x.attr == "name"
                    for x in [node.left, *node.comparators]):
                out.append(f"_container/{path.name}:{node.lineno} compares a .name")
            if isinstance(node, ast.Constant) and node.value in mode_names:
                out.append(f"_container/{path.name}:{node.lineno} names mode {node.value!r}")
    return out


def test_the_package_keeps_its_layers():
    assert violations(PKG) == []


def test_the_checker_reads_every_layer():
    """Not vacuous: it sees the imports it must allow."""
    seen = {(str(p.relative_to(PKG)), t) for p in PKG.rglob("*.py")
            if "__pycache__" not in p.parts for _, t, _ in _imports(PKG, p)}
    assert ("_container/codec.py", "pladafmt._modes") in seen
    assert any(f.startswith("_modes/") and t.startswith("pladafmt._coders") for f, t in seen)
    assert ("cli.py", "pladafmt._errors") in seen


def _copy(tmp_path):
    dest = tmp_path / "pladafmt"
    shutil.copytree(PKG, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_the_check_can_fail_on_a_bad_import(tmp_path):
    copy = _copy(tmp_path)
    codec = copy / "_container" / "codec.py"
    mode_module = sorted((copy / "_modes").glob("index_*.py"))[0].stem
    codec.write_text(codec.read_text() + f"\nfrom .._modes import {mode_module}\n")
    rice = copy / "_coders" / "gaps.py"
    rice.write_text(rice.read_text() + "\nfrom .._container import codec\n")
    found = violations(copy)
    assert any(f"_container/codec.py" in v and f"_modes.{mode_module}" in v for v in found), found
    assert any("_coders/gaps.py" in v and "pladafmt._container" in v for v in found), found


def test_the_check_can_fail_on_a_mode_name_branch(tmp_path):
    copy = _copy(tmp_path)
    auto = copy / "_container" / "auto.py"
    auto.write_text(auto.read_text() + "\n\ndef _f(mode):\n    return mode.name == 'rice'\n")
    found = violations(copy)
    assert any("compares a .name" in v for v in found), found
    assert any("names mode 'rice'" in v for v in found), found


def test_the_check_can_fail_on_torch(tmp_path):
    copy = _copy(tmp_path)
    crc = copy / "_crc.py"
    crc.write_text(crc.read_text() + "\nimport torch\n")
    assert any("_crc.py" in v and "torch" in v for v in violations(copy))
