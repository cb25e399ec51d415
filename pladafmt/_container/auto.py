"""The encoder's choice of stream mode: the rule `auto_choice`, and the fast search that
feeds it (SPEC.md "Encoder rules"; deterministic: same input and options, same bytes).

Every candidate is a mode of the stream's table, raw or Zstd-wrapped. Raw sizes are
exact: each mode's own encoder (Numba, nogil) writes its body. Zstd at the requested
level (19 by default) costs ~0.5-1 s per MB, as much as all the mode encoders together at
1.4 M items, so it runs only on the wrapped bodies that can still change the choice
(`choose_stream`), judged in two stages from cheap estimates:

A. Zstd level 1 on the whole body (~300 MB/s). On every mode's body of the 13 benchmark
   workloads measured when this rule was set (uniform and clustered, 0.1-50 % of 60K to
   IN-21K pools; benchmarks/RESULTS.md), level 19 saved at most 1.9x what level 1 saved, plus
   at most 1.0 % of the raw body where level 1 saved nothing (rice of a clustered
   selection); a body whose size, less ZSTD_SAVING_FACTOR x level 1's saving and
   ZSTD_SAVING_SLACK of the raw body, still cannot change the choice is dropped. This
   drops the bodies Zstd cannot shrink much next to a clearly better candidate.
B. The level-1 size of the whole body times the ratio level 19 / level 1 on its first
   ZSTD_SAMPLE_BYTES (exact when the body is no longer than that). Measured against the
   full level-19 size on those workloads, this estimate is 2.2 % too small to 9 % too
   large (clustered selections: matches beyond the sample); the body is dropped when its
   estimate less ZSTD_ESTIMATE_MARGIN (0.2 %, the size tolerance "auto" allows itself)
   cannot change the choice, else compressed in full. So a body over the sample size may
   be dropped though it would have won, by at most the estimate's error on it (none of
   the measured workloads changed), and one the estimate flatters costs time, not bytes.
"auto" (not "smallest") also never wraps a body over AUTO_ZSTD_MAX_BYTES: Zstd-19 costs
   5-15 s on such a body (varint at 50 % of IN-21K: 7.1 MB), and on every workload
   measured the wrapped body of one that large was either larger than the best raw one
   or under 0.05 % smaller (rice+zstd at 25 % of IN-21K in format 1.3).

A body "cannot change the choice" when `auto_choice` over the exact sizes picks the same
candidate with the body added at that lower size. The decision uses sizes only, never
time, so the result is deterministic.
"""
import zstandard

from .._errors import EncodeError
from .zstd import zstd_wrap

# "auto" takes a candidate of a costlier decode (auto_choice: the mode's decode class, plus
# one for a Zstd wrapper) only when its stream is at least this much smaller than the best
# candidate of each cheaper one.  At 1 % of a uniform IN-21K selection: ctx-rans indices
# are 0.06 % smaller than rice and decode 2.5x slower; on clustered selections the context
# modes save 20-25 %.
AUTO_MIN_GAIN = 0.005
AUTO_MAX_BODY_BYTES = 64 << 20     # see candidates()
ZSTD_ESTIMATE_LEVEL = 1            # stage A; a requested level <= this is run directly
ZSTD_SAVING_FACTOR = 2.0           # stage A: observed <= 1.9
ZSTD_SAVING_SLACK = 0.02           # stage A, of the raw body: observed <= 0.010
ZSTD_SAMPLE_BYTES = 1 << 17        # stage B
ZSTD_ESTIMATE_MARGIN = 0.002       # stage B
AUTO_ZSTD_MAX_BYTES = 2 << 20      # "auto" wraps no larger raw body


def auto_choice(sizes, min_gain=AUTO_MIN_GAIN):
    """The rule of "auto", on (bytes, mode id, zstd, decode class) per candidate.

    A candidate's decode cost is its mode's decode class (PLAIN 0, CONTEXT 2) plus one when
    it is Zstd-wrapped.  Start from the smallest candidate (ties: lower mode id, raw before
    Zstd).  While the choice is not (1 - min_gain) x smaller than the smallest candidate of
    some cheaper cost, move to that candidate (the cheapest such cost first).  Deterministic,
    and it ends: the cost only goes down.  (benchmarks/contenders.auto_rule restates it
    independently, to check the choices encode makes.)"""
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
    mode = {m.name: m for m in table.values()}.get(base)
    if mode is None or suffix not in ("", "zstd"):
        names = ", ".join(m.name for m in table.values())
        raise EncodeError(f"{kind}_mode: expected 'auto', 'smallest' or one of {names} "
                          f"(optionally +zstd), got {spec!r}")
    return [(mode, suffix == "zstd")]


def _zstd_size(raw, level):
    # a new compressor per call: python-zstandard compressors are not thread-safe
    return len(zstandard.ZstdCompressor(level=level, write_content_size=True,
                                        write_checksum=False).compress(raw))


def _lower_bounds(raw, level):
    """Stage A and stage B lower bounds of the wrapped body's size at `level` (lazily:
    the second costs a level-`level` run on the sample)."""
    z1 = _zstd_size(raw, ZSTD_ESTIMATE_LEVEL)
    yield len(raw) * (1 - ZSTD_SAVING_SLACK) - ZSTD_SAVING_FACTOR * max(len(raw) - z1, 0)
    sample = raw[:ZSTD_SAMPLE_BYTES]
    if len(sample) == len(raw):
        yield None                  # small enough to compress in full
        return
    ratio = _zstd_size(sample, level) / _zstd_size(sample, ZSTD_ESTIMATE_LEVEL)
    yield z1 * ratio * (1 - ZSTD_ESTIMATE_MARGIN)


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
    exact = [(m, False, raws[m.id]) for m, z in cands if not z]
    wrapped = [m for m, z in cands
               if z and (strict or not exact or len(raws[m.id]) <= AUTO_ZSTD_MAX_BYTES)]
    if not exact or zstd_level <= ZSTD_ESTIMATE_LEVEL:   # "mode+zstd", or a cheap level
        exact += [(m, True, zstd_wrap(raws[m.id], zstd_level)) for m in wrapped]
        wrapped = []

    def key(m, z, nbytes):
        return (nbytes, m.id, z, m.decode_class)

    def pick(extra=()):
        sizes = [key(m, z, len(b)) for m, z, b in exact] + list(extra)
        return sizes[auto_choice(sizes, min_gain)][1:3]
    chosen = pick()
    kept = []
    for m in wrapped:               # judged against the exact sizes alone: deterministic
        for bound in _lower_bounds(raws[m.id], zstd_level):
            if bound is None or pick([key(m, True, max(int(bound), 0))]) != chosen:
                continue            # it may change the choice: the next stage, or in full
            break                   # it cannot: dropped
        else:
            kept.append((m, True, zstd_wrap(raws[m.id], zstd_level)))
    bodies = exact + kept
    sizes = [key(m, z, len(b)) for m, z, b in bodies]
    return bodies[auto_choice(sizes, min_gain)]
