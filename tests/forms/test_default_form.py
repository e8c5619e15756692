"""The default household_digital form: questions, rules, refusals, indicators, benchmark."""
import pytest

import forms
from forms.bench import bench_validate, households
from forms.indicators import meets_target, percentage, roll_up

COUNTS = ["members", "members_15plus", "adults", "working_age", "adults_smartphone", "members_15plus_bank",
          "adults_digital_signature", "working_age_digital_skills", "members_online", "members_online_protected",
          "adults_online_public_services", "adults_telehealth", "members_ehr"]


def codes(result):
    return {(e["field"], e["code"]) for e in result.errors}


def test_default_form_shape(default_form):
    doc = forms.household_digital()
    assert doc["id"] == "household_digital" and doc["version"] == "2025.1"
    assert doc["questions"][0]["name"] == "consent" and default_form.consent_field == "consent"
    names = set(default_form.questions)
    assert names >= {"consent", "household_number", "head_name", "phone", "location", "fibre_available",
                     "fibre_subscribed", *COUNTS}
    assert default_form.personal_fields == {"head_name", "phone", "location"}
    services = next(q for q in doc["questions"] if q["name"] == "digital_services")
    assert [c["name"] for c in services["children"]] == COUNTS[6:]
    assert forms.household_digital() is not forms.household_digital()  # fresh copies


def test_every_text_has_vietnamese_and_english(default_form):
    for name, question in default_form.questions.items():
        for key in ("label", "hint", "constraint_message"):
            if question.get(key):
                assert set(question[key]) == {"vi", "en"}, (name, key)
    for indicator in default_form.indicators:
        assert set(indicator.label) == {"vi", "en"}


def test_indicators_and_targets(default_form):
    targets = {i.id: (i.unit, i.targets["2025"]["op"], i.targets["2025"]["value"], i.targets["2030"]["op"],
                      i.targets["2030"]["value"]) for i in default_form.indicators}
    assert targets == {
        "fibre_coverage": ("households", ">=", 80, ">=", 100), "smartphone_adults": ("adults", ">=", 80, ">=", 95),
        "bank_account_15plus": ("people_15plus", ">=", 80, ">", 95),
        "digital_signature_adults": ("adults", ">", 50, ">", 70),
        "digital_skills_working_age": ("working_age", ">", 70, ">", 80),
        "online_protected": ("people_online", ">", 70, ">", 80),
        "online_public_services_adults": ("adults", ">", 50, ">", 70),
        "telehealth_adults": ("adults", ">", 30, ">", 50), "ehr_members": ("people", ">=", 90, ">", 95)}
    labels = {i.id: i.title() for i in default_form.indicators}
    assert labels["smartphone_adults"] == "Dân số trưởng thành có điện thoại thông minh"


def test_a_realistic_household_is_valid(default_form, household):
    result = default_form.validate(household)
    assert result.ok, result.errors
    assert result.answers == household | {"location": "13.9833 108.0033 760 4.5"}


def test_more_smartphones_than_adults_is_rejected_in_vietnamese_and_english(default_form, household):
    bad = dict(household, adults_smartphone=4)
    assert default_form.validate(bad).errors == [{
        "field": "adults_smartphone", "code": "constraint",
        "message": "Số người trưởng thành có điện thoại thông minh không được lớn hơn số người trưởng thành"}]
    assert default_form.validate(bad, lang="en").errors == [{
        "field": "adults_smartphone", "code": "constraint",
        "message": "Adults with a smartphone cannot be more than the adults of the household"}]


@pytest.mark.parametrize("changes, field", [
    ({"members": 0}, "members"), ({"members": 51}, "members"), ({"members_15plus": 6}, "members_15plus"),
    ({"adults": 5}, "adults"), ({"working_age": 5}, "working_age"), ({"members_15plus_bank": 5}, "members_15plus_bank"),
    ({"adults_digital_signature": 4}, "adults_digital_signature"),
    ({"working_age_digital_skills": 4}, "working_age_digital_skills"), ({"members_online": 6}, "members_online"),
    ({"members_online_protected": 4}, "members_online_protected"),
    ({"adults_online_public_services": 4}, "adults_online_public_services"),
    ({"adults_telehealth": 4}, "adults_telehealth"), ({"members_ehr": 6}, "members_ehr"),
    ({"adults_telehealth": -1}, "adults_telehealth"), ({"phone": "12345"}, "phone"),
    ({"phone": "0212345678"}, "phone"), ({"phone": "+8491234567"}, "phone"),
])
def test_adversarial_households_break_the_named_rule(default_form, household, changes, field):
    found = codes(default_form.validate(dict(household, **changes)))
    assert (field, "constraint") in found and {code for _, code in found} == {"constraint"}
    if changes != {"members": 0}:  # 0 members also breaks every count bounded by members
        assert found == {(field, "constraint")}


