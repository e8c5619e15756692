"""Form pages (admin): edit the draft as text, see every mistake with its line, preview, publish, archive."""
import html
import json
import re

import pytest
import yaml
from pony.orm import db_session

from sync.form_versions import publish_default_form

from .browser.pages import csrf_token, sign_in, with_pages

FORM = "/forms/household_digital"


@pytest.fixture
def web(app, store):
    publish_default_form(store)
    client = with_pages(app).test_client()
    sign_in(client, "admin")
    return client


def draft_text(client, fmt="yaml"):
    page = client.get(f"{FORM}?format={fmt}").get_data(as_text=True)
    text = re.search(r'<textarea name="text" id="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    return html.unescape(text)


def post_draft(client, text, action, fmt="yaml"):
    return client.post(f"{FORM}/draft", data={"text": text, "format": fmt, "action": action,
                                              "csrf_token": csrf_token(client, FORM)})


def test_the_forms_list_shows_each_form_and_its_versions(web):
    page = web.get("/forms").get_data(as_text=True)
    assert 'data-form="household_digital"' in page and "2025.1" in page


def test_the_draft_is_shown_as_yaml_or_json_with_its_keys_in_reading_order(web):
    text = draft_text(web)
    assert text.startswith("id: household_digital\nversion:")
    assert json.loads(draft_text(web, "json"))["id"] == "household_digital"


def test_validation_lists_every_mistake_with_its_path_and_line(web):
    text = draft_text(web).replace("type: integer", "type: integr", 1).replace("${members}", "${membres}", 1)
    response = post_draft(web, text, "validate")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    fields = re.findall(r'class="error-item" data-field="([^"]*)" data-line="(\d*)"', page)
    assert len(fields) >= 2 and all(line for _, line in fields)
    lines = text.splitlines()
    for field, line in fields:
        assert field.startswith("questions[")
        assert any(word in lines[int(line) - 1] for word in ("integr", "membres", "name:", "type:", "constraint"))


def test_a_yaml_syntax_error_is_shown_on_its_line(web):
    response = post_draft(web, "id: household_digital\nversion: [1\n", "validate")
    assert response.status_code == 422
    assert re.search(r'data-field="" data-line="\d+"', response.get_data(as_text=True))


def test_saving_keeps_an_invalid_draft_so_no_work_is_lost(web, store):
    text = draft_text(web).replace("type: integer", "type: integr", 1)
    response = post_draft(web, text, "save")
    assert response.status_code == 422 and "còn 1 lỗi" in response.get_data(as_text=True)
    with db_session:
        assert "integr" in json.dumps(store.Form.get(form_id="household_digital").draft)


def test_publishing_a_new_version_then_refusing_the_same_content(web, store):
    text = draft_text(web).replace('version: "2025.1"', 'version: "2025.2"')
    text = text.replace("version: '2025.1'", "version: '2025.2'")
    text = text.replace("Tổng số nhân khẩu của hộ", "Tổng số người trong hộ")
    response = post_draft(web, text, "publish")
    assert response.status_code == 302
    page = web.get(FORM).get_data(as_text=True)
    assert "Đã phát hành phiên bản 2025.2" in page and 'data-version="2025.2"' in page
    again = post_draft(web, text, "publish")
    assert again.status_code == 422


def test_a_breaking_change_needs_confirmation(web, store):
    doc = yaml.safe_load(draft_text(web))
    doc["version"] = "2026.1"
    services = next(q for q in doc["questions"] if q["name"] == "digital_services")
    next(q for q in services["children"] if q["name"] == "members_ehr")["type"] = "decimal"
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    response = post_draft(web, text, "publish")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="breaking-list"' in page and 'value="publish_confirmed"' in page
    assert post_draft(web, text, "publish_confirmed").status_code == 302
    with db_session:
        assert store.FormVersion.exists(version="2026.1")


def test_archiving_a_form(web, store):
    response = web.post(f"{FORM}/archive", data={"csrf_token": csrf_token(web, FORM)})
    assert response.status_code == 302
    with db_session:
        assert store.Form.get(form_id="household_digital").archived
        assert store.AuditEntry.get(action="form_archived").actor == "admin"


def test_creating_a_form_from_pasted_yaml(web, store):
    doc = yaml.safe_load(draft_text(web))
    doc["id"] = "household_short"
    response = web.post("/forms/new", data={"text": yaml.safe_dump(doc, allow_unicode=True),
                                            "csrf_token": csrf_token(web, "/forms")})
    assert response.status_code == 302 and response.headers["Location"] == "/forms/household_short"
    bad = web.post("/forms/new", data={"text": "id: x\n", "csrf_token": csrf_token(web, "/forms")})
    assert bad.status_code == 422 and "error-item" in bad.get_data(as_text=True)


def test_the_preview_renders_the_questions_as_a_collector_sees_them(web):
    page = web.get(f"{FORM}/preview").get_data(as_text=True)
    assert 'data-q="consent"' in page and 'type="radio" name="consent" value="yes"' in page
    assert 'data-q="members" data-type="integer"' in page
    assert "Gia đình có đồng ý tham gia khảo sát này không?" in page


def preview_check(client, answers):
    return client.post(f"{FORM}/preview/check", json={"answers": answers},
                       headers={"X-CSRFToken": csrf_token(client, FORM)})


def test_the_preview_check_applies_relevance_and_constraints_with_the_form_engine(web):
    refused = preview_check(web, {"consent": "no"}).json
    assert refused["relevant"]["core"] is False and refused["relevant"]["members"] is False
    assert refused["refusal"] is True
    agreed = preview_check(web, {"consent": "yes", "members": 2, "members_15plus": 5}).json
    assert agreed["relevant"]["core"] is True and agreed["relevant"]["fibre_subscribed"] is False
    errors = {e["field"]: e["code"] for e in agreed["errors"]}
    assert errors["members_15plus"] == "constraint"
    assert preview_check(web, {"consent": "yes", "fibre_available": "yes"}).json["relevant"]["fibre_subscribed"]


def test_the_preview_check_needs_the_csrf_token(web):
    response = web.post(f"{FORM}/preview/check", json={"answers": {}})
    assert response.status_code == 403
