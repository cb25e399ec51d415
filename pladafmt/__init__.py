"""pladafmt: PLADA task payloads — a classification task as pool indices and labels.

Public API: encode, decode, inspect, pool_digest, Payload, the errors, and the mode
names. Everything else lives in private modules and may change.
"""
from ._codec import Payload as Payload
from ._codec import content_checksum as content_checksum
from ._codec import decode as decode
from ._codec import encode as encode
from ._codec import inspect as inspect
from ._constants import FORMAT_MAJOR as FORMAT_MAJOR
from ._constants import FORMAT_MINOR as FORMAT_MINOR
from ._constants import MAGIC as MAGIC
from ._errors import ChecksumError as ChecksumError
from ._errors import EncodeError as EncodeError
from ._errors import FormatError as FormatError
from ._errors import LimitError as LimitError
from ._errors import PladaError as PladaError
from ._errors import PoolMismatchError as PoolMismatchError
from ._errors import TrailingDataError as TrailingDataError
from ._errors import TruncatedError as TruncatedError
from ._errors import UnsupportedVersionError as UnsupportedVersionError
from ._manifest import pool_digest as pool_digest
from ._modes import INDEX_MODE_TABLE as _I
from ._modes import LABEL_MODE_TABLE as _L

INDEX_MODES = tuple(m.name for m in sorted(_I.values(), key=lambda m: m.id))
LABEL_MODES = tuple(m.name for m in sorted(_L.values(), key=lambda m: m.id))
__version__ = "1.3.0"
