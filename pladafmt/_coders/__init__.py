"""Coders: the bit- and word-level primitives the stream modes are built from.

bitio (LSB-first bit fields, unary, Rice; the twins' BitWriter/BitReader and the kernels'
64-bit peek), leb128 (minimal unsigned varints), gaps (index gaps, bitlen, the gap
bucket), rans (the one static rANS engine: tables, lanes, word areas and their errors).
Coders import only pladafmt._errors, _constants, _jit and other coders.
"""
