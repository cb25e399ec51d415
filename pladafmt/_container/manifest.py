"""Canonical pool manifest and its digest (SPEC.md "Pool manifest").

    Manifest = "PLADA-POOL-MANIFEST\\0\\x01"
               | per item: Name_Length (u32 LE) | Name (UTF-8, no NUL) | Content_SHA256 (32)
               | Pool_Size (u64 LE: N, the number of items)

Names are taken byte for byte as their UTF-8 encoding: no Unicode normalisation, so
"é" precomposed and decomposed are two different names.
"""
import hashlib
import struct

from .._constants import POOL_MANIFEST_PREFIX
from .._errors import EncodeError


def pool_digest(items):
    """SHA-256 of the canonical manifest of an ordered pool.

    Parameters
    ----------
    items : iterable of (name, content_sha256)
        In pool order. `name` is a str (UTF-8, no NUL), `content_sha256` the 32-byte
        SHA-256 of the item's content bytes as the pool defines them.

    Examples
    --------
    >>> import hashlib
    >>> d = pool_digest([("a.png", hashlib.sha256(b"A").digest())])
    >>> len(d)
    32
    """
    h = hashlib.sha256(POOL_MANIFEST_PREFIX)
    pool_size = 0
    for item in items:
        try:
            name, digest = item
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"pool manifest item {pool_size}: expected (name, "
                              f"content_sha256), got {item!r}") from exc
        if not isinstance(name, str):
            raise EncodeError(f"pool manifest item {pool_size}: name expected str, got "
                              f"{type(name).__name__}")
        try:
            raw = name.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodeError(f"pool manifest item {pool_size}: name expected valid Unicode "
                              f"(no lone surrogate), got {name!r}") from exc
        if b"\x00" in raw:
            raise EncodeError(f"pool manifest item {pool_size}: name expected no NUL byte, "
                              f"got {name!r}")
        digest = bytes(digest)
        if len(digest) != 32:
            raise EncodeError(f"pool manifest item {pool_size}: content_sha256 expected 32 "
                              f"bytes, got {len(digest)}")
        h.update(struct.pack("<I", len(raw)))
        h.update(raw)
        h.update(digest)
        pool_size += 1
    h.update(struct.pack("<Q", pool_size))
    return h.digest()
