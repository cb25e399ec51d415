"""The encoder's choice of stream mode: the rule `auto_choice`, and the fast search that
feeds it (SPEC.md "Encoder rules"; deterministic: same input, same bytes).

Every candidate is a mode of the stream's table, raw or Zstd-wrapped. Raw sizes are
exact: each mode's own encoder (Numba, nogil) writes the body. Zstd at the requested
level (19 by default) costs ~1 s per MB, so it is not run on every candidate: each
raw body is first compressed at ZSTD_ESTIMATE_LEVEL (~300 MB/s), and the requested level
runs only on the bodies that can still win by that estimate (`_can_win`). The two
streams are searched on two threads (codec.encode).
"""
from .._errors import EncodeError
from .zstd import zstd_wrap

# "auto" takes a candidate of a costlier decode (auto_choice: the mode's decode class, plus
# one for a Zstd wrapper) only when its stream is at least this much smaller than the best
# candidate of each cheaper one.  At 1 % of a uniform IN-21K selection: ctx-rans indices
# are 0.06 % smaller than rice and decode 2.5x slower; on clustered selections the context
# modes save 20-25 %.
AUTO_MIN_GAIN = 0.005
AUTO_MAX_BODY_BYTES = 64 << 20     # see candidates()
# The estimate: Zstd at this level first.  Level 19 never saved more than
# ZSTD_SAVING_FACTOR times what this level saved on any body of the benchmark workloads
# (measured: see `_can_win`), so a body whose estimate, with its saving multiplied by
# that factor, is still not below what it must beat, cannot win and is not compressed
# again.
ZSTD_ESTIMATE_LEVEL = 1
ZSTD_SAVING_FACTOR = 2.0
ZSTD_SAVING_SLACK = 16             # bytes: frame headers differ by a few bytes between levels
MAX_DECODE_COST = 3                # context class (2) + Zstd (1)


def auto_choice(sizes, min_gain=AUTO_MIN_GAIN):
    """The rule of "auto", on (bytes, mode id, zstd, decode class) per candidate.

    A candidate's decode cost is its mode's decode class (PLAIN 0, CONTEXT 2) plus one when
    it is Zstd-wrapped.  Start from the smallest candidate (ties: lower mode id, raw before
    Zstd).  While the choice is not (1 - min_gain) x smaller than the smallest candidate of
    some cheaper cost, move to that candidate (the cheapest such cost first).  Deterministic,
    and it ends: the cost only goes down.  Benchmarks reuse it."""
    cost = [s[3] + s[2] for s in sizes]
    order = sorted(range(len(sizes)), key=lambda j: sizes[j][:3])
    pick = order[0]
    while True:
        for c in sorted({cost[j] for j in order if cost[j] < cost[pick]}):
            best = next(j for j in order if cost[j] == c)
            if sizes[pick][0] > (1 - min_gain) * sizes[best][0]:
                pick = best
                break
        else:
            return pick


def candidates(table, spec, kind, size):
    """[(mode, zstd)] for a mode spec: "auto", "smallest", "name" or "name+zstd"."""
    if spec in ("auto", "smallest"):
        # a mode whose body is that large even for one item (a bitmap of a huge pool) is
        # never the smallest, and encoding it would cost its size in memory and time
        return [(m, z) for m in table.values()
                if m.raw_size_bound(size, 1) <= AUTO_MAX_BODY_BYTES for z in (False, True)]
    if not isinstance(spec, str):
        raise EncodeError(f"{kind}_mode: expected a mode name, got {spec!r}")
    base, _, suffix = spec.partition("+")
    mode = next((m for m in table.values() if m.name == base), None)
    if mode is None or suffix not in ("", "zstd"):
        names = ", ".join(m.name for m in table.values())
        raise EncodeError(f"{kind}_mode: expected 'auto', 'smallest' or one of {names} "
                          f"(optionally +zstd), got {spec!r}")
    return [(mode, suffix == "zstd")]


def _can_win(estimate, raw_len, threshold):
    """Can the body at the requested level be below `threshold`, given its size `estimate`
    at ZSTD_ESTIMATE_LEVEL?  Assumes the requested level saves at most ZSTD_SAVING_FACTOR
    times the estimate's saving (plus a few bytes of frame header)."""
    saving = max(raw_len - estimate, 0)
    return raw_len - ZSTD_SAVING_FACTOR * saving - ZSTD_SAVING_SLACK < threshold


def choose_stream(cands, values, size, zstd_level, indices=None, strict=False):
    """The candidate `auto` (or, if strict, `smallest`) picks: (mode, zstd, body).

    Raw bodies come from the modes' encoders; `indices` goes to the label modes whose
    contexts read them (Mode.needs_indices)."""
    min_gain = 0.0 if strict else AUTO_MIN_GAIN
    raws = {}
    for mode, _ in cands:
        if mode.id not in raws:
            ctx = (indices,) if mode.needs_indices else ()
            raws[mode.id] = mode.encode(values, size, *ctx)
    bodies = [(m, z, None if z else raws[m.id]) for m, z in cands]
    exact = [len(b) for _, _, b in bodies if b is not None]
    if exact and zstd_level > ZSTD_ESTIMATE_LEVEL:
        # A wrapped body beats its own raw body only if (1 - min_gain) smaller, and it can
        # change the pick only if it is within (1 - min_gain)^-3 of the smallest exact
        # size (auto_choice moves at most three cost classes down).
        reach = min(exact) / (1 - min_gain) ** MAX_DECODE_COST
        kept = []
        for m, z, b in bodies:
            if z:
                raw = raws[m.id]
                threshold = min((1 - min_gain) * len(raw), reach)
                if not _can_win(len(zstd_wrap(raw, ZSTD_ESTIMATE_LEVEL)), len(raw), threshold):
                    continue
                b = zstd_wrap(raw, zstd_level)
            kept.append((m, z, b))
        bodies = kept
    else:
        bodies = [(m, z, zstd_wrap(raws[m.id], zstd_level) if z else b) for m, z, b in bodies]
    sizes = [(len(b), m.id, z, m.decode_class) for m, z, b in bodies]
    return bodies[auto_choice(sizes, min_gain)]
