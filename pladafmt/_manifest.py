"""Canonical pool manifest and its digest (SPEC.md "Pool manifest")."""
import hashlib
import struct

from ._constants import POOL_MANIFEST_PREFIX
from ._errors import EncodeError


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
    n = 0
    for item in items:
        try:
            name, digest = item
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"pool manifest item {n}: expected (name, content_sha256), "
                              f"got {item!r}") from exc
        if not isinstance(name, str):
            raise EncodeError(f"pool manifest item {n}: name expected str, got {type(name).__name__}")
        raw = name.encode("utf-8")
        if b"\x00" in raw:
            raise EncodeError(f"pool manifest item {n}: name expected no NUL byte, got {name!r}")
        digest = bytes(digest)
        if len(digest) != 32:
            raise EncodeError(f"pool manifest item {n}: content_sha256 expected 32 bytes, "
                              f"got {len(digest)}")
        h.update(struct.pack("<I", len(raw)))
        h.update(raw)
        h.update(digest)
        n += 1
    h.update(struct.pack("<Q", n))
    return h.digest()
