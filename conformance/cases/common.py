"""What every case module uses: the Suite that records vectors, and the base payload.

suite.y records a must-decode vector (or, with result="acceptable", an i_ vector), with
the expected decoded fields computed from the content given; suite.n records a
must-reject vector from its bytes. Every record keeps the raw stream bodies and the
build arguments, so tests can replay them through pladafmt's twins and encoder."""
from __future__ import annotations

import hashlib
import json
import struct

from ..writer import container as W
from ..writer import index_modes, label_modes

INLINE_MAX = 64          # items (and class names) listed inline in the manifest

# the worked example: N = 20, k = 5, C = 3, varint + packed, class table, metadata
IDX = [2, 3, 4, 9, 19]
LAB = [0, 0, 1, 2, 2]
NAMES = ["cat", "dog", "émeu"]
META = {"task": "demo"}


def canonical_bytes(indices, labels) -> bytes:
    return struct.pack(f"<{len(indices)}Q", *indices) + struct.pack(f"<{len(labels)}I", *labels)


def content_sha256(indices, labels) -> str:
    return hashlib.sha256(canonical_bytes(indices, labels)).hexdigest()


def classes_sha256(names) -> str:
    h = hashlib.sha256()
    for name in names:
        b = name.encode("utf-8")
        h.update(struct.pack("<I", len(b)) + b)
    return h.hexdigest()


_PLAIN_BUILD = {"ibody", "lbody", "iz", "lz", "cz", "mz", "before", "between", "after",
                "order", "hdr", "sec_over", "checksum", "trailing"}


class Suite:
    def __init__(self):
        self.vectors: list[dict] = []

    def _add(self, vec):
        if any(v["id"] == vec["id"] for v in self.vectors):
            raise ValueError(f"duplicate vector id {vec['id']}")
        self.vectors.append(vec)

    def y(self, vid, comment, spec, idx, lab, N, C, *, flags=(), result="valid", error=None,
          rule=None, expect_meta=None, local_pool_digest=None, **kw):
        """A payload built by container.build(idx, lab, N, C, **kw) that decodes to them."""
        idx, lab = list(idx), list(lab)
        data = W.build(idx, lab, N, C, **kw)
        hdr = kw.get("hdr") or {}
        names, meta, digest = kw.get("names"), kw.get("meta"), kw.get("digest")
        imode, lmode = kw.get("imode", 1), kw.get("lmode", 0)
        if expect_meta is None:
            expect_meta = (json.loads(meta) if isinstance(meta, bytes) else meta) or {}
        classes = list(names) if names is not None else [str(i) for i in range(C)]
        exp = {
            "version": [hdr.get("major", 2), hdr.get("minor", 0)],
            "pool_size": N,
            "k": len(idx),
            "class_count": C,
            "classes": classes,
            "pool_digest": digest.hex() if digest else None,
            "metadata": expect_meta,
            "index_mode": index_modes.NAMES[imode] + ("+zstd" if kw.get("iz") else ""),
            "label_mode": label_modes.NAMES[lmode] + ("+zstd" if kw.get("lz") else ""),
        }
        if len(idx) <= INLINE_MAX:
            exp["indices"], exp["labels"] = idx, lab
        exp["content_sha256"] = content_sha256(idx, lab)
        if len(classes) > INLINE_MAX:
            exp["classes_sha256"] = classes_sha256(exp.pop("classes"))
        raw_i = kw.get("ibody")
        if raw_i is None:
            raw_i = index_modes.WRITERS[imode](idx, N)
        raw_l = kw.get("lbody")
        if raw_l is None:
            raw_l = label_modes.write(lmode, lab, C, idx)
        # the reference encoder writes this payload too when nothing departs from its rules
        plain = (not _PLAIN_BUILD & {key for key, v in kw.items() if v not in (None, (), {})}
                 and (meta is None or isinstance(meta, dict)))
        vec = dict(id=vid, data=data, spec=spec, result=result, comment=comment,
                   flags=list(flags), expected=exp,
                   replay=dict(indices=idx, labels=lab, N=N, C=C, imode=imode, lmode=lmode,
                               raw_index=raw_i, raw_label=raw_l, names=names, meta=meta,
                               digest=digest, plain=plain))
        if result == "acceptable":
            vec.update(error=error, rule=rule)
        if local_pool_digest is not None:
            vec["local_pool_digest"] = local_pool_digest.hex()
        self._add(vec)

    def n(self, vid, comment, spec, rule, error, data, *, flags=(), alternatives=None,
          local_pool_digest=None):
        vec = dict(id=vid, data=data, spec=spec, rule=rule, result="invalid", error=error,
                   comment=comment, flags=list(flags))
        if alternatives:
            vec["alternative_errors"] = list(alternatives)
        if local_pool_digest is not None:
            vec["local_pool_digest"] = local_pool_digest.hex()
        self._add(vec)


def base(**kw):
    """The worked example's payload with some build arguments changed."""
    args = dict(names=NAMES, meta=META)
    args.update(kw)
    return W.build(IDX, LAB, 20, 3, **args)


def edit_section(data: bytes, which: int, *, digest=False, stype=None, mode=None, flags=None,
                 crc=None) -> bytes:
    """Change a field of section `which`'s header in place; its CRC is recomputed unless
    given."""
    import zlib
    pos, hlen, blen = W.sections_at(data, digest)[which]
    buf = bytearray(data)
    for off, value in ((0, stype), (1, mode), (2, flags)):
        if value is not None:
            buf[pos + off] = value
    body = bytes(buf[pos + hlen:pos + hlen + blen])
    value = zlib.crc32(body, zlib.crc32(bytes(buf[pos:pos + hlen - 4]))) if crc is None else crc
    struct.pack_into("<I", buf, pos + hlen - 4, value)
    return bytes(buf)


def header_len(data: bytes, digest=False) -> int:
    return W.sections_at(data, digest)[0][0]
