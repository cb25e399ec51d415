"""The container of SPEC.md: header, sections, Zstd bodies, the pool manifest, the
decoded-memory budget, encode/decode/inspect with their thread scheduling, and "auto".

Layer rule (tests/test_architecture.py): this package sees the stream modes only as
`from .._modes import INDEX_MODES, LABEL_MODES, Mode` and never branches on a mode's name.
"""
from .._constants import FORMAT_MAJOR, FORMAT_MINOR, MAGIC
from .codec import INDEX_MODE_NAMES as INDEX_MODES
from .codec import LABEL_MODE_NAMES as LABEL_MODES
from .codec import Payload, content_checksum, decode, encode, inspect
from .manifest import pool_digest

__all__ = ["FORMAT_MAJOR", "FORMAT_MINOR", "MAGIC", "INDEX_MODES", "LABEL_MODES", "Payload",
           "content_checksum", "decode", "encode", "inspect", "pool_digest"]
