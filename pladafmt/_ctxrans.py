"""Static context rANS in segments: the engine of index mode 5 and label mode 6 (format 1.3).

SPEC.md "Format 1.3: ctx-rans".  A stream is

    Segment_Count (1 byte) | tables (bit-packed) | directory (varints) | segment data

Every symbol is coded with one of T static frequency tables (a *context*), chosen by the
mode from what was decoded before it; each table is label mode 3's table over the context's
alphabet.  The k items are cut into Segment_Count equal runs, each coded by its own 4-lane
rANS word area with label mode 3's arithmetic, so that the segments decode independently
(on several threads: an index segment and the label segment of the same items in turn).

Why static tables instead of the adaptive binary range coder of modes 4 and 5: the
encoder sees the whole selection, so two-pass tables cost the same bits as adaptation on
these stationary sources (measured: 1 % of a clustered IN-21K selection, 119 KB against
120 KB), and a table lookup per symbol is 2-4x faster than one binary decision per bit.

This module holds what both modes share: the tables (choice, writing, reading, the decode
lookup tables), the segment partition and the rANS word areas.  Pure-Python twins sit
beside the kernels; the modes (_ctx_index.py, _ctx_labels.py) add their symbol models.
"""

from __future__ import annotations

import functools

import numpy as np

from . import _rans as ra
from ._bitio import BitReader, BitWriter
from ._errors import FormatError, TruncatedError
from ._jit import njit
from ._leb128 import read_varint_twin

SEGMENT_COUNT_MAX = 64        # Segment_Count is 1..64 and at most count
SEGMENT_ITEMS = 1 << 16       # encoder rule: about one segment per 2^16 items, ...
SEGMENT_COUNT_ENC_MAX = 16    # ... a power of two, at most 16
P_FLOOR = 10                  # a table's precision P <= max(P_FLOOR, bitlen(A - 1))
P_MAX_ENC = 10                # encoder rule: precision <= max(this, bitlen(D - 1))
VARINT_LIMIT = 1 << 63     # directory varints

RANS_L = ra.RANS_L
RANS_LANES = ra.RANS_LANES
STATE_WORDS = ra.STATE_WORDS
WORD_MASK = ra.WORD_MASK



def _bitlen(v: int) -> int:
    return int(v).bit_length()


def p_limit(alphabet: int) -> int:
    """Largest precision a table over this alphabet may have: 2^10 slots, or as many as
    its alphabet needs.  Why a limit: every table decodes through a slot table of 2^P
    entries, so the limit bounds what a short stream can make a decoder build (mode 3's
    2^24 per table would let 65 tables cost 2^30 slots)."""
    return max(P_FLOOR, _bitlen(alphabet - 1))


# ---------------------------------------------------------------------------------------
# segments

def segment_count(count: int) -> int:
    """Encoder rule: 1 below 2^17 items, else the largest power of two <= count / 2^16,
    capped at 16 (two threads gain ~2x; more segments serve machines with more cores).
    Tests lower SEGMENT_ITEMS to get several segments from small inputs."""
    s = count // SEGMENT_ITEMS
    if s < 2:
        return 1
    return min(SEGMENT_COUNT_ENC_MAX, 1 << (_bitlen(s) - 1))


