"""A corpus of hostile inputs against the JSON endpoints, the units upload page and OpenRosa.

Each gets a clear 4xx (the one JSON error shape on JSON endpoints) and changes nothing: submissions,
audit entries (other than counted failed logins), units, users, tokens, forms and drafts are as before.
"""
import hashlib
import io
import json
import unicodedata

import pytest
from pony.orm import db_session

from .conftest import PASSWORD
from .support.ingest import household, submission
from .support.world import World

TEN_MB = 10 * 1024 * 1024
DEEP = 10_000
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']><data id="household_digital"><consent>&lol9;</consent></data>')
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                   b'<data id="household_digital"><consent>&xxe;</consent>'
                   b'<meta><instanceID>uuid:xxe</instanceID></meta></data>')
NFD_MIXED = unicodedata.normalize("NFD", "Phú Hòa") + " аdmin"  # decomposed accents, Cyrillic 'а'

# name -> (body bytes, content type): broken at the level of the whole request body
BODIES = {
    "malformed_json": (b'{"submissions": [{"instance_id": "a",]}', "application/json"),
    "truncated_json": (json.dumps({"submissions": [submission()]}).encode()[:57], "application/json"),
    "empty_body": (b"", "application/json"),
    "deep_arrays": (b"[" * DEEP + b"]" * DEEP, "application/json"),
    "deep_objects": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "application/json"),
    "huge_float": (b'{"submissions": 1e400, "username": 1e400, "password": 1e400, "id": 1e400}',
                   "application/json"),
    "huge_int": (b'{"submissions": ' + b"1" + b"0" * 400 + b', "username": 1' + b"0" * 400 + b"}",
                 "application/json"),
    "huger_int": (b'{"submissions": [1' + b"0" * 5000 + b"]}", "application/json"),
    "nan": (b'{"submissions": [NaN], "username": NaN, "password": Infinity}', "application/json"),
    "nul_bytes": (b'{"submissions": [\x00]}\x00', "application/json"),
    "invalid_utf8": (b'{"submissions": [{"instance_id": "\xff\xfe\xc3("}], "username": "\xff"}',
                     "application/json"),
    "billion_laughs": (BILLION_LAUGHS, "application/xml"),
    "external_entity": (EXTERNAL_ENTITY, "application/xml"),
    "ten_mb_string": (json.dumps({"submissions": "x" * TEN_MB, "username": "x" * TEN_MB,
                                  "password": "x"}).encode(), "application/json"),
    "json_as_text_plain": (json.dumps({"username": "admin", "password": PASSWORD,
                                       "submissions": [submission()]}).encode(), "text/plain"),
    "form_urlencoded": (b"username=admin&password=x&submissions=1", "application/x-www-form-urlencoded"),
}
# Known bugs (reported; add an entry while one is open, remove it when fixed): (case, url) -> reason
KNOWN_BUGS = {}


def known_bug(request, name, url):
    """Mark a case as a strict expected failure while its bug is open."""
    reason = KNOWN_BUGS.get((name, url))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


# JSON endpoint -> who calls it (None: anonymous)
JSON_ENDPOINTS = {
    ("POST", "/api/v1/auth/token"): None,
    ("POST", "/api/v1/submissions/batch"): "collector_in",
    ("POST", "/api/v1/forms/validate"): "admin",
    ("PUT", "/api/v1/forms/household_digital/draft"): "admin",
    ("POST", "/api/v1/forms"): "admin",
}


@pytest.fixture
def world(app, store):
    from server.security import limiter
    limiter.enabled = False
    yield World(store, app.test_client())
    limiter.enabled = True


@db_session
def snapshot(store):
    """Everything a hostile request must not change (failed logins are counted and audited on purpose)."""
    drafts = sorted((f.form_id, json.dumps(f.draft, sort_keys=True)) for f in store.Form.select())
    return {"submissions": store.Submission.select().count(), "units": store.Unit.select().count(),
            "users": store.User.select().count(), "tokens": store.ApiToken.select().count(),
            "versions": store.FormVersion.select().count(),
            "audit": store.AuditEntry.select(lambda a: a.action != "login_failed").count(),
            "forms": hashlib.sha256(repr(drafts).encode()).hexdigest()}


def is_error_shape(response):
    body = response.get_json(silent=True)
    return (isinstance(body, dict) and set(body) == {"status", "errno", "code", "message", "errors"}
            and body["status"] == response.status_code and isinstance(body["errors"], list))


