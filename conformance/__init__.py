"""PLADA conformance suite: vectors, their manifest, the generator and the runner.

See conformance/README.md. `runner` is standard-library only; `generate` needs numpy,
zstandard and pladafmt's stream encoders.
"""
