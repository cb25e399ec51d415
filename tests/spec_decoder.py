"""A second PLADA 2.0 decoder, written from SPEC.md's text alone by someone who had not read
pladafmt/ (standard library + zstandard, pure Python, slow).

It exists to keep the spec honest (issue #15: "two conforming decoders agree on every
input"): tests/test_spec_decoder.py runs it over every conformance vector and against
pladafmt.decode on mutated payloads, requiring the same outcome and the same error name.
Its only allowed difference is one SPEC.md section 8 permits: a decoder may charge its own
costs to the memory budget (pladafmt charges N bytes to unpack a bitmap), so near the
limits pladafmt may say LimitError where this one reaches a later error.
"""
import json
import math
import struct
import zlib

import zstandard


class PladaError(ValueError): pass
class FormatError(PladaError): pass
class TruncatedError(PladaError, EOFError): pass
class TrailingDataError(PladaError): pass
class ChecksumError(PladaError): pass
class UnsupportedVersionError(PladaError): pass
class LimitError(PladaError): pass
class PoolMismatchError(PladaError): pass


MAGIC = bytes.fromhex("89504C440D0A1A0A")
L = 1 << 31
BUDGET = 2 << 30


def bitlen(v):
    return int(v).bit_length()


# ---- 2. varint rule -----------------------------------------------------------------
def read_varint(buf, pos, limit=1 << 63):
    if limit <= 0:
        raise FormatError("varint: no value fits")
    value, shift, nbytes = 0, 0, 0
    while True:
        if pos >= len(buf):
            raise TruncatedError("varint: input ends")
        b = buf[pos]
        pos += 1
        nbytes += 1
        if nbytes == 10:
            raise FormatError("varint: 10th byte")
        value |= (b & 0x7F) << shift
        if value >= limit:
            raise FormatError("varint: >= limit")
        if not b & 0x80:
            if b == 0 and nbytes > 1:
                raise FormatError("varint: not minimal")
            return value, pos
        shift += 7


# ---- 6.1 bitstreams -------------------------------------------------------------------
class Bits:
    def __init__(self, raw, start_bit=0):
        self.raw, self.pos, self.n = raw, start_bit, 8 * len(raw)

    def read(self, w):
        if self.pos + w > self.n:
            raise TruncatedError("bitstream: field past the end")
        v = 0
        for j in range(w):
            p = self.pos + j
            v |= ((self.raw[p >> 3] >> (p & 7)) & 1) << j
        self.pos += w
        return v

    def unary(self):
        q = 0
        while True:
            if self.pos >= self.n:
                raise TruncatedError("bitstream: unary run past the end")
            p = self.pos
            self.pos += 1
            if (self.raw[p >> 3] >> (p & 7)) & 1:
                return q
            q += 1

    def limited_rice(self, r, limit):
        q = self.unary()
        if q > (limit >> r):
            raise FormatError("rice: over limit (quotient)")
        v = (q << r) | self.read(r)
        if v > limit:
            raise FormatError("rice: over limit")
        return v

    def padding_to_byte(self):
        """Zero padding up to the byte holding the last bit; returns the next byte offset."""
        end = (self.pos + 7) >> 3
        if self.pos & 7 and self.raw[end - 1] >> (self.pos & 7):
            raise FormatError("padding bit set")
        return end

    def finish_exact(self):
        end = (self.pos + 7) >> 3
        if end != len(self.raw):
            raise FormatError("bytes after the last bit")
        self.padding_to_byte()


# ---- 6.2 tables ---------------------------------------------------------------------
def read_table(bits, A, p_max):
    P = bits.read(5)
    if P > p_max:
        raise FormatError("precision")
    D = bits.read(bitlen(A - 1)) + 1
    if D > A:
        raise FormatError("D > A")
    rs, rf = bits.read(5), bits.read(5)
    syms, freqs, s, cum = [], [], -1, 0
    for j in range(D):
        g = bits.limited_rice(rs, A - 2 - s)
        s = s + 1 + g
        f = bits.limited_rice(rf, (1 << P) - cum)
        if f == 0:
            raise FormatError("zero frequency")
        syms.append(s)
        freqs.append(f)
        cum += f
    if cum != 1 << P:
        raise FormatError("sum != 2^P")
    return P, syms, freqs


