"""Wire constants, named exactly as in SPEC.md."""

MAGIC = b"\x89PLD\r\n\x1a\n"          # PNG-style: high bit, CR LF, ^Z, LF
FORMAT_MAJOR = 1
FORMAT_MINOR = 3                        # the newest minor this codec implements
WRITE_MINOR_MIN = 2                     # payloads say max(2, the newest minor of a mode used)
HEADER_SIZE = 88
SECTION_HEADER_SIZE = 12

# Header_Flags
FLAG_POOL_DIGEST = 0x01                 # Pool_Digest holds a SHA-256; else it MUST be zero
HEADER_FLAGS_KNOWN = FLAG_POOL_DIGEST

# Feature words: format 1.x defines no bits yet. An unknown Required_Features bit is
# rejected; unknown Optional_Features bits are ignored.
REQUIRED_FEATURES_KNOWN = 0x00000000
OPTIONAL_FEATURES_KNOWN = 0x00000000

# Section_Type (bit 15 = ANCILLARY: a decoder that does not know the type skips it)
ANCILLARY_BIT = 0x8000
SECTION_CLASS_TABLE = 0x0001
SECTION_INDEX_STREAM = 0x0002
SECTION_LABEL_STREAM = 0x0003
SECTION_METADATA = 0x8001
SECTION_NAMES = {
    SECTION_CLASS_TABLE: "class_table",
    SECTION_INDEX_STREAM: "index_stream",
    SECTION_LABEL_STREAM: "label_stream",
    SECTION_METADATA: "metadata",
}

# Section_Flags
SECTION_FLAG_ZSTD = 0x01                # body is exactly one Zstd frame
SECTION_FLAGS_KNOWN = SECTION_FLAG_ZSTD

# Limits (SPEC.md "Limits"); every one has its reason there.
MAX_POOL_SIZE = 1 << 48                 # ~2.8e14 items; LAION-5B is 5.85e9; 2^40 MUST work
MAX_CLASS_COUNT = 1 << 20               # labels fit u32; tables of C entries stay < 64 MiB
MAX_SECTIONS = 64                       # PNG/libpng-style cap against empty-section floods
MAX_CLASS_NAME_BYTES = 4096
MAX_METADATA_BYTES = 1 << 20
MAX_SECTION_LENGTH = (1 << 32) - 1      # Section_Length is a u32
MAX_ZSTD_WINDOW = 1 << 23               # 8 MiB, the Zstd level-19 window; RFC 9659's floor

# Decoder defaults (callers may lower or raise them)
DEFAULT_MAX_POOL_SIZE = MAX_POOL_SIZE
DEFAULT_MAX_ITEMS = 1 << 32
DEFAULT_MAX_DECODED_BYTES = 1 << 31     # 2 GiB: a 1 % selection of LAION-5B needs ~0.9 GiB

CONTENT_CHECKSUM_SIZE = 8               # CRC-32 of the indices, CRC-32 of the labels
POOL_MANIFEST_PREFIX = b"PLADA-POOL-MANIFEST\x00\x01"
