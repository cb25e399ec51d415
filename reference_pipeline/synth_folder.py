"""A synthetic ImageFolder pool of JPEG files, made from the built-in pool.

The ImageNet-21K recipe reads an ImageFolder tree of JPEGs at 224 px: thousands of
synset folders, Pillow decoding and resizing in the loader's workers. No such tree can
be downloaded here, so this script writes one with the same shape from the built-in
`broad` pool (Fashion-MNIST clothes + rendered glyphs, 28x28 grey; `--source`): `--items` of them,
spread evenly over both halves, upscaled to `--size` px, saved as RGB JPEGs in
synset-like folders `n00000000/ ... ` of `--per-folder` files, in pool order (the sorted
relative paths are the generation order). It is what `gpu_check.sh` and the scale
scripts score.

Deterministic: the same arguments (and Pillow/libjpeg) give the same files. Existing
files are kept, so a rerun only fills in what is missing; each file is written under a
temporary name and renamed, so a killed run leaves no half-written JPEG.

Usage:  python -m reference_pipeline.synth_folder --items 20000 --size 224 --out /tmp/pool
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .common import DEFAULT_CACHE, PipelineError

# -----------------------------------------------------------------------------
# knobs

SOURCE_POOL = "broad"   # 60,000 clothes then 60,000 glyphs
JPEG_QUALITY = 90       # ImageNet's own files are mostly q 75-95
PER_FOLDER = 500        # files per synset-like folder (ImageNet-21K averages ~650)
CHUNK = 1000            # files per worker task


def item_path(root: Path, k: int, per_folder: int = PER_FOLDER) -> Path:
    return Path(root) / f"n{k // per_folder:08d}" / f"{k:08d}.JPEG"


def _write_chunk(args) -> int:
    """Write files k0..k0+len(images)-1; returns how many were written (existing ones are kept)."""
    from PIL import Image

    root, k0, images, size, per_folder = args
    written = 0
    for k, a in enumerate(images, start=k0):
        path = item_path(root, k, per_folder)
        if path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(np.asarray(a)).resize((size, size), Image.BILINEAR).convert("RGB")
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        im.save(tmp, format="JPEG", quality=JPEG_QUALITY)
        os.replace(tmp, path)
        written += 1
    return written


def write_folder(out, items: int, size: int = 224, *, per_folder: int = PER_FOLDER, workers: int | None = None,
                 cache_dir=DEFAULT_CACHE, source: str = SOURCE_POOL) -> int:
    """Write the tree (see the module docstring); returns the number of files written now."""
    from .pools import open_pool

    if items < 1 or size < 8 or per_folder < 1:
        raise PipelineError(f"synth_folder: expected items >= 1, size >= 8, per_folder >= 1; "
                            f"got items {items}, size {size}, per_folder {per_folder}")
    src = open_pool(source, cache_dir)
    if src.images is None:
        raise PipelineError(f"synth_folder: source pool expected an array pool (broad, npy:...), got {source!r}")
    if items > len(src):
        raise PipelineError(f"synth_folder: items expected <= {len(src)} (pool {source}), got {items}")
    pick = np.linspace(0, len(src) - 1, items).astype(np.int64)  # both halves: clothes and glyphs
    jobs = [(Path(out), s, np.asarray(src.images[pick[s:s + CHUNK]]), size, per_folder)
            for s in range(0, items, CHUNK)]
    workers = max(1, (os.cpu_count() or 1)) if workers is None else max(1, workers)
    if workers == 1:
        return sum(map(_write_chunk, jobs))
    with ProcessPoolExecutor(workers) as ex:
        return sum(ex.map(_write_chunk, jobs))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.synth_folder", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--size", type=int, default=224, help="px (square)")
    ap.add_argument("--per-folder", type=int, default=PER_FOLDER)
    ap.add_argument("--workers", type=int, help="processes (default: the CPU count)")
    ap.add_argument("--source", default=SOURCE_POOL, help=f"array pool the images come from (default {SOURCE_POOL})")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="cache of the rendered source pool")
    ap.add_argument("--out", required=True, help="root of the ImageFolder tree")
    a = ap.parse_args(argv)
    n = write_folder(a.out, a.items, a.size, per_folder=a.per_folder, workers=a.workers, cache_dir=a.cache,
                     source=a.source)
    print(f"{a.out}: {a.items} JPEGs at {a.size} px ({n} written now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
