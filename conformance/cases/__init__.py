"""The conformance cases, one module per SPEC.md section, in the spec's order.

Each module's define(suite) adds its vectors through suite.y / suite.n (common.py). A
vector id is unique across the suite; generate.py collects them all."""
from . import (check_order, class_table, container_header, container_sections, conventions,
               index_bitmap, index_ctx_rans, index_rice, index_varint, label_ctx_rans,
               label_packed, label_rans, limits, metadata, pool_manifest, streams, zstd)

MODULES = (conventions, container_header, container_sections, zstd, class_table, metadata,
           pool_manifest, streams, index_bitmap, index_varint, index_rice, index_ctx_rans,
           label_packed, label_rans, label_ctx_rans, limits, check_order)