@pytest.mark.parametrize("phone", ["0912345678", "+84912345678", "0356789012", "02693822222", "+842693822222"])
def test_vietnamese_phone_numbers_are_accepted(default_form, household, phone):
    assert default_form.validate(dict(household, phone=phone)).ok


def test_optional_and_required_identity(default_form, household):
    optional = {k: v for k, v in household.items() if k not in ("phone", "location")}
    assert default_form.validate(optional).ok
    missing = {k: v for k, v in household.items() if k not in ("head_name", "members_ehr", "fibre_subscribed")}
    assert codes(default_form.validate(missing)) == {("head_name", "required"), ("members_ehr", "required"),
                                                     ("fibre_subscribed", "required")}


def test_fibre_subscribed_is_dropped_without_fibre(default_form, household):
    result = default_form.validate(dict(household, fibre_available="no", fibre_subscribed="yes"))
    assert result.ok and "fibre_subscribed" not in result.answers


def test_a_refusal_keeps_nothing_else_and_yields_no_indicators(default_form, household):
    result = default_form.validate(dict(household, consent="no", members="junk"))
    assert result.ok and result.answers == {"consent": "no"}
    assert default_form.is_refusal(result.answers)
    assert default_form.indicator_values(result.answers) == {}
    assert not default_form.is_refusal(household) and not default_form.is_refusal(None)
    assert codes(default_form.validate({})) == {("consent", "required")}


def test_indicator_values_per_household(default_form, household):
    values = default_form.indicator_values(default_form.validate(household).answers)
    assert values == {"fibre_coverage": (1, 1), "smartphone_adults": (2, 3), "bank_account_15plus": (2, 4),
                      "digital_signature_adults": (1, 3), "digital_skills_working_age": (1, 3),
                      "online_protected": (2, 3), "online_public_services_adults": (1, 3),
                      "telehealth_adults": (0, 3), "ehr_members": (4, 5)}
    no_fibre = default_form.validate(dict(household, fibre_available="no", members_online=0,
                                          members_online_protected=0, adults=0, adults_smartphone=0,
                                          adults_digital_signature=0, adults_online_public_services=0)).answers
    values = default_form.indicator_values(no_fibre)
    assert values["fibre_coverage"] == (0, 1)
    assert "online_protected" not in values and "smartphone_adults" not in values  # no base in this household
    assert default_form.indicator_values({"consent": "yes", "members": 3}) == {"fibre_coverage": (0, 1),
                                                                               "ehr_members": (0, 3)}
    assert default_form.indicator_values("junk") == {}


def test_roll_up_is_a_ratio_of_sums(default_form, household):
    village_a = dict(household, members=10, members_15plus=10, adults=10, adults_smartphone=9)
    village_b = dict(household, members=50, members_15plus=50, adults=90, adults_smartphone=45)
    village_b["members"] = village_b["members_15plus"] = 50
    pairs = [{"smartphone_adults": (9, 10)}, {"smartphone_adults": (45, 90)}]
    num, den, count = roll_up(pairs)["smartphone_adults"]
    assert (num, den, count) == (54, 100, 2) and percentage(num, den) == 54.0
    assert meets_target(54.0, {"op": ">=", "value": 80}) is False
    assert meets_target(80.0, {"op": ">=", "value": 80}) is True
    assert meets_target(80.0, {"op": ">", "value": 80}) is False
    assert percentage(0, 0) is None and default_form.validate(village_a).ok


def test_varied_households_validate_without_surprises(default_form):
    for answers in households(2000, seed=7):
        result = default_form.validate(answers)
        if answers["consent"] == "no":
            assert result.answers == {"consent": "no"} and default_form.indicator_values(result.answers) == {}
        elif result.ok:
            values = default_form.indicator_values(result.answers)
            assert all(0 <= n <= d for n, d in values.values())
        else:
            assert {e["code"] for e in result.errors} == {"constraint"}


def test_bench_validate_reports_figures():
    figures = bench_validate(2000)
    assert figures["submissions"] == 2000 and figures["seconds"] > 0
    assert figures["submissions_per_s"] > 2000  # well under 500 microseconds per household
    assert figures["reference_per_s"] > 0 and figures["ratio"] > 0
