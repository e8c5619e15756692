"""Loading form definitions: schema checks, cross-references, all errors at once, NFC."""
import copy
import json
import unicodedata

import pytest
from conftest import load_yaml
from hypothesis import given, settings, strategies as st

import forms
from forms.errors import DefinitionError


def errors_of(doc):
    with pytest.raises(DefinitionError) as caught:
        forms.load_form(doc)
    assert caught.value.code == "definition_error"
    return caught.value.errors


def test_small_form_loads_with_defaults(small_doc):
    loaded = forms.load_form(small_doc)
    assert loaded["default_language"] == "vi" and loaded["languages"] == ["vi", "en"]
    assert loaded["questions"][1]["required"] is True and loaded["questions"][3]["required"] is False
    assert forms.load_form(loaded) == loaded  # loading is idempotent


def test_a_draft_with_many_mistakes_reports_them_all_with_paths():
    found = {(e["field"], e["code"]) for e in errors_of(load_yaml("five_mistakes.yaml"))}
    assert found == {
        ("questions[1].name", "duplicate_name"),
        ("questions[2].choices", "unknown_choice_list"),
        ("questions[3].default", "default_not_in_choices"),
        ("questions[4].constraint", "expression_syntax"),
        ("questions[5].relevant", "unknown_reference"),
        ("questions[6]", "dependency_cycle"),
        ("questions[8].type", "invalid_value"),
        ("indicators[0].numerator", "indicator_unknown_field"),
    }


def test_expression_errors_name_the_question_and_position():
    errors = errors_of(load_yaml("five_mistakes.yaml"))
    syntax = next(e for e in errors if e["code"] == "expression_syntax")
    assert syntax["position"] == 5 and "'phones'" in syntax["message"]
    cycle = next(e for e in errors if e["code"] == "dependency_cycle")
    assert "a -> b -> a" in cycle["message"]
    for error in errors:
        assert set(error) >= {"field", "code", "message", "message_en", "message_vi"}
        assert error["message_vi"] in error["message"]


def test_schema_errors(small_doc):
    doc = copy.deepcopy(small_doc)
    doc["languages"] = ["vi"]
    doc["version"] = 1
    doc["questions"][1]["colour"] = "red"
    doc["questions"][1]["label"] = {"en": "Name only in English"}
    del doc["title"]
    found = {(e["field"], e["code"]) for e in errors_of(doc)}
    assert found == {("languages", "invalid_value"), ("version", "invalid_value"),
                     ("questions[1].colour", "unknown_key"), ("questions[1].label", "invalid_value"),
                     ("title", "missing_field")}


def test_nested_paths_and_missing_pieces(small_doc):
    doc = copy.deepcopy(small_doc)
    group = doc["questions"][5]
    group["children"][0].pop("choices")
    group["children"][2].pop("calculation")
    group["children"][1]["constraint"] = ". > ${nowhere}"
    doc["questions"].append({"name": "empty", "type": "group", "label": {"vi": "Trống"}})
    doc["questions"].append({"name": "unlabelled", "type": "text"})
    found = {(e["field"], e["code"]) for e in errors_of(doc)}
    assert found == {("questions[5].children[0].choices", "missing_choice_list"),
                     ("questions[5].children[2].calculation", "missing_calculation"),
                     ("questions[5].children[1].constraint", "unknown_reference"),
                     ("questions[8].children", "empty_group"), ("questions[9].label", "missing_label")}


def test_self_reference_and_indirect_cycles_through_relevance(small_doc):
    doc = copy.deepcopy(small_doc)
    doc["questions"][1]["relevant"] = "${name} != ''"
    doc["questions"][3]["relevant"] = "${adult} = 'yes'"  # adult depends on age, not on height: fine
    doc["questions"][2]["relevant"] = "${adult} = 'yes'"  # age -> adult -> age
    cycles = [e for e in errors_of(doc) if e["code"] == "dependency_cycle"]
    assert len(cycles) == 2
    assert {c["message_en"].split(": ")[1] for c in cycles} == {"name -> name", "age -> adult -> age"}


