"""TRANSITIONAL: the 1.3 name of pladafmt._coders.leb128, for the 1.3 container until it is
replaced; deleted then."""
from ._coders.leb128 import (ERR_NONMINIMAL, ERR_OVERFLOW, ERR_TRUNCATED, OK,  # noqa: F401
                             leb128_size, read_varint, read_varint_twin, write_varint,
                             write_varint_twin)
