"""Roll-ups from per-village sums: ratio of sums, targets, small numbers, coverage, rounds.

The sums are written directly here (as ingest would keep them), so every expectation is
computed by hand from a few villages under Thị trấn Phú Hòa (23722, Huyện Chư Păh 627).
"""
import pytest
from pony.orm import db_session

from exports.rollups import rollup, rounds
from sync.errors import Invalid, NotFound

from .support.rollup import FORM, TEST_INDICATORS, V1, V2, V3, V4, figure, import_villages, publish_test_form, seed


def child(result, code):
    """One direct child's roll-up."""
    return next(c for c in result["children"] if c["unit"]["code"] == code)


@pytest.fixture
def villages(store):
    """Four villages in Phú Hòa: expected households 20, 100, unknown, 10; the test form published."""
    publish_test_form(store)
    import_villages(store, (V1, 20), (V2, 100), (V3, None), (V4, 10))
    return store


def test_commune_percentage_is_the_ratio_of_sums_not_the_average_of_villages(villages):
    seed(villages, V1, {"smartphone_adults": (9, 10, 4)}, households=4)
    seed(villages, V2, {"smartphone_adults": (45, 90, 30)}, households=30)
    commune = rollup(villages, "23722", form_id=FORM)
    smartphone = figure(commune, "smartphone_adults")
    assert (smartphone["numerator"], smartphone["denominator"], smartphone["households"]) == (54, 100, 34)
    assert smartphone["percent"] == pytest.approx(54.0)
    assert figure(child(commune, V1), "smartphone_adults")["percent"] == pytest.approx(90.0)
    assert figure(child(commune, V2), "smartphone_adults")["percent"] == pytest.approx(50.0)
    district = rollup(villages, "627", form_id=FORM)
    assert figure(district, "smartphone_adults")["percent"] == pytest.approx(54.0)
    assert figure(child(district, "23722"), "smartphone_adults")["denominator"] == 100
    province = rollup(villages, "64", form_id=FORM)
    assert figure(child(province, "627"), "smartphone_adults")["numerator"] == 54
    assert figure(child(province, "622"), "smartphone_adults")["percent"] is None


def test_the_result_has_the_documented_shape(villages):
    seed(villages, V1, {"smartphone_adults": (9, 10, 4)}, households=4, refusals=1)
    result = rollup(villages, "23722", form_id=FORM)
    assert set(result) == {"unit", "form_id", "round", "households", "refusals", "expected_households",
                           "coverage", "indicators", "children", "villages_without_submissions"}
    assert result["unit"] == {"code": "23722", "name": "Thị trấn Phú Hòa", "level": "commune",
                              "kind": "thị trấn", "parent_code": "627", "expected_households": None}
    assert (result["form_id"], result["round"], result["households"], result["refusals"]) == (FORM, None, 4, 1)
    assert [i["id"] for i in result["indicators"]] == [i["id"] for i in TEST_INDICATORS]
    smartphone = figure(result, "smartphone_adults")
    assert set(smartphone) == {"id", "label", "counted_over", "numerator", "denominator", "households",
                               "percent", "reliable", "wilson", "targets"}
    assert smartphone["label"] == {"vi": "Người trưởng thành có điện thoại thông minh",
                                   "en": "Adults with a smartphone"}
    assert smartphone["counted_over"] == "adults"
    assert [c["unit"]["code"] for c in result["children"]] == [V1, V2, V3, V4]
    assert all("children" not in c for c in result["children"])
    assert set(result["children"][0]) == set(result) - {"children"}


def test_targets_at_the_boundary_at_least_is_met_and_more_than_is_not(villages):
    seed(villages, V1, {"smartphone_adults": (4, 5, 5), "bank_account_15plus": (19, 20, 5)}, households=5)
    result = rollup(villages, V1, form_id=FORM)
    smartphone, bank = figure(result, "smartphone_adults"), figure(result, "bank_account_15plus")
    assert smartphone["percent"] == 80.0
    assert smartphone["targets"] == [
        {"year": "2025", "op": ">=", "value": 80, "status": "met", "gap": 0.0},
        {"year": "2030", "op": ">=", "value": 95, "status": "not_met", "gap": -15.0}]
    assert bank["percent"] == 95.0
    assert bank["targets"] == [
        {"year": "2025", "op": ">=", "value": 80, "status": "met", "gap": 15.0},
        {"year": "2030", "op": ">", "value": 95, "status": "not_met", "gap": 0.0}]


