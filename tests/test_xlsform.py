"""XLSForm import through pyxform: supported features survive, unsupported ones are reported by cell.

The household surveys are real .xlsx files written with openpyxl (tests/fixtures/xlsforms).
"""
import copy
import io
import json

import pytest
from pony.orm import db_session

import forms
from forms.xform import render_xform
from forms.xlsform import XLSFormError, column_letter, import_xlsform

from .fixtures.xlsforms.surveys import WASH_SURVEY, definition_sheets, write_xlsx


def by_cell(problems):
    return {(p["sheet"], p.get("cell")): p["code"] for p in problems}


@pytest.fixture
def household_xlsx(tmp_path):
    return write_xlsx(tmp_path / "household_digital.xlsx", definition_sheets(forms.household_digital()))


@pytest.fixture
def wash_xlsx(tmp_path):
    return write_xlsx(tmp_path / "wash_household.xlsx", WASH_SURVEY)


def test_the_household_form_as_an_xlsform_imports_back_to_the_same_questions_and_expressions(household_xlsx):
    result = import_xlsform(str(household_xlsx))
    assert result.unsupported == [] and result.replaced == [] and result.warnings == []
    expected = forms.household_digital()
    for key in ("indicators", "consent_field", "description", "default_language"):
        expected.pop(key)
    expected["title"].pop("en")  # an XLSForm's form_title has one language
    assert result.definition == expected
    forms.compile_form(result.definition)  # our engine accepts it


def test_an_imported_form_validates_households_like_the_original(household_xlsx):
    imported = forms.compile_form(import_xlsform(str(household_xlsx)).definition)
    original = forms.compile_form(forms.household_digital())
    for answers in ({"consent": "no"}, {"consent": "yes", "members": 3, "members_15plus": 4},
                    {"consent": "yes", "phone": "12345"}):
        assert imported.validate(answers).errors == original.validate(answers).errors


def test_a_household_wash_survey_keeps_what_langso_supports(wash_xlsx):
    result = import_xlsform(str(wash_xlsx))
    doc = result.definition
    assert (doc["id"], doc["version"], doc["title"]) == ("wash_household", "2024.03",
                                                          {"vi": "Khảo sát nước sạch hộ gia đình"})
    top = [q["name"] for q in doc["questions"]]
    assert top == ["consent", "household", "water"]
    household = doc["questions"][1]
    assert household["relevant"] == "${consent} = 'yes'"
    members = household["children"][1]
    assert members == {"name": "members", "type": "integer", "required": True,
                       "label": {"vi": "Số nhân khẩu", "en": "Household members"}, "constraint": ". > 0 and . < 40",
                       "constraint_message": {"vi": "Từ 1 đến 39 người"}}
    water = {q["name"]: q for q in doc["questions"][2]["children"]}
    assert water["treatment"]["type"] == "select_multiple"
    assert water["treatment"]["relevant"] == "${water_source} != 'piped'"
    assert water["treated"] == {"name": "treated", "type": "calculate",
                                "calculation": "count-selected(${treatment})"}
    assert "distance_km" in water and "constraint" not in water["distance_km"]
    assert [c["name"] for c in doc["choices"]["ethnicity"]] == ["kinh", "jrai", "bahnar", "other"]
    render_xform(doc)  # and it renders for Collect


def test_every_unsupported_feature_of_the_wash_survey_is_reported_by_sheet_row_and_column(wash_xlsx):
    result = import_xlsform(str(wash_xlsx))
    assert by_cell(result.unsupported) == {
        ("settings", "F2"): "unsupported_setting",  # style
        ("survey", "A4"): "unsupported_type",  # deviceid
        ("survey", "J6"): "unsupported_column",  # appearance field-list
        ("survey", "J9"): "unsupported_column",  # appearance minimal
        ("survey", "A12"): "unsupported_type",  # begin repeat
        ("survey", "B13"): "inside_unsupported", ("survey", "B14"): "inside_unsupported",
        ("survey", "K21"): "unsupported_column",  # choice_filter
        ("choices", "E16"): "unsupported_column", ("choices", "E17"): "unsupported_column",
        ("survey", "A22"): "unsupported_type",  # image
        ("survey", "F23"): "unsupported_value",  # conditional required
        ("survey", "H24"): "unsupported_expression",  # once()
        ("survey", "M25"): "unsupported_column",  # media::image
        ("survey", "C25"): "unsupported_label_reference",  # ${head_name} in a label
    }
    assert by_cell(result.replaced) == {("settings", "E2"): "replaced_setting", ("survey", "A2"): "replaced_type",
                                        ("survey", "A3"): "replaced_type"}
    repeat = next(p for p in result.unsupported if p.get("cell") == "A12")
    assert repeat["row"] == 12 and repeat["column"] == "type" and "'member'" in repeat["message"]


