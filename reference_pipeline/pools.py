"""Stage 0: build or open the ordered reference pool and its manifest digest.

The pool is what every client already holds. A payload only names pool positions, so
server and client must agree on the pool item by item: each manifest item is
(name, SHA-256 of its content), and pladafmt.pool_digest() hashes the ordered list.
Change one pixel or swap two items and the digest changes, so the client's decode()
raises PoolMismatchError before any training.

Content hashes:
  * array pools (Fashion-MNIST, rendered glyphs, .npy files): SHA-256 of the item's
    raw uint8 pixels in C order (H*W or H*W*C bytes, no header);
  * ImageFolder pools: SHA-256 of the image file's bytes.

Pool specs (--pool):
  broad            Fashion-MNIST train (60,000, file order, labels never read)
                   followed by 60,000 rendered distractor glyphs (the default)
  broad:NF,NG      the first NF Fashion-MNIST train images, then NG glyphs (tests, --quick)
  fashion-train    the Fashion-MNIST train images alone
  glyphs:NG        NG rendered glyphs alone
  folder:PATH      an ImageFolder tree (sorted relative POSIX paths)
  npy:PATH         a uint8 array (N,H,W) or (N,H,W,C) saved with numpy.save

Memory at ImageNet-21K scale (14.2 M items): the Pool object stores no Python object
per item. Names are one packed UTF-8 buffer plus int64 end offsets (len(name) + 8
bytes per item) or, for npy pools, formatted from the item number on demand; sources
and ImageFolder paths are derived from the name; an array pool's content hashes are
streamed over the (memmapped) pixels when the digest is computed. An ImageFolder pool
keeps its SHA-256 table (32 bytes per item): ~70 bytes per item in all for
ImageNet-style names ("n01440764/n01440764_10026.JPEG").

ImageFolder manifest cache: hashing 1.3 TB of files takes hours, so with a cache
directory (every stage passes one; --cache here) the manifest is kept in
<cache>/manifests/folder-<hash of the root path>.npz (names, sizes, mtimes in ns,
SHA-256: ~86 bytes per item on disk). Opening the pool again lists and stats the
tree (no reads) and hashes only files that are new or whose size or mtime changed.
Build it once with `python -m reference_pipeline.pools --pool folder:PATH`. A file
rewritten with the same size and mtime is not noticed: delete the cache file to
force a full re-hash.

Usage:  python -m reference_pipeline.pools --pool broad --out pool_manifest.json
        python -m reference_pipeline.pools --pool folder:/data/imagenet21k   # hash once, cache the manifest
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import io
import os
import struct
import sys
from array import array
from pathlib import Path

import numpy as np

from .common import DEFAULT_CACHE, MissingDataError, PipelineError, content_key, write_json
from .npzio import save_npz

# -----------------------------------------------------------------------------
# knobs (the distractor renderer; changing any of them changes the pool and its digest)

FASHION_DIR = Path(os.environ.get("PLADA_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
FONT_DIRS = [Path(p) for p in os.environ.get(
    "PLADA_FONT_DIRS",
    "/usr/share/fonts/truetype/dejavu:/usr/share/fonts/truetype/freefont:/usr/share/fonts/truetype/liberation",
).split(":") if p]
FONT_HINT = "apt-get install fonts-dejavu-core fonts-freefont-ttf fonts-liberation"
FASHION_HINT = "apt-get install dataset-fashion-mnist"

GLYPH_SEED = 20260226       # fixed: the distractors are part of the pool definition
GLYPH_COUNT = 60_000        # items; "at least as many distractors as relevant images"
CANVAS = 56                 # px; glyphs are drawn at 2x and box-filtered down to 28x28
OUT_SIZE = 28               # px; same as Fashion-MNIST
FONT_PX = (22, 40)          # px at canvas scale, inclusive range of font sizes
MAX_ROTATE = 25.0           # degrees, uniform in [-MAX_ROTATE, MAX_ROTATE]
MAX_SHIFT = 5               # px at canvas scale, uniform per axis
INK = (140, 255)            # uint8 glyph brightness range (Fashion-MNIST is bright on black)

# Latin, Greek, Cyrillic letters, digits, symbols. A font contributes only the
# characters it really has (a missing glyph renders as .notdef and is skipped).
CHARSET = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    + "".join(chr(c) for c in range(0x391, 0x3AA) if c != 0x3A2)   # Greek capitals
    + "".join(chr(c) for c in range(0x3B1, 0x3CA))                 # Greek small
    + "".join(chr(c) for c in range(0x410, 0x450))                 # Cyrillic basic
    + "0123456789"
    + "!#$%&()*+-/<=>?@[]{}~§©®°±µ¶×÷€£¥∞∑√∂≈≠≤≥♠♣♥♦★→←↑↓"
)
DIGITS = set("0123456789")


# -----------------------------------------------------------------------------
# per-item strings at a few bytes per item
#
# At ImageNet-21K scale (14.2 M items) a Python str per name, per source and per
# Path costs hundreds of bytes per item (several GB). Names are packed instead:
# one UTF-8 buffer plus int64 end offsets (len(name) + 8 bytes per item); strings
# that follow a pattern ("npy:PATH:17", "folder:NAME") are formatted on demand.

class Strings:
    """A read-only sequence of str: len(), s[i], s[a:b] (a list), iteration."""

    def __len__(self):
        raise NotImplementedError

    def _get(self, i: int) -> str:
        raise NotImplementedError

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._get(k) for k in range(*i.indices(len(self)))]
        i = int(i)
        if not -len(self) <= i < len(self):
            raise IndexError(f"item {i} out of range for {len(self)} items")
        return self._get(i % len(self))

    def __iter__(self):
        return (self._get(k) for k in range(len(self)))


class PackedStrings(Strings):
    """Strings stored as one UTF-8 buffer (uint8) and the end offset of each (int64)."""

    def __init__(self, buf: np.ndarray, ends: np.ndarray):
        self.buf, self.ends = np.asarray(buf, np.uint8), np.asarray(ends, np.int64)

    @classmethod
    def from_iter(cls, strings) -> "PackedStrings":
        raw = [str(s).encode("utf-8") for s in strings]
        ends = np.cumsum([len(r) for r in raw], dtype=np.int64)
        return cls(np.frombuffer(b"".join(raw), np.uint8), ends)

    def __len__(self):
        return len(self.ends)

    def _get(self, i: int) -> str:
        start = int(self.ends[i - 1]) if i else 0
        return self.buf[start:int(self.ends[i])].tobytes().decode("utf-8")

    def equals(self, other: "PackedStrings") -> bool:
        return np.array_equal(self.ends, other.ends) and np.array_equal(self.buf, other.buf)


class FormattedStrings(Strings):
    """String i is template.format(i=i, name=names[i]): no storage per item."""

    def __init__(self, template: str, count: int, names: Strings | None = None):
        self.template, self.count, self.names = template, int(count), names

    def __len__(self):
        return self.count

    def _get(self, i: int) -> str:
        return self.template.format(i=i, name=self.names[i] if self.names is not None else None)


def _literal(text: str) -> str:
    """`text` escaped for use inside a str.format template (a path may contain braces)."""
    return text.replace("{", "{{").replace("}", "}}")


# -----------------------------------------------------------------------------
# the Pool object every stage uses

HASH_CHUNK_BYTES = 16 << 20  # pixels read per step when an array pool's digest streams over its items


class Pool:
    """An ordered pool: names, content hashes, sources, and the pixels (array) or files (ImageFolder).

    names, sources: Strings (see above). images: (N, H, W[, C]) uint8 (often a memmap) for
    array pools. root: the ImageFolder root; item i is the file root / names[i].
    Array pools hash their pixels lazily: digest() streams over the images in chunks, so
    a memmapped pool of N items never needs an (N, 32) table in memory; `sha256` builds it
    on request.
    """

    def __init__(self, spec: str, names: Strings, sources: Strings, *, images: np.ndarray | None = None,
                 sha256: np.ndarray | None = None, root: Path | None = None, folder_size: int = 224,
                 folder_mode: str = "RGB"):
        if (images is None) == (root is None):
            raise PipelineError("a Pool has either images (array pool) or root (ImageFolder pool)")
        self.spec, self.names, self.sources = spec, names, sources
        self.images, self.root = images, root
        # (file, byte offset of item 0) when the images are a whole C-order .npy memmap: rows() reads them
        self._npy = None
        if isinstance(images, np.memmap) and images.flags.c_contiguous and images.filename:
            self._npy = (images.filename, int(images.offset))
        self.folder_size, self.folder_mode = folder_size, folder_mode
        self._sha256 = sha256
        self._digest = None

    def __len__(self):
        return len(self.names)

    def __repr__(self):
        return f"Pool({self.spec!r}, {len(self)} items)"

    @property
    def channels(self) -> int:
        if self.images is not None:
            return 1 if self.images.ndim == 3 else self.images.shape[3]
        return 3 if self.folder_mode == "RGB" else 1

    @property
    def sha256(self) -> np.ndarray:
        """(N, 32) uint8 per-item content SHA-256 (built on first use for array pools)."""
        if self._sha256 is None:  # streamed in chunks (rows), never a copy of the whole pool
            self._sha256 = np.frombuffer(b"".join(self.sha256_rows()), np.uint8).reshape(-1, 32)
        return self._sha256

    def sha256_rows(self):
        """Each item's 32-byte content SHA-256, in pool order, without building the table."""
        if self._sha256 is not None:
            yield from (row.tobytes() for row in self._sha256)
            return
        row_bytes = max(1, int(np.prod(self.images.shape[1:])))
        step = max(1, HASH_CHUNK_BYTES // row_bytes)
        for s in range(0, len(self), step):
            flat = self.rows(slice(s, s + step)).reshape(-1, row_bytes)
            yield from (hashlib.sha256(row).digest() for row in flat)

    def digest(self) -> bytes:
        import pladafmt

        if self._digest is None:
            self._digest = pladafmt.pool_digest(zip(self.names, self.sha256_rows()))
        return self._digest

    def path(self, i: int) -> Path:
        return self.root / self.names[i]

    def __getitem__(self, sel):
        """uint8 images for an index, index array, mask or slice (what common.to_input expects)."""
        if self.images is not None:
            if self._npy is None:
                return self.images[sel]
            if np.ndim(sel) == 0 and not isinstance(sel, slice):
                return self.rows([int(sel) + (len(self) if int(sel) < 0 else 0)])[0]
            return self.rows(sel)
        idx = np.arange(len(self))[sel]
        return np.stack([self.read_file(int(i)) for i in np.atleast_1d(idx)])

    def rows(self, pos) -> np.ndarray:
        """A new (len(pos), H, W[, C]) uint8 array of array-pool items `pos` (indices, mask or slice).

        A pool opened from an .npy file is read with os.preadv, one call per run of
        consecutive items, not through its memory mapping. Why: pages touched through a
        mapping count in the process's RSS, and the kernel maps whole large folios per
        fault (a student reading 10k random rows of a 2.9 GB pool had almost all of it
        mapped); pages read with pread stay in the shared page cache, which the kernel
        drops when it needs to, and the stage's RSS stays flat at any pool size or keep rate.
        """
        if self._npy is None:
            return np.array(self.images[pos])
        if isinstance(pos, slice):
            pos = np.arange(*pos.indices(len(self)), dtype=np.int64)
        pos = np.asarray(pos)
        pos = np.flatnonzero(pos) if pos.dtype == bool else pos.astype(np.int64, copy=False)
        out = np.empty((len(pos),) + self.images.shape[1:], np.uint8)
        if not len(pos):
            return out
        if pos.min() < 0 or pos.max() >= len(self):
            raise PipelineError(f"pool {self.spec}: item index expected in [0, {len(self)}), "
                                f"got min {pos.min()} max {pos.max()}")
        flat = out.reshape(len(pos), -1)
        row = flat.shape[1]
        cut = np.flatnonzero(np.diff(pos) != 1) + 1
        path, offset = self._npy
        with open(path, "rb", buffering=0) as f:
            for a, b in zip([0, *cut.tolist()], [*cut.tolist(), len(pos)]):
                view, at = memoryview(flat[a:b]).cast("B"), offset + int(pos[a]) * row
                while len(view):  # preadv may return less than asked (large reads, signals)
                    got = os.preadv(f.fileno(), [view], at)
                    if got <= 0:
                        raise PipelineError(f"pool file {path}: expected {len(view)} more bytes at offset {at}, "
                                            "got end of file (truncated?)")
                    view, at = view[got:], at + got
        return out

    def read_file(self, i: int) -> np.ndarray:
        """(H, W, C) uint8 of ImageFolder item i, converted to folder_mode and resized to folder_size."""
        from PIL import Image

        path = self.path(i)
        try:
            with Image.open(path) as im:
                im = im.convert(self.folder_mode).resize((self.folder_size, self.folder_size), Image.BILINEAR)
                a = np.array(im, dtype=np.uint8)  # writable: torch.from_numpy warns on read-only arrays
        except Exception as exc:  # PIL raises many types; which item failed is what matters
            raise PipelineError(f"cannot read pool item {i} {self.names[i]!r} ({path}): "
                                f"{type(exc).__name__}: {exc}") from exc
        return a[:, :, None] if a.ndim == 2 else a


# -----------------------------------------------------------------------------
# Fashion-MNIST (Debian dataset-fashion-mnist)

def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(split: str):
    """(images, labels) of the official Fashion-MNIST split 'train' or 't10k'."""
    img = FASHION_DIR / f"{split}-images-idx3-ubyte.gz"
    lab = FASHION_DIR / f"{split}-labels-idx1-ubyte.gz"
    for p in (img, lab):
        if not p.is_file():
            raise MissingDataError(f"Fashion-MNIST file not found: {p}; install the data with: {FASHION_HINT}")
    return read_idx(img), read_idx(lab).astype(np.int64)


# -----------------------------------------------------------------------------
# distractor glyphs

def font_files() -> list:
    files = sorted({p for d in FONT_DIRS if d.is_dir() for p in d.glob("*.[ot]tf")}, key=lambda p: (p.stem, str(p)))
    if not files:
        raise MissingDataError(f"no TrueType fonts in {':'.join(map(str, FONT_DIRS))}; install them with: {FONT_HINT}")
    return files


@functools.lru_cache(maxsize=None)
def _covered_chars(path: Path) -> str:
    """Characters of CHARSET that the font really draws (not .notdef, not empty)."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(path), 32)

    def bitmap(ch):
        m = font.getmask(ch)
        return m.size, bytes(m)

    notdef = {bitmap("\ue000"), bitmap("\U0010fffd")}
    out = []
    for ch in CHARSET:
        b = bitmap(ch)
        if b[0][0] > 0 and b[0][1] > 0 and any(b[1]) and b not in notdef:
            out.append(ch)
    return "".join(out)


def render_glyphs(count: int = GLYPH_COUNT, seed: int = GLYPH_SEED):
    """Render `count` 28x28 uint8 glyph images, grouped by font (like synsets).

    Returns (images, names, sources). Deterministic: one numpy Generator seeded
    with `seed` draws every random choice in a fixed order; Pillow/FreeType draw.
    """
    from PIL import Image, ImageDraw, ImageFont

    fonts = font_files()
    charsets = [_covered_chars(f) for f in fonts]
    keep = [i for i, cs in enumerate(charsets) if len(cs) >= 20]  # symbol-only fonts add nothing
    fonts, charsets = [fonts[i] for i in keep], [charsets[i] for i in keep]
    per_font = [count // len(fonts) + (1 if i < count % len(fonts) else 0) for i in range(len(fonts))]
    rng = np.random.default_rng(seed)
    images = np.zeros((count, OUT_SIZE, OUT_SIZE), np.uint8)
    names, sources = [], []
    sizes = range(FONT_PX[0], FONT_PX[1] + 1)
    j = 0
    for path, chars, n in zip(fonts, charsets, per_font):
        ft = {s: ImageFont.truetype(str(path), s) for s in sizes}
        for k in range(n):
            ch = chars[rng.integers(len(chars))]
            size = int(rng.integers(FONT_PX[0], FONT_PX[1] + 1))
            angle = float(rng.uniform(-MAX_ROTATE, MAX_ROTATE))
            dx, dy = (int(v) for v in rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2))
            ink = int(rng.integers(INK[0], INK[1] + 1))
            canvas = Image.new("L", (CANVAS, CANVAS), 0)
            draw = ImageDraw.Draw(canvas)
            x0, y0, x1, y1 = draw.textbbox((0, 0), ch, font=ft[size])
            ox = (CANVAS - (x1 - x0)) // 2 - x0 + dx
            oy = (CANVAS - (y1 - y0)) // 2 - y0 + dy
            draw.text((ox, oy), ch, fill=ink, font=ft[size])
            canvas = canvas.rotate(angle, resample=Image.BILINEAR)
            images[j] = np.asarray(canvas.reduce(CANVAS // OUT_SIZE), np.uint8)
            names.append(f"glyphs/{path.stem}/{k:06d}")
            sources.append(f"glyph:{path.stem}:U+{ord(ch):04X}")
            j += 1
    return images, names, sources


# -----------------------------------------------------------------------------
# building and caching pools

def _array_pool(spec, images, names, sources) -> Pool:
    pack = lambda v: v if isinstance(v, Strings) else PackedStrings.from_iter(v)  # noqa: E731
    return Pool(spec, pack(names), pack(sources), images=images)


def _cached_arrays(key: str, cache_dir: Path, build):
    """Load (images, names, sources) from cache_dir/pools/key, or build and store them."""
    d = Path(cache_dir) / "pools" / key
    if (d / "images.npy").is_file() and (d / "meta.npz").is_file():
        meta = np.load(d / "meta.npz")
        return np.load(d / "images.npy", mmap_mode="r"), list(meta["names"]), list(meta["sources"])
    images, names, sources = build()
    d.mkdir(parents=True, exist_ok=True)
    # per-process temporary names: torchrun ranks may build the same entry at once;
    # they write identical bytes, and os.replace makes each file appear whole
    tmp = f".tmp{os.getpid()}"
    np.savez(d / f"meta{tmp}.npz", names=np.array(names), sources=np.array(sources))
    np.save(d / f"images{tmp}.npy", images)
    os.replace(d / f"meta{tmp}.npz", d / "meta.npz")
    os.replace(d / f"images{tmp}.npy", d / "images.npy")
    return images, names, sources


def _fashion_part(nf: int):
    x, _ = load_fashion("train")  # labels are loaded by the reader but never used for the pool
    if not 0 <= nf <= len(x):
        raise PipelineError(f"pool asks for {nf} Fashion-MNIST images, the train split has {len(x)}")
    return x[:nf], [f"fashion-mnist/train/{i:05d}" for i in range(nf)], [f"fashion-mnist:train:{i}" for i in range(nf)]


def _glyph_part(ng: int, cache_dir):
    import PIL

    key = content_key("glyphs", ng, GLYPH_SEED, CANVAS, OUT_SIZE, FONT_PX, MAX_ROTATE, MAX_SHIFT, INK, CHARSET,
                      [str(p) for p in font_files()], PIL.__version__)
    return _cached_arrays(key, cache_dir, lambda: render_glyphs(ng))


def open_pool(spec: str = "broad", cache_dir=DEFAULT_CACHE, folder_size: int = 224, folder_mode: str = "RGB") -> Pool:
    """Open the pool named by `spec` (see the module docstring), building caches as needed."""
    kind, _, arg = spec.partition(":")
    if kind == "broad":
        nf, ng = (60_000, GLYPH_COUNT)
        if arg:
            try:
                nf, ng = (int(v) for v in arg.split(","))
            except ValueError:
                raise PipelineError(f"pool spec {spec!r}: expected broad:NF,NG with two integers") from None
        fx, fn, fs = _fashion_part(nf)
        gx, gn, gs = _glyph_part(ng, cache_dir)
        return _array_pool(spec, np.concatenate([fx, np.asarray(gx)]), fn + gn, fs + gs)
    if kind == "fashion-train":
        return _array_pool(spec, *_fashion_part(60_000))
    if kind == "glyphs":
        return _array_pool(spec, *_glyph_part(int(arg or GLYPH_COUNT), cache_dir))
    if kind == "npy":
        if not Path(arg).is_file():
            raise PipelineError(f"npy pool file not found: {arg}")
        images = np.load(arg, mmap_mode="r")
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise PipelineError(f"{arg}: expected a uint8 array (N,H,W) or (N,H,W,C), got {images.dtype} {images.shape}")
        # names and sources follow the item number: formatted on demand, nothing stored per item
        return _array_pool(spec, images, FormattedStrings(_literal(Path(arg).stem) + "/{i:08d}", len(images)),
                           FormattedStrings("npy:" + _literal(arg) + ":{i}", len(images)))
    if kind == "folder":
        return folder_pool(Path(arg), folder_size=folder_size, folder_mode=folder_mode, cache_dir=cache_dir)
    raise PipelineError(f"unknown pool spec {spec!r} (broad, broad:NF,NG, fashion-train, glyphs:N, folder:PATH, npy:PATH)")


# -----------------------------------------------------------------------------
# ImageFolder pools and their manifest cache

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".jpe"}


def _list_images(root: Path):
    """(names, sizes, mtimes_ns) of every image file under root, in sorted relative-POSIX-path order.

    One os.scandir walk (its stat results are cheap) straight into packed arrays. Sorting
    each directory's entries by name, with "/" appended to directory names, visits the
    files in exactly the order of sorting the full relative paths, without holding every
    path as a Python string. Directory symlinks are not followed (as Path.rglob); file
    symlinks count with their target's size and mtime.
    """
    buf, ends, sizes, mtimes = bytearray(), array("q"), array("q"), array("q")

    def walk(directory: str, prefix: str):
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name + "/" if e.is_dir(follow_symlinks=False) else e.name)
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                walk(e.path, prefix + e.name + "/")
            elif os.path.splitext(e.name)[1].lower() in IMAGE_EXT and e.is_file():
                st = e.stat()
                buf.extend((prefix + e.name).encode("utf-8"))
                ends.append(len(buf))
                sizes.append(st.st_size)
                mtimes.append(st.st_mtime_ns)

    walk(str(root), "")
    as_np = lambda a: np.frombuffer(a, np.int64) if len(a) else np.zeros(0, np.int64)  # noqa: E731
    return PackedStrings(np.frombuffer(buf, np.uint8), as_np(ends)), as_np(sizes), as_np(mtimes)  # no copies


def manifest_cache_path(root: Path, cache_dir) -> Path:
    return Path(cache_dir) / "manifests" / f"folder-{content_key('folder', str(Path(root).resolve()))}.npz"


def folder_pool(root: Path, folder_size=224, folder_mode="RGB", cache_dir=None) -> Pool:
    """An ImageFolder tree: every image file under root, ordered by relative POSIX path.

    A file is hashed and opened (Image.verify) when it is new or changed, so a corrupt
    image fails here with its name rather than halfway through scoring. With cache_dir,
    the manifest (names, sizes, mtimes, SHA-256) is kept in
    cache_dir/manifests/folder-<key>.npz; a later open lists and stats the tree and
    hashes only files whose size or mtime (ns) changed. A file rewritten with the same
    size and mtime is not noticed: delete the cache file to force a full re-hash.
    """
    from PIL import Image

    root = Path(root)
    if not root.is_dir():
        raise PipelineError(f"ImageFolder root not found: {root}")
    names, sizes, mtimes = _list_images(root)
    if not len(names):
        raise PipelineError(f"no images under {root}")
    sha = np.zeros((len(names), 32), np.uint8)
    todo = np.ones(len(names), bool)
    cache = manifest_cache_path(root, cache_dir) if cache_dir is not None else None
    if cache is not None and cache.is_file():
        old = np.load(cache)
        old_names = PackedStrings(old["names_buf"], old["names_ends"])
        if old_names.equals(names):
            at = np.arange(len(names))
        else:  # files added or removed: match the unchanged ones by name
            where = {n: k for k, n in enumerate(old_names)}
            at = np.array([where.get(n, -1) for n in names], np.int64)
        ok = at >= 0
        ok[ok] = (old["size"][at[ok]] == sizes[ok]) & (old["mtime_ns"][at[ok]] == mtimes[ok])
        sha[ok] = old["sha256"][at[ok]]
        todo = ~ok
    for i in np.flatnonzero(todo):
        path = root / names[i]
        data = path.read_bytes()
        sha[i] = np.frombuffer(hashlib.sha256(data).digest(), np.uint8)
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.verify()
        except Exception as exc:
            raise PipelineError(f"cannot read pool image {path}: {exc}") from exc
    if cache is not None and todo.any():
        save_npz(cache, names_buf=names.buf, names_ends=names.ends, size=sizes, mtime_ns=mtimes, sha256=sha)
    return Pool(f"folder:{root}", names, FormattedStrings("folder:{name}", len(names), names), sha256=sha,
                root=root, folder_size=folder_size, folder_mode=folder_mode)


def relevant_mask(pool: Pool, task: str) -> np.ndarray:
    """Which pool items come from the task's own domain: the 'precision' of a selection.

    fashion tasks: Fashion-MNIST items; digits: rendered digit glyphs. Unknown → all False.
    """
    if task.startswith("fashion"):
        return np.array([s.startswith("fashion-mnist:") for s in pool.sources])
    if task == "digits":
        return np.array([s.startswith("glyph:") and chr(int(s.rsplit("U+", 1)[1], 16)) in DIGITS for s in pool.sources])
    return np.zeros(len(pool), bool)


# -----------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.pools", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--pool", default="broad", help="pool spec (default: broad)")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="cache directory for rendered pools and ImageFolder manifests")
    ap.add_argument("--out", help="write a JSON summary (size, digest, per-source counts) here")
    ap.add_argument("--manifest", help="write the full manifest (name, sha256, source per line) as TSV here")
    args = ap.parse_args(argv)
    pool = open_pool(args.pool, args.cache)
    by_source = {}
    for s in pool.sources:
        k = s.split(":")[0] + (":" + s.split(":")[1] if s.startswith("glyph:") else "")
        by_source[k] = by_source.get(k, 0) + 1
    summary = dict(spec=args.pool, size=len(pool), digest=pool.digest().hex(), items_by_source=by_source)
    print(f"pool {args.pool}: {len(pool)} items, digest {pool.digest().hex()}")
    if args.out:
        write_json(args.out, summary)
    if args.manifest:
        with open(args.manifest, "w") as f:
            for n, h, s in zip(pool.names, pool.sha256_rows(), pool.sources):
                f.write(f"{n}\t{h.hex()}\t{s}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
