"""The conformance suite: manifest schema, frozen vectors, reference decoder, runner."""
import hashlib
import json
import os
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

import pladafmt
from conformance import generate, runner
from pladafmt._cli import default_decoder_command, main, payload_to_json

SUITE = Path(__file__).resolve().parent.parent / "conformance"
MANIFEST = json.loads((SUITE / "vectors.json").read_text(encoding="utf-8"))
VECTORS = MANIFEST["vectors"]


def test_manifest_matches_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SUITE / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(MANIFEST, schema, cls=jsonschema.Draft202012Validator)
    assert MANIFEST["numberOfVectors"] == len(VECTORS)


def test_suite_size_and_unique_ids():
    ids = [v["id"] for v in VECTORS]
    assert len(ids) == len(set(ids))
    assert sum(v["result"] == "valid" for v in VECTORS) >= 40
    assert sum(v["result"] == "invalid" for v in VECTORS) >= 30
    assert all(v["id"][0] == {"valid": "y", "invalid": "n", "acceptable": "i"}[v["result"]]
               for v in VECTORS)
    on_disk = sorted(p.name for p in (SUITE / "vectors").iterdir())
    assert on_disk == sorted(v["file"] for v in VECTORS)


def test_generator_reproduces_committed_files(tmp_path):
    """Frozen: regenerating must give byte-identical vectors and manifest."""
    generate.write_suite(tmp_path)
    assert (tmp_path / "vectors.json").read_bytes() == (SUITE / "vectors.json").read_bytes()
    fresh = sorted(p.name for p in (tmp_path / "vectors").iterdir())
    committed = sorted(p.name for p in (SUITE / "vectors").iterdir())
    assert fresh == committed
    changed = [n for n in fresh
               if (tmp_path / "vectors" / n).read_bytes() != (SUITE / "vectors" / n).read_bytes()]
    assert changed == []


def test_spec_worked_example_is_a_vector():
    """The hex dump under "Worked example" in SPEC.md is y_spec_example, byte for byte."""
    spec = (SUITE.parent / "SPEC.md").read_text(encoding="utf-8")
    dump = spec.split("## Worked example", 1)[1].split("```", 2)[1]
    out = bytearray()
    for line in dump.splitlines():
        m = re.match(r"^([0-9a-f]{4})\s{2,}(.*)$", line)
        if not m:
            continue
        assert int(m.group(1), 16) == len(out), line
        toks = [t for t in m.group(2).split() if t != "|"]
        i = 0
        while i < len(toks) and re.fullmatch(r"[0-9a-f]{2}", toks[i]):
            if toks[i + 1:i + 2] == ["x"]:
                out += bytes([int(toks[i], 16)]) * int(toks[i + 2])
                i += 3
            else:
                out.append(int(toks[i], 16))
                i += 1
    assert bytes(out) == (SUITE / "vectors" / "y_spec_example.plada").read_bytes()