def test_a_broken_xlsform_is_refused_with_pyxforms_row(tmp_path):
    sheets = copy.deepcopy(WASH_SURVEY)
    sheets["survey"].append(["select_one missing_list", "oops", "Lỗi", "Broken"])
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(str(write_xlsx(tmp_path / "broken.xlsx", sheets)))
    assert caught.value.errors[0]["code"] == "pyxform_error"
    assert caught.value.errors[0]["row"] == len(sheets["survey"])


def test_a_reference_pyxform_cannot_resolve_is_refused_with_its_row_and_column(tmp_path):
    sheets = copy.deepcopy(WASH_SURVEY)
    sheets["survey"][8][6] = "${nobody} = 'x'"
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(str(write_xlsx(tmp_path / "unknown.xlsx", sheets)))
    problem = caught.value.errors[0]
    assert (problem["code"], problem["row"], problem["column"]) == ("pyxform_error", 9, "relevant")


def test_a_question_our_engine_rejects_is_located_in_the_sheet(tmp_path):
    sheets = copy.deepcopy(WASH_SURVEY)
    sheets["survey"][8][6] = "${household} != ''"  # a group's value: pyxform allows it, langso does not
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(str(write_xlsx(tmp_path / "group_ref.xlsx", sheets)))
    problem = caught.value.errors[0]
    assert (problem["code"], problem["sheet"], problem["row"], problem["column"]) == (
        "unknown_reference", "survey", 9, "relevant")


def test_column_letters_follow_the_spreadsheet():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


def test_admins_import_an_xlsx_over_the_api_only_after_accepting_what_is_left_out(client, token_for, store,
                                                                                   wash_xlsx):
    upload = wash_xlsx.read_bytes()

    def send(query="", headers=None):
        return client.post(f"/api/v1/forms/import{query}", headers=headers or token_for("admin"),
                           data={"file": (io.BytesIO(upload), "wash.xlsx")}, content_type="multipart/form-data")
    refused = send()
    assert refused.status_code == 422
    assert {"field": "survey!A12", "code": "unsupported_type"}.items() <= refused.json["errors"][4].items()
    with db_session:
        assert store.Form.get(form_id="wash_household") is None
    assert send(headers=token_for("staff_chupah")).status_code == 403
    accepted = send("?accept_unsupported=true")
    assert accepted.status_code == 201 and accepted.json["created"] is True
    assert len(accepted.json["unsupported"]) == 15
    with db_session:
        assert store.Form.get(form_id="wash_household").draft == accepted.json["draft"]
    again = send("?accept_unsupported=true")
    assert again.status_code == 201 and again.json["created"] is False


def test_an_upload_that_is_not_a_workbook_is_a_clear_422(client, token_for):
    response = client.post("/api/v1/forms/import", headers=token_for("admin"),
                           data={"file": (io.BytesIO(b"not a spreadsheet"), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "pyxform_error"


def test_the_cli_imports_an_xlsform_and_lists_what_it_left_out(runner, store, household_xlsx, wash_xlsx):
    ok = runner.invoke(["forms", "import", str(household_xlsx)])
    assert ok.exit_code == 0 and "Created form household_digital" in ok.output
    refused = runner.invoke(["forms", "import", str(wash_xlsx)])
    assert refused.exit_code == 1 and "survey!A12" in refused.output
    accepted = runner.invoke(["forms", "import", "--accept-unsupported", "--json", str(wash_xlsx)])
    report = json.loads(accepted.output.strip().splitlines()[-1])
    assert report["ok"] and report["form_id"] == "wash_household" and len(report["unsupported"]) == 15