def test_an_empty_denominator_is_no_data_not_zero_percent(villages):
    seed(villages, V1, {"ehr_members": (0, 0, 3), "smartphone_adults": (0, 6, 3)}, households=3)
    result = rollup(villages, "23722", form_id=FORM)
    ehr = figure(result, "ehr_members")
    assert (ehr["percent"], ehr["wilson"]) == (None, None)
    assert ehr["targets"] == [{"year": "2025", "op": ">=", "value": 90, "status": "no_data", "gap": None}]
    assert figure(result, "smartphone_adults")["percent"] == 0.0
    assert figure(result, "smartphone_adults")["targets"][0]["status"] == "not_met"
    never_counted = figure(result, "fibre_coverage")
    assert (never_counted["numerator"], never_counted["denominator"], never_counted["households"]) == (0, 0, 0)
    assert never_counted["percent"] is None
    assert [t["status"] for t in never_counted["targets"]] == ["no_data", "no_data"]


def test_fewer_households_than_the_threshold_are_marked_not_reliable(villages):
    seed(villages, V1, {"smartphone_adults": (3, 8, 4)}, households=4)
    seed(villages, V2, {"smartphone_adults": (5, 9, 5)}, households=5)
    commune = rollup(villages, "23722", form_id=FORM, small_threshold=5)
    assert figure(child(commune, V1), "smartphone_adults")["reliable"] is False
    assert figure(child(commune, V2), "smartphone_adults")["reliable"] is True
    assert figure(commune, "smartphone_adults")["reliable"] is True
    assert figure(child(commune, V1), "smartphone_adults")["numerator"] == 3  # counts still shown
    stricter = rollup(villages, "23722", form_id=FORM, small_threshold=10)
    assert figure(stricter, "smartphone_adults")["reliable"] is False


def test_household_indicators_get_a_95_percent_wilson_interval(villages):
    seed(villages, V1, {"fibre_coverage": (8, 10, 10), "smartphone_adults": (8, 10, 10)}, households=10)
    result = rollup(villages, V1, form_id=FORM)
    low, high = figure(result, "fibre_coverage")["wilson"]
    assert (round(low, 1), round(high, 1)) == (49.0, 94.3)  # 8/10, z = 1.96
    assert figure(result, "smartphone_adults")["wilson"] is None  # counted over adults, not households
    seed(villages, V2, {"fibre_coverage": (0, 4, 4)}, households=4)
    low, high = figure(rollup(villages, V2, form_id=FORM), "fibre_coverage")["wilson"]
    assert low == 0.0 and round(high, 1) == 49.0  # 0/4: z^2 / (n + z^2)


def test_coverage_is_households_surveyed_over_expected_where_known(villages):
    seed(villages, V1, {}, households=10)
    seed(villages, V2, {}, households=30, refusals=2)
    seed(villages, V3, {}, households=5)  # no expected count: outside coverage
    commune = rollup(villages, "23722", form_id=FORM)
    assert (commune["households"], commune["refusals"], commune["expected_households"]) == (45, 2, 130)
    assert commune["coverage"] == pytest.approx(100 * 40 / 130)
    assert child(commune, V1)["coverage"] == pytest.approx(50.0)
    assert (child(commune, V3)["expected_households"], child(commune, V3)["coverage"]) == (None, None)
    assert (child(commune, V4)["households"], child(commune, V4)["coverage"]) == (0, 0.0)
    district = rollup(villages, "627", form_id=FORM)
    assert district["expected_households"] == 130
    assert child(district, "23725")["expected_households"] is None


def test_villages_without_submissions_are_listed(villages):
    seed(villages, V1, {}, households=10)
    seed(villages, V2, {}, households=0, refusals=1)  # a refusal is a submission
    seed(villages, V3, {}, households=3, round_name="2024")
    commune = rollup(villages, "23722", form_id=FORM, round="2025")
    assert commune["villages_without_submissions"] == [V3, V4]
    assert child(commune, V4)["villages_without_submissions"] == [V4]
    assert child(commune, V1)["villages_without_submissions"] == []
    assert rollup(villages, "23722", form_id=FORM)["villages_without_submissions"] == [V4]


