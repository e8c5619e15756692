"""ODK Collect over OpenRosa 1.0 (Flask test client): form list, download, HEAD and POST submission.

Submissions from Collect go through the same ingest as JSON batches: same validation,
deduplication by instance id, quarantine and roll-ups.
"""
import base64
import hashlib
import xml.etree.ElementTree as ET
from datetime import datetime

from pony.orm import db_session

from sync.ingest import ingest_batch

from .conftest import PASSWORD
from .support.ingest import VILLAGE, counts, household, rows, submission, sums
from .support.openrosa import collect_headers, fill_instance, instance_id_of, multipart

LIST_NS = "{http://openrosa.org/xforms/xformsList}"
RESPONSE_NS = "{http://openrosa.org/http/response}"


def base(token):
    return f"/odk/key/{token}"


def get_xform(client, token):
    """The downloaded XForm text of the default form."""
    listed = ET.fromstring(client.get(f"{base(token)}/formList", headers=collect_headers()).data)
    url = listed.find(f"{LIST_NS}xform/{LIST_NS}downloadUrl").text
    return client.get(url.replace("http://localhost", ""), headers=collect_headers()).get_data(as_text=True)


def post(client, token, xml_bytes, **options):
    body, content_type = multipart(xml_bytes, **options)
    return client.post(f"{base(token)}/submission", data=body,
                       headers=collect_headers(**{"Content-Type": content_type}))


def message_of(response):
    return ET.fromstring(response.data).find(f"{RESPONSE_NS}message").text


def test_the_form_list_names_each_open_form_with_its_version_md5_hash_and_download_url(odk, device_key):
    client, token = odk.test_client(), device_key()
    response = client.get(f"{base(token)}/formList", headers=collect_headers())
    assert response.status_code == 200 and response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.mimetype == "text/xml"
    forms = ET.fromstring(response.data).findall(f"{LIST_NS}xform")
    assert len(forms) == 1
    entry = {child.tag.replace(LIST_NS, ""): child.text for child in forms[0]}
    assert entry["formID"] == "household_digital" and entry["version"] == "2025.1"
    assert entry["name"] == "Khảo sát hộ gia đình về xã hội số"
    assert entry["downloadUrl"] == f"http://localhost{base(token)}/forms/household_digital/2025.1/form.xml"
    assert "manifestUrl" not in entry  # no media files
    download = client.get(entry["downloadUrl"].replace("http://localhost", ""), headers=collect_headers())
    assert download.status_code == 200 and download.headers["X-OpenRosa-Version"] == "1.0"
    assert entry["hash"] == "md5:" + hashlib.md5(download.data).hexdigest()


def test_the_village_question_lists_only_the_collectors_villages(odk, device_key):
    xform = get_xform(odk.test_client(), device_key())
    root = ET.fromstring(xform.encode())
    villages = root.find(".//{http://www.w3.org/2002/xforms}instance[@id='langso-villages']")
    codes = [item.findtext("{http://www.w3.org/2002/xforms}name") for item in villages.iter(
        "{http://www.w3.org/2002/xforms}item")]
    assert sorted(codes) == ["2372201", "2372202", "2372203"]  # not Pleiku's 2357201


def test_head_before_post_announces_the_accepted_content_length_with_204(odk, device_key):
    response = odk.test_client().head(f"{base(device_key())}/submission", headers=collect_headers())
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) == 10 * 1024 * 1024


