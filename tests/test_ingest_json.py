"""JSON for hashes and columns: byte for byte what the json module writes, with or without orjson."""
import json

from sync.ingest_items import content_hash
from sync.ingest_sql import dumps, json_bytes

TRICKY = [
    {"b": 1, "a": [1.5, -0.0, 1e16, 1e22, 123456789012345.6, 0.0001]},
    {"small": [1e-05, 1e-07, 5e-324, 0.00012], "nan": float("nan"), "inf": float("-inf")},
    {"big": 2 ** 70, "u64": 2 ** 64 - 1, "null": None, "uuid": "8321d42c-ebdd-474e-afda-34531f88cd5c"},
    {"tên": "Rơ Mah Hyao \u2028 \x00\x1f\x7f \"quoted\" \\ \U0001F600", "Ấp": {"z": True, "ä": False}},
    {"text": "0.00001 and 1e-5 and null inside a string"},
]


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_json_bytes_match_the_json_module_exactly_for_tricky_values():
    for value in TRICKY:
        assert json_bytes(value, sort_keys=True) == canonical(value)
        assert json_bytes(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_the_content_hash_is_the_sha256_of_the_canonical_json_in_any_key_order():
    import hashlib
    item = {"instance_id": "x", "answers": {"members": 4, "location": "13.98 108.0 0 5"}, "form_id": "f"}
    shuffled = dict(reversed(list(item.items())))
    assert content_hash(item) == content_hash(shuffled) == hashlib.sha256(canonical(item)).hexdigest()


def test_no_value_is_stored_as_null():
    assert dumps(None) is None
