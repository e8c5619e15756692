"""The batch item schema in the OpenAPI document and ingest's fast path judge an item alike.

POST /api/v1/submissions/batch documents its body with marshmallow (server/api/submissions.py)
but checks items in ingest's fast path (sync/ingest_items.py), which rejects one bad item on its
own. Generated items, good and bad in every field, get the same verdict from both: the fields
the schema refuses are the fields ingest rejects the item for, and an unusable instance_id fails
the request (400) exactly when the schema refuses it. Values no column can hold (NaN, NUL, half
a UTF-16 pair) are ingest's own further rule, outside the schema, and are left out here.
"""
from datetime import datetime

from hypothesis import given, settings, strategies as st

from server.api.submissions import BatchSchema, SubmissionSchema
from sync.ingest_items import MAX_ID_LENGTH, MAX_KEY_LENGTH, BatchError, Item, check_fields, decode_envelope

NOW = datetime(2025, 6, 1, 12, 0)
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8)
BLANK = st.sampled_from(["", " ", "\t\n", "\u3000", "\x1c"])
OTHER = st.one_of(st.none(), st.integers(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
MISSING = object()


def text_field(limit):
    """A value for an identifying text field: good, blank, too long, or not a string."""
    return st.one_of(TEXT.filter(str.strip), BLANK, st.just("x" * limit), st.just("é" * (limit + 1)),
                     st.just(" " * limit + "x"), OTHER, st.just(MISSING))


COLLECTED_AT = st.one_of(
    st.sampled_from(["2025-03-01T08:00:00+07:00", " 2025-03-01T08:00:00Z ", "2025-03-01 08:00+07:00",
                     "2025-03-01T08:00:00", "2025-03-01", "0001-01-01T00:00:00+01:00",
                     "9999-12-31T23:59:59-01:00", "2025-13-01T08:00:00+07:00", "2025-03-01t08:00:00z", ""]),
    TEXT, OTHER, st.just(MISSING))
ANSWERS = st.one_of(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), OTHER, st.just(MISSING))
SUPERSEDES = st.one_of(st.none(), TEXT, BLANK, st.just("s" * (MAX_ID_LENGTH + 1)), st.integers(), st.just(MISSING))
INSTANCE_ID = st.one_of(st.uuids().map(str), BLANK, st.just("i" * MAX_ID_LENGTH), st.just("i" * (MAX_ID_LENGTH + 1)),
                        st.just("a\x00b"), OTHER, st.just(MISSING))


@st.composite
def items(draw):
    fields = {"instance_id": INSTANCE_ID, "form_id": text_field(MAX_ID_LENGTH),
              "form_version": text_field(MAX_ID_LENGTH), "village_code": text_field(MAX_ID_LENGTH),
              "household_key": text_field(MAX_KEY_LENGTH), "collected_at": COLLECTED_AT, "answers": ANSWERS,
              "supersedes": SUPERSEDES, "extra": st.one_of(st.just(MISSING), OTHER)}
    item = {name: draw(strategy) for name, strategy in fields.items()}
    return {name: value for name, value in item.items() if value is not MISSING}


def fast_path_verdict(item):
    """(request fails, fields the item is rejected for) as ingest decides them."""
    try:
        decode_envelope(_encoded(item), max_items=10)
    except BatchError:
        return True, None
    checked = Item(0, item, "en")
    check_fields(checked, "en", NOW)
    return False, {error["field"] for error in checked.errors}


def _encoded(item):
    import json
    return json.dumps({"submissions": [item]}).encode()


@settings(max_examples=600, deadline=None, database=None, derandomize=True)
@given(item=items())
def test_the_documented_item_schema_and_ingest_reject_the_same_fields(item):
    refused = set(SubmissionSchema().validate(item))
    request_fails, rejected = fast_path_verdict(item)
    assert request_fails == ("instance_id" in refused), (item, refused)
    if not request_fails:
        assert rejected == refused, (item, refused, rejected)


def test_a_good_item_passes_both_and_the_envelope_needs_a_list():
    item = {"instance_id": "u-1", "form_id": "household_digital", "form_version": "2025.1", "village_code": "23722-01",
            "household_key": "HH-0001", "collected_at": "2025-03-01T08:00:00+07:00", "answers": {}, "note": "kept"}
    assert SubmissionSchema().validate(item) == {} and fast_path_verdict(item) == (False, set())
    assert BatchSchema().validate({"submissions": [item]}) == {}
    assert "submissions" in BatchSchema().validate({"submissions": {}})


def test_a_time_before_year_one_in_utc_is_an_invalid_datetime_not_a_server_error():
    from sync.ingest_items import parse_collected_at
    assert parse_collected_at("0001-01-01T00:00:00+01:00") is None  # was OverflowError: a 500 for the batch
    assert parse_collected_at("9999-12-31T23:59:59-01:00") is None
    assert parse_collected_at("2025-03-01T08:00:00+07:00") is not None