# ---- 6.3 word areas -------------------------------------------------------------------
class Area:
    def __init__(self, raw, n_items):
        self.R = 1 if n_items < 2048 else 4
        if len(raw) % 4:
            raise FormatError("word area not a multiple of 4")
        if len(raw) < 8 * self.R:
            raise TruncatedError("word area under 8R")
        self.w = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]
        self.x = []
        for r in range(self.R):
            x = self.w[2 * r] | self.w[2 * r + 1] << 32
            if not L <= x < 1 << 63:
                raise FormatError("initial state")
            self.x.append(x)
        self.next, self.m = 2 * self.R, 0

    def slot_symbol(self, table):
        P, syms, freqs = table
        r = self.m % self.R
        slot = self.x[r] & ((1 << P) - 1)
        cum = 0
        for j, f in enumerate(freqs):
            if cum <= slot < cum + f:
                break
            cum += f
        self.x[r] = f * (self.x[r] >> P) + slot - cum
        return syms[j]

    def renorm(self):
        r = self.m % self.R
        if self.x[r] < L:
            if self.next >= len(self.w):
                raise TruncatedError("renormalisation word")
            self.x[r] = (self.x[r] << 32) | self.w[self.next]
            self.next += 1
        self.m += 1

    def end(self):
        if self.next != len(self.w):
            raise FormatError("unread words")
        for x in self.x:
            if x != L:
                raise FormatError("final state")


# ---- 6.4 segmented streams ----------------------------------------------------------------
def segmented_head(raw, k, alphabets, row_fields):
    if len(raw) < 1:
        raise TruncatedError("Segment_Count")
    S = raw[0]
    if not 1 <= S <= min(64, k):
        raise FormatError("Segment_Count")
    bits = Bits(raw, 8)
    tables = []
    for A in alphabets:
        if bits.read(1):
            tables.append(read_table(bits, A, max(10, bitlen(A - 1))))
        else:
            tables.append(None)
    pos = bits.padding_to_byte()
    rows = []
    for s in range(S):
        row = []
        for name in row_fields(s):
            v, pos = read_varint(raw, pos)
            row.append(v)
        rows.append(row)
        yield_row_check = None
    return S, tables, rows, pos


def check_data(raw, pos, need):
    have = len(raw) - pos
    if need > have:
        raise TruncatedError("segment data")
    if need < have:
        raise FormatError("bytes after segment data")


