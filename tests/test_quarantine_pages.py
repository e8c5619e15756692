"""The quarantine pages decide through the ingest rules: accept a corrected record, discard another."""
import re

import pytest
from pony.orm import db_session

from sync import tally

from .browser.pages import csrf_token, sign_in, with_pages
from .browser.survey_data import load_survey

BAD = "uuid:2372201-10"


@pytest.fixture
def staff(app, store):
    load_survey(store)
    client = with_pages(app).test_client()
    sign_in(client, "staff_chupah")
    with db_session:
        number = store.Submission.get(instance_id=BAD).id
    return client, number


def decide(client, number, data):
    page = f"/submissions/{number}"
    return client.post(f"{page}/decide", data={**data, "csrf_token": csrf_token(client, page)})


def edited_text(client, number, old, new):
    page = client.get(f"/submissions/{number}").get_data(as_text=True)
    text = re.search(r'<textarea name="text" id="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    return text.replace("&#34;", '"').replace(old, new)


def test_staff_accept_a_corrected_record_on_its_page_and_it_is_counted(staff, store):
    client, number = staff
    text = edited_text(client, number, '"adults_smartphone": 7', '"adults_smartphone": 1')
    assert decide(client, number, {"action": "accept", "text": text}).status_code == 302
    with db_session:
        found = store.Submission.get(instance_id=BAD)
        assert found.status == "accepted" and found.is_current and found.answers["adults_smartphone"] == 1
        assert store.AuditEntry.get(action="quarantine_accepted", target=BAD).actor == "staff_chupah"
    assert tally.check(store) == []


def test_an_accept_with_answers_still_invalid_is_refused_on_the_page(staff, store):
    client, number = staff
    assert decide(client, number, {"action": "accept", "text": edited_text(client, number, "", "")}).status_code == 422
    with db_session:
        assert store.Submission.get(instance_id=BAD).status == "rejected"


def test_staff_discard_a_record_with_a_reason(staff, store):
    client, number = staff
    assert decide(client, number, {"action": "discard", "reason": "hộ đã chuyển đi"}).status_code == 302
    with db_session:
        found = store.Submission.get(instance_id=BAD)
        assert found.status == "discarded" and found.errors[-1]["message"] == "hộ đã chuyển đi"
    assert tally.check(store) == []
