"""PLADA conformance suite (format 2.0): vectors, their manifest, the generator and the runner.

See conformance/README.md. `runner` is standard-library only; `generate` (with `writer/`
and `cases/`) is too, and never imports pladafmt: it is an independent implementation of
SPEC.md (python-zstandard, when installed, only checks the frozen compressed frames).
"""
