"""ODK Collect's HTTP exchanges replayed against a real gunicorn (2 workers) over real sockets.

Collect first asks without credentials and answers a Basic challenge; with a QR-provisioned
device it uses the token URL. Before posting it sends HEAD to learn the accepted size,
then posts multipart with the XML first; it retries the same instance when unsure.
"""
import base64
import http.client
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import PASSWORD
from .support.ingest import counts, household, rows
from .support.openrosa import collect_headers, fill_instance, instance_id_of, multipart

LIST_NS = "{http://openrosa.org/xforms/xformsList}"


@pytest.fixture
def odk_server(odk, live_server):
    """The real gunicorn of conftest, serving this test's prepared database."""
    return live_server


def download_form(session, form_list_url, **auth):
    """formList then the XForm, as Collect's 'Download form' does; returns (list entry, XForm text)."""
    listed = session.get(form_list_url, headers=collect_headers(), **auth)
    assert listed.status_code == 200 and listed.headers["X-OpenRosa-Version"] == "1.0"
    entry = {c.tag.replace(LIST_NS, ""): c.text for c in ET.fromstring(listed.content).find(f"{LIST_NS}xform")}
    xform = session.get(entry["downloadUrl"], headers=collect_headers(), **auth)
    assert xform.status_code == 200 and "Date" in xform.headers
    return entry, xform.text


def send(session, submission_url, xml_bytes, **auth):
    """HEAD, then the multipart POST, as Collect's instance uploader does."""
    head = session.head(submission_url, headers=collect_headers(), **auth)
    assert head.status_code == 204 and int(head.headers["X-OpenRosa-Accept-Content-Length"]) >= len(xml_bytes)
    body, content_type = multipart(xml_bytes)
    return session.post(submission_url, data=body, headers=collect_headers(**{"Content-Type": content_type}), **auth)


def test_collect_with_a_qr_device_link_downloads_the_form_and_submits_once_despite_retries(odk, odk_server,
                                                                                             device_key):
    store = odk.extensions["langso_db"]
    base = f"{odk_server}/odk/key/{device_key()}"
    session = requests.Session()
    entry, xform = download_form(session, f"{base}/formList")
    assert entry["downloadUrl"].startswith(base)
    xml_bytes = fill_instance(xform, household())
    first = send(session, f"{base}/submission", xml_bytes)
    assert first.status_code == 201 and first.headers["X-OpenRosa-Version"] == "1.0"
    with ThreadPoolExecutor(4) as pool:  # Collect retrying while unsure, against both workers
        retries = list(pool.map(lambda _: send(requests.Session(), f"{base}/submission", xml_bytes).status_code,
                                range(6)))
    assert retries == [201] * 6
    assert rows(store) == [(instance_id_of(xml_bytes), "accepted", True)]
    assert counts(store) == {"2372201": (1, 0)}
    changed = fill_instance(xform, household(members_ehr=1), instance_id=instance_id_of(xml_bytes))
    assert send(session, f"{base}/submission", changed).status_code == 409


def test_collect_with_a_username_answers_the_basic_challenge(odk, odk_server):
    session = requests.Session()
    challenge = session.get(f"{odk_server}/odk/formList", headers=collect_headers())
    assert challenge.status_code == 401 and challenge.headers["WWW-Authenticate"].startswith("Basic")
    auth = {"auth": (b"collector_phuhoa", PASSWORD.encode("utf-8"))}  # RFC 7617 charset="UTF-8"
    _, xform = download_form(session, f"{odk_server}/odk/formList", **auth)
    response = send(session, f"{odk_server}/odk/submission", fill_instance(xform, household(consent="no")), **auth)
    assert response.status_code == 201
    assert counts(odk.extensions["langso_db"]) == {"2372201": (0, 1)}  # a refusal


def test_a_declared_50_mb_upload_is_refused_before_its_body_is_sent(odk, odk_server, device_key):
    target = urlsplit(f"{odk_server}/odk/key/{device_key()}/submission")
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    connection.putrequest("POST", target.path)
    for name, value in collect_headers(**{"Content-Type": "multipart/form-data; boundary=x",
                                          "Content-Length": str(50 * 1024 * 1024)}).items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and response.getheader("X-OpenRosa-Version") == "1.0"
    connection.close()


def test_wrong_basic_credentials_get_the_challenge_again(odk, odk_server):
    bad = base64.b64encode(b"collector_phuhoa:nope").decode()
    response = requests.get(f"{odk_server}/odk/formList", headers=collect_headers(Authorization=f"Basic {bad}"))
    assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
