"""Submission validation with the small example form: types, relevance, required, calculations."""
import copy

import pytest
from hypothesis import given, settings, strategies as st

import forms

BASE = {"name": "Ksor H'Blơi", "age": 30, "owns": "no"}


def codes(result):
    return {(e["field"], e["code"]) for e in result.errors}


def test_valid_submission_is_cleaned(small):
    result = small.validate({"name": "  An  ", "age": "42", "height": "1.62", "owns": "yes",
                             "which": "phone tv phone", "bought": "2024-05-01T10:00:00", "spot": [13.98, 108.0]})
    assert result.ok and result.errors == []
    assert result.answers == {"name": "An", "age": 42, "height": 1.62, "owns": "yes", "which": ["phone", "tv"],
                              "bought": "2024-05-01", "count": 2, "spot": "13.98 108 0 0", "adult": "yes"}


@pytest.mark.parametrize("field, raw, clean", [
    ("age", 7, 7), ("age", 7.0, 7), ("age", " 8 ", 8), ("height", 2, 2.0), ("height", "1.5", 1.5),
    ("height", -0.5, -0.5), ("spot", "13.9 108.1 700 5", "13.9 108.1 700 5"),
    ("spot", {"lat": 13.9, "lon": 108.1}, "13.9 108.1 0 0"),
    ("spot", {"latitude": 13.9, "longitude": 108.1, "accuracy": 4}, "13.9 108.1 0 4"),
    ("spot", ["13.9", "108.1", "650"], "13.9 108.1 650 0"), ("name", 12, "12"),
])
def test_types_are_coerced(small, field, raw, clean):
    result = small.validate(dict(BASE, **{field: raw}))
    assert result.ok, result.errors
    assert result.answers[field] == clean


@pytest.mark.parametrize("field, raw, code", [
    ("age", 7.5, "invalid_integer"), ("age", True, "invalid_integer"), ("age", "seven", "invalid_integer"),
    ("age", [1], "invalid_integer"), ("age", 10 ** 30, "out_of_range"), ("age", "9" * 5000, "invalid_integer"),
    ("height", float("nan"), "out_of_range"), ("height", "1,5", "invalid_decimal"), ("height", {}, "invalid_decimal"),
    ("owns", "maybe", "invalid_choice"), ("owns", ["yes"], "invalid_choice"), ("spot", "91 10", "invalid_geopoint"),
    ("spot", "10", "invalid_geopoint"), ("spot", {"lat": 1}, "invalid_geopoint"),
    ("spot", [1, 2, 3, 4, 5], "invalid_geopoint"),
    ("spot", {"lat": 1, "lon": 2, "colour": 3}, "invalid_geopoint"), ("name", "x" * 20000, "too_long"),
    ("name", {"a": 1}, "invalid_text"),
])
def test_type_errors(small, field, raw, code):
    assert codes(small.validate(dict(BASE, **{field: raw}))) == {(field, code)}


def test_select_multiple_and_date_errors(small):
    base = dict(BASE, owns="yes", which=["phone"])
    assert codes(small.validate(dict(base, which=["phone", "radio"]))) == {("which", "invalid_choice")}
    assert codes(small.validate(dict(base, which={"phone": 1}))) == {("which", "invalid_choices")}
    assert codes(small.validate(dict(base, bought="2024-02-30"))) == {("bought", "invalid_date")}
    assert codes(small.validate(dict(base, bought=20240201))) == {("bought", "invalid_date")}


def test_required_applies_only_when_relevant(small):
    assert codes(small.validate({"owns": "yes"})) == {("name", "required"), ("age", "required"),
                                                      ("which", "required")}
    assert codes(small.validate({"owns": "no", "name": "", "age": None})) == {("name", "required"),
                                                                               ("age", "required")}


def test_non_relevant_answers_are_dropped_even_when_malformed(small):
    result = small.validate(dict(BASE, which=["phone", "junk"], bought="yesterday", count=99))
    assert result.ok
    assert "which" not in result.answers and "bought" not in result.answers and "count" not in result.answers


def test_unknown_fields_are_reported(small):
    result = small.validate(dict(BASE, colour="red", devices="group name", **{"": 1}))
    assert codes(result) == {("colour", "unknown_field"), ("devices", "unknown_field"), ("", "unknown_field")}
    assert "colour" not in result.answers


def test_calculations_are_recomputed_and_client_values_ignored(small):
    result = small.validate(dict(BASE, age=12, adult="yes", intro="ignored note"))
    assert result.ok and result.answers["adult"] == "no" and "intro" not in result.answers


def test_constraint_messages_in_the_requested_language_with_fallback(small):
    bad = dict(BASE, age=130)
    assert small.validate(bad).errors == [{"field": "age", "code": "constraint", "message": "Tuổi từ 0 đến 120"}]
    assert small.validate(bad, lang="en").errors[0]["message"] == "Age must be 0 to 120"
    assert small.validate(bad, lang="jra").errors[0]["message"] == "Tuổi từ 0 đến 120"
    assert small.validate({"owns": "no", "age": 1}, lang="en").errors[0]["message"] == "This question is required"
    assert small.validate({"owns": "no", "age": 1}, lang="bdq").errors[0]["message"] == "Câu hỏi này là bắt buộc"


def test_constraints_skip_empty_answers(small_doc):
    doc = copy.deepcopy(small_doc)
    doc["questions"][3]["constraint"] = ". > 0.5"
    form = forms.compile_form(doc)
    assert form.validate(BASE).ok
    assert codes(form.validate(dict(BASE, height=0.2))) == {("height", "constraint")}


@pytest.mark.parametrize("junk", [None, [], "answers", 3, 2.5, True, [{"age": 1}]])
def test_non_object_submissions_give_one_error(small, junk):
    result = small.validate(junk)
    assert not result.ok and result.answers == {} and result.errors[0]["code"] == "invalid_submission"


def test_compiled_forms_are_cached_by_content(small_doc):
    first = forms.compile_form(small_doc)
    assert forms.compile_form(copy.deepcopy(small_doc)) is first
    changed = copy.deepcopy(small_doc)
    changed["version"] = "2"
    assert forms.compile_form(changed) is not first and forms.compile_form(changed).version == "2"
    assert forms.compile_form(first) is first


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
keys = st.sampled_from(["name", "age", "height", "owns", "which", "bought", "spot", "count", "adult", "intro",
                        "devices", "other"]) | st.text(max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=10) | json_values, st.sampled_from(["vi", "en", "jra", None, 3]))
def test_random_json_never_makes_validate_raise(small, answers, lang):
    result = small.validate(answers, lang=lang)
    assert isinstance(result.answers, dict) and isinstance(result.errors, list)
    for error in result.errors:
        assert set(error) == {"field", "code", "message"} and isinstance(error["message"], str)
    assert result.ok == (not result.errors)