@pytest.mark.parametrize("endpoint", sorted(JSON_ENDPOINTS), ids=lambda e: f"{e[0]} {e[1]}")
@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_hostile_body_to_a_json_endpoint_gets_a_clear_4xx_in_the_one_shape_and_changes_nothing(
        world, endpoint, name, request):
    method, url = endpoint
    known_bug(request, name, url)
    body, content_type = BODIES[name]
    role = JSON_ENDPOINTS[endpoint]
    headers = world.headers(role) if role else {}
    before = snapshot(world.store)
    answer = world.client.open(url, method=method, data=body, content_type=content_type, headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.data[:300])
    assert is_error_shape(answer), answer.data[:300]
    assert answer.get_json()["message"]
    assert snapshot(world.store) == before


# hostile values inside a well-formed login: no such account, nothing stored
LOGIN_VALUES = {
    "nfd_mixed_script_username": {"username": NFD_MIXED, "password": PASSWORD},
    "nfd_admin_lookalike": {"username": "аdmin", "password": PASSWORD},  # Cyrillic а
    "nul_in_username": {"username": "admin\x00", "password": PASSWORD},
    "nul_in_password": {"username": "admin", "password": PASSWORD + "\x00"},
    "number_as_username": {"username": 10 ** 400, "password": PASSWORD},
    "list_as_password": {"username": "admin", "password": [PASSWORD]},
    "long_username": {"username": "a" * 100_000, "password": PASSWORD},
}


@pytest.mark.parametrize("name", sorted(LOGIN_VALUES))
def test_hostile_values_in_a_login_are_refused_and_issue_no_token(world, name):
    before = snapshot(world.store)
    answer = world.client.post("/api/v1/auth/token", json=LOGIN_VALUES[name])
    assert answer.status_code in (401, 422) and is_error_shape(answer), answer.get_json()
    assert snapshot(world.store) == before


def hostile_item(name):
    """A submission with one hostile value inside an otherwise valid envelope."""
    return {
        "mixed_script_village": submission(village="23722О1"),  # Cyrillic О
        "nul_in_village": submission(village="2372201\x00"),
        "huge_int_answer": submission(answers=household(members=10 ** 400)),
        "huge_float_collected_at": submission(collected_at=1e300),
        "nested_answers": submission(answers=household(head_name=[[[["x"]]]])),
        "answers_not_an_object": submission(answers=[1, 2, 3]),
        "infinite_answer": submission(answers=household(members=float("inf"))),
        "nul_in_answer": submission(answers=household(head_name="Rơ\x00Mah", members="4\x00")),
    }[name]


@pytest.mark.parametrize("name", ["mixed_script_village", "nul_in_village", "huge_int_answer",
                                  "huge_float_collected_at", "nested_answers", "answers_not_an_object",
                                  "infinite_answer", "nul_in_answer"])
def test_a_hostile_value_inside_a_batch_item_is_rejected_with_its_field_path_and_counts_for_nothing(
        world, name):
    item = hostile_item(name)
    answer = world.client.post("/api/v1/submissions/batch", json={"submissions": [item]},
                               headers=world.headers("collector_in"))
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()["results"][0]
    assert result["status"] == "rejected" and result["errors"] and all(e["field"] for e in result["errors"])
    with db_session:
        assert world.store.Submission.get(instance_id=item["instance_id"]).is_current is False


def test_nfd_text_in_a_household_is_stored_as_nfc(world):
    item = submission(household_key=unicodedata.normalize("NFD", "hộ-Rơ Mah"),
                      answers=household(head_name=unicodedata.normalize("NFD", "Rơ Mah Hyao")))
    answer = world.client.post("/api/v1/submissions/batch", json={"submissions": [item]},
                               headers=world.headers("collector_in"))
    assert answer.get_json()["results"][0]["status"] == "accepted"
    with db_session:
        stored = world.store.Submission.get(instance_id=item["instance_id"])
        assert stored.household_key == "hộ-Rơ Mah" and unicodedata.is_normalized("NFC", stored.household_key)


