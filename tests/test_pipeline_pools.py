"""Pools: deterministic distractors, manifest digests that bind content and order, clear errors."""

import numpy as np
import pytest

pladafmt = pytest.importorskip("pladafmt")
pytest.importorskip("PIL")

from reference_pipeline import common, pools  # noqa: E402
from reference_pipeline.build_payload import build_payload  # noqa: E402
from reference_pipeline.train_student import read_payload, train_student  # noqa: E402

HAVE_FONTS = any(d.is_dir() and any(d.glob("*.ttf")) for d in pools.FONT_DIRS)


@pytest.mark.skipif(not HAVE_FONTS, reason="no Debian fonts (apt-get install fonts-dejavu-core fonts-freefont-ttf fonts-liberation)")
def test_glyphs_render_bit_identically_twice():
    a, names_a, src_a = pools.render_glyphs(400)
    b, names_b, src_b = pools.render_glyphs(400)
    assert a.dtype == np.uint8 and a.shape == (400, 28, 28)
    assert np.array_equal(a, b) and names_a == names_b and src_a == src_b
    assert a.reshape(400, -1).max(1).min() > 0, "every glyph draws some ink"
    # grouped by font, like synsets: names of one font are contiguous
    fonts = [n.split("/")[1] for n in names_a]
    assert fonts == sorted(fonts, key=fonts.index)
    assert len(set(fonts)) > 10
    scripts = {int(s.rsplit("U+", 1)[1], 16) // 0x80 for s in src_a}
    assert {0x391 // 0x80, 0x410 // 0x80} <= scripts, "Greek and Cyrillic glyphs are in the pool"
    assert len(np.unique(a.reshape(400, -1), axis=0)) == 400


def test_cached_pool_has_the_same_digest(tmp_path):
    if not HAVE_FONTS:
        pytest.skip("no fonts")
    p1 = pools.open_pool("glyphs:300", tmp_path)   # renders and caches
    p2 = pools.open_pool("glyphs:300", tmp_path)   # reads the cache
    assert p1.digest() == p2.digest()
    assert np.array_equal(np.asarray(p1.images), np.asarray(p2.images))


def _npy_pool(tmp_path, images, name="pool.npy"):
    path = tmp_path / name
    np.save(path, images)
    return pools.open_pool(f"npy:{path}")


def test_digest_is_the_spec_manifest(tmp_path):
    import hashlib
    import struct

    imgs = np.random.default_rng(0).integers(0, 256, (5, 4, 4), dtype=np.uint8)
    pool = _npy_pool(tmp_path, imgs)
    h = hashlib.sha256(b"PLADA-POOL-MANIFEST\x00\x01")
    for i, im in enumerate(imgs):
        name = f"pool/{i:08d}".encode()
        h.update(struct.pack("<I", len(name)) + name + hashlib.sha256(im.tobytes()).digest())
    h.update(struct.pack("<Q", 5))
    assert pool.digest() == h.digest()


def test_tampered_or_reordered_pool_is_refused_before_training(tmp_path):
    imgs = np.random.default_rng(1).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    pool = _npy_pool(tmp_path, imgs)
    data = build_payload([1, 5, 7], [0, 1, 0], pool_size=50, classes=["a", "b"], pool_digest=pool.digest(),
                         metadata={"task": "test"})
    assert read_payload(data, pool).indices.tolist() == [1, 5, 7]

    one_pixel = imgs.copy()
    one_pixel[30, 3, 3] ^= 1
    swapped = imgs.copy()
    swapped[[2, 3]] = swapped[[3, 2]]
    for bad in (one_pixel, swapped, imgs[:49]):
        local = _npy_pool(tmp_path, bad, name="local.npy")
        with pytest.raises(pladafmt.PoolMismatchError):
            read_payload(data, local)


def test_student_head_must_match_payload_classes(tmp_path):
    imgs = np.random.default_rng(2).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    pool = _npy_pool(tmp_path, imgs)
    data = build_payload([0, 1, 2], [0, 1, 2], pool_size=20, classes=["a", "b", "c"], pool_digest=pool.digest(),
                         metadata={})
    payload = read_payload(data, pool)
    with pytest.raises(common.PipelineError) as exc:
        train_student(payload, pool, num_classes=10, steps=1)
    exc.match("payload has 3 classes but the student's head has 10")
    with pytest.raises(common.PipelineError) as exc:
        train_student(payload, pool, task="digits", steps=1)
    exc.match("payload has 3 classes, task 'digits' has 10")


def test_image_folder_pool_sorted_paths_and_corrupt_file(tmp_path):
    from PIL import Image

    root = tmp_path / "folder"
    for rel in ("b/2.png", "a/1.png", "a/0.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((9, 7, 3), len(rel) * 10, np.uint8)).save(root / rel)
    pool = pools.open_pool(f"folder:{root}", tmp_path / "cache", folder_size=16)
    assert list(pool.names) == ["a/0.jpg", "a/1.png", "b/2.png"]
    assert pool[np.array([0, 2])].shape == (2, 16, 16, 3)
    (root / "a" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(common.PipelineError) as exc:
        pools.open_pool(f"folder:{root}", tmp_path / "cache")   # changed size and mtime: hashed and verified again
    exc.match("a/1.png")


def test_missing_fashion_mnist_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(pools, "FASHION_DIR", tmp_path)
    with pytest.raises(common.MissingDataError) as exc:
        pools.open_pool("broad:10,10", tmp_path)
    exc.match("apt-get install dataset-fashion-mnist")


def test_missing_fonts_name_the_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(pools, "FONT_DIRS", [tmp_path])
    with pytest.raises(common.MissingDataError) as exc:
        pools.render_glyphs(5)
    exc.match("apt-get install fonts-dejavu-core")


def test_bad_pool_specs():
    for spec, msg in (("imagenet", "unknown pool spec"), ("broad:1", "broad:NF,NG"), ("folder:/nonexistent/x", "not found")):
        with pytest.raises(common.PipelineError) as exc:
            pools.open_pool(spec)
        exc.match(msg)


def test_unknown_model_name():
    pytest.importorskip("timm")
    with pytest.raises(common.PipelineError) as exc:
        common.check_model_name("resnet_does_not_exist")
    exc.match("unknown model 'resnet_does_not_exist'")
    common.check_model_name("plada_cnn")
    common.check_model_name("resnet10t")
