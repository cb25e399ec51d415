"""Wire constants and limits, named exactly as in SPEC.md (snake_case in code)."""

MAGIC = b"\x89PLD\r\n\x1a\n"          # PNG-style: high bit, CR LF, ^Z, LF
FORMAT_MAJOR = 2
FORMAT_MINOR = 0                        # what this codec writes; decoders accept any minor

# Header_Flags
POOL_DIGEST_PRESENT = 0x01              # a 32-byte Pool_Digest follows Section_Count
HEADER_FLAGS_KNOWN = POOL_DIGEST_PRESENT
# Required_Features: format 2.0 defines no bit; any set bit is UnsupportedVersionError.
REQUIRED_FEATURES_KNOWN = 0

# Section_Type (bit 7 = ANCILLARY: a decoder that does not know the type skips it)
ANCILLARY = 0x80
CLASS_TABLE = 0x01
INDEX_STREAM = 0x02
LABEL_STREAM = 0x03
METADATA = 0x81
SECTION_NAMES = {
    CLASS_TABLE: "class_table",
    INDEX_STREAM: "index_stream",
    LABEL_STREAM: "label_stream",
    METADATA: "metadata",
}

# Section_Flags
ZSTD = 0x01                             # the body is exactly one Zstd frame
SECTION_FLAGS_KNOWN = ZSTD

# Field sizes (bytes)
MAGIC_SIZE = len(MAGIC)
POOL_DIGEST_SIZE = 32                   # SHA-256 of the pool manifest
CONTENT_CHECKSUM_SIZE = 8               # CRC-32 of the indices, CRC-32 of the labels
CRC32_SIZE = 4
VARINT_MAX_BYTES = 9                    # minimal LEB128, values < 2^63
VARINT_LIMIT = 1 << 63

# Limits (SPEC.md "Limits"); every one has its reason there.
MAX_POOL_SIZE = 1 << 48                 # ~2.8e14 items; LAION-5B is 5.85e9; 2^40 MUST work
MAX_CLASS_COUNT = 1 << 20               # labels fit u32; tables of C entries stay < 64 MiB
MAX_SECTIONS = 64                       # PNG/libpng-style cap against empty-section floods
MIN_SECTIONS = 2                        # the index and the label stream
MAX_CLASS_NAME_BYTES = 4096
MAX_METADATA_BYTES = 1 << 20            # the metadata body's raw size bound
MAX_METADATA_DEPTH = 64                 # nested JSON objects + arrays
MAX_ZSTD_WINDOW = 1 << 23               # 8 MiB, the Zstd level-19 window; RFC 9659's floor

# Decoder defaults (callers may lower or raise them)
DEFAULT_MAX_POOL_SIZE = MAX_POOL_SIZE
DEFAULT_MAX_ITEMS = 1 << 32
DEFAULT_MAX_DECODED_BYTES = 1 << 31     # 2 GiB: a 1 % selection of LAION-5B needs ~0.9 GiB

POOL_MANIFEST_PREFIX = b"PLADA-POOL-MANIFEST\x00\x01"
