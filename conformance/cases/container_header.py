"""SPEC.md "3.1 Header": magic, versions, header syntax, CRC, header values."""
import hashlib
import struct
import zlib

from ..writer import container as W
from ..writer.bits import varint
from .common import IDX, LAB, META, NAMES, base

SPEC = "3.1 Header"


def payload_1_3():
    """The format 1.3 worked example (88-byte header, 12-byte section headers)."""
    def sec(stype, mode, body):
        head = struct.pack("<HBBI", stype, mode, 0, len(body))
        return head + struct.pack("<I", zlib.crc32(body, zlib.crc32(head))) + body
    secs = (sec(1, 0, W.class_table(NAMES)) + sec(2, 1, bytes([2, 0, 0, 4, 9]))
            + sec(3, 0, bytes([0x90, 0x02])) + sec(0x8001, 0, W.meta_json(META)))
    head = struct.pack("<8sBBBBIIQQII32s8s", W.MAGIC, 1, 2, 0, 0, 0, 0, 20, 5, 3, 4,
                       bytes(32), W.content_checksum(IDX, LAB))
    return head + struct.pack("<I", zlib.crc32(head)) + secs


def define(s):
    s.y("y_spec_example", "the worked example of SPEC.md: N = 20, k = 5, C = 3, varint "
        "indices, packed labels, class table and metadata", "11.1 A payload", IDX, LAB, 20,
        3, names=NAMES, meta=META, flags=["SpecExample"])
    for minor in (1, 255):
        s.y(f"y_minor_{minor}", f"Version_Minor {minor}: a decoder never rejects a payload "
            "for its minor version", SPEC, IDX, LAB, 20, 3, names=NAMES,
            hdr={"minor": minor}, flags=["Q9", "Forward"])
    digest = hashlib.sha256(b"PLADA conformance pool").digest()
    s.y("y_pool_digest", "POOL_DIGEST_PRESENT with a 32-byte Pool_Digest (no local pool "
        "given: nothing to compare)", SPEC, IDX, LAB, 20, 3, digest=digest, flags=["Header"])
    fixed = W.build(list(range(0, 60000, 1000)), [j % 101 for j in range(60)], 60000, 101)
    secs = W.sections_at(fixed)
    s.y("y_small_task_overhead", f"N = 60,000, k = 60, C = 101, no digest: a "
        f"{secs[0][0]}-byte header and section headers of "
        f"{' and '.join(str(h) for _, h, _ in secs)} bytes", SPEC, list(range(0, 60000, 1000)),
        [j % 101 for j in range(60)], 60000, 101, flags=["Header"])
    ok = base()
    # -- 1. magic (Q6)
    s.n("n_magic_first_byte", "Magic byte 0 is 0x88", SPEC, "magic", "FormatError",
        b"\x88" + ok[1:])
    s.n("n_magic_crlf_to_lf", "Magic after a text-mode CRLF -> LF conversion", SPEC, "magic",
        "FormatError", ok[:4] + b"\n\x1a\n" + ok[7:])
    s.n("n_magic_short_not_prefix", "3 bytes 89 50 58: shorter than Magic and not a prefix "
        "of it", SPEC, "magic", "FormatError", b"\x89PX", flags=["Q6"])
    s.n("n_magic_prefix_5_bytes", "5 bytes, a true prefix of Magic", SPEC, "truncated",
        "TruncatedError", ok[:5], flags=["Q6"])
    s.n("n_empty_input", "0 bytes (the empty prefix of Magic)", SPEC, "truncated",
        "TruncatedError", b"", flags=["Q6"])
    # -- 2. Version_Major
    s.n("n_major_missing", "exactly the 8 Magic bytes", SPEC, "truncated", "TruncatedError",
        ok[:8])
    s.n("n_major_1_payload", "a complete format 1.3 payload (its worked example): a 2.0 "
        "decoder rejects major 1", SPEC, "major", "UnsupportedVersionError", payload_1_3())
    for major in (0, 3, 255):
        s.n(f"n_major_{major}", f"Version_Major {major}", SPEC, "major",
            "UnsupportedVersionError", base(hdr={"major": major}))
    # -- 3. header syntax: the input ends inside each field
    hlen = W.sections_at(ok)[0][0]
    fields = [("minor", 9), ("flags", 10), ("required", 11), ("pool_size", 12),
              ("item_count", 13), ("class_count", 14), ("section_count", 15),
              ("content_checksum", 16 + 4), ("header_crc32", hlen - 2)]
    for name, cut in fields:
        s.n(f"n_trunc_header_{name}", f"input ends after {cut} bytes: {name} incomplete "
            f"(header of {hlen} bytes)", SPEC, "truncated", "TruncatedError", ok[:cut])
    digest = hashlib.sha256(b"pool").digest()
    with_digest = base(digest=digest)
    s.n("n_trunc_header_pool_digest", "POOL_DIGEST_PRESENT set; input ends 10 bytes into "
        "Pool_Digest", SPEC, "truncated", "TruncatedError", with_digest[:16 + 10])
    # -- 4. Header_CRC32
    crc = struct.unpack_from("<I", ok, hlen - 4)[0]
    s.n("n_header_crc", f"Header_CRC32 {crc + 1 & 0xFFFFFFFF:08x} instead of {crc:08x}",
        SPEC, "header-crc", "ChecksumError",
        ok[:hlen - 4] + struct.pack("<I", crc + 1 & 0xFFFFFFFF) + ok[hlen:])
    # -- 5. header values, in field order
    for bit in (1, 7):
        s.n(f"n_header_flags_bit{bit}", f"Header_Flags reserved bit {bit} set", SPEC,
            "header-flags-reserved", "FormatError", base(hdr={"flags": 1 << bit}))
    s.n("n_required_features_bit0", "Required_Features bit 0 (2.0 defines none)", SPEC,
        "required-features", "UnsupportedVersionError", base(hdr={"required": 1}))
    s.n("n_required_features_bit40", f"Required_Features bit 40 (varint "
        f"{varint(1 << 40).hex(' ')})", SPEC, "required-features",
        "UnsupportedVersionError", base(hdr={"required": 1 << 40}))
    s.n("n_pool_size_0", "Pool_Size 0 (k = 0)", SPEC, "pool-size-zero", "FormatError",
        W.build([], [], 20, 3, hdr={"N": 0}))
    s.n("n_k_gt_n", "Item_Count 21 > Pool_Size 20", SPEC, "k-le-n", "FormatError",
        base(hdr={"k": 21}))
    s.n("n_class_count_0", "Class_Count 0 (k = 0, no class table)", SPEC, "class-count-zero",
        "FormatError", W.build([], [], 20, 1, hdr={"C": 0}))
    s.n("n_section_count_0", "Section_Count 0 (the two stream sections follow)", SPEC,
        "section-count-low", "FormatError", W.build(IDX, LAB, 20, 3, hdr={"sections": 0}))
    s.n("n_section_count_1", "Section_Count 1 and only the index stream", SPEC,
        "section-count-low", "FormatError",
        W.build([], [], 20, 3, hdr={"sections": 1}, order=[0]))
    # -- 13. Content_Checksum (3.7 Canonical content)
    content = "3.7 Canonical content"
    s.n("n_content_checksum_labels", "Content_Checksum's labels part is that of labels 0 0 2 "
        "1 2 (two swapped); the indices part is right", content, "content-checksum",
        "ChecksumError", base(checksum=W.content_checksum(IDX, [0, 0, 2, 1, 2])))
    s.n("n_content_checksum_indices", "Content_Checksum's indices part is that of indices 2 "
        "3 4 10 19; the labels part is right", content, "content-checksum", "ChecksumError",
        base(checksum=W.content_checksum([2, 3, 4, 10, 19], LAB)))
    s.n("n_content_checksum_k0_nonzero", "k = 0 with Content_Checksum 01 00 00 00 00 00 00 "
        "00 (the CRC-32 of no bytes is 0)", content, "content-checksum", "ChecksumError",
        W.build([], [], 20, 3, checksum=b"\x01" + bytes(7)))