def test_a_collect_submission_is_ingested_like_a_json_one_with_the_same_answers_and_indicators(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    xml_bytes = fill_instance(get_xform(client, token), household(location="13.9833 108.0 700 5"))
    response = post(client, token, xml_bytes)
    assert response.status_code == 201, response.data
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert message_of(response) == "Đã nhận phiếu của hộ."
    with db_session:
        stored = store.Submission.get(instance_id=instance_id_of(xml_bytes))
        assert (stored.status, stored.is_current, stored.village_code, stored.household_key) == \
            ("accepted", True, VILLAGE, "hh-1")
        assert stored.collector == "collector_phuhoa" and stored.form_version == "2025.1"
        assert stored.collected_at == datetime(2025, 3, 1, 2, 30, 12, 345000)
        from_collect = dict(stored.answers), dict(stored.indicators)
        json_results = ingest_batch(store, store.User.get(username="collector_phuhoa"),
                                    [submission(household_key="hh-2",
                                                answers=household(location="13.9833 108.0 700 5"))])
    assert json_results[0]["status"] == "accepted"
    with db_session:
        from_json = store.Submission.get(household_key="hh-2")
        assert from_collect == (dict(from_json.answers), dict(from_json.indicators))
    assert sums(store) == {VILLAGE: (2, 4, 2)} and counts(store) == {VILLAGE: (2, 0)}


def test_a_retry_of_the_same_instance_is_a_success_and_changes_nothing(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    xml_bytes = fill_instance(get_xform(client, token), household())
    assert post(client, token, xml_bytes).status_code == 201
    before = rows(store), sums(store)
    again = post(client, token, xml_bytes)
    assert again.status_code == 201 and "không có gì thay đổi" in message_of(again)
    assert (rows(store), sums(store)) == before


def test_other_xml_under_a_known_instance_id_is_a_409_conflict_kept_for_review(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    xform = get_xform(client, token)
    same_id = "uuid:6f0c1e1a-0000-4000-8000-000000000001"
    first = fill_instance(xform, household(), instance_id=same_id)
    other = fill_instance(xform, household(adults_smartphone=2), instance_id=same_id)
    assert post(client, token, first).status_code == 201
    response = post(client, token, other)
    assert response.status_code == 409
    assert [r[1] for r in rows(store)] == ["accepted", "conflict"]
    assert sums(store) == {VILLAGE: (1, 2, 1)}


def test_a_deprecated_id_makes_the_submission_an_edit_that_replaces_the_household(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    xform = get_xform(client, token)
    original = fill_instance(xform, household())
    edited = fill_instance(xform, household(adults_smartphone=2), deprecated_id=instance_id_of(original))
    assert post(client, token, original).status_code == 201
    assert post(client, token, edited).status_code == 201
    with db_session:
        current = store.Submission.get(instance_id=instance_id_of(edited))
        assert current.supersedes == instance_id_of(original) and current.is_current
        assert not store.Submission.get(instance_id=instance_id_of(original)).is_current
    assert sums(store) == {VILLAGE: (2, 2, 1)}


def test_an_invalid_household_is_refused_with_its_errors_and_kept_in_quarantine(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    xml_bytes = fill_instance(get_xform(client, token), household(adults_smartphone=5))
    response = post(client, token, xml_bytes)
    assert response.status_code == 400
    assert "answers.adults_smartphone" in message_of(response)
    assert rows(store) == [(instance_id_of(xml_bytes), "rejected", False)]


def test_a_village_outside_the_collectors_scope_is_rejected(odk, device_key):
    client, token = odk.test_client(), device_key()
    xml_bytes = fill_instance(get_xform(client, token), household(), village="2357201")
    response = post(client, token, xml_bytes)
    assert response.status_code == 400 and "village_code" in message_of(response)


def test_a_split_upload_with_isincomplete_is_accepted_part_by_part_and_stored_once(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    xml_bytes = fill_instance(get_xform(client, token), household())
    first = post(client, token, xml_bytes, attachments=[("a.jpg", b"\xff\xd8" + b"1" * 5000, "image/jpeg")],
                 incomplete=True)
    assert first.status_code == 201 and "một phần" in message_of(first)
    last = post(client, token, xml_bytes, attachments=[("b.jpg", b"\xff\xd8" + b"2" * 5000, "image/jpeg")])
    assert last.status_code == 201
    assert len(rows(store)) == 1


def test_a_post_without_the_xml_part_is_a_400_in_openrosa_xml(odk, device_key):
    client, token = odk.test_client(), device_key()
    response = client.post(f"{base(token)}/submission", data={"other": "x"}, headers=collect_headers())
    assert response.status_code == 400 and response.headers["X-OpenRosa-Version"] == "1.0"
    assert "xml_submission_file" in message_of(response)


def test_missing_credentials_get_401_with_a_basic_challenge_and_basic_auth_works(odk):
    client = odk.test_client()
    response = client.get("/odk/formList", headers=collect_headers())
    assert response.status_code == 401 and response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = base64.b64encode(b"collector_phuhoa:wrong").decode()
    assert client.get("/odk/formList", headers=collect_headers(Authorization=f"Basic {wrong}")).status_code == 401
    good = base64.b64encode(f"collector_phuhoa:{PASSWORD}".encode()).decode()
    response = client.get("/odk/formList", headers=collect_headers(Authorization=f"Basic {good}"))
    assert response.status_code == 200
    url = ET.fromstring(response.data).find(f"{LIST_NS}xform/{LIST_NS}downloadUrl").text
    assert url == "http://localhost/odk/forms/household_digital/2025.1/form.xml"


def test_a_revoked_device_token_and_a_plain_api_token_are_refused_in_the_url(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    assert client.get(f"{base(token)}/formList", headers=collect_headers()).status_code == 200
    with db_session:
        for item in store.ApiToken.select(lambda t: t.kind == "device"):
            item.revoked_at = datetime.utcnow()
    assert client.get(f"{base(token)}/formList", headers=collect_headers()).status_code == 403
    api_token = device_key(kind="api")
    assert client.get(f"{base(api_token)}/formList", headers=collect_headers()).status_code == 403


def test_a_disabled_account_stops_its_devices(odk, device_key):
    client, token = odk.test_client(), device_key()
    store = odk.extensions["langso_db"]
    with db_session:
        store.User.get(username="collector_phuhoa").active = False
    response = client.head(f"{base(token)}/submission", headers=collect_headers())
    assert response.status_code == 403
