"""The two stream-mode tables of SPEC.md: Section_Mode id -> Mode.

Each mode is one module exporting one `MODE` (contract.Mode). Modes import only
pladafmt._coders, _errors, _constants, _jit and _modes.contract; the container sees them
only through these tables and never names a mode.
"""
from . import (index_bitmap, index_ctx_rans, index_rice, index_varint, label_ctx_rans,
               label_packed, label_rans)
from .contract import CONTEXT, PLAIN, Mode, Segments

__all__ = ["INDEX_MODES", "LABEL_MODES", "Mode", "Segments", "PLAIN", "CONTEXT",
           "mode_by_name"]

INDEX_MODES = {m.id: m for m in (index_bitmap.MODE, index_varint.MODE, index_rice.MODE,
                                 index_ctx_rans.MODE)}
LABEL_MODES = {m.id: m for m in (label_packed.MODE, label_rans.MODE, label_ctx_rans.MODE)}


def mode_by_name(table, name):
    """The mode of this table called `name`, or None."""
    for m in table.values():
        if m.name == name:
            return m
    return None
