"""Same bytes across the restructure (issue #16): the 1.3 flat modules became _coders/ and
_modes/ together with format 2.0, so the check is on what 2.0 did not change. Each stream
below has k >= 1 and every rANS area >= 2048 items (the 2.0 lane rule keeps 4 lanes there),
so format 2.0 must write exactly the bytes format 1.3 wrote. The digests were computed with
pladafmt 1.3.0 (commit 761d066, `pladafmt._modes.*_MODE_TABLE[...].encode`) on these arrays.
"""
import hashlib

import numpy as np
import pytest

from pladafmt._modes import INDEX_MODES, LABEL_MODES, mode_by_name

N, K, C = 1_000_000, 5000, 101

# (workload, stream, mode) -> (SHA-256 of the 1.3 stream body, its length)
FORMAT_1_3 = {
    ("uniform", "index", "bitmap"): ("f0afa1cd533e396642c7a2e2016f9568bb6b5f66b7fe2b5da7edd207be8fc524", 125000),
    ("uniform", "index", "varint"): ("7405ef9a092d4ffe22cf97c07f01dda73bc2fcf81681f2a778a84b5ec371d398", 7614),
    ("uniform", "index", "rice"): ("5f2111abdc0fd2072b94f19dbc5bff11ebf1a5a9029e9974234925430bc4b963", 5700),
    ("uniform", "index", "ctx-rans"): ("2398d06a5a6e2795a9df73e76b4075aba1e6247460cd5175fa57fdf811cf8561", 5851),
    ("uniform", "label", "packed"): ("32795f53cb839108556890973bfdc07b7d1c781a8846ea54d6e76a03ad37214b", 4375),
    ("uniform", "label", "rans"): ("4f66d3169ab73ebcf26ff49b7f8e97b7f52e598979ae6563758845a043546a57", 4230),
    ("uniform", "label", "ctx-rans"): ("100b350222d76bf4cd66b1ff726918cf5188a5af56d3ec82eb1c3c18513846c6", 4337),
    ("clustered", "index", "bitmap"): ("a9fdbafeb025115a67054e46ab8aa0401d4b4f8bfceeb3050d202fb749fa488f", 125000),
    ("clustered", "index", "varint"): ("ba21362bb47d13ca5e815a4ac11c69663428ade57c7cb70aab3e9dbda4f5bf18", 5070),
    ("clustered", "index", "rice"): ("aad9375b4632571293efb9c8724d4ca3f0e1f681abf241d3516927d94ddc7694", 5238),
    ("clustered", "index", "ctx-rans"): ("f0defb62e92de7f0c8f702edf1a53b37b70e9d4761747d4a858f605b1f3c1fc9", 227),
    ("clustered", "label", "packed"): ("e62279c3ced63fd5bcbac0ad266878e12dafd321623aa7a545e9c3f51ef5f0eb", 4375),
    ("clustered", "label", "rans"): ("d3ccccdb7c79eae513491dfc6647a90d866efd9266a0d9d302dd04c5a28a91f7", 3822),
    ("clustered", "label", "ctx-rans"): ("c81f4b8e00c533dbb6c060d2ca7d71f4f4afcb1b13c689610f2dd55d683f919b", 277),
}


def _arrays():
    rng = np.random.default_rng(20261206)
    uni = np.sort(rng.choice(N, K, replace=False)).astype(np.int64)
    starts = np.sort(rng.choice(N // 300, 60, replace=False)) * 300
    clu = np.unique(np.concatenate([s + np.arange(rng.integers(20, 160)) for s in starts]))[:K]
    lab_u = rng.integers(0, C, K).astype(np.int64)
    lab_c = np.repeat(rng.integers(0, C, K // 50 + 1), 50)[:len(clu)].astype(np.int64)
    return {"uniform": (uni, lab_u), "clustered": (clu.astype(np.int64), lab_c)}


ARRAYS = _arrays()


@pytest.mark.parametrize("key", sorted(FORMAT_1_3), ids=lambda k: "-".join(k))
def test_stream_bytes_equal_format_1_3(key):
    workload, stream, name = key
    idx, lab = ARRAYS[workload]
    assert len(idx) == K
    mode = mode_by_name(INDEX_MODES if stream == "index" else LABEL_MODES, name)
    if stream == "index":
        body = mode.encode(idx, N)
    else:
        body = mode.encode(lab, C, *((idx,) if mode.needs_indices else ()))
    digest, length = FORMAT_1_3[key]
    assert (hashlib.sha256(body).hexdigest(), len(body)) == (digest, length)