# OpenRosa: the XML part itself is hostile
XML_PARTS = {
    "malformed_xml": b"<data><consent>yes</data>",
    "truncated_xml": b"<?xml version='1.0'?><data id='household_digital'><meta><instanceID>uu",
    "billion_laughs": BILLION_LAUGHS,
    "external_entity": EXTERNAL_ENTITY,
    "deep_nesting": b"<a>" * DEEP + b"</a>" * DEEP,
    "nul_bytes": b"<data id='household_digital'>\x00<meta><instanceID>uuid:n</instanceID></meta></data>",
    "invalid_utf8": b"<?xml version='1.0' encoding='utf-8'?><data id='\xff\xfe'><x>\xc3(</x></data>",
    "json_instead_of_xml": json.dumps({"submissions": [submission()]}).encode(),
    "empty": b"",
    "ten_mb_text": b"<data id='household_digital'><head_name>" + b"x" * TEN_MB + b"</head_name></data>",
    "huge_number_answer": (b"<data id='household_digital' version='2025.1'><members>1" + b"0" * 400
                           + b"</members><langso><village_code>2372201</village_code></langso>"
                           b"<meta><instanceID>uuid:big</instanceID></meta></data>"),
}


@pytest.mark.parametrize("name", sorted(XML_PARTS))
def test_a_hostile_openrosa_submission_gets_a_4xx_and_changes_nothing_counted(world, name):
    headers = world.headers("collector_in", basic=True)
    before = snapshot(world.store)
    answer = world.client.post("/odk/submission", content_type="multipart/form-data",
                               data={"xml_submission_file": (io.BytesIO(XML_PARTS[name]), "s.xml", "text/xml")},
                               headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.data[:300])
    assert b"OpenRosaResponse" in answer.data or is_error_shape(answer)
    after = snapshot(world.store)
    with db_session:  # a well-formed but invalid household is kept in quarantine, never counted
        quarantined = world.store.Submission.select(lambda s: not s.is_current).count()
    assert after == dict(before, submissions=before["submissions"] + (after["submissions"] - before["submissions"]))
    assert after["submissions"] - before["submissions"] <= quarantined


@pytest.mark.parametrize("name, body, content_type", [
    ("raw_xml_not_multipart", EXTERNAL_ENTITY, "text/xml"),
    ("json_not_multipart", b'{"a": 1}', "application/json"),
    ("truncated_multipart", b"--XyZ\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"s.xml\""
                            b"\r\n\r\n<data>", "multipart/form-data; boundary=XyZ"),
    ("multipart_without_boundary", b"--\r\n", "multipart/form-data"),
])
def test_a_wrong_content_type_to_openrosa_gets_a_4xx_and_changes_nothing(world, name, body, content_type):
    headers = world.headers("collector_in", basic=True)
    before = snapshot(world.store)
    answer = world.client.post("/odk/submission", data=body, content_type=content_type, headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.data[:300])
    assert snapshot(world.store) == before


UNIT_FILES = {
    "invalid_utf8": b"code,name,level,parent_code\n2372299,\xff\xfe,village,23722\n",
    "nul_bytes": b"code,name,level,parent_code\n2372299,L\x00ng,village,23722\n",
    "truncated": b"code,name,level,par",
    "mixed_script_parent": "code,name,level,parent_code\n2372299,Làng,village,23722О\n".encode(),
    "huge_households": b"code,name,level,parent_code,expected_households\n2372299,L,village,23722,1" + b"0" * 400
                       + b"\n",
    "xml_instead_of_csv": BILLION_LAUGHS,
    "ten_mb_name": b"code,name,level,parent_code\n2372299," + b"x" * TEN_MB + b",village,23722\n",
}


@pytest.mark.parametrize("name", sorted(UNIT_FILES))
def test_a_hostile_units_csv_upload_is_refused_with_a_4xx_page_and_imports_nothing(world, name, request):
    if not (name == "nul_bytes" and world.store.provider.dialect == "PostgreSQL"):  # PostgreSQL refuses NUL
        known_bug(request, name, "/units")
    headers = world.headers("admin")
    before = snapshot(world.store)
    answer = world.client.post("/units", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(UNIT_FILES[name]), "units.csv", "text/csv")},
                               headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.data[:300])
    assert snapshot(world.store) == before


@pytest.mark.parametrize("name, content", [("invalid_utf8", b"\x81\xff not a workbook \xfe"),
                                           ("truncated_zip", b"PK\x03\x04\x14\x00\x00"),
                                           ("billion_laughs", BILLION_LAUGHS)])
def test_bytes_that_are_no_workbook_sent_as_an_xlsform_get_a_422_in_the_one_shape(world, name, content):
    headers = world.headers("admin")
    before = snapshot(world.store)
    answer = world.client.post("/api/v1/forms/import", content_type="multipart/form-data", headers=headers,
                               data={"file": (io.BytesIO(content), "form.xlsx", "application/octet-stream")})
    assert answer.status_code == 422 and is_error_shape(answer), (answer.status_code, answer.data[:300])
    assert snapshot(world.store) == before