def test_indicator_and_consent_checks(small_doc):
    doc = copy.deepcopy(small_doc)
    doc["consent_field"] = "age"
    indicator = {"id": "x", "label": {"vi": "X"}, "numerator": ".", "denominator": "${age} +", "unit": "people"}
    doc["indicators"] = [indicator, dict(indicator, numerator="1", denominator="1", unit="cats")]
    found = {(e["field"], e["code"]) for e in errors_of(doc)}
    assert found == {("consent_field", "unknown_consent_field"), ("indicators[0].numerator", "indicator_unknown_field"),
                     ("indicators[0].denominator", "expression_syntax"), ("indicators[1].id", "duplicate_indicator"),
                     ("indicators[1].unit", "invalid_value")}


def test_defaults_must_fit_their_type(small_doc):
    doc = copy.deepcopy(small_doc)
    doc["questions"][2]["default"] = "many"
    doc["questions"][4]["default"] = "yes"
    found = {(e["field"], e["code"]) for e in errors_of(doc)}
    assert found == {("questions[2].default", "invalid_default")}


def test_strings_are_nfc_normalised(small_doc):
    doc = copy.deepcopy(small_doc)
    decomposed = unicodedata.normalize("NFD", "Số người trưởng thành")
    doc["questions"][1]["label"]["vi"] = decomposed
    assert decomposed != "Số người trưởng thành"
    assert forms.load_form(doc)["questions"][1]["label"]["vi"] == "Số người trưởng thành"


@pytest.mark.parametrize("doc", [None, [], "form", 42, {"id": []}, {"questions": [1, "x", None]},
                                 {"questions": [{"name": "g", "type": "group", "children": "no"}]}])
def test_junk_documents_raise_definition_error(doc):
    assert errors_of(doc)


def test_deeply_nested_documents_are_rejected_cleanly():
    doc = {"id": "deep", "version": "1", "title": "t", "questions": []}
    node = doc
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    assert errors_of(doc)[0]["code"] == "too_deep"


def test_json_and_yaml_documents_are_the_same(small_doc):
    assert forms.load_form(json.loads(json.dumps(small_doc, ensure_ascii=False))) == forms.load_form(small_doc)


def test_other_languages_are_allowed_and_fall_back_to_vi(small_doc):
    doc = copy.deepcopy(small_doc)
    doc["languages"] = ["vi", "en", "jra", "bdq"]
    doc["questions"][1]["label"]["jra"] = "Anăn"
    form = forms.compile_form(doc)
    assert form.label("name", "jra") == "Anăn" and form.label("age", "bdq") == "Tuổi"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
    | st.sampled_from(["${age}", "yes", "devices", "x y", "1 +", "${owns} = 'yes'", "group", "integer"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
KEYS = ["default", "consent_field", "choices", "relevant", "constraint", "calculation", "children", "indicators",
        "label", "name", "type", "required", "constraint_message", "version", "questions", "languages"]


def _dict_paths(value, path=()):
    """Paths to every mapping inside a document."""
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _dict_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _dict_paths(item, path + (index,))


DICT_PATHS = list(_dict_paths(load_yaml("small.yaml")))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DICT_PATHS), st.sampled_from(KEYS), json_values)
def test_mutated_definitions_only_raise_definition_errors(path, key, value):
    doc = load_yaml("small.yaml")
    node = doc
    for step in path:
        node = node[step]
    node[key] = value
    try:
        form = forms.compile_form(doc)
    except DefinitionError as caught:
        assert caught.errors and all({"field", "code", "message"} <= set(e) for e in caught.errors)
        return
    form.validate({"name": "a", "age": 3, "owns": "yes", "which": "phone"})
    forms.breaking_changes(load_yaml("small.yaml"), doc)
