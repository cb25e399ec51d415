"""The decoded-memory budget: a MAY policy of SPEC.md ("Limits"), not a format rule.

A decoder MAY reject a payload whose decoding would allocate more than it is willing to.
This one follows the recommended formula: 16 bytes per item (the int64 indices and labels
it returns), charged at step 6 of the check order, then every decompressed raw body (step
10), then what each stream mode says its decoder allocates beyond that (Mode.decode_memory:
tables, aligned copies, u32 labels), then one Python str object per class name. The
container charges what the mode declares and never knows why: no mode is named here.
"""
from .._errors import LimitError

NAME_OBJECT_BYTES = 64     # a Python str per class name: ~50-60 bytes even when short
ITEM_BYTES = 16            # one int64 index and one int64 label per kept item


class Budget:
    """max_decoded_bytes, spent as the decoder allocates."""

    def __init__(self, limit):
        self.left = limit

    def spend(self, nbytes, what):
        if nbytes > self.left:
            raise LimitError(f"{what}: needs {nbytes} bytes, expected <= the remaining "
                             f"max_decoded_bytes budget {self.left}")
        self.left -= nbytes

    def spend_items(self, item_count):
        self.spend(ITEM_BYTES * item_count, "Item_Count (decoded indices and labels)")

    def spend_mode(self, mode, size, count, raw_len, field):
        self.spend(mode.decode_memory(size, count, raw_len), f"{field} decode memory")

    def spend_names(self, class_count):
        self.spend(NAME_OBJECT_BYTES * class_count, "Class_Count (class names)")
