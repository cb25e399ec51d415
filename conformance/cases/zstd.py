"""SPEC.md "3.3 Zstd-wrapped bodies" (Q2, Q6, Q12): frames a decoder must read and
damaged frames it must reject, including frames that declare empty content (k = 0)."""
from ..writer import container as W
from ..writer.container import zstd_frame
from .common import IDX, LAB, META, NAMES, base

SPEC = "3.3 Zstd-wrapped bodies"

# Compressed frames, frozen (made once with python-zstandard level 19, content size, no
# checksum), so that the suite does not depend on the installed libzstd's output; each is
# checked against the stream it must decode to.
FROZEN = {
    # bitmap of N = 400 keeping every i with i % 3 == 0 (k = 134)
    "bitmap_every3_n400": "28b52ffd2032550000204992244901006b3a22",
    # packed labels j % 4 for j < 134, C = 4
    "packed_c4_k134": "28b52ffd202245000010e4040100381002",
    # rice stream of every third index of N = 3000 (k = 1000, r = 1 throughout)
    "rice_every3_n3000": "28b52ffd6078007d0100d2c1050ce0e9c01f6c8171c2761b8d1ac79676e286"
                         "edb8b7b59d08209043ebd98363924c92496a12cd614c82a62502",
    # rans labels j % 4 for j < 1000, C = 4 (1 lane: k < 2048; P = 2, every frequency 1)
    "rans_c4_k1000": "28b52ffd600400ad0000706200da16e4e400000080000039390100730a2801",
}


def frozen(name):
    frame = bytes.fromhex(FROZEN[name])

    def use(raw):
        try:
            import zstandard
        except ImportError:
            return frame
        if zstandard.ZstdDecompressor().decompress(frame) != raw:
            raise AssertionError(f"frozen Zstd frame {name} does not decode to its stream")
        return frame
    return use