def test_rounds_are_separate_and_combined_counts_each_round(villages):
    seed(villages, V1, {"smartphone_adults": (2, 10, 5)}, households=5, round_name="2024")
    seed(villages, V1, {"smartphone_adults": (6, 10, 5)}, households=5, round_name="2025")
    seed(villages, V2, {"smartphone_adults": (9, 10, 4)}, households=4, round_name="2025")
    assert rounds(villages, FORM) == ["2024", "2025"]
    by_round = {r: figure(rollup(villages, "23722", form_id=FORM, round=r), "smartphone_adults")
                for r in ("2024", "2025")}
    assert (by_round["2024"]["numerator"], by_round["2024"]["denominator"]) == (2, 10)
    assert (by_round["2025"]["numerator"], by_round["2025"]["denominator"]) == (15, 20)
    combined = rollup(villages, "23722", form_id=FORM)
    assert combined["round"] is None and combined["households"] == 14
    assert figure(combined, "smartphone_adults")["percent"] == pytest.approx(100 * 17 / 30)
    assert rollup(villages, "23722", form_id=FORM, round="2025")["round"] == "2025"


def test_a_round_without_data_is_empty_and_an_unknown_round_is_refused(villages):
    seed(villages, V1, {"smartphone_adults": (2, 10, 5)}, households=5, round_name="2025")
    empty = rollup(villages, "23722", form_id=FORM, round="2026")
    assert empty["households"] == 0 and figure(empty, "smartphone_adults")["percent"] is None
    with db_session:
        from datetime import date
        villages.SurveyRound(name="Đợt 1", starts_on=date(2025, 1, 1), ends_on=date(2025, 6, 30))
    assert rollup(villages, "23722", form_id=FORM, round="Đợt 1")["households"] == 0
    with pytest.raises(Invalid) as error:
        rollup(villages, "23722", form_id=FORM, round="no such round")
    assert error.value.errors[0]["field"] == "round"


def test_an_empty_unit_has_zeros_and_no_data(villages):
    result = rollup(villages, "622", form_id=FORM)
    assert (result["households"], result["refusals"], result["expected_households"], result["coverage"]) == (
        0, 0, None, None)
    assert all(i["percent"] is None and i["households"] == 0 for i in result["indicators"])
    assert len(result["children"]) == 21  # Pleiku's 14 phường and 7 xã, all with no data
    assert rounds(villages, FORM) == []


def test_a_village_roll_up_has_no_children(villages):
    seed(villages, V2, {"smartphone_adults": (45, 90, 30)}, households=30)
    result = rollup(villages, V2, form_id=FORM)
    assert result["children"] == [] and result["villages_without_submissions"] == []
    assert figure(result, "smartphone_adults")["percent"] == pytest.approx(50.0)


def test_indicators_with_data_but_no_longer_in_the_form_are_still_shown(villages):
    seed(villages, V1, {"old_indicator": (1, 2, 2)}, households=2)
    old = figure(rollup(villages, "23722", form_id=FORM), "old_indicator")
    assert old["percent"] == 50.0 and old["label"] == {"vi": "old_indicator", "en": "old_indicator"}
    assert old["targets"] == []


def test_other_forms_do_not_mix_in(villages):
    publish_test_form(villages, form_id="other_form")
    seed(villages, V1, {"smartphone_adults": (1, 10, 5)}, households=5, form_id="other_form")
    seed(villages, V1, {"smartphone_adults": (9, 10, 5)}, households=5)
    assert figure(rollup(villages, "23722", form_id=FORM), "smartphone_adults")["numerator"] == 9
    assert figure(rollup(villages, "23722", form_id="other_form"), "smartphone_adults")["numerator"] == 1


def test_unknown_units_and_forms_are_not_found(villages):
    with pytest.raises(NotFound):
        rollup(villages, "00000", form_id=FORM)
    with pytest.raises(NotFound):
        rollup(villages, "23722", form_id="no_such_form")


def test_a_round_name_is_matched_in_nfc(villages):
    import unicodedata
    seed(villages, V1, {"smartphone_adults": (2, 10, 5)}, households=5, round_name="Đợt 1")
    decomposed = unicodedata.normalize("NFD", "Đợt 1")
    assert rollup(villages, "23722", form_id=FORM, round=decomposed)["households"] == 5