# The reference decoder's message (its start) for every must-reject vector: each file is
# rejected for the rule it was built to break, not for another one met first.
REFERENCE_REASONS = {
    'n_magic_first_byte': 'Magic: expected 89504c440d0a1a0a, got 88504c440d',
    'n_magic_crlf_to_lf': 'Magic: expected 89504c440d0a1a0a, got 89504c440a',
    'n_major_2': 'Version_Major: expected 1, got 2',
    'n_major_0': 'Version_Major: expected 1, got 0',
    'n_checksum_header_crc': 'Header_CRC32: expected 624fd220 (stored), got 62',
    'n_header_flags_reserved': 'Header_Flags: reserved bits expected 0, got 0x80',
    'n_reserved_byte': 'Reserved: expected 0, got 1',
    'n_required_feature': 'Required_Features: unknown bits 0x00000001 (this',
    'n_required_feature_bit31': 'Required_Features: unknown bits 0x80000000 (this',
    'n_pool_size_0': 'Pool_Size: expected >= 1, got 0',
    'n_pool_size_over_limit': 'Pool_Size: expected <= 281474976710656, got 2814',
    'n_k_gt_n': 'Item_Count: expected <= Pool_Size 20, got 21',
    'n_class_count_0': 'Class_Count: expected 1..1048576, got 0',
    'n_class_count_over_limit': 'Class_Count: expected 1..1048576, got 1048577',
    'n_section_count_1': 'Section_Count: expected >= 2 (index and label st',
    'n_section_count_65': 'Section_Count: expected <= 64, got 65',
    'n_digest_without_flag': 'Pool_Digest: expected 32 zero bytes when Header_',
    'n_k_over_memory_budget': 'Item_Count (decoded indices and labels): needs 1',
    'n_trunc_magic': 'Magic: expected 8 bytes, got 5',
    'n_trunc_header': 'header: expected 88 bytes, got 50',
    'n_trunc_section_header': 'section 0 header: expected 12 bytes at offset 88',
    'n_trunc_class_table_body': 'section 0 Section_Length: expected <= 5 (bytes l',
    'n_trunc_last_section': 'section 3 Section_Length: expected <= 14 (bytes',
    'n_section_length_past_end': 'section 1 Section_Length: expected <= 46 (bytes',
    'n_trunc_index_varint': 'index_stream varint: stream ends inside gap at b',
    'n_trunc_huffman_bits': 'label_stream huffman: bitstream ends before item',
    'n_trunc_zstd_frame': 'index_stream varint: Zstd frame invalid: decompr',
    'n_trailing_bytes': 'payload: expected to end after 4 sections at byt',
    'n_checksum_section_crc': 'section 1 Section_CRC32: expected 00000000 (stor',
    'n_checksum_ancillary_crc': 'section 4 Section_CRC32: expected 00000000 (stor',
    'n_checksum_content': 'Content_Checksum (labels): expected 854dcd07 (st',
    'n_checksum_content_indices': 'Content_Checksum (indices): expected ca8a057a (s',
    'n_unknown_critical_section': 'section 4 Section_Type: unknown critical type 0x',
    'n_critical_order': 'section 2 Section_Type: critical sections expect',
    'n_duplicate_index_section': 'section 1 Section_Type: critical sections expect',
    'n_missing_label_stream': 'sections: label_stream expected exactly once, go',
    'n_duplicate_metadata': 'section 4: metadata expected at most once, got t',
    'n_section_flags_reserved': 'section 1 Section_Flags: reserved bits expected',
    'n_class_table_mode': 'section 0 Section_Mode: expected 0 for class_tab',
    'n_metadata_mode': 'section 3 Section_Mode: expected 0 for metadata,',
    'n_missing_index_stream': 'sections: index_stream expected exactly once, go',
    'n_unknown_index_mode': 'index_stream Section_Mode: unknown mode 200 (thi',
    'n_unknown_label_mode': 'label_stream Section_Mode: unknown mode 200 (thi',
    'n_raw_body_over_bound': 'index_stream varint: length expected <= 5 for th',
    'n_zstd_fcs_bomb': 'index_stream varint: Zstd Frame_Content_Size exp',
    'n_zstd_no_fcs': 'index_stream varint: Zstd Frame_Content_Size exp',
    'n_zstd_window_16m': 'index_stream varint: Zstd Window_Size expected <',
    'n_zstd_skippable_frame': 'index_stream varint: Zstd frame magic expected 2',
    'n_zstd_two_frames': 'index_stream varint: Zstd frame invalid: compres',
    'n_zstd_size_mismatch': 'index_stream varint: Zstd frame invalid: decompr',
    'n_zstd_size_short': 'index_stream varint: Zstd frame invalid: decompr',
    'n_huffman_table_over_bound': 'label_stream huffman: length expected <= 26 for',
    'n_huffman_symbol_count_over_k': 'label_stream huffman: Symbol_Count expected <= i',
    'n_huffman_symbol_count_over_c': 'label_stream huffman: Symbol_Count at byte 0 inv',
    'n_class_table_bad_utf8': "class_table: name 1 expected valid UTF-8: 'utf-8",
    'n_class_table_trailing': 'class_table: expected 3 names ending at byte 14,',
    'n_class_name_4097_bytes': 'class_table: name 1 length: expected a minimal v',
    'n_class_table_short': 'class_table: name 2 length: expected a minimal v',
    'n_varint_index_eq_n': 'index_stream varint: gap at byte 4 runs past the',
    'n_varint_nonminimal': 'index_stream varint: gap at byte 3 is not a mini',
    'n_varint_trailing_in_stream': 'index_stream varint: gap: expected the stream to',
    'n_bitmap_bit_past_n': 'index_stream bitmap: padding bits past pool_size',
    'n_bitmap_count': 'index_stream bitmap: set bits expected item_coun',
    'n_bitmap_length': 'index_stream bitmap: length expected <= 3 for th',
    'n_runs_past_k': 'index_stream runs: run lengths add up past item_',
    'n_runs_past_n': 'index_stream runs: run at byte 4 runs past the e',
    'n_packed_label_ge_c': 'label_stream packed: label 4 expected < class_co',
    'n_packed_padding': 'label_stream packed: padding bits expected 0, go',
    'n_packed_length': 'label_stream packed: length expected <= 2 for th',
    'n_rle_label_ge_c': 'label_stream rle: run at byte 4 runs past the en',
    'n_rle_adjacent_equal': 'label_stream rle: run at byte 3 repeats the prev',
    'n_rle_past_k': 'label_stream rle: run lengths add up past item_c',
    'n_huffman_incomplete': 'label_stream huffman: code lengths expected a co',
    'n_huffman_oversubscribed': 'label_stream huffman: code lengths expected a co',
    'n_huffman_length_25': 'label_stream huffman: Code_Length expected 1..24',
    'n_huffman_single_nonzero': 'label_stream huffman: Code_Length of a single sy',
    'n_huffman_symbol_ge_c': 'label_stream huffman: Symbol_Gap at byte 5 inval',
    'n_huffman_count_zero': 'label_stream huffman: Symbol_Count expected >= 1',
    'n_huffman_count_with_k0': 'label_stream huffman: Symbol_Count expected <= i',
    'n_huffman_padding': 'label_stream huffman: padding bits expected 0, g',
    'n_huffman_trailing': 'label_stream huffman: expected the stream to end',
    'n_rice_r48': 'rice: r of block 0 must be <= 47, got 48',
    'n_rice_r63': 'rice: r of block 1 must be <= 47, got 63',
    'n_rice_gap_past_n': 'rice: gap 5 must be <= 9 so that index 5 stays b',
    'n_rice_gap_past_n_low_bits': 'rice: gap 5 must be <= 9 so that index 5 stays b',
    'n_rice_trailing_byte': 'rice: trailing bytes: expected 3 bytes, got 4',
    'n_rice_padding': 'rice: padding bits must be zero, got 0x1',
    'n_rice_trunc_unary': 'rice: stream ends inside gap 1 (unary part): una',
    'n_rice_trunc_low_bits': 'rice: stream ends inside gap 5 (low bits): needs',
    'n_rice_trunc_r': 'rice: stream ends inside r of block 1: needs 6 b',
    'n_rice_trunc_same_r': 'rice: stream ends inside same_r of block 1: need',
    'n_rice_k0_nonempty': 'rice: trailing bytes: expected 0 bytes, got 1',
    'n_adaptive_gap_past_n': 'adaptive index: gap 5 must be <= 9 so that index',
    'n_adaptive_gap_n48': 'adaptive index: gap 0 must be <= 31 so that inde',
    'n_adaptive_first_byte': 'adaptive index: first byte must be 0, got 0x01',
    'n_adaptive_initial_code': 'adaptive index: initial code must be < 0xfffffff',
    'n_adaptive_unconsumed_byte': 'adaptive index: unconsumed bytes: expected 7 byt',
    'n_adaptive_final_code': 'adaptive index: final range-coder code must be 0',
    'n_adaptive_trunc': 'adaptive index: stream ends inside gap 3: needs',
    'n_adaptive_trunc_4_bytes': 'adaptive index: stream ends inside the range cod',
    'n_adaptive_k0_nonempty': 'index_stream adaptive: length expected <= 0 for',
    'n_rans_precision_25': 'rans: precision must be <= 24, got 25',
    'n_rans_precision_31': 'rans: precision must be <= 24, got 31',
    'n_rans_symbol_count_gt_c': 'rans: symbol_count must be <= class_count 3, got',
    'n_rans_symbol_ge_c': 'rans: symbol 2 of the table must be < class_coun',
    'n_rans_symbol_ge_c_low_bits': 'rans: symbol 2 of the table must be < class_coun',
    'n_rans_zero_frequency': 'rans: frequency of symbol 1 must be >= 1, got 0',
    'n_rans_sum_over': 'rans: frequencies must sum to 2^precision = 4, e',
    'n_rans_sum_under': 'rans: frequencies must sum to 2^precision = 4, g',
    'n_rans_table_padding': 'rans: table padding bits must be zero, got 0x1',
    'n_rans_word_area_odd': 'rans: word area must be a multiple of 4 bytes, g',
    'n_rans_initial_state_low': 'rans: initial state of lane 2 must be in [2^31, ',
    'n_rans_initial_state_high': 'rans: initial state of lane 1 must be in [2^31, ',
    'n_rans_unconsumed_word': 'rans: unconsumed words: expected 8 words, got 9',
    'n_rans_final_state': 'rans: final state of lane 3 must equal the initi',
    'n_rans_trunc_words': 'rans: stream ends inside label 1: needs a word, ',
    'n_rans_trunc_state': 'rans: stream ends inside initial states: needs 8',
    'n_rans_trunc_table': 'rans: stream ends inside rs: needs 5 bits, 1 lef',
    'n_rans_k0_nonempty': 'label_stream rans: length expected <= 0 for this',
    'n_adaptive_labels_ge_c': 'adaptive labels: label 4 must be < class_count 3',
    'n_adaptive_labels_full_eq_prev': 'adaptive labels: label 1 coded in full must diff',
    'n_adaptive_labels_full_eq_back': 'adaptive labels: label 3 coded in full must diff',
    'n_adaptive_labels_first_byte': 'adaptive labels: first byte must be 0, got 0x80',
    'n_adaptive_labels_final_code': 'adaptive labels: final range-coder code must be',
    'n_adaptive_labels_unconsumed_byte': 'adaptive labels: unconsumed bytes: expected 6 by',
    'n_adaptive_labels_trunc': 'adaptive labels: stream ends inside label 3: nee',
    'n_adaptive_labels_k0_nonempty': 'label_stream adaptive: length expected <= 0 for',
    'n_adaptive_gap_ge_c': 'adaptive-gap labels: label 4 must be < class_count 3',
    'n_adaptive_gap_full_eq_prev': 'adaptive-gap labels: label 1 coded in full must diff',
    'n_adaptive_gap_full_eq_back': 'adaptive-gap labels: label 3 coded in full must diff',
    'n_adaptive_gap_first_byte': 'adaptive-gap labels: first byte must be 0, got 0x80',
    'n_adaptive_gap_unconsumed_byte': 'adaptive-gap labels: unconsumed bytes: expected 6 by',
    'n_adaptive_gap_trunc': 'adaptive-gap labels: stream ends inside label 3: nee',
    'n_adaptive_gap_k0_nonempty': 'label_stream adaptive-gap: length expected <= 0 for',
    'n_adaptive_gap_other_indices': 'adaptive-gap labels: label 9 coded in full must diff',
    'n_rans_zstd_fcs_over_bound': 'label_stream rans: Zstd Frame_Content_Size expec',
    'n_trunc_rice_zstd_frame': 'index_stream rice: Zstd frame invalid: decompres',
    'n_runs_run_after_last_index': 'index_stream runs: run at byte 6 runs past the e',
    'n_zstd_window_2tb': 'index_stream varint: Zstd frame header invalid: ',
    'n_rice_empty_body': 'rice: stream ends inside same_r of block 0: need',
    'n_ctx_segment_count_zero': 'ctx-rans index: Segment_Count must be in [1, min',
    'n_ctx_segment_count_gt_k': 'ctx-rans labels: Segment_Count must be in [1, mi',
    'n_ctx_precision_11': 'ctx-rans index: table 0: precision must be <= 10',
    'n_ctx_absent_table': 'ctx-rans index: gap 4 (segment 0) needs table 3,',
    'n_ctx_table_padding': 'ctx-rans index: table padding bits must be zero,',
    'n_ctx_zero_frequency': 'ctx-rans index: table 0: frequency of symbol 2 m',
    'n_ctx_sum': 'ctx-rans index: table 0: frequencies must sum to',
    'n_ctx_directory_nonminimal': 'ctx-rans index: word_bytes of segment 0 must be ',
    'n_ctx_trailing': 'ctx-rans index: trailing bytes: expected 52 byte',
    'n_ctx_truncated': 'ctx-rans labels: segment data needs 32 bytes, 31',
    'n_ctx_word_area_odd': 'ctx-rans index: word area of segment 0 must be a',
    'n_ctx_initial_state': 'ctx-rans index: initial state of lane 2 of segme',
    'n_ctx_final_state': 'ctx-rans labels: final state of lane 3 of segmen',
    'n_ctx_unconsumed': 'ctx-rans index: unconsumed words in segment 0: e',
    'n_ctx_gap_past_n': 'ctx-rans index: gap 5 must be <= -1 so that inde',
    'n_ctx_raw_long': 'ctx-rans index: trailing bytes: raw area of segm',
    'n_ctx_raw_padding': 'ctx-rans index: padding bits of the raw area of ',
    'n_ctx_raw_truncated': 'ctx-rans index: stream ends inside raw bits of g',
    'n_ctx_base_past_n': 'ctx-rans index: base of segment 1 must be <= poo',
    'n_ctx_base_mismatch': 'ctx-rans index: base of segment 1 must equal the',
    'n_ctx_back_first': 'ctx-rans labels: label 1: back event with no ear',
    'n_ctx_literal_eq_prev': 'ctx-rans labels: label 1 coded in full must diff',
    'n_ctx_literal_eq_back': 'ctx-rans labels: label 3 coded in full must diff',
    'n_ctx_labels_k0_nonempty': 'label_stream ctx-rans: length expected <= 0 for ',
}


