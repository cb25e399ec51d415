"""The conformance suite's own PLADA 2.0 writer, written from SPEC.md alone.

It must not import pladafmt: it is the second implementation that keeps the spec honest
(a vector is only evidence when two independent codes agree on it). One module per part of
the spec: `bits` (conventions), `rans` (the rANS engine and the ctx-rans shared layout),
`index_modes`, `label_modes` and `container` (header, sections, CRCs, Zstd frames). No
validation anywhere: the n_ vectors need streams that break rules.
"""
