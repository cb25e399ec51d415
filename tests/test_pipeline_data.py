"""data.py: every pool kind's Dataset returns the pool's pixels; loaders with and without
workers agree; a corrupt image names the item. Also the pool's packed strings and the
ImageFolder manifest cache (pools.py) that make pools cheap at ImageNet-21K scale."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from reference_pipeline import common, pools  # noqa: E402
from reference_pipeline.data import PoolDataset, make_loader  # noqa: E402


def _all(loader):
    xs, js = zip(*loader)
    return torch.cat(xs), torch.cat(js)


@pytest.mark.parametrize("shape", [(37, 6, 5), (37, 6, 5, 3)])
def test_array_and_memmap_pools_give_the_pixels(tmp_path, shape):
    imgs = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    np.save(tmp_path / "p.npy", imgs)
    mem = pools.open_pool(f"npy:{tmp_path / 'p.npy'}")
    assert isinstance(mem.images, np.memmap)
    ram = pools._array_pool("ram", imgs, [f"x/{i}" for i in range(len(imgs))], ["s"] * len(imgs))
    chw = torch.from_numpy(imgs if imgs.ndim == 4 else imgs[..., None]).permute(0, 3, 1, 2)
    for pool in (mem, ram):
        ds = PoolDataset(pool)
        x, j = ds[5]
        assert x.dtype == torch.uint8 and x.shape == chw.shape[1:] and j == 5 and torch.equal(x, chw[5])
        idx = np.array([30, 2, 2, 17])   # out of order and repeated: one fancy-index read
        sub = PoolDataset(pool, idx)
        assert len(sub) == 4 and torch.equal(torch.stack([s[0] for s in sub.__getitems__([0, 1, 2, 3])]), chw[idx])
        for workers in (0, 1):
            x, j = _all(make_loader(PoolDataset(pool), batch_size=8, workers=workers))
            assert x.dtype == torch.uint8 and j.dtype == torch.int64
            assert torch.equal(x, chw) and j.tolist() == list(range(len(imgs)))
    with pytest.raises(common.PipelineError) as exc:
        PoolDataset(mem, [0, 37])
    exc.match(r"indices expected in \[0, 37\), got min 0 max 37")


def test_npy_pool_rows_are_read_with_pread_not_through_the_mapping(tmp_path, monkeypatch):
    imgs = np.random.default_rng(2).integers(0, 256, (50, 4, 3, 2), dtype=np.uint8)
    np.save(tmp_path / "p.npy", imgs)
    pool = pools.open_pool(f"npy:{tmp_path / 'p.npy'}")
    calls = []
    real = os.preadv
    monkeypatch.setattr(os, "preadv", lambda *a: calls.append(a[2]) or real(*a))
    pos = np.array([3, 4, 5, 9, 10, 0, 49])   # two runs of consecutive items, then two single items
    assert np.array_equal(pool.rows(pos), imgs[pos]) and len(calls) == 4
    mask = np.zeros(50, bool)
    mask[[1, 7]] = True
    for sel in (slice(45, None), slice(None, None, 7), mask, [], -1, 12):
        got = pool[sel]
        assert got.shape == imgs[sel].shape and np.array_equal(got, imgs[sel]), sel
    assert pool.digest() == pools._array_pool("ram", imgs, list(pool.names), list(pool.sources)).digest()
    with pytest.raises(common.PipelineError, match=r"index expected in \[0, 50\), got min 0 max 50"):
        pool.rows([0, 50])
    with open(tmp_path / "p.npy", "r+b") as f:   # truncated after the pool was opened
        f.truncate(os.path.getsize(tmp_path / "p.npy") - 5)
    with pytest.raises(common.PipelineError, match="got end of file"):
        pool.rows([49])


def _folder(tmp_path, n=6, size=12, ext="png"):
    from PIL import Image

    root = tmp_path / "folder"
    rng = np.random.default_rng(1)
    pixels = {}
    for i in range(n):
        rel = f"c{i % 2}/{i:03d}.{ext}"   # PNG, BMP: lossless, so the decoded pixels are known exactly
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pixels[rel] = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels[rel]).save(root / rel)
    return root, pixels


def test_image_folder_dataset_decodes_in_workers(tmp_path):
    root, pixels = _folder(tmp_path)
    pool = pools.open_pool(f"folder:{root}", tmp_path / "cache", folder_size=12)   # native size: no resampling
    want = torch.stack([torch.from_numpy(pixels[n]).permute(2, 0, 1) for n in pool.names])
    for workers in (0, 2):
        x, j = _all(make_loader(PoolDataset(pool), batch_size=4, workers=workers))
        assert x.shape == (6, 3, 12, 12) and torch.equal(x, want) and j.tolist() == list(range(6))
    small = pools.open_pool(f"folder:{root}", tmp_path / "cache", folder_size=7, folder_mode="L")
    x, _ = PoolDataset(small)[3]
    assert x.shape == (1, 7, 7) and np.array_equal(x[0].numpy(), small[np.array([3])][0, ..., 0])


@pytest.mark.parametrize("workers", [0, 1])
def test_corrupt_file_names_the_item(tmp_path, workers):
    root, _ = _folder(tmp_path)
    pool = pools.open_pool(f"folder:{root}", tmp_path / "cache")
    (root / "c1" / "003.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")   # corrupted after the pool was opened
    with pytest.raises(common.PipelineError) as exc:
        _all(make_loader(PoolDataset(pool), batch_size=2, workers=workers))
    exc.match(r"pool item 4 'c1/003.png' \(.*folder/c1/003.png\)")


def test_packed_and_formatted_strings():
    names = ["a/b.png", "é/ü.jpg", "", "x{y}"]
    s = pools.PackedStrings.from_iter(names)
    assert list(s) == names and len(s) == 4 and s[1] == "é/ü.jpg" and s[-1] == "x{y}" and s[1:3] == names[1:3]
    assert s.buf.nbytes + s.ends.nbytes == len("".join(names).encode()) + 8 * 4   # bytes per item, no objects
    with pytest.raises(IndexError):
        s[4]
    f = pools.FormattedStrings("npy:" + pools._literal("/d{1}/p.npy") + ":{i}", 3)
    assert list(f) == ["npy:/d{1}/p.npy:0", "npy:/d{1}/p.npy:1", "npy:/d{1}/p.npy:2"]
    g = pools.FormattedStrings("folder:{name}", 4, s)
    assert g[3] == "folder:x{y}"


def test_folder_manifest_cache_hashes_only_changed_files(tmp_path):
    root, _ = _folder(tmp_path, ext="bmp")   # BMP: a flipped pixel byte leaves a valid file
    cache = tmp_path / "cache"
    first = pools.open_pool(f"folder:{root}", cache)
    assert pools.manifest_cache_path(root, cache).is_file()
    # same size and mtime, other bytes: the cache is trusted (documented), so the old hash stays
    path = root / "c0" / "002.bmp"
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = pools.open_pool(f"folder:{root}", cache)
    assert again.digest() == first.digest() and np.array_equal(again.sha256, first.sha256)
    # a new mtime: re-hashed; an added file: hashed, the others come from the cache
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    (root / "c0" / "000b.bmp").write_bytes((root / "c0" / "000.bmp").read_bytes())
    changed = pools.open_pool(f"folder:{root}", cache)
    fresh = pools.folder_pool(root)   # no cache: hashes every file
    assert list(changed.names) == list(fresh.names) and changed.digest() == fresh.digest() != first.digest()
    assert len(changed) == 7
