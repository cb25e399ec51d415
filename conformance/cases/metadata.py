"""SPEC.md "3.5 Metadata" (Q11, Q19): one JSON object (RFC 8259, strict), UTF-8,
at most 1 MiB; every 2.0 decoder parses it."""
from ..writer import container as W
from .common import IDX, LAB, NAMES

SPEC = "3.5 Metadata"
MIB = 1 << 20


def meta_payload(raw, **kw):
    return W.build(IDX, LAB, 20, 3, names=NAMES, meta=raw, **kw)


def padded_object(size):
    """A valid JSON object of exactly `size` bytes: {"pad":"xxx...x"}."""
    return b'{"pad":"' + b"x" * (size - 10) + b'"}'


def rle_frame(raw):
    """raw (a JSON object of repeated x) as a Zstd frame: raw head, RLE run, raw tail."""
    head, tail = raw[:8], raw[-2:]
    run = len(raw) - 10
    blocks = [("raw", head)] + [("rle", ord("x"), min(run - i, 1 << 17))
                                for i in range(0, run, 1 << 17)] + [("raw", tail)]
    return W.zstd_frame(raw, blocks=blocks, window_log=20)


def define(s):
    s.y("y_metadata_absent", "no metadata section", SPEC, IDX, LAB, 20, 3, names=NAMES,
        flags=["Sections"])
    s.y("y_metadata_unicode_zstd", "metadata with non-ASCII text and nested values, "
        "Zstd-wrapped", SPEC, IDX, LAB, 20, 3,
        meta={"task": "démo ✓", "keep": 0.25, "seed": 7, "rule": {"a": [1, 2, None, True]}},
        mz="raw", flags=["Sections"])
    ws = b' \t\r\n{ "task" : "demo" ,\n "n": [1, 2.5e3, -0.0] }\r\n\t '
    s.y("y_metadata_whitespace", "JSON whitespace before, inside and after the object "
        "(not canonical, still valid)", SPEC, IDX, LAB, 20, 3, names=NAMES, meta=ws,
        flags=["Q19"])
    s.y("y_metadata_surrogate_pair", "an escaped surrogate pair \\ud83d\\ude00 (one "
        "code point, valid)", SPEC, IDX, LAB, 20, 3, names=NAMES,
        meta=b'{"e":"\\ud83d\\ude00"}', flags=["Q19"])
    deep = b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"
    s.y("y_metadata_depth_64", "nesting depth 64: the object and 63 arrays", SPEC, IDX, LAB,
        20, 3, names=NAMES, meta=deep, flags=["Q19", "Limits"])
    s.y("y_metadata_large_double", "numbers 1.7976931348623157e308 (the largest double) "
        "and -1e308", SPEC, IDX, LAB, 20, 3, names=NAMES,
        meta=b'{"a":1.7976931348623157e308,"b":-1e308}', flags=["Q19"])
    exact = padded_object(MIB)
    s.y("y_metadata_1mib_zstd", f"metadata of exactly 1 MiB ({MIB} bytes), the limit, in a "
        f"Zstd frame of RLE blocks ({len(rle_frame(exact))} bytes)", SPEC, IDX, LAB, 20, 3,
        names=NAMES, meta=exact, mz=rle_frame, flags=["Q11", "Limits"])
    bad = [
        ("not_object", b"[1,2]", "a JSON array, not an object"),
        ("string", b'"task"', "a JSON string, not an object"),
        ("empty_body", b"", "0 bytes"),
        ("truncated", b'{"task":', "truncated JSON"),
        ("trailing_garbage", b'{"task":"demo"} x', "an object followed by 'x'"),
        ("nan", b'{"t":NaN}', "NaN (not JSON)"),
        ("infinity", b'{"t":Infinity}', "Infinity (not JSON)"),
        ("minus_infinity", b'{"t":-Infinity}', "-Infinity (not JSON)"),
        ("float_overflow", b'{"a":1e999}', "1e999, which overflows a double"),
        ("bad_utf8", b'{"t":"\xff"}', "invalid UTF-8 (byte ff)"),
        ("duplicate_keys", b'{"a":1,"a":2}', "duplicate keys"),
        ("nested_duplicate_keys", b'{"a":{"b":1,"b":1}}', "duplicate keys in a nested object"),
        ("lone_high_surrogate", b'{"t":"\\ud800"}', "a lone high surrogate escape"),
        ("lone_low_surrogate", b'{"t":"\\udc00x"}', "a lone low surrogate escape"),
        ("high_surrogate_then_text", b'{"t":"\\ud800\\u0041"}',
         "a high surrogate followed by \\u0041, not a low surrogate"),
        ("bom", b'\xef\xbb\xbf{"task":"demo"}', "a UTF-8 BOM before the object"),
        ("nul_before", b'\x00{"task":"demo"}', "a 00 byte before the object"),
        ("depth_65", b'{"a":' + b"[" * 64 + b"]" * 64 + b"}",
         "nesting depth 65 (the object and 64 arrays)"),
        ("single_quotes", b"{'task':'demo'}", "single-quoted strings"),
    ]
    for name, raw, why in bad:
        s.n(f"n_metadata_{name}", f"metadata body: {why}", SPEC, "metadata-json",
            "FormatError", meta_payload(raw), flags=["Q19"])
    s.n("n_metadata_over_1mib_raw", f"a raw metadata body of {MIB + 1} bytes (a valid JSON "
        "object one byte over 1 MiB)", SPEC, "raw-bound", "FormatError",
        meta_payload(padded_object(MIB + 1)), flags=["Q11"])
    s.n("n_metadata_over_1mib_zstd", f"Zstd-wrapped metadata whose Frame_Content_Size is "
        f"{MIB + 1}, one above the 1 MiB raw size bound", SPEC, "zstd-fcs-bound",
        "FormatError", meta_payload(padded_object(MIB + 1), mz=rle_frame), flags=["Q11"])
