"""One error root for every rejection: PladaError, a ValueError; and the error factories.

Messages name the field, the expected value and the actual value, so a caller can
tell from the message alone which rule a payload broke. The factories below build the
messages that several layers share (the container's header and section varints, the
coders' varints), so that one rule reads the same wherever it is broken.
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


# ---- factories ------------------------------------------------------------------------

def truncated_error(field, expected, got):
    """`field` needs `expected` more bytes and `got` are left."""
    return TruncatedError(f"{field}: input ends: expected {expected} more bytes, got {got}")


def varint_error(kind, field, limit):
    """The error for a varint that failed with `kind` ('truncated', 'nonminimal',
    'overflow': the kinds of leb128.read_varint_twin) in `field`, whose values are < limit."""
    if kind == "truncated":
        return TruncatedError(f"{field}: input ends inside the varint")
    if kind == "nonminimal":
        return FormatError(f"{field}: expected a minimal varint, got a last byte 0x00")
    return FormatError(f"{field}: expected a varint < {limit} of at most 9 bytes, got more")