def _ref_rejects(data, vector):
    with pytest.raises(pladafmt.PladaError) as info:
        pladafmt.decode(data)
    names = [vector["error"]] + vector.get("alternative_errors", [])
    assert type(info.value).__name__ in names, str(info.value)
    assert str(info.value)
    if vector["result"] == "invalid":
        assert str(info.value).startswith(REFERENCE_REASONS[vector["id"]]), str(info.value)


def test_every_must_reject_vector_has_a_reference_reason():
    assert sorted(REFERENCE_REASONS) == sorted(v["id"] for v in VECTORS
                                               if v["result"] == "invalid")


def test_format_11_vectors():
    """Every 1.1 stream mode has must-decode and must-reject files, raw and Zstd-wrapped."""
    v11 = [v for v in VECTORS if v["format"] == "1.1"]
    for kind, mode in (("index_mode", "rice"), ("index_mode", "adaptive"),
                       ("label_mode", "rans"), ("label_mode", "adaptive")):
        got = {v["expected"][kind] for v in v11 if v["result"] == "valid"}
        assert {mode, mode + "+zstd"} <= got, (kind, mode)
    assert sum(v["result"] == "valid" for v in v11) >= 40
    assert sum(v["result"] == "invalid" for v in v11) >= 40
    assert all("Format11" in v["flags"] for v in v11)


