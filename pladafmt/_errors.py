"""One error root for every rejection: PladaError, a ValueError.

Messages name the field, the expected value and the actual value, so a caller can
tell from the message alone which rule a payload broke.
"""


class PladaError(ValueError):
    """Root of every error pladafmt raises for bad input (encode or decode)."""


class FormatError(PladaError):
    """The payload breaks a rule of SPEC.md (structure, canonical form, reserved bits)."""


class TruncatedError(FormatError, EOFError):
    """The payload ends before a field or section it declares."""


class TrailingDataError(FormatError):
    """Bytes follow the last declared section."""


class ChecksumError(FormatError):
    """A CRC-32 or the content checksum does not match."""


class UnsupportedVersionError(FormatError):
    """Unknown major version, unknown required feature, or unknown critical mode/section."""


class LimitError(PladaError):
    """A declared size or count exceeds a limit of SPEC.md or of the caller."""


class PoolMismatchError(PladaError):
    """The payload indexes a different reference pool than the one supplied."""


class EncodeError(PladaError):
    """encode() was given arguments it cannot turn into a valid payload."""