def starts(k, S):
    return [s * k // S for s in range(S + 1)]


# ---- 4. index modes -------------------------------------------------------------------
def idx_bitmap(raw, N, k):
    need = (N + 7) // 8
    if len(raw) < need:
        raise TruncatedError("bitmap short")
    if len(raw) > need:
        raise FormatError("bitmap long")
    if N % 8 and raw[-1] >> (N % 8):
        raise FormatError("bitmap padding")
    out = [i for i in range(N) if raw[i >> 3] >> (i & 7) & 1]
    if len(out) != k:
        raise FormatError("bitmap count")
    return out


def idx_varint(raw, N, k):
    pos, prev, out = 0, -1, []
    for _ in range(k):
        g, pos = read_varint(raw, pos, N - 1 - prev)
        prev += 1 + g
        out.append(prev)
    if pos != len(raw):
        raise FormatError("varint trailing")
    return out


def idx_rice(raw, N, k):
    bits, prev, R, out = Bits(raw), -1, 0, []
    for i in range(k):
        if i % 128 == 0:
            if bits.read(1) == 0:
                R = bits.read(6)
                if R > 47:
                    raise FormatError("R > 47")
        g = bits.limited_rice(R, N - 2 - prev)
        prev += 1 + g
        out.append(prev)
    bits.finish_exact()
    return out


def idx_ctx(raw, N, k):
    # rows: read the row, then the Base check (after the whole row)
    if len(raw) < 1:
        raise TruncatedError("Segment_Count")
    S = raw[0]
    if not 1 <= S <= min(64, k):
        raise FormatError("Segment_Count")
    bits = Bits(raw, 8)
    tables = [read_table(bits, 97, 10) if bits.read(1) else None for _ in range(16)]
    pos = bits.padding_to_byte()
    rows = []
    for s in range(S):
        base = -1
        if s:
            base, pos = read_varint(raw, pos)
        wb, pos = read_varint(raw, pos)
        rb, pos = read_varint(raw, pos)
        if s and base > N - 2:
            raise FormatError("Base > N - 2")
        rows.append((base, wb, rb))
    check_data(raw, pos, sum(wb + rb for _, wb, rb in rows))
    st, out = starts(k, S), []
    for s, (base, wb, rb) in enumerate(rows):
        if s and base != out[-1]:
            raise FormatError("Base differs")
        area = Area(raw[pos:pos + wb], st[s + 1] - st[s])
        rawbits = Bits(raw[pos + wb:pos + wb + rb])
        pos += wb + rb
        prev, n_prev = base, 0
        for j in range(st[s], st[s + 1]):
            t = tables[min(n_prev, 15)]
            if t is None:
                raise FormatError("absent table")
            c = area.slot_symbol(t)
            n, top = (c + 1) >> 1, (c + 1) & 1
            if c == 0:
                v = 1
            else:
                m = rawbits.read(n - 1) if n >= 2 else 0
                v = (2 + top) * (1 << (n - 1)) + m
            if v - 1 > N - 2 - prev:
                raise FormatError("gap range")
            area.renorm()
            prev += v
            out.append(prev)
            n_prev = n
        area.end()
        rawbits.finish_exact()
    return out


# ---- 5. label modes -------------------------------------------------------------------
def lab_packed(raw, C, k, idx):
    w = bitlen(C - 1)
    need = (k * w + 7) // 8
    if len(raw) < need:
        raise TruncatedError("packed short")
    if len(raw) > need:
        raise FormatError("packed long")
    bits, out = Bits(raw), []
    for _ in range(k):
        v = bits.read(w)
        if v >= C:
            raise FormatError("label >= C")
        out.append(v)
    bits.padding_to_byte()
    return out


def lab_rans(raw, C, k, idx):
    bits = Bits(raw)
    table = read_table(bits, C, 24)
    pos = bits.padding_to_byte()
    area = Area(raw[pos:], k)
    out = []
    for _ in range(k):
        out.append(area.slot_symbol(table))
        area.renorm()
    area.end()
    return out


def lab_ctx(raw, C, k, idx):
    if len(raw) < 1:
        raise TruncatedError("Segment_Count")
    S = raw[0]
    if not 1 <= S <= min(64, k):
        raise FormatError("Segment_Count")
    bits = Bits(raw, 8)
    alph = [3] * 64 + [C]
    tables = [read_table(bits, A, max(10, bitlen(A - 1))) if bits.read(1) else None for A in alph]
    pos = bits.padding_to_byte()
    sizes = []
    for s in range(S):
        v, pos = read_varint(raw, pos)
        sizes.append(v)
    check_data(raw, pos, sum(sizes))
    st, out = starts(k, S), []
    for s in range(S):
        area = Area(raw[pos:pos + sizes[s]], st[s + 1] - st[s])
        pos += sizes[s]
        prev = back = -1
        run = 0
        for j in range(st[s], st[s + 1]):
            if j > st[s]:
                t = min(run, 3) * 16 + min(bitlen(idx[j] - idx[j - 1]) - 1, 15)
                if tables[t] is None:
                    raise FormatError("absent event table")
                e = area.slot_symbol(tables[t])
                if e == 1 and back == -1:
                    raise FormatError("back with no earlier run")
                area.renorm()
                if e == 0:
                    out.append(prev)
                    run += 1
                    continue
                if e == 1:
                    back, prev = prev, back
                    run = 0
                    out.append(prev)
                    continue
            if tables[64] is None:
                raise FormatError("absent literal table")
            lab = area.slot_symbol(tables[64])
            if lab == prev or lab == back:
                raise FormatError("literal equals prev/back")
            area.renorm()
            back, prev, run = prev, lab, 0
            out.append(lab)
        area.end()
    return out


def B(alphabets):
    return sum(36 + 65 * a + 2 ** max(10, bitlen(a - 1)) for a in alphabets)


def W(k, S):
    return 2 * S + 6 * min(S, k // 2048)


def v_size(v):
    n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


def index_bound(mode, N, k):
    if k == 0:
        return 0
    S = min(64, k)
    return {0: (N + 7) // 8, 1: k * v_size(N - 1),
            2: (7 * -(-k // 128) + 48 * k + N - k + 7) // 8,
            3: 1 + (B([97] * 16) + 7) // 8 + 30 * S + 4 * (k + W(k, S)) + (47 * k + 7) // 8 + S}[mode]


def label_bound(mode, C, k):
    if k == 0:
        return 0
    S = min(64, k)
    R = 1 if k < 2048 else 4
    return {0: (k * bitlen(C - 1) + 7) // 8,
            1: (35 + 64 * min(C, k) + C + 2 ** 24 + 7) // 8 + 4 * (k + 2 * R),
            2: 1 + (B([3] * 64 + [C]) + 7) // 8 + 10 * S + 4 * (2 * k + W(k, S))}[mode]


INDEX = {0: ("bitmap", idx_bitmap), 1: ("varint", idx_varint), 2: ("rice", idx_rice),
         3: ("ctx-rans", idx_ctx)}
LABEL = {0: ("packed", lab_packed), 1: ("rans", lab_rans), 2: ("ctx-rans", lab_ctx)}


# ---- 3.3 Zstd ------------------------------------------------------------------------
def zstd_raw(body, bound, budget):
    if len(body) < 4 or body[:4] != b"\x28\xb5\x2f\xfd":
        raise FormatError("zstd magic")
    pos = 4
    if len(body) < pos + 1:
        raise FormatError("zstd header incomplete")
    fhd = body[pos]
    pos += 1
    fcs_flag, single, reserved, dict_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 3) & 1, fhd & 3
    if reserved:
        raise FormatError("zstd reserved bit")
    window = None
    if not single:
        if len(body) < pos + 1:
            raise FormatError("zstd header incomplete")
        wd = body[pos]
        pos += 1
        wlog = 10 + (wd >> 3)
        base = 1 << wlog
        window = base + (base >> 3) * (wd & 7)
    dsize = (0, 1, 2, 4)[dict_flag]
    fsize = (1 if single else 0, 2, 4, 8)[fcs_flag]
    if len(body) < pos + dsize + fsize:
        raise FormatError("zstd header incomplete")
    dict_id = int.from_bytes(body[pos:pos + dsize], "little")
    pos += dsize
    if fsize == 0:
        raise FormatError("zstd FCS absent")
    fcs = int.from_bytes(body[pos:pos + fsize], "little") + (256 if fsize == 2 else 0)
    if dict_id != 0:
        raise FormatError("zstd dictionary")
    if fcs > bound:
        raise FormatError("zstd FCS > bound")
    if fcs > budget[0]:
        raise LimitError("zstd FCS > budget")
    if single:
        window = fcs
    if window > 8 << 20:
        raise LimitError("zstd window")
    d = zstandard.ZstdDecompressor(max_window_size=1 << 31).decompressobj(read_across_frames=False)
    try:
        out = d.decompress(body)
    except zstandard.ZstdError as e:
        raise FormatError(f"zstd frame: {e}")
    if not d.eof or d.unused_data:
        raise FormatError("zstd frame incomplete or followed by bytes")
    if len(out) != fcs:
        raise FormatError("zstd output size")
    budget[0] -= fcs
    return out


# ---- 3.5 metadata ---------------------------------------------------------------------
def parse_metadata(raw):
    try:
        text = raw.decode("utf-8")

        def pairs(p):
            keys = [k for k, _ in p]
            if len(set(keys)) != len(keys):
                raise ValueError("duplicate")
            return dict(p)

        def const(name):
            raise ValueError(name)

        def flt(t):
            v = float(t)
            if math.isinf(v):
                raise ValueError("overflow")
            return v

        def integer(t):
            v = int(t)
            try:
                float(v)
            except OverflowError:
                raise ValueError("overflow")
            return v
        meta = json.loads(text, object_pairs_hook=pairs, parse_constant=const,
                          parse_float=flt, parse_int=integer)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise FormatError(f"metadata: {e}")
    if not isinstance(meta, dict):
        raise FormatError("metadata not an object")
    stack = [(meta, 1)]
    while stack:
        v, dpt = stack.pop()
        if dpt > 64:
            raise FormatError("depth")
        items = list(v.items()) if isinstance(v, dict) else list(enumerate(v))
        for key, item in items:
            for s in (key, item):
                if isinstance(s, str):
                    try:
                        s.encode("utf-8")
                    except UnicodeEncodeError:
                        raise FormatError("lone surrogate")
            if isinstance(item, (dict, list)):
                stack.append((item, dpt + 1))
    return meta


# ---- 9.2 the check order ------------------------------------------------------------------
def decode(data, pool_digest=None):
    data = bytes(data)
    head = data[:8]
    if head != MAGIC[:len(head)]:
        raise FormatError("Magic")
    if len(data) < 8:
        raise TruncatedError("Magic")
    if len(data) < 9:
        raise TruncatedError("Version_Major")
    if data[8] != 2:
        raise UnsupportedVersionError("Version_Major")
    pos = 9
    if len(data) < pos + 2:
        raise TruncatedError("header")
    flags = data[10]
    pos = 11
    vals = []
    for _ in range(5):
        v, pos = read_varint(data, pos)
        vals.append(v)
    req, N, k, C, nsec = vals
    digest = None
    if flags & 1:
        if len(data) < pos + 32:
            raise TruncatedError("Pool_Digest")
        digest = data[pos:pos + 32]
        pos += 32
    if len(data) < pos + 12:
        raise TruncatedError("Content_Checksum / Header_CRC32")
    cc = data[pos:pos + 8]
    crc = struct.unpack("<I", data[pos + 8:pos + 12])[0]
    if zlib.crc32(data[:pos + 8]) != crc:
        raise ChecksumError("Header_CRC32")
    pos += 12
    if flags & 0xFE:
        raise FormatError("Header_Flags")
    if req:
        raise UnsupportedVersionError("Required_Features")
    if N == 0:
        raise FormatError("N = 0")
    if N > 1 << 48:
        raise LimitError("N")
    if k > N:
        raise FormatError("k > N")
    if C == 0:
        raise FormatError("C = 0")
    if C > 1 << 20:
        raise LimitError("C")
    if nsec < 2:
        raise FormatError("Section_Count < 2")
    if nsec > 64:
        raise LimitError("Section_Count")
    budget = [BUDGET]
    if 16 * k > budget[0]:
        raise LimitError("budget")
    budget[0] -= 16 * k
    if pool_digest is not None and digest != pool_digest:
        raise PoolMismatchError("Pool_Digest")
    secs = []
    for i in range(nsec):
        start = pos
        if len(data) < pos + 3:
            raise TruncatedError("section header")
        t, mode, sflags = data[pos], data[pos + 1], data[pos + 2]
        length, pos = read_varint(data, pos + 3)
        if len(data) < pos + 4:
            raise TruncatedError("Section_CRC32")
        scrc = struct.unpack("<I", data[pos:pos + 4])[0]
        pos += 4
        if length > len(data) - pos:
            raise TruncatedError("Section_Length")
        body = data[pos:pos + length]
        if zlib.crc32(data[start:pos - 4] + body) != scrc:
            raise ChecksumError("Section_CRC32")
        pos += length
        secs.append((t, mode, sflags, body))
    if pos != len(data):
        raise TrailingDataError("trailing")
    known = {1, 2, 3, 0x81}
    last, seen = 0, {}
    for t, mode, sflags, body in secs:
        if not t & 0x80:
            if t not in known:
                raise UnsupportedVersionError("critical type")
            if t <= last:
                raise FormatError("critical order")
            last = t
        elif t == 0x81 and 0x81 in seen:
            raise FormatError("second METADATA")
        if t not in known:
            continue
        if sflags & 0xFE:
            raise FormatError("Section_Flags")
        if t in (1, 0x81) and mode != 0:
            raise FormatError("Section_Mode")
        if t == 2 and mode not in INDEX or t == 3 and mode not in LABEL:
            raise UnsupportedVersionError("mode")
        seen[t] = (mode, sflags, body)
    if 2 not in seen or 3 not in seen:
        raise FormatError("missing stream")
    raws = {}
    for t, mode, sflags, body in secs:
        if t not in known:
            continue
        bound = {1: C * 4098, 0x81: 1 << 20, 2: index_bound(mode, N, k) if t == 2 else 0,
                 3: label_bound(mode, C, k) if t == 3 else 0}[t]
        if sflags & 1:
            raws[t] = zstd_raw(body, bound, budget)
        else:
            if len(body) > bound:
                raise FormatError("raw body over bound")
            raws[t] = body
    imode, lmode = seen[2][0], seen[3][0]
    indices = INDEX[imode][1](raws[2], N, k) if k else []
    labels = LABEL[lmode][1](raws[3], C, k, indices) if k else []
    if 1 in raws:
        r, p, names = raws[1], 0, []
        for i in range(C):
            n, p = read_varint(r, p, 4097)
            if n > len(r) - p:
                raise TruncatedError("class name")
            try:
                names.append(r[p:p + n].decode("utf-8"))
            except UnicodeDecodeError:
                raise FormatError("class name utf-8")
            p += n
        if p != len(r):
            raise FormatError("class table trailing")
    else:
        names = [str(i) for i in range(C)]
    meta = parse_metadata(raws[0x81]) if 0x81 in raws else {}
    ci = zlib.crc32(struct.pack(f"<{k}Q", *indices))
    cl = zlib.crc32(struct.pack(f"<{k}I", *labels))
    if struct.pack("<I", ci) != cc[:4]:
        raise ChecksumError("indices")
    if struct.pack("<I", cl) != cc[4:]:
        raise ChecksumError("labels")
    return dict(version=[2, data[9]], pool_size=N, k=k, class_count=C, classes=names,
                pool_digest=digest.hex() if digest else None, metadata=meta,
                index_mode=INDEX[imode][0] + ("+zstd" if seen[2][1] & 1 else ""),
                label_mode=LABEL[lmode][0] + ("+zstd" if seen[3][1] & 1 else ""),
                indices=indices, labels=labels)