def test_format_12_vectors():
    """Label mode 5 has must-decode files after every index mode, raw and Zstd-wrapped,
    and a must-reject file per rule it can break."""
    v12 = [v for v in VECTORS if v["format"] == "1.2"]
    valid = [v for v in v12 if v["result"] == "valid"]
    assert {v["expected"]["label_mode"] for v in valid} == {"adaptive-gap", "adaptive-gap+zstd"}
    assert {v["expected"]["index_mode"].split("+")[0] for v in valid} == {
        "bitmap", "varint", "runs", "rice", "adaptive"}
    assert {v["rule"] for v in v12 if v["result"] == "invalid"} >= {
        "label-lt-c", "adaptive-canonical", "rc-first-byte", "rc-unconsumed",
        "stream-truncated", "empty-stream"}
    assert all("Format12" in v["flags"] for v in v12)


def test_format_13_vectors():
    """ctx-rans: labels after every index mode and indices before other label modes, raw
    and Zstd-wrapped, several segments, and a must-reject file per rule."""
    v13 = [v for v in VECTORS if v["format"] == "1.3"]
    valid = [v for v in v13 if v["result"] == "valid"]
    assert {v["expected"]["index_mode"].split("+")[0] for v in valid} == {
        "bitmap", "varint", "runs", "rice", "adaptive", "ctx-rans"}
    assert {v["expected"]["label_mode"] for v in valid} >= {"ctx-rans", "ctx-rans+zstd",
                                                            "packed", "rans"}
    assert {v["rule"] for v in v13 if v["result"] == "invalid"} >= {
        "ctx-segment-count", "ctx-precision", "ctx-absent-table", "ctx-base", "ctx-back",
        "adaptive-canonical", "rans-word-area", "rans-initial-state", "rans-final-state",
        "rans-unconsumed", "index-lt-n", "padding", "trailing", "stream-truncated",
        "varint-minimal", "empty-stream"}
    assert all("Format13" in v["flags"] and v.get("expected", {}).get("version", [1, 3])
               == [1, 3] for v in v13)


