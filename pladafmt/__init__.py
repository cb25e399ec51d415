"""pladafmt: PLADA task payloads — a classification task as pool indices and labels.

Public API: encode, decode, inspect, pool_digest, content_checksum, Payload, the errors,
and the mode names. Everything else lives in private packages and may change:

    _container  the format: header, sections, Zstd bodies, the memory budget,
                encode/decode/inspect and their threads, "auto"
    _modes      the stream modes, one module each, and their two tables
    _coders     the primitives the modes share (varints, bit I/O, rANS, gaps)
    _errors, _constants, _crc, _jit   the base every layer may use

Layer rule (tests/test_architecture.py checks it on the imports): _coders imports only
the base; _modes only _coders and the base; _container sees the modes only as
`from .._modes import INDEX_MODES, LABEL_MODES, Mode` and never names one; this module
and cli.py use only the public API of _container and _errors.
"""
from ._container import FORMAT_MAJOR as FORMAT_MAJOR
from ._container import FORMAT_MINOR as FORMAT_MINOR
from ._container import MAGIC as MAGIC
from ._container import Payload as Payload
from ._container import content_checksum as content_checksum
from ._container import decode as decode
from ._container import encode as encode
from ._container import inspect as inspect
from ._container import pool_digest as pool_digest
from ._container import INDEX_MODES as INDEX_MODES
from ._container import LABEL_MODES as LABEL_MODES
from ._errors import ChecksumError as ChecksumError
from ._errors import EncodeError as EncodeError
from ._errors import FormatError as FormatError
from ._errors import LimitError as LimitError
from ._errors import PladaError as PladaError
from ._errors import PoolMismatchError as PoolMismatchError
from ._errors import TrailingDataError as TrailingDataError
from ._errors import TruncatedError as TruncatedError
from ._errors import UnsupportedVersionError as UnsupportedVersionError

__version__ = "2.0.0"
