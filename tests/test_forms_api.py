"""Admins create, validate, publish and archive forms over the API; devices download versions."""
import copy

import pytest
from pony.orm import db_session

import forms
from sync.form_versions import publish_default_form


@pytest.fixture
def published(store):
    """The default household form, published as `langso db init` does."""
    return publish_default_form(store)


def household_doc():
    return copy.deepcopy(forms.household_digital())


def test_the_default_form_is_published_and_round_trips(client, token_for, published):
    collector = token_for("collector_phuhoa")
    listed = client.get("/api/v1/forms", headers=collector).json
    assert [(f["form_id"], f["latest_version"]) for f in listed] == [("household_digital", "2025.1")]
    definition = client.get("/api/v1/forms/household_digital/versions/2025.1", headers=collector).json
    assert definition == forms.household_digital()
    assert forms.content_hash(definition) == published.content_hash


def test_the_nine_indicators_are_listed_with_2025_and_2030_targets(client, token_for, published):
    indicators = client.get("/api/v1/forms/household_digital/indicators", headers=token_for("staff_chupah")).json
    assert [i["id"] for i in indicators] == [
        "fibre_coverage", "smartphone_adults", "bank_account_15plus", "digital_signature_adults",
        "digital_skills_working_age", "online_protected", "online_public_services_adults",
        "telehealth_adults", "ehr_members"]
    by_id = {i["id"]: i["targets"] for i in indicators}
    assert by_id["fibre_coverage"] == {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">=", "value": 100}}
    assert by_id["bank_account_15plus"]["2030"] == {"op": ">", "value": 95}
    assert by_id["telehealth_adults"] == {"2025": {"op": ">", "value": 30}, "2030": {"op": ">", "value": 50}}


def five_mistakes():
    doc = household_doc()
    doc["id"] = "mistakes"
    questions = doc["questions"]
    questions.append(dict(questions[1]))  # 1. a duplicate name
    questions.append({"name": "q_list", "type": "select_one", "choices": "no_such_list",  # 2. unknown list
                      "label": {"vi": "Câu hỏi", "en": "Question"}})
    questions.append({"name": "q_syntax", "type": "integer", "label": {"vi": "Số", "en": "Number"},
                      "constraint": ". <= ${members"})  # 3. syntax error
    questions.append({"name": "q_unknown", "type": "integer", "label": {"vi": "Số", "en": "Number"},
                      "relevant": "${nobody} > 1"})  # 4. unknown field
    doc["indicators"].append({"id": "bad_indicator", "label": {"vi": "Sai", "en": "Bad"}, "unit": "adults",
                              "numerator": "${ghost}", "denominator": "${adults}",
                              "targets": {"2025": {"op": ">=", "value": 50}}})  # 5. indicator on unknown field
    return doc


def test_a_draft_with_five_mistakes_gets_all_five_errors_with_paths(client, token_for):
    response = client.post("/api/v1/forms/validate", json=five_mistakes(), headers=token_for("admin"))
    assert response.status_code == 200
    body = response.json
    assert body["valid"] is False
    codes = {e["code"] for e in body["errors"]}
    assert len(body["errors"]) >= 5, body["errors"]
    assert all(e["field"] for e in body["errors"])
    text = " ".join(f"{e['field']} {e['message']}" for e in body["errors"])
    for needle in ("no_such_list", "q_syntax", "nobody", "ghost"):
        assert needle in text, needle
    assert len(codes) >= 4


def test_publishing_needs_a_greater_version_and_new_content(client, token_for, published):
    admin = token_for("admin")
    again = client.post("/api/v1/forms/household_digital/publish", json={}, headers=admin)
    assert again.status_code == 409
    doc = household_doc()
    doc["title"]["en"] = "Household digital survey (revised)"
    assert client.put("/api/v1/forms/household_digital/draft", json=doc, headers=admin).json["errors"] == []
    same_version = client.post("/api/v1/forms/household_digital/publish", json={}, headers=admin)
    assert same_version.status_code == 422 and same_version.json["errors"][0]["code"] == "version_not_increasing"
    doc["version"] = "2025.2"
    client.put("/api/v1/forms/household_digital/draft", json=doc, headers=admin)
    created = client.post("/api/v1/forms/household_digital/publish", json={}, headers=admin)
    assert created.status_code == 201 and created.json["version"] == "2025.2"
    versions = client.get("/api/v1/forms/household_digital/versions", headers=admin).json
    assert [v["version"] for v in versions] == ["2025.1", "2025.2"]
    assert client.get("/api/v1/forms/household_digital/versions/2025.1", headers=admin).json == \
        forms.household_digital()