def test_twin_decoders_agree_on_format_11_vectors(monkeypatch):
    """The pure-Python twins of the 1.1, 1.2 and 1.3 modes give the same values, or the
    same error and message, as the Numba kernels on every 1.1, 1.2 and 1.3 vector."""
    from pladafmt import _modes

    def outcome(data):
        try:
            p = pladafmt.decode(data)
        except pladafmt.PladaError as exc:
            return type(exc).__name__, str(exc)
        return "decoded", p.indices.tolist(), p.labels.tolist()

    v11 = [v for v in VECTORS if v["format"] in ("1.1", "1.2", "1.3")]
    files = [(SUITE / "vectors" / v["file"]).read_bytes() for v in v11]
    kernel = [outcome(d) for d in files]
    for table in (_modes.INDEX_MODE_TABLE, _modes.LABEL_MODE_TABLE):
        for mid in (3, 4, 5, 6):
            mode = table.get(mid)
            if mode is None:
                continue
            # decode_u32 and segments off: the container then calls decode, the twin
            monkeypatch.setitem(table, mid, mode._replace(
                decode=lambda raw, size, count, *ctx, tw=mode.decode_twin:
                np.asarray(tw(bytes(raw), size, count, *ctx), dtype=np.int64),
                decode_u32=None, segments=None))
    twin = [outcome(d) for d in files]
    assert [(v["id"], t) for v, k, t in zip(v11, kernel, twin) if k != t] == []


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_reference_decoder_in_process(vector):
    data = (SUITE / "vectors" / vector["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == vector["sha256"]
    if vector["result"] == "invalid":
        _ref_rejects(data, vector)
        return
    try:
        payload = pladafmt.decode(data)
    except pladafmt.PladaError:
        if vector["result"] != "acceptable":
            raise
        _ref_rejects(data, vector)
        return
    assert runner.compare_decoded(vector["expected"], payload_to_json(payload)) == []
    assert payload.indices.dtype == np.int64 and payload.labels.dtype == np.int64


def _sample_ids():
    """One vector per expected error name and per flag: each decoder process pays the
    numpy import, so the default run checks a cross-section through the external
    protocol (the in-process test above covers every vector). PLADA_FULL_CONFORMANCE=1
    runs them all."""
    if os.environ.get("PLADA_FULL_CONFORMANCE"):
        return None
    picked, seen = set(), set()
    for v in VECTORS:
        if v.get("expected", {}).get("class_count", 0) > 2**16:
            continue  # a million class names in JSON: slow, and covered in-process
        keys = {("error", v.get("error"))} if v["result"] != "valid" else set()
        keys |= {("flag", v["result"], f) for f in v["flags"]}
        keys.add(("format", v["result"], v["format"]))
        if keys - seen:
            picked.add(v["id"])
            seen |= keys
    return picked


def test_reference_decoder_passes_through_external_protocol():
    """Vectors through `python -m pladafmt._cli decode --json FILE`, as a user would: so
    without the suite's PLADAFMT_JIT_ALWAYS, and small payloads decode without loading
    Numba (pladafmt/_jit.py; the in-process test above runs the compiled kernels)."""
    ids = _sample_ids()
    decoder = ["env", "PLADAFMT_JIT_ALWAYS=0", *default_decoder_command()]
    results = runner.run_suite(decoder, jobs=4, timeout=300, ids=ids)
    failed = [(r.id, r.outcome, r.detail) for r in results if not r.passed]
    assert failed == []
    assert len(results) == (len(VECTORS) if ids is None else len(ids))


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path)]