def segment_starts(count: int, segments: int) -> np.ndarray:
    """First item of each segment, then count: segment s holds items
    floor(s * count / S) ... floor((s + 1) * count / S) - 1."""
    return np.array([s * count // segments for s in range(segments + 1)], dtype=np.int64)


# ---------------------------------------------------------------------------------------
# tables (encoder policy: any tables that sum to 2^P and cover the symbols are valid)

def choose_table(counts: np.ndarray):
    """(P, symbols, freqs) for one context from its symbol counts (dense over the
    alphabet), or None when the context codes no symbol.  As label mode 3's rule, with the
    precision capped at max(P_MAX_ENC, bitlen(D - 1)) so the decoder's tables stay small."""
    symbols = np.flatnonzero(counts).astype(np.int64)
    if symbols.size == 0:
        return None
    c = counts[symbols].astype(np.int64)
    p_min = _bitlen(symbols.size - 1)
    p, f = ra.best_precision(symbols, c, max(p_min, min(P_MAX_ENC, _bitlen(int(c.sum())) + 1)))
    return p, symbols, f


def choose_tables(tids: np.ndarray, syms: np.ndarray, alphabets) -> list:
    """One table per context from the (context, symbol) pairs of the whole stream."""
    tables = []
    for t, a in enumerate(alphabets):
        counts = np.bincount(syms[tids == t], minlength=a)
        tables.append(choose_table(counts))
    return tables


def write_tables(w: BitWriter, tables, alphabets) -> None:
    """present bit, then (if 1) label mode 3's table over the context's alphabet."""
    for table, a in zip(tables, alphabets):
        w.write(table is not None, 1)
        if table is not None:
            ra._write_table(w, table[0], table[1], table[2], a)


def read_tables_twin(rd: BitReader, alphabets, stream: str) -> list:
    """Pure-Python twin: a list of (P, symbols, freqs) or None per context."""
    tables = []
    for t, a in enumerate(alphabets):
        if not rd.read(1, f"present bit of table {t}"):
            tables.append(None)
            continue
        try:
            table = ra._read_table(rd, a)
        except (FormatError, TruncatedError) as e:
            raise _table_error(e, stream, t) from None
        if table[0] > p_limit(a):
            raise _precision_error(stream, t, table[0], p_limit(a))
        tables.append(table)
    return tables


def _precision_error(stream, t, p, limit):
    return FormatError(f"{stream}: table {t}: precision must be <= {limit}, got {p}")


@functools.lru_cache(maxsize=64)
def tables_bits_bound(alphabets: tuple) -> int:
    """Most bits the tables can take: per table the present bit and the fixed fields, per
    entry two Rice codes (<= 31 low bits each), and unary zeros summing to at most
    A + 2^P (symbol gaps sum to < A, frequencies to 2^P).  Cached (alphabets as a tuple):
    every decode asks, through the modes' raw_size_bound, and the sum costs ~40 us."""
    return sum(1 + 35 + 64 * a + a + (1 << p_limit(a)) for a in alphabets)


def _table_error(e, stream, t):
    """Mode 3's table error (from its reader, or a twin BitReader named after the stream),
    renamed as this stream's table t."""
    msg = str(e).removeprefix("rans: ").removeprefix(f"{stream}: ")
    return type(e)(f"{stream}: table {t}: {msg}")


def dense_tables(tables, alphabets):
    """Encoder lookups: freq and cum per (context, symbol), dense, and the precisions."""
    off = np.concatenate([[0], np.cumsum(alphabets)]).astype(np.int64)
    freq = np.zeros(int(off[-1]), dtype=np.int64)
    cum = np.zeros(int(off[-1]), dtype=np.int64)
    prec = np.zeros(len(alphabets), dtype=np.int64)
    for t, table in enumerate(tables):
        if table is None:
            continue
        p, symbols, freqs = table
        freq[off[t] + symbols] = freqs
        cum[off[t] + symbols] = np.cumsum(freqs) - freqs
        prec[t] = p
    return off[:-1].copy(), freq, cum, prec


# ---------------------------------------------------------------------------------------
# rANS word areas: the encoder (mode 3's kernel, _rans.encode_symbols) and twins

def encode_words(tids, syms, off, freq, cum, prec) -> bytes:
    words = np.empty(syms.size + STATE_WORDS, dtype=np.int64)
    first = ra.encode_symbols(tids.astype(np.int64), syms.astype(np.int64), off, freq, cum, prec,
                           words)
    return words[first:].astype("<u4").tobytes()


def encode_words_twin(pairs, tables) -> bytes:
    """Readable twin of encode_symbols: pairs = [(context, symbol), ...] in decode order."""
    freq, cum = {}, {}
    for t, table in enumerate(tables):
        if table is None:
            continue
        c = 0
        for s, f in zip(table[1].tolist(), table[2].tolist()):
            freq[t, s], cum[t, s] = f, c
            c += f
    xs = [RANS_L] * RANS_LANES
    emitted = []
    for i in range(len(pairs) - 1, -1, -1):
        t, s = pairs[i]
        p = tables[t][0]
        lane = i % RANS_LANES
        x = xs[lane]
        f = freq[t, s]
        if (x >> (63 - p)) >= f:             # x >= f * 2^(63-P): push 32 bits out
            emitted.append(x & WORD_MASK)
            x >>= 32
        xs[lane] = ((x // f) << p) + (x % f) + cum[t, s]
    words = []
    for x in xs:
        words += [x & WORD_MASK, x >> 32]
    words += emitted[::-1]
    return b"".join(v.to_bytes(4, "little") for v in words)


@njit(cache=True, nogil=True)
def load_states(words, xs, info):
    """The four initial lane states of a word area into xs: 0, or 4 with info[0] = the
    lane and info[2] = its state when one is outside [2^31, 2^63)."""
    for lane in range(RANS_LANES):
        x = np.int64(words[2 * lane]) | (np.int64(words[2 * lane + 1]) << 32)
        if x < RANS_L:                     # also catches x >= 2^63 (negative int64)
            info[0] = lane
            info[2] = x
            return 4
        xs[lane] = x
    return 0


@njit(cache=True, nogil=True)
def end_states(xs, m, wp, nwords, info):
    """End of a word area after m symbols, xs holding the rotated lanes (the lane of the
    next symbol first, so lane L sits at (L - m) mod 4): 0, or 2 unconsumed words
    (info[0] = used, info[1] = words), 3 a final state != L (info[0] = lane,
    info[2] = its state)."""
    info[0] = wp
    info[1] = nwords
    if wp != nwords:
        return 2
    for lane in range(RANS_LANES):
        xl = xs[(lane - m) & 3]
        if xl != RANS_L:
            info[0] = lane
            info[2] = xl
            return 3
    return 0


class WordsTwin:
    """Readable twin of the decoders' rANS state: 4 lanes over one segment's word area."""

    def __init__(self, area: bytes, tables, stream: str, seg: int):
        self.stream, self.seg, self.tables = stream, seg, tables
        if len(area) % 4:
            raise FormatError(f"{stream}: word area of segment {seg} must be a multiple of "
                              f"4 bytes, got {len(area)}")
        self.words = [int.from_bytes(area[j:j + 4], "little") for j in range(0, len(area), 4)]
        if len(self.words) < STATE_WORDS:
            raise TruncatedError(f"{stream}: segment {seg} ends inside initial states: needs "
                                 f"{STATE_WORDS} words, {len(self.words)} left")
        self.xs = []
        for lane in range(RANS_LANES):
            x = self.words[2 * lane] | (self.words[2 * lane + 1] << 32)
            if not RANS_L <= x < ra.STATE_MAX:
                raise initial_state_error(stream, seg, lane, x)
            self.xs.append(x)
        self.wp = STATE_WORDS
        self.n = 0                       # symbols decoded: symbol n uses lane n % 4

    def symbol(self, t: int, what: str) -> int:
        table = self.tables[t]
        if table is None:
            raise absent_table_error(self.stream, self.seg, t, what)
        p, symbols, freqs = table
        lane = self.n % RANS_LANES
        x = self.xs[lane]
        slot = x & ((1 << p) - 1)
        c, j = 0, 0
        while slot >= c + int(freqs[j]):     # cum[j] <= slot < cum[j] + f[j]
            c += int(freqs[j])
            j += 1
        x = int(freqs[j]) * (x >> p) + slot - c
        if x < RANS_L:
            if self.wp >= len(self.words):
                raise truncated_error(self.stream, self.seg, what)
            x = (x << 32) | self.words[self.wp]
            self.wp += 1
        self.xs[lane] = x
        self.n += 1
        return int(symbols[j])

    def finish(self) -> None:
        if self.wp != len(self.words):
            raise unconsumed_error(self.stream, self.seg, self.wp, len(self.words))
        for lane, x in enumerate(self.xs):
            if x != RANS_L:
                raise final_state_error(self.stream, self.seg, lane, x)


def initial_state_error(stream, seg, lane, x):
    return FormatError(f"{stream}: initial state of lane {lane} of segment {seg} must be in "
                       f"[2^31, 2^63), got {x:#x}")


def final_state_error(stream, seg, lane, x):
    return FormatError(f"{stream}: final state of lane {lane} of segment {seg} must equal the "
                       f"initial state {RANS_L:#x}, got {x:#x}")


def truncated_error(stream, seg, what):
    return TruncatedError(f"{stream}: segment {seg} ends inside {what}: needs a word, 0 left")


def unconsumed_error(stream, seg, used, total):
    return FormatError(f"{stream}: unconsumed words in segment {seg}: expected {used} words, "
                       f"got {total}")


def absent_table_error(stream, seg, t, what):
    return FormatError(f"{stream}: {what} (segment {seg}) needs table {t}, which is absent")


# ---------------------------------------------------------------------------------------
# stream head: Segment_Count, tables, directory (twin and fast reader)

def read_segment_count(raw, count: int, stream: str) -> int:
    if len(raw) < 1:
        raise TruncatedError(f"{stream}: stream ends inside Segment_Count: needs 1 byte, 0 left")
    s = int(raw[0])
    if not 1 <= s <= min(SEGMENT_COUNT_MAX, count):
        raise FormatError(f"{stream}: Segment_Count must be in [1, min(64, count = {count})], "
                          f"got {s}")
    return s


def read_varints(raw, pos: int, n: int, names, stream: str):
    """n LEB128 varints (minimal, < 2^63) from raw[pos:]; returns (values, pos)."""
    buf = bytes(raw[pos:pos + 10 * n])          # a varint < 2^63 takes <= 9 bytes
    at = 0
    out = []
    for j in range(n):
        try:
            v, at = read_varint_twin(buf, at, VARINT_LIMIT)
        except ValueError as e:
            if str(e) == "truncated":
                raise TruncatedError(f"{stream}: stream ends inside {names[j]}") from None
            what = "minimal" if str(e) == "nonminimal" else f"< 2^63"
            raise FormatError(f"{stream}: {names[j]} must be a {what} varint") from None
        out.append(v)
    return out, pos + at


def table_padding(raw, bitpos: int, stream: str) -> int:
    """Byte offset after the tables; their padding bits must be zero."""
    end = (bitpos + 7) >> 3
    if bitpos & 7 and int(raw[end - 1]) >> (bitpos & 7):
        raise FormatError(f"{stream}: table padding bits must be zero, got "
                          f"{int(raw[end - 1]) >> (bitpos & 7):#x}")
    return end


# ---- fast table reader and decode tables ------------------------------------------------

@njit(cache=True, nogil=True)
def _read_tables_kernel(raw, alphabets, syms, freqs, starts, lens, precs, info):
    """All tables from bit 8 on (after Segment_Count).  Table t's entries go to
    syms/freqs[starts[t]:starts[t] + lens[t]]; precs[t] = -1 for an absent table.
    Returns 0 (info[2] = bit after the tables), or 1000 + t for a truncated present bit,
    or 2000 * (t + 1) + the mode 3 table status (details in info)."""
    bitpos = 8
    nbits = 8 * raw.shape[0]
    at = 0
    for t in range(alphabets.shape[0]):
        if bitpos >= nbits:
            info[0] = t
            return 1000
        present = (raw[bitpos >> 3] >> (bitpos & 7)) & 1
        bitpos += 1
        starts[t] = at
        if present == 0:
            precs[t] = -1
            lens[t] = 0
            continue
        st = ra._read_table_kernel(raw, alphabets[t], syms[at:], freqs[at:], info, bitpos)
        if st != 0:
            info[7] = t
            return 2000 + st
        if info[0] > max(P_FLOOR, 64 - _clz64(alphabets[t] - 1)):
            info[1] = info[0]
            info[0] = t
            return 1001
        precs[t] = info[0]
        lens[t] = info[1]
        at += info[1]
        bitpos = info[2]
    info[2] = bitpos
    return 0


@njit(cache=True, nogil=True)
def _clz64(v):
    """Leading zeros of v > 0 as a 64-bit word (a loop: called once per table)."""
    n = 64
    while v:
        v >>= 1
        n -= 1
    return n


@njit(cache=True, nogil=True)
def _build_decode_tables(syms, freqs, starts, lens, precs, cinfo, symlut, fblut):
    """Slot tables: table t's 2^P slots start at base; per slot, symlut = the symbol and
    fblut = f << 40 | P << 32 | (slot - cum), so that one load gives everything a rANS
    step needs; cinfo[t] = base << 32 | (2^P - 1).  An absent table points at the last
    slot, a sentinel with fblut = 0 (no real slot is 0: f >= 1) that the kernels test."""
    at = 0
    sentinel = symlut.shape[0] - 1
    symlut[sentinel] = 0
    fblut[sentinel] = 0
    for t in range(precs.shape[0]):
        p = precs[t]
        if p < 0:
            cinfo[t] = sentinel << 32
            continue
        cinfo[t] = (at << 32) | ((np.int64(1) << p) - 1)
        for j in range(starts[t], starts[t] + lens[t]):
            f = freqs[j]
            for u in range(f):
                symlut[at + u] = syms[j]
                fblut[at + u] = (f << 40) | (p << 32) | u
            at += f


class Tables:
    """Parsed tables of a stream, in the form the decode kernels read."""

    __slots__ = ("syms", "freqs", "starts", "lens", "precs", "cinfo", "symlut", "fblut",
                 "end_bit", "slots")


def read_tables(raw: np.ndarray, alphabets: np.ndarray, stream: str) -> Tables:
    cap = int(min(int(alphabets.sum()), 8 * raw.shape[0] + 1))  # an entry costs >= 2 bits
    tb = Tables()
    tb.syms = np.zeros(cap, dtype=np.int64)
    tb.freqs = np.zeros(cap, dtype=np.int64)
    nt = alphabets.shape[0]
    tb.starts = np.zeros(nt, dtype=np.int64)
    tb.lens = np.zeros(nt, dtype=np.int64)
    tb.precs = np.zeros(nt, dtype=np.int64)
    info = np.zeros(8, dtype=np.int64)
    st = _read_tables_kernel(raw, alphabets, tb.syms, tb.freqs, tb.starts, tb.lens, tb.precs,
                             info)
    if st == 1000:
        raise TruncatedError(f"{stream}: stream ends inside the present bit of table "
                             f"{int(info[0])}: needs 1 bit, 0 left")
    if st == 1001:
        t = int(info[0])
        raise _precision_error(stream, t, int(info[1]), p_limit(int(alphabets[t])))
    if st:
        t = int(info[7])
        try:
            ra._raise_table(st - 2000, info, int(alphabets[t]))
        except (FormatError, TruncatedError) as e:
            raise _table_error(e, stream, t) from None
    tb.end_bit = int(info[2])
    present = tb.precs >= 0
    tb.slots = 1 + (int((np.int64(1) << tb.precs[present]).sum()) if present.any() else 0)
    return tb


def finish_tables(tb: Tables) -> None:
    """Build the slot tables (tb.slots of them; the container charges their bound)."""
    tb.cinfo = np.zeros(tb.precs.shape[0], dtype=np.int64)
    tb.symlut = np.empty(tb.slots, dtype=np.int32)
    tb.fblut = np.empty(tb.slots, dtype=np.int64)
    _build_decode_tables(tb.syms, tb.freqs, tb.starts, tb.lens, tb.precs, tb.cinfo,
                         tb.symlut, tb.fblut)


def words_area(raw: np.ndarray, start: int, nbytes: int, stream: str, seg: int) -> np.ndarray:
    """An aligned uint32 copy of a segment's word area (checked: multiple of 4, >= 8 words)."""
    if nbytes % 4:
        raise FormatError(f"{stream}: word area of segment {seg} must be a multiple of 4 "
                          f"bytes, got {nbytes}")
    if nbytes < 4 * STATE_WORDS:
        raise TruncatedError(f"{stream}: segment {seg} ends inside initial states: needs "
                             f"{STATE_WORDS} words, {nbytes // 4} left")
    return np.frombuffer(raw, dtype="<u4", count=nbytes // 4, offset=start).astype(np.uint32)


def raise_words_status(st, info, stream, seg, what):
    """The shared rANS statuses of the segment kernels (1-4), named as the twins name them."""
    if st == 1:
        raise truncated_error(stream, seg, what(int(info[0])))
    if st == 2:
        raise unconsumed_error(stream, seg, int(info[0]), int(info[1]))
    if st == 3:
        raise final_state_error(stream, seg, int(info[0]), int(info[2]))
    if st == 4:
        raise initial_state_error(stream, seg, int(info[0]), int(info[2]))
