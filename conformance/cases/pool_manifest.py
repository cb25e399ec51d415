"""SPEC.md "3.6 Pool manifest" and check-order step 7 (Q16): the local pool's digest, when the
caller gives one (the manifest's local_pool_digest), must equal Pool_Digest."""
import hashlib
import unicodedata

from ..writer import container as W
from .common import IDX, LAB, NAMES

SPEC = "3.6 Pool manifest"
N = 20
# item 3 and item 4 are the same text in two Unicode forms (NFD, NFC): different names
POOL_NAMES = [f"pool/{i:02d}.png" for i in range(N)]
POOL_NAMES[3] = "pool/e\u0301meu.png"
POOL_NAMES[4] = "pool/\u00e9meu.png"
CONTENT = [hashlib.sha256(b"image %d" % i).digest() for i in range(N)]


def digest_of(manifest: bytes) -> bytes:
    return hashlib.sha256(manifest).digest()


def define(s):
    good = digest_of(W.pool_manifest(POOL_NAMES, CONTENT))
    s.y("y_pool_digest_matches", "a pool of 20 items whose names 3 and 4 are one text in "
        "NFD and NFC (taken byte for byte); the local digest given equals Pool_Digest; the "
        "manifest ends with Pool_Size = 20", SPEC, IDX, LAB, N, 3, names=NAMES, digest=good,
        local_pool_digest=good, flags=["Q16"])
    payload = W.build(IDX, LAB, N, 3, names=NAMES, digest=good)
    nfc = [unicodedata.normalize("NFC", n) for n in POOL_NAMES]
    s.n("n_pool_digest_nfc_names", "the local pool digest is of the NFC-normalised names: "
        "it differs", SPEC, "pool-digest", "PoolMismatchError", payload,
        local_pool_digest=digest_of(W.pool_manifest(nfc, CONTENT)), flags=["Q16"])
    k_last = W.pool_manifest(POOL_NAMES, CONTENT)[:-8] + len(IDX).to_bytes(8, "little")
    s.n("n_pool_digest_last_field_k", "the local digest is of a manifest that ends with k "
        "= 5 (1.3's misnamed Item_Count) instead of Pool_Size = 20", SPEC, "pool-digest",
        "PoolMismatchError", payload, local_pool_digest=digest_of(k_last), flags=["Q16"])
    s.n("n_pool_digest_absent", "a local digest is given, the payload has none", SPEC,
        "pool-digest", "PoolMismatchError", W.build(IDX, LAB, N, 3, names=NAMES),
        local_pool_digest=good)