def test_runner_catches_decoder_that_accepts_everything(tmp_path):
    cmd = _script(tmp_path, "yes.py", "print('{}')\n")
    results = runner.run_suite(cmd, jobs=4, ids=_sample_ids() or None)
    rejected_ok = [r for r in results if r.expected == "invalid" and r.passed]
    assert rejected_ok == []
    assert {r.outcome for r in results if r.expected == "invalid"} == {"accepted"}
    assert {r.outcome for r in results if r.expected != "invalid"} == {"wrong-output"}
    assert not any(r.passed for r in results)


def test_runner_catches_decoder_that_ignores_checksums(tmp_path):
    """A decoder that swallows ChecksumError (prints the header fields, exit 0) fails
    exactly the checksum vectors."""
    cmd = _script(tmp_path, "lax.py", (
        "import sys, json\n"
        "import pladafmt\n"
        "from pladafmt._cli import main\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "try:\n"
        "    pladafmt.decode(data)\n"
        "except pladafmt.ChecksumError:\n"
        "    print(json.dumps({'ignored': 'checksum'}))\n"
        "    sys.exit(0)\n"
        "except pladafmt.PladaError:\n"
        "    pass\n"
        "sys.exit(main(['decode', '--json', sys.argv[1]]))\n"))
    checksum_ids = {v["id"] for v in VECTORS if v.get("error") == "ChecksumError"}
    assert len(checksum_ids) >= 3
    results = runner.run_suite(cmd, jobs=4, select="checksum")
    failed = {r.id for r in results if not r.passed}
    assert failed == checksum_ids
    assert all(r.outcome == "accepted" for r in results if r.id in checksum_ids)


