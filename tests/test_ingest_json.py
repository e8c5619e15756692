"""JSON for hashes and columns: canonical bytes, and values no column can hold reported per item."""
import hashlib
import json
import math

import orjson

from sync.ingest_items import Item, canonical_json, content_hash, parse_json
from sync.ingest_sql import dumps, json_bytes

TRICKY = [
    {"b": 1, "a": [1.5, -0.0, 1e16, 1e22, 123456789012345.6, 0.0001]},
    {"small": [1e-05, 1e-07, 5e-324, 0.00012]},
    {"big": 2 ** 70, "u64": 2 ** 64 - 1, "null": None, "uuid": "8321d42c-ebdd-474e-afda-34531f88cd5c"},
    {"tên": "Rơ Mah Hyao \u2028 \x1f\x7f \"quoted\" \\ \U0001F600", "Ấp": {"z": True, "ä": False}},
    {"text": "0.00001 and 1e-5 and null inside a string"},
]


def test_json_bytes_round_trip_every_tricky_value():
    for value in TRICKY:
        assert json.loads(json_bytes(value)) == value
        assert json.loads(json_bytes(value, sort_keys=True)) == value
        assert json.loads(dumps(value)) == value


def test_the_content_hash_is_the_sha256_of_the_sorted_compact_json_in_any_key_order():
    item = {"instance_id": "x", "answers": {"members": 4, "location": "13.98 108.0 0 5"}, "form_id": "f"}
    shuffled = dict(reversed(list(item.items())))
    expected = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert content_hash(item) == content_hash(shuffled) == expected


def test_nan_and_infinities_never_hash_like_null():
    hashes = {content_hash({"answers": {"members": value}}) for value in (None, math.nan, math.inf, -math.inf)}
    assert len(hashes) == 4
    assert canonical_json({"a": math.inf}) == b'{"a":Infinity}'


def test_no_value_is_stored_as_null():
    assert dumps(None) is None


def test_nan_infinity_and_huge_numbers_in_a_body_parse_for_per_item_checks():
    data = parse_json(b'{"submissions": [{"instance_id": "a", "answers": {"x": NaN, "y": 1e400, "z": -Infinity}}]}')
    answers = data["submissions"][0]["answers"]
    assert math.isnan(answers["x"]) and answers["y"] == math.inf and answers["z"] == -math.inf


def test_an_item_with_unstorable_values_reports_each_path_and_keeps_a_storable_copy():
    raw = {"instance_id": "a", "village_code": "2372201\x00",
           "answers": {"members": math.inf, "head_name": "Rơ\x00Mah", "tags": ["ok", "\ud800"]}}
    item = Item(0, raw, lang="en")
    assert {(e["field"], e["code"]) for e in item.errors} == {
        ("village_code", "invalid_character"), ("answers.members", "invalid_number"),
        ("answers.head_name", "invalid_character"), ("answers.tags.1", "invalid_character")}
    assert item.raw["answers"] == {"members": "Infinity", "head_name": "Rơ\ufffdMah", "tags": ["ok", "\ufffd"]}
    assert item.raw["village_code"] == "2372201\ufffd"
    assert item.content_hash == content_hash(raw)  # of what the device sent, so a resend is recognised
    assert json.loads(dumps(item.raw)) == item.raw


def test_an_ordinary_item_is_kept_as_sent():
    raw = {"instance_id": "a", "answers": {"head_name": "Rơ Mah Hyao", "note": "NaN is a word here"}}
    item = Item(0, raw)
    assert item.raw is raw and item.errors == []


def test_a_key_with_nul_or_half_a_utf16_pair_is_reported_and_replaced_in_the_kept_copy():
    raw = {"instance_id": "a", "answers": {"x": {"ok\x00": {}, "\ud800": 1}, "big": 2 ** 70}}
    item = Item(0, raw, lang="en")
    assert {(e["field"], e["code"]) for e in item.errors} == {
        ("answers.x.ok\ufffd", "invalid_character"), ("answers.x.\ufffd", "invalid_character")}
    assert item.raw["answers"]["x"] == {"ok\ufffd": {}, "\ufffd": 1}
    assert item.content_hash == content_hash(raw)
    assert "\\u0000" not in dumps(item.raw)


def test_a_key_with_nul_rejects_only_its_item_and_is_kept_in_the_database(client, villages, token_for):
    # schemathesis found it on PostgreSQL: jsonb cannot hold \u0000, so a NUL in a key was a 500 for the batch
    bad = {"instance_id": "nul-key", "form_id": "household_digital", "form_version": "2025.1",
           "village_code": "2372201", "household_key": "HH-1", "collected_at": "2025-03-01T08:00:00+07:00",
           "answers": {"extra": {"k\x00": [], "n": 2 ** 70}}}
    response = client.post("/api/v1/submissions/batch?lang=en", json={"submissions": [bad]},
                           headers=token_for("collector_phuhoa"))
    assert response.status_code == 200, response.json
    [result] = response.json["results"]
    assert result["status"] == "rejected"
    assert ("answers.extra.k\ufffd", "invalid_character") in {(e["field"], e["code"]) for e in result["errors"]}
