"""The `plada` command-line tool: encode, decode, inspect and verify payloads, run the
conformance suite, and start the reference-pipeline demo.

Exit codes (every command):
  0  success
  1  usage error: bad arguments, a missing or unreadable file, input arrays that cannot
     form a valid payload (length mismatch, label >= C, duplicate index, ...)
  2  the payload was rejected (a pladafmt.PladaError while decoding); stderr carries
     "ErrorClassName: message"
  3  `plada conformance` only: at least one vector failed

`-` stands for stdin (input) or stdout (output) wherever a file is expected.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import secrets
import shlex
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_REJECTED = 2
EXIT_CONFORMANCE_FAILED = 3              # = conformance.runner.EXIT_FAILED

POOL_MANIFEST_HELP = (
    "pool manifest: one line per pool item, in pool order, '<sha256 hex>  <name>' "
    "(the output of `sha256sum`; a '*' before the name is allowed). UTF-8; blank lines "
    "and lines starting with '#' are skipped. The pool digest is pladafmt.pool_digest() "
    "over (name, sha256) pairs."
)

INPUT_ARRAY_HELP = (
    "integer array file: .npy, .npz (the array named like the option, e.g. 'indices', "
    "or the only array), .csv (a single column, or the column named 'index'/'indices' or "
    "'label'/'labels' under a header row), or text with one integer per line; '-' reads "
    "text from stdin"
)


class UsageError(Exception):
    """A user mistake on the command line or in an input file (exit code 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse exits with status 2 on errors; we reserve 2 for rejected payloads."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


# ---------------------------------------------------------------- input helpers


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _write_bytes_atomic(path: str, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder plus os.replace,
    so a reader never sees a half-written payload. The file gets 0666 & ~umask, as
    open() would give it (tempfile.mkstemp would leave 0600)."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _parse_int_tokens(text: str, source: str) -> list[int]:
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for token in line.split():
            try:
                values.append(int(token))
            except ValueError:
                raise UsageError(f"{source}: line {lineno}: not an integer: {token!r}") from None
    return values


def _read_csv_column(text: str, source: str, names: tuple[str, ...]) -> list[int]:
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(c.strip() for c in row)]
    if not rows:
        return []
    column = 0
    header = [c.strip() for c in rows[0]]
    try:
        int(header[0])
        has_header = False
    except ValueError:
        has_header = True
    if has_header:
        rows = rows[1:]
        matches = [i for i, name in enumerate(header) if name.lower() in names]
        if matches:
            column = matches[0]
        elif len(header) != 1:
            raise UsageError(
                f"{source}: CSV has columns {header}; expected one column or a column "
                f"named {' or '.join(repr(n) for n in names)}"
            )
    elif any(len(row) != 1 for row in rows):
        raise UsageError(f"{source}: CSV without a header row must have exactly one column")
    values = []
    for lineno, row in enumerate(rows, 2 if has_header else 1):
        if column >= len(row):
            raise UsageError(f"{source}: row {lineno}: missing column {column + 1}")
        try:
            values.append(int(row[column].strip()))
        except ValueError:
            raise UsageError(
                f"{source}: row {lineno}: not an integer: {row[column]!r}"
            ) from None
    return values


def _to_int_array(values, source: str):
    import numpy as np

    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise UsageError(f"{source}: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if arr.dtype == object:  # Python ints beyond int64
            raise UsageError(f"{source}: value out of range for a 64-bit integer")
        raise UsageError(f"{source}: expected integers, got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and int(arr.max()) > 2**63 - 1:
        raise UsageError(f"{source}: value {int(arr.max())} out of range")
    arr = arr.astype(np.int64)
    if int(arr.min()) < 0:
        raise UsageError(f"{source}: negative value {int(arr.min())} at position {int(arr.argmin())}")
    return arr


def _read_int_array(path: str, names: tuple[str, ...]):
    """Read a 1-D non-negative integer array (see INPUT_ARRAY_HELP)."""
    import numpy as np

    source = "<stdin>" if path == "-" else path
    if path == "-":
        text = sys.stdin.buffer.read().decode("utf-8")
        return _to_int_array(_parse_int_tokens(text, source), source)
    suffix = Path(path).suffix.lower()
    if suffix in (".npy", ".npz"):
        try:
            loaded = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise UsageError(f"{source}: cannot read {suffix} file: {exc}") from None
        if suffix == ".npz":
            with loaded:
                keys = list(loaded.keys())
                key = next((n for n in names if n in keys), None)
                if key is None and len(keys) == 1:
                    key = keys[0]
                if key is None:
                    raise UsageError(
                        f"{source}: .npz holds {keys}; expected an array named "
                        f"{' or '.join(repr(n) for n in names)} or a single array"
                    )
                loaded = loaded[key]
        return _to_int_array(loaded, source)
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text (use .npy/.npz for binary arrays)") from None
    if suffix == ".csv":
        return _to_int_array(_read_csv_column(text, source, names), source)
    return _to_int_array(_parse_int_tokens(text, source), source)


def _read_classes(path: str) -> list[str]:
    text = _read_bytes(path).decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_pool_manifest(path: str) -> list[tuple[str, bytes]]:
    """Parse a pool manifest (see POOL_MANIFEST_HELP) into (name, sha256) pairs."""
    text = _read_bytes(path).decode("utf-8")
    source = "<stdin>" if path == "-" else path
    items = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest_hex, sep, name = line.partition(" ")
        if not sep:
            raise UsageError(f"{source}: line {lineno}: expected '<sha256 hex>  <name>'")
        if name.startswith(" ") or name.startswith("*"):
            name = name[1:]
        if len(digest_hex) != 64:
            raise UsageError(f"{source}: line {lineno}: expected 64 hex digits, got {digest_hex!r}")
        try:
            digest = bytes.fromhex(digest_hex)
        except ValueError:
            raise UsageError(f"{source}: line {lineno}: not hex: {digest_hex!r}") from None
        items.append((name, digest))
    return items


def _pool_digest_from_args(args) -> tuple[bytes | None, int | None]:
    """Return (digest, number of manifest items) from --pool-manifest / --pool-digest."""
    import pladafmt

    manifest = getattr(args, "pool_manifest", None)
    digest_hex = getattr(args, "pool_digest", None)
    if manifest and digest_hex:
        raise UsageError("give --pool-manifest or --pool-digest, not both")
    if manifest:
        items = read_pool_manifest(manifest)
        return pladafmt.pool_digest(items), len(items)
    if digest_hex:
        try:
            digest = bytes.fromhex(digest_hex)
        except ValueError:
            raise UsageError(f"--pool-digest: not hex: {digest_hex!r}") from None
        return digest, None
    return None, None


def _parse_metadata(text: str | None) -> dict | None:
    if text is None:
        return None
    if text.startswith("@"):
        text = _read_bytes(text[1:]).decode("utf-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--metadata: not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--metadata: expected a JSON object, got {type(value).__name__}")
    return value


def _check_arrays(indices, labels, pool_size: int, class_count: int):
    """Validate user arrays and sort them together by index. Returns (indices, labels)."""
    import numpy as np

    if len(indices) != len(labels):
        raise UsageError(
            f"indices and labels differ in length: {len(indices)} indices, {len(labels)} labels"
        )
    order = np.argsort(indices, kind="stable")
    indices, labels = indices[order], labels[order]
    if len(indices):
        if int(indices[-1]) >= pool_size:
            raise UsageError(f"index {int(indices[-1])} out of range for pool size {pool_size}")
        dup = np.flatnonzero(np.diff(indices) == 0)
        if dup.size:
            raise UsageError(f"duplicate index {int(indices[dup[0]])}")
        bad = np.flatnonzero(labels >= class_count)
        if bad.size:
            raise UsageError(
                f"label {int(labels[bad[0]])} at index {int(indices[bad[0]])} is not "
                f"below the class count {class_count}"
            )
    return indices, labels


# ---------------------------------------------------------------- JSON form


def payload_to_json(payload) -> dict:
    """The JSON form printed by `plada decode --json` (the conformance protocol).

    {"version": [major, minor], "pool_size": N, "k": k, "class_count": C,
     "classes": [str, ...], "pool_digest": hex | null, "metadata": {...},
     "index_mode": str, "label_mode": str, "indices": [int, ...], "labels": [int, ...]}
    """
    digest = payload.pool_digest
    return {
        "version": [int(v) for v in payload.version],
        "pool_size": int(payload.pool_size),
        "k": int(len(payload.indices)),
        "class_count": int(payload.class_count),
        "classes": [str(c) for c in payload.classes],
        "pool_digest": None if digest is None else bytes(digest).hex(),
        "metadata": payload.metadata if payload.metadata is not None else {},
        "index_mode": str(payload.index_mode),
        "label_mode": str(payload.label_mode),
        "indices": [int(i) for i in payload.indices],
        "labels": [int(v) for v in payload.labels],
    }


def _dump_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- commands


def cmd_encode(args) -> int:
    import pladafmt

    digest, manifest_count = _pool_digest_from_args(args)
    pool_size = args.pool_size
    if pool_size is None:
        if manifest_count is None:
            raise UsageError("--pool-size is required (or give --pool-manifest)")
        pool_size = manifest_count
    elif manifest_count is not None and manifest_count != pool_size:
        raise UsageError(
            f"--pool-size {pool_size} but the pool manifest lists {manifest_count} items"
        )
    if args.indices == "-" and args.labels == "-":
        raise UsageError("only one of --indices and --labels can read stdin")
    indices = _read_int_array(args.indices, ("indices", "index"))
    labels = _read_int_array(args.labels, ("labels", "label"))

    names = _read_classes(args.classes) if args.classes else None
    if names is not None and args.num_classes is not None and args.num_classes != len(names):
        raise UsageError(
            f"--num-classes {args.num_classes} but {args.classes} lists {len(names)} classes"
        )
    if names is not None:
        class_count, classes = len(names), names
    elif args.num_classes is not None:
        class_count = classes = args.num_classes
    else:  # infer C from the labels
        class_count = classes = int(labels.max()) + 1 if len(labels) else 1
    if class_count < 1:
        raise UsageError(f"the class count must be at least 1, got {class_count}")
    if pool_size < 0:
        raise UsageError(f"--pool-size must be non-negative, got {pool_size}")

    indices, labels = _check_arrays(indices, labels, pool_size, class_count)
    metadata = _parse_metadata(args.metadata)
    data = pladafmt.encode(
        indices,
        labels,
        pool_size=pool_size,
        classes=classes,
        pool_digest=digest,
        metadata=metadata,
        index_mode=args.index_mode,
        label_mode=args.label_mode,
        zstd_level=args.zstd_level,
    )
    _write_bytes_atomic(args.output, data)
    if args.output != "-" and not args.quiet:
        k = len(indices)
        bits = 8 * len(data) / k if k else float("nan")
        print(
            f"wrote {args.output}: {len(data)} bytes, N={pool_size} k={k} C={class_count} "
            f"({bits:.3f} bits per kept item)",
            file=sys.stderr,
        )
    return EXIT_OK


def _decode_kwargs(args) -> dict:
    kwargs = {}
    for name in ("max_pool_size", "max_items", "max_decoded_bytes"):
        value = getattr(args, name, None)
        if value is not None:
            kwargs[name] = value
    return kwargs


def cmd_decode(args) -> int:
    import numpy as np

    import pladafmt

    digest, _ = _pool_digest_from_args(args)
    data = _read_bytes(args.payload)
    payload = pladafmt.decode(data, pool_digest=digest, **_decode_kwargs(args))
    want_json = args.json or args.output is None
    if args.output is not None:
        indices = np.asarray(payload.indices, dtype=np.int64)
        labels = np.asarray(payload.labels, dtype=np.int64)
        suffix = Path(args.output).suffix.lower()
        if args.output == "-" or suffix == ".csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["index", "label"])
            writer.writerows(zip(indices.tolist(), labels.tolist()))
            out = buf.getvalue().encode("utf-8")
        elif suffix == ".npz":
            bio = io.BytesIO()
            np.savez(
                bio,
                indices=indices,
                labels=labels,
                classes=np.array(list(payload.classes), dtype=str),
                pool_size=np.int64(payload.pool_size),
                class_count=np.int64(payload.class_count),
            )
            out = bio.getvalue()
        else:
            raise UsageError(f"-o: unknown output type {args.output!r} (use .npz, .csv or -)")
        if args.output == "-" and args.json:
            raise UsageError("-o - and --json both write to stdout; choose one")
        _write_bytes_atomic(args.output, out)
    if want_json and args.output != "-":
        _dump_json(payload_to_json(payload))
    return EXIT_OK


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return ".".join(str(v) for v in value) if len(value) == 2 else str(list(value))
    return str(value)


def _print_inspect(info: dict) -> None:
    """Human table for pladafmt.inspect(): scalars first, then the section list."""
    scalars = {k: v for k, v in info.items() if not isinstance(v, (dict, list))}
    width = max((len(k) for k in scalars), default=0)
    for key, value in scalars.items():
        print(f"{key:<{width}}  {_fmt(value)}")
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"\n{key}:")
            sub_width = max((len(str(k)) for k in value), default=0)
            for k2, v2 in value.items():
                print(f"  {str(k2):<{sub_width}}  {_fmt(v2) if not isinstance(v2, (dict, list)) else json.dumps(v2, ensure_ascii=False)}")
        elif isinstance(value, list):
            print(f"\n{key}:")
            if value and all(isinstance(v, dict) for v in value):
                cols = []
                for row in value:
                    for c in row:
                        if c not in cols:
                            cols.append(c)
                table = [[str(c) for c in cols]] + [[_fmt(row.get(c, "")) for c in cols] for row in value]
                widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
                for r in table:
                    print("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
            else:
                for v in value:
                    print(f"  {_fmt(v)}")


def cmd_inspect(args) -> int:
    import pladafmt

    data = _read_bytes(args.payload)
    info = pladafmt.inspect(data)
    if args.json:
        _dump_json(info)
    else:
        _print_inspect(info)
    return EXIT_OK


def cmd_verify(args) -> int:
    import pladafmt

    digest, count = _pool_digest_from_args(args)
    if digest is None:
        raise UsageError("verify needs --pool-manifest FILE (or --pool-digest HEX)")
    data = _read_bytes(args.payload)
    payload = pladafmt.decode(data, pool_digest=digest, **_decode_kwargs(args))
    if payload.pool_digest is None:
        raise pladafmt.PoolMismatchError(
            "the payload carries no pool digest, so it cannot be checked against a pool"
        )
    if count is not None and count != payload.pool_size:
        raise pladafmt.PoolMismatchError(
            f"the pool manifest lists {count} items but the payload's pool size is "
            f"{payload.pool_size}"
        )
    print(
        f"OK: pool digest {bytes(payload.pool_digest).hex()} matches; all checksums "
        f"verified; N={payload.pool_size} k={len(payload.indices)} C={payload.class_count}"
    )
    return EXIT_OK


def default_decoder_command() -> list[str]:
    """The reference decoder run through the external-command protocol."""
    return [sys.executable, "-m", "pladafmt.cli", "decode", "--json"]


def _conformance_runner():
    """pladafmt.conformance.runner (installed), or conformance.runner (a checkout on
    sys.path that is not installed)."""
    try:
        from .conformance import runner
    except ModuleNotFoundError as exc:
        if exc.name != __package__ + ".conformance":
            raise
        from conformance import runner
    return runner


def cmd_conformance(args) -> int:
    runner = _conformance_runner()
    decoder = shlex.split(args.decoder) if args.decoder else default_decoder_command()
    if not decoder:
        raise UsageError("--decoder: empty command")
    return runner.run(args, decoder)


# What the reference pipeline imports beyond the codec's dependencies: the `pipeline` extra.
PIPELINE_MODULES = ("torch", "torchvision", "timm", "PIL", "matplotlib")
PIPELINE_EXTRA = "pip install 'pladafmt[pipeline]'"


def _pipeline_demo():
    """The demo module: pladafmt.pipeline (installed) or reference_pipeline (checkout)."""
    import importlib.util

    missing = [m for m in PIPELINE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"the demo needs the pipeline extra ({PIPELINE_EXTRA}); "
                         f"missing: {', '.join(missing)}")
    try:
        from .pipeline import demo
    except ModuleNotFoundError as exc:
        if exc.name != __package__ + ".pipeline":
            raise
        from reference_pipeline import demo
    return demo


def cmd_demo(argv: list[str]) -> int:
    try:
        demo = _pipeline_demo()
        return int(demo.main(argv) or 0)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in (__package__, "reference_pipeline"):
            raise
        # a dependency PIPELINE_MODULES does not list yet: still one line, no traceback
        raise UsageError(f"the demo needs the pipeline extra ({PIPELINE_EXTRA}): {exc}") from None


# ---------------------------------------------------------------- parser


def _add_limits(p) -> None:
    g = p.add_argument_group("decoder limits (defaults: those of pladafmt.decode)")
    g.add_argument("--max-pool-size", type=int, metavar="N", help="reject payloads with a larger N")
    g.add_argument("--max-items", type=int, metavar="K", help="reject payloads with a larger k")
    g.add_argument(
        "--max-decoded-bytes", type=int, metavar="B", help="cap on memory for decoded streams"
    )


def _add_pool(p, required_help: str = "") -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pool-manifest", metavar="FILE", help=POOL_MANIFEST_HELP + required_help)
    g.add_argument("--pool-digest", metavar="HEX", help="the pool digest itself, 64 hex digits")


def build_parser() -> argparse.ArgumentParser:
    import pladafmt     # the mode names for --help (no Numba: importing the codec is cheap)

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="plada",
        description="Encode, decode, inspect and verify PLADA task payloads (SPEC.md).",
        epilog="exit codes: 0 ok, 1 usage error, 2 payload rejected, 3 conformance failures",
        formatter_class=fmt,
    )
    try:
        from importlib.metadata import version as _dist_version

        version = _dist_version("pladafmt")
    except Exception:  # not installed (running from a source tree)
        version = "unknown"

    parser.add_argument("--version", action="version", version=f"plada {version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "encode",
        help="write a payload from indices and labels",
        description="Write a payload from pool indices and one label per index. Indices "
        "need not be sorted: indices and labels are sorted together by index. The "
        "class count C comes from --classes, else --num-classes, else max(label)+1.",
        formatter_class=fmt,
    )
    p.add_argument("--pool-size", type=int, metavar="N", help="number of images N in the pool "
                   "(default: the number of items in --pool-manifest)")
    p.add_argument("--indices", required=True, metavar="FILE", help=INPUT_ARRAY_HELP)
    p.add_argument("--labels", required=True, metavar="FILE", help="labels, one per index; same formats")
    p.add_argument("--classes", metavar="FILE", help="class names, one per line, UTF-8")
    p.add_argument("--num-classes", type=int, metavar="C", help="class count when there are no names")
    _add_pool(p)
    p.add_argument("--metadata", metavar="JSON", help="a JSON object stored in the payload "
                   "(or @FILE to read it from a file)")
    p.add_argument("--index-mode", default="auto", metavar="M",
                   help="index coding: auto (small and quick to decode), smallest, or "
                   f"{', '.join(pladafmt.INDEX_MODES)}, optionally with +zstd (default: auto)")
    p.add_argument("--label-mode", default="auto", metavar="M",
                   help="label coding: auto, smallest, or "
                   f"{', '.join(pladafmt.LABEL_MODES)}, optionally with +zstd (default: auto)")
    p.add_argument("--zstd-level", type=int, default=19, metavar="L", help="Zstd level (default 19)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="payload file, or - for stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser(
        "decode",
        help="turn a payload into arrays",
        description="Decode a payload. With -o, write OUT.npz (indices, labels, classes, "
        "pool_size, class_count) or OUT.csv (columns index,label; '-o -' writes CSV to "
        "stdout). With --json, or without -o, print the JSON form on stdout:\n\n"
        '  {"version": [major, minor], "pool_size": N, "k": k, "class_count": C,\n'
        '   "classes": [...], "pool_digest": "hex" | null, "metadata": {...},\n'
        '   "index_mode": "...", "label_mode": "...", "indices": [...], "labels": [...]}\n\n'
        "This JSON form is the conformance-suite protocol (conformance/README.md).",
        formatter_class=fmt,
    )
    p.add_argument("payload", metavar="PAYLOAD", help="payload file, or - for stdin")
    p.add_argument("-o", "--output", metavar="OUT", help="OUT.npz, OUT.csv, or - (CSV to stdout)")
    p.add_argument("--json", action="store_true", help="print the decoded payload as JSON")
    _add_pool(p, " When given, a payload for another pool is rejected.")
    _add_limits(p)
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser(
        "inspect",
        help="explain a payload's layout and cost",
        description="Print version, sections and their sizes, modes, N, k, C, bits per kept "
        "item, and the ratio to the uniform bound log2 C(N,k) + k*H0(labels).",
        formatter_class=fmt,
    )
    p.add_argument("payload", metavar="PAYLOAD", help="payload file, or - for stdin")
    p.add_argument("--json", action="store_true", help="print pladafmt.inspect() as JSON")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser(
        "verify",
        help="check a payload against a local pool and all checksums",
        description="Check that the payload was made for this pool (its pool digest) and "
        "that every checksum holds. Exit 0 when it does, 2 when it does not.",
        formatter_class=fmt,
    )
    p.add_argument("payload", metavar="PAYLOAD", help="payload file, or - for stdin")
    _add_pool(p)
    _add_limits(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "conformance",
        help="run the conformance suite against a decoder",
        description="Run every vector of the conformance suite (vectors.json, bundled with "
        "pladafmt) through a decoder command. "
        "The command gets the vector's path as its last argument. For a must-decode vector "
        "it must exit 0 and print the JSON form of `plada decode --json` on stdout; for a "
        "must-reject vector it must exit non-zero and name the expected error class on "
        "stderr. Exit 0 only if every vector passes (3 otherwise).",
        formatter_class=fmt,
    )
    _conformance_runner().add_arguments(
        p, decoder_required=False, decoder_help="decoder command line (shell-quoted); "
        "default: the reference decoder, `python -m pladafmt.cli decode --json`")
    p.set_defaults(func=cmd_conformance)

    sub.add_parser(
        "demo",
        help="run the reference-pipeline demo (needs pip install 'pladafmt[pipeline]')",
        description="Forward all arguments to the reference pipeline's demo.main(argv) "
        "(pladafmt.pipeline.demo; reference_pipeline.demo in a checkout). "
        "`plada demo --help` shows the demo's own options.",
        add_help=False,
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "demo":
            return cmd_demo(argv[1:])
        parser = build_parser()
        args = None
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.func(args)
    except SystemExit as exc:  # --help, --version
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except UsageError as exc:
        print(f"UsageError: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"{type(exc).__name__}: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError as exc:
        print(f"UsageError: input is not UTF-8 text: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # silence the flush at exit
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:
        from ._errors import EncodeError, PladaError

        command = getattr(locals().get("args"), "command", None)
        if isinstance(exc, EncodeError) or (isinstance(exc, PladaError) and command == "encode"):
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, PladaError):
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_REJECTED
        raise


if __name__ == "__main__":
    sys.exit(main())