def test_runner_catches_wrong_error_name_and_wrong_labels(tmp_path):
    vec_valid = next(v for v in VECTORS if v["result"] == "valid" and v["expected"]["k"] > 1)
    vec_invalid = next(v for v in VECTORS if v["result"] == "invalid")
    out = dict(vec_valid["expected"])
    out["indices"] = out.get("indices", [])
    out["labels"] = [0] * out["k"]
    out["indices"] = list(range(out["k"]))
    cmd = _script(tmp_path, "liar.py", (
        "import sys\n"
        f"if sys.argv[1].endswith({vec_invalid['file']!r}):\n"
        "    sys.stderr.write('IndexError: list index out of range\\n'); sys.exit(1)\n"
        f"print({json.dumps(json.dumps(out))})\n"))
    r = runner.check_vector(cmd, vec_invalid, SUITE / "vectors", timeout=30)
    assert (r.passed, r.outcome) == (False, "wrong-error")
    r = runner.check_vector(cmd, vec_invalid, SUITE / "vectors", timeout=30, strict_errors=False)
    assert r.passed
    r = runner.check_vector(cmd, vec_valid, SUITE / "vectors", timeout=30)
    assert (r.passed, r.outcome) == (False, "wrong-output")
    assert "content_sha256" in r.detail or "indices differ" in r.detail


def test_plada_conformance_command_exit_codes(tmp_path, capsys):
    yes = _script(tmp_path, "yes.py", "print('{}')\n")
    rc = main(["conformance", "--decoder", shlex.join(yes), "-k", "n_magic_first_byte"])
    out = capsys.readouterr().out
    assert rc == 3
    assert "FAIL" in out and "0/1 passed" in out
    sel = VECTORS[0]["id"]
    rc = main(["conformance", "-k", sel, "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0 and [r["id"] for r in rows] == [sel] and rows[0]["passed"]


def test_standalone_runner_command_line(tmp_path):
    """runner.py run as a script by a Python without site-packages (-S): standard library
    only, as when copied next to a decoder in another language's repository."""
    import subprocess

    yes = _script(tmp_path, "yes.py", "print('{}')\n")
    run = [sys.executable, "-S", str(SUITE / "runner.py")]
    proc = subprocess.run(run + ["--decoder", shlex.join(yes), "--vectors", str(SUITE / "vectors"),
                                 "-k", "n_magic_first_byte", "--json"],
                          capture_output=True, text=True, timeout=120)
    rows = json.loads(proc.stdout)
    assert proc.returncode == 3 and [(r["id"], r["outcome"]) for r in rows] == [
        ("n_magic_first_byte", "accepted")]
    proc = subprocess.run(run + ["--vectors", str(SUITE)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "--decoder" in proc.stderr


def test_in_process_runner_passes_pladafmt_and_catches_broken_decoders():
    def ok(data):
        return payload_to_json(pladafmt.decode(data))

    manifest = runner.load_manifest()
    valid = {v["id"] for v in manifest["vectors"] if v["result"] == "valid"}
    invalid = {v["id"] for v in manifest["vectors"] if v["result"] == "invalid"}
    assert runner.in_process_failures(ok, pladafmt.PladaError) == []

    def rejects_all(data):
        raise pladafmt.FormatError("no")

    assert valid <= set(runner.in_process_failures(rejects_all, pladafmt.PladaError))

    def wrong_labels(data):
        got = ok(data)
        return dict(got, labels=[x + 1 for x in got["labels"]]) if got.get("labels") else dict(got, k=-1)

    assert set(runner.in_process_failures(wrong_labels, pladafmt.PladaError)) >= valid

    def accepts_all(data):
        try:
            return ok(data)
        except pladafmt.PladaError:
            return {}

    assert invalid <= set(runner.in_process_failures(accepts_all, pladafmt.PladaError))