def define(s):
    # -- frames a decoder must read
    s.y("y_zstd_compressed_bitmap_packed", "compressed Zstd blocks (frozen level-19 "
        "frames) in both streams", SPEC, list(range(0, 400, 3)), [j % 4 for j in range(134)],
        400, 4, imode=0, lmode=0, iz=frozen("bitmap_every3_n400"),
        lz=frozen("packed_c4_k134"), flags=["Unusual"])
    s.y("y_zstd_compressed_rice_rans", "compressed frames (frozen): a rice stream of "
        "every third item of 3,000 and rans labels j % 4 (k = 1000, one lane)", SPEC,
        list(range(0, 3000, 3)), [j % 4 for j in range(1000)], 3000, 4, imode=2, lmode=1,
        iz=frozen("rice_every3_n3000"), lz=frozen("rans_c4_k1000"), flags=["Unusual"])
    s.y("y_zstd_rle_block", "bitmap (k = N = 64) as a frame of one RLE block", SPEC,
        list(range(64)), [0] * 64, 64, 1, imode=0,
        iz=lambda raw: zstd_frame(raw, blocks=[("rle", 0xFF, 8)]), flags=["Unusual"])
    s.y("y_zstd_multi_block", "varint stream as a frame of three blocks (raw, RLE, raw)",
        SPEC, [0, 1, 2, 3, 4, 5, 10, 100], [0, 1] * 4, 200, 2,
        iz=lambda raw: zstd_frame(raw, blocks=[("raw", raw[:1]), ("rle", 0, 5),
                                               ("raw", raw[6:])]), flags=["Unusual"])
    s.y("y_zstd_fcs_2_byte_field", "a 300-byte varint stream: Frame_Content_Size in the "
        "2-byte field (value - 256)", SPEC, list(range(0, 600, 2)), [1] * 300, 600, 2,
        iz="raw", flags=["Unusual"])
    s.y("y_zstd_fcs_8_byte_field", "Frame_Content_Size 5 in an 8-byte field", SPEC,
        IDX, LAB, 20, 3, iz=lambda raw: zstd_frame(raw, fcs_bytes=8), flags=["Unusual"])
    s.y("y_zstd_window_descriptor", "a frame with a Window_Descriptor (not single-segment), "
        "window 1 KiB", SPEC, IDX, LAB, 20, 3,
        iz=lambda raw: zstd_frame(raw, window_log=10), flags=["Unusual"])
    s.y("y_zstd_window_8mib", "Window_Size 8 MiB, the largest allowed", SPEC, IDX, LAB, 20,
        3, iz=lambda raw: zstd_frame(raw, window_log=23), flags=["Unusual", "Limits"])
    s.y("y_zstd_content_checksum", "a frame with a correct XXH64 Content_Checksum "
        "(encoders do not write one; decoders accept it)", SPEC, IDX, LAB, 20, 3,
        iz=lambda raw: zstd_frame(raw, checksum=True), flags=["Unusual"])
    s.y("y_zstd_dict_id_field_zero", "a 1-byte Dictionary_ID field holding 0 (no "
        "dictionary)", SPEC, IDX, LAB, 20, 3, iz=lambda raw: zstd_frame(raw, dict_id=0),
        flags=["Unusual"])
    s.y("y_zstd_every_section", "class table, both streams and metadata wrapped (each "
        "larger than raw: never chosen by the encoder)", SPEC, IDX, LAB, 20, 3, names=NAMES,
        cz="raw", meta=META, mz="raw", iz="raw", lz="raw", flags=["Unusual"])
    s.y("y_zstd_k0_empty_frames", "k = 0: both streams wrapped around empty content "
        "(Frame_Content_Size 0, one empty raw block)", SPEC, [], [], 16, 3, iz="raw",
        lz="raw", flags=["EdgeK"])
    # -- the checks of section 4, in order
    s.n("n_zstd_empty_body", "ZSTD flag set on a 0-byte index body (no frame magic)", SPEC,
        "zstd-magic", "FormatError", base(iz=lambda raw: b""), flags=["Q6"])
    s.n("n_zstd_body_3_bytes", "ZSTD body of 3 bytes 28 b5 2f (shorter than the magic)",
        SPEC, "zstd-magic", "FormatError", base(iz=lambda raw: b"\x28\xb5\x2f"),
        flags=["Q6"])
    s.n("n_zstd_bad_magic", "frame magic 28 b5 2f fe", SPEC, "zstd-magic", "FormatError",
        base(iz=lambda raw: b"\x28\xb5\x2f\xfe" + zstd_frame(raw)[4:]))
    s.n("n_zstd_skippable_frame", "a skippable frame, then the frame", SPEC, "zstd-magic",
        "FormatError",
        base(iz=lambda raw: b"\x50\x2a\x4d\x18\x00\x00\x00\x00" + zstd_frame(raw)))
    s.n("n_zstd_header_incomplete", "the body ends inside the frame header (magic and a "
        "descriptor that announces a 2-byte Frame_Content_Size, 1 byte of it)", SPEC,
        "zstd-frame-header", "FormatError",
        base(iz=lambda raw: zstd_frame(b"x" * 300)[:6]))
    s.n("n_zstd_reserved_bit", "Frame_Header_Descriptor reserved bit 3 set", SPEC,
        "zstd-frame-header", "FormatError",
        base(iz=lambda raw: zstd_frame(raw, reserved_bit=True)), flags=["Q12"])
    s.n("n_zstd_no_fcs", "a frame without Frame_Content_Size (Window_Descriptor, size "
        "flag 0)", SPEC, "zstd-fcs-present", "FormatError",
        base(iz=lambda raw: zstd_frame(raw, window_log=10, no_fcs=True)))
    s.n("n_zstd_dict_id", "Dictionary_ID 7 (1-byte field)", SPEC, "zstd-dictionary",
        "FormatError", base(iz=lambda raw: zstd_frame(raw, dict_id=7)), flags=["Q12"])
    raw_i = bytes([2, 0, 0, 4, 9])
    s.n("n_zstd_fcs_over_bound", f"varint index: Frame_Content_Size {len(raw_i) + 1} above "
        f"the raw size bound k x v = 5 x 1 = 5 (the frame holds the {len(raw_i)}-byte "
        "stream and a 0 byte)", SPEC, "zstd-fcs-bound", "FormatError",
        base(iz=lambda raw: zstd_frame(raw + b"\x00")), flags=["Q2"])
    s.n("n_zstd_fcs_bomb", "Frame_Content_Size 10^12 around a 5-byte block: above the raw "
        "size bound 5 (also above any budget, but the bound comes first)", SPEC,
        "zstd-fcs-bound", "FormatError",
        base(iz=lambda raw: zstd_frame(raw, fcs=10**12, fcs_bytes=8)), flags=["Q2"])
    s.n("n_zstd_window_16mib", "Window_Size 16 MiB (> 8 MiB)", SPEC, "zstd-window",
        "LimitError", base(iz=lambda raw: zstd_frame(raw, window_log=24)), flags=["Q12"])
    s.n("n_zstd_window_2tib", "Window_Size 2 TiB", SPEC, "zstd-window", "LimitError",
        base(iz=lambda raw: zstd_frame(raw, window_log=41)))
    s.n("n_zstd_corrupt_block", "the frame's block has the reserved Block_Type 3", SPEC,
        "zstd-frame", "FormatError",
        base(iz=lambda raw: zstd_frame(raw, blocks=[("reserved", 5)])), flags=["Q12"])
    s.n("n_zstd_compressed_block_garbage", "a compressed block (type 2) of 5 bytes ff: "
        "its literals section is invalid", SPEC, "zstd-frame", "FormatError",
        base(iz=lambda raw: zstd_frame(raw, blocks=[("compressed", b"\xff" * 5)])),
        flags=["Q12"])
    s.n("n_zstd_bad_checksum", "Zstd Content_Checksum off by one", SPEC, "zstd-frame",
        "FormatError", base(iz=lambda raw: zstd_frame(
            raw, checksum=(W.xxh64(raw) + 1) & 0xFFFFFFFF)), flags=["Q12"])
    s.n("n_zstd_frame_ends_early", "the frame ends 2 bytes before the end of its block",
        SPEC, "zstd-frame", "FormatError", base(iz=lambda raw: zstd_frame(raw)[:-2]),
        flags=["Q12"])
    s.n("n_zstd_trailing_byte", "a 0 byte after the frame", SPEC, "zstd-frame",
        "FormatError", base(iz=lambda raw: zstd_frame(raw) + b"\x00"))
    s.n("n_zstd_two_frames", "two frames in one body", SPEC, "zstd-frame", "FormatError",
        W.build(IDX, LAB, 200, 3,
                iz=lambda raw: zstd_frame(raw[:2]) + zstd_frame(raw[2:])))
    s.n("n_zstd_size_larger", "Frame_Content_Size 6 (within the bound 5 x 2 = 10, N = 200) "
        "but the block holds 5 bytes", SPEC, "zstd-size", "FormatError",
        W.build(IDX, LAB, 200, 3, iz=lambda raw: zstd_frame(raw, fcs=len(raw) + 1)))
    s.n("n_zstd_size_smaller", "Frame_Content_Size 4 but the block holds 5 bytes", SPEC,
        "zstd-size", "FormatError",
        W.build(IDX, LAB, 200, 3, iz=lambda raw: zstd_frame(raw, fcs=len(raw) - 1)))
    # -- damaged frames that declare empty content: always decompressed in full
    def k0(vid, what, frame, **kw):
        s.n(vid, f"k = 0, index stream wrapped: {what}", SPEC, kw.pop("rule", "zstd-frame"),
            "FormatError", W.build([], [], 16, 3, iz=lambda raw: frame, **kw),
            flags=["Q12", "EdgeK"])
    k0("n_zstd_k0_dict_id", "an empty frame with Dictionary_ID 7",
       zstd_frame(b"", dict_id=7), rule="zstd-dictionary")
    k0("n_zstd_k0_corrupt_block", "Frame_Content_Size 0 and a reserved-type block",
       zstd_frame(b"", blocks=[("reserved", 0)]))
    k0("n_zstd_k0_bad_checksum", "an empty frame with Content_Checksum 0 (XXH64 of no "
       f"bytes is {W.xxh64(b'') & 0xFFFFFFFF:08x})", zstd_frame(b"", checksum=0))
    k0("n_zstd_k0_trailing_byte", "an empty frame and a 0 byte after it",
       zstd_frame(b"") + b"\x00")
    k0("n_zstd_k0_reserved_bit", "an empty frame with descriptor bit 3 set",
       zstd_frame(b"", reserved_bit=True), rule="zstd-frame-header")
    k0("n_zstd_k0_no_block", "Frame_Content_Size 0 and no block at all (the frame ends "
       "early)", zstd_frame(b"")[:-3])
    k0("n_zstd_k0_rle_block", "Frame_Content_Size 0 but an RLE block of 3 bytes",
       zstd_frame(b"", fcs=0, blocks=[("rle", 0, 3)]), rule="zstd-size")
    k0("n_zstd_k0_content_1_byte", "Frame_Content_Size 1 above the raw size bound 0",
       zstd_frame(b"\x00"), rule="zstd-fcs-bound")
    s.n("n_zstd_k0_label_corrupt_block", "k = 0, label stream wrapped: Frame_Content_Size "
        "0 and a reserved-type block", SPEC, "zstd-frame", "FormatError",
        W.build([], [], 16, 3, lz=lambda raw: zstd_frame(b"", blocks=[("reserved", 0)])),
        flags=["Q12", "EdgeK"])