def test_a_breaking_change_is_refused_until_the_admin_confirms(client, token_for, published, store):
    admin = token_for("admin")
    doc = household_doc()
    doc["version"] = "2026.1"
    for question in _all_questions(doc["questions"]):
        if question["name"] == "members":
            question["type"] = "decimal"
    client.put("/api/v1/forms/household_digital/draft", json=doc, headers=admin)
    refused = client.post("/api/v1/forms/household_digital/publish", json={}, headers=admin)
    assert refused.status_code == 409 and refused.json["code"] == "breaking_change"
    assert any("members" in e["field"] for e in refused.json["errors"])
    confirmed = client.post("/api/v1/forms/household_digital/publish", json={"confirm_breaking": True},
                            headers=admin)
    assert confirmed.status_code == 201
    with db_session:
        entry = store.AuditEntry.select(lambda a: a.action == "form_published").order_by(lambda a: a.id)[:][-1]
        assert entry.target == "household_digital@2026.1" and entry.details["confirmed_breaking"] is True


def _all_questions(questions):
    for question in questions:
        yield question
        yield from _all_questions(question.get("children", []))


def test_a_draft_with_mistakes_is_saved_and_its_errors_returned(client, token_for, published):
    admin = token_for("admin")
    doc = household_doc()
    doc["questions"][0]["relevant"] = "${nowhere} = 1"
    saved = client.put("/api/v1/forms/household_digital/draft", json=doc, headers=admin)
    assert saved.status_code == 200 and saved.json["errors"]
    assert client.get("/api/v1/forms/household_digital/draft", headers=admin).json["draft"] == doc
    refused = client.post("/api/v1/forms/household_digital/publish", json={}, headers=admin)
    assert refused.status_code == 422


def test_create_and_archive_a_form(client, token_for):
    admin = token_for("admin")
    doc = household_doc()
    doc["id"] = "household_short"
    assert client.post("/api/v1/forms", json=doc, headers=admin).status_code == 201
    assert client.post("/api/v1/forms", json=doc, headers=admin).status_code == 409
    assert client.post("/api/v1/forms/household_short/publish", json={}, headers=admin).status_code == 201
    archived = client.post("/api/v1/forms/household_short/archive", headers=admin).json
    assert archived["archived"] is True


@pytest.mark.parametrize("username", ["staff_chupah", "collector_phuhoa"])
def test_only_admins_edit_forms(client, token_for, published, username):
    headers = token_for(username)
    doc = household_doc()
    assert client.post("/api/v1/forms", json=doc, headers=headers).status_code == 403
    assert client.put("/api/v1/forms/household_digital/draft", json=doc, headers=headers).status_code == 403
    assert client.post("/api/v1/forms/household_digital/publish", json={}, headers=headers).status_code == 403
    assert client.post("/api/v1/forms/validate", json=doc, headers=headers).status_code == 403
    assert client.post("/api/v1/forms/household_digital/archive", headers=headers).status_code == 403
    assert client.get("/api/v1/forms/household_digital/versions", headers=headers).status_code == 403
    assert client.get("/api/v1/forms/household_digital/versions/2025.1", headers=headers).status_code == 200


def test_anonymous_callers_get_nothing(client, published):
    assert client.get("/api/v1/forms").status_code == 401
    assert client.get("/api/v1/forms/household_digital/versions/2025.1").status_code == 401


def test_a_version_that_does_not_exist_is_404(client, token_for, published):
    response = client.get("/api/v1/forms/household_digital/versions/9.9", headers=token_for("admin"))
    assert response.status_code == 404 and response.json["code"] == "not_found"
