"""GET /api/v1/rollups/{unit} follows role and scope; `langso rollup show` prints the same figures."""
import json

import pytest

from .conftest import CHU_PAH, CHU_PAH_COMMUNE, PLEIKU, PLEIKU_COMMUNE
from .support.rollup import FORM, V1, V2, import_villages, publish_test_form, seed

# (user, unit code, expected status)
ROLLUP_READS = [
    ("admin", "64", 200), ("admin", PLEIKU, 200), ("admin", V1, 200),
    ("staff_chupah", CHU_PAH, 200), ("staff_chupah", CHU_PAH_COMMUNE, 200), ("staff_chupah", V2, 200),
    ("staff_chupah", "64", 403), ("staff_chupah", PLEIKU, 403), ("staff_chupah", PLEIKU_COMMUNE, 403),
    ("staff_pleiku", PLEIKU, 200), ("staff_pleiku", PLEIKU_COMMUNE, 200),
    ("staff_pleiku", CHU_PAH, 403), ("staff_pleiku", V1, 403),
    ("collector_phuhoa", CHU_PAH_COMMUNE, 200), ("collector_phuhoa", V1, 200),
    ("collector_phuhoa", CHU_PAH, 403), ("collector_phuhoa", "64", 403), ("collector_phuhoa", PLEIKU_COMMUNE, 403),
]


@pytest.fixture
def seeded(store):
    """The domain example: village A 9/10 and village B 45/90 adults with a smartphone."""
    publish_test_form(store)
    import_villages(store, (V1, 20), (V2, 100))
    seed(store, V1, {"smartphone_adults": (9, 10, 4), "fibre_coverage": (3, 4, 4)}, households=4)
    seed(store, V2, {"smartphone_adults": (45, 90, 30), "fibre_coverage": (20, 30, 30)}, households=30,
         refusals=2)
    return store


@pytest.mark.parametrize("username,code,status", ROLLUP_READS)
def test_roll_up_reads_follow_role_and_scope(client, token_for, seeded, username, code, status):
    response = client.get(f"/api/v1/rollups/{code}?form={FORM}", headers=token_for(username))
    assert response.status_code == status, response.json
    if status == 403:
        assert response.json["code"] == "forbidden" and response.json["errno"] == 121


def test_anonymous_callers_get_401_and_unknown_units_404(client, token_for, seeded):
    assert client.get(f"/api/v1/rollups/64?form={FORM}").status_code == 401
    missing = client.get(f"/api/v1/rollups/00000?form={FORM}", headers=token_for("admin"))
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    no_form = client.get("/api/v1/rollups/64?form=nope", headers=token_for("admin"))
    assert no_form.status_code == 404


def test_bad_parameters_get_the_one_error_shape_with_field_paths(client, token_for, seeded):
    bad_lang = client.get(f"/api/v1/rollups/64?form={FORM}&lang=fr", headers=token_for("admin"))
    assert bad_lang.status_code == 422
    assert [e["field"] for e in bad_lang.json["errors"]] == ["lang"]
    bad_round = client.get(f"/api/v1/rollups/64?form={FORM}&round=xyz", headers=token_for("admin"))
    assert bad_round.status_code == 422
    assert bad_round.json["errors"][0]["field"] == "round"


def test_district_staff_get_the_domain_example_for_their_commune(client, token_for, seeded):
    body = client.get(f"/api/v1/rollups/{CHU_PAH}?form={FORM}&round=2025",
                      headers=token_for("staff_chupah")).json
    assert body["unit"]["code"] == CHU_PAH and body["round"] == "2025"
    assert (body["households"], body["refusals"], body["expected_households"]) == (34, 2, 120)
    commune = next(c for c in body["children"] if c["unit"]["code"] == CHU_PAH_COMMUNE)
    smartphone = next(i for i in commune["indicators"] if i["id"] == "smartphone_adults")
    assert (smartphone["numerator"], smartphone["denominator"], smartphone["percent"]) == (54, 100, 54.0)
    assert smartphone["targets"][0] == {"year": "2025", "op": ">=", "value": 80, "status": "not_met",
                                        "gap": -26.0}
    fibre = next(i for i in commune["indicators"] if i["id"] == "fibre_coverage")
    assert fibre["percent"] == pytest.approx(100 * 23 / 34) and len(fibre["wilson"]) == 2


def test_the_small_number_threshold_comes_from_configuration(app, client, token_for, seeded):
    app.config["SMALL_NUMBER_THRESHOLD"] = 40
    body = client.get(f"/api/v1/rollups/{CHU_PAH_COMMUNE}?form={FORM}", headers=token_for("admin")).json
    assert all(not i["reliable"] for i in body["indicators"])
    app.config["SMALL_NUMBER_THRESHOLD"] = 5
    body = client.get(f"/api/v1/rollups/{CHU_PAH_COMMUNE}?form={FORM}", headers=token_for("admin")).json
    assert next(i for i in body["indicators"] if i["id"] == "smartphone_adults")["reliable"]


@pytest.mark.parametrize("code,round_name", [("64", None), (CHU_PAH_COMMUNE, "2025"), (V1, None)])
def test_rollup_show_json_equals_the_api(client, token_for, runner, seeded, code, round_name):
    query = f"?form={FORM}" + (f"&round={round_name}" if round_name else "")
    api = client.get(f"/api/v1/rollups/{code}{query}", headers=token_for("admin")).json
    args = ["rollup", "show", code, "--form", FORM, "--format", "json"]
    args += ["--round", round_name] if round_name else []
    result = runner.invoke(args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api


def test_rollup_show_table_has_a_line_per_child_with_percent_and_n(runner, seeded):
    result = runner.invoke(["rollup", "show", CHU_PAH_COMMUNE, "--form", FORM])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Thị trấn Phú Hòa (23722)")
    row = next(line for line in lines if line.startswith(V1))
    assert "90.0%* n=10" in row  # 4 households: below the threshold of 5
    total = next(line for line in lines if line.startswith("total"))
    assert "54.0% n=100" in total and " 34 " in total


def test_rollup_show_refuses_an_unknown_unit_clearly(runner, seeded):
    result = runner.invoke(["rollup", "show", "00000", "--form", FORM])
    assert result.exit_code == 1
    assert "no unit with code 00000" in result.output


def test_the_openapi_document_describes_the_roll_up(client):
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/rollups/{unit_code}"]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"form", "round", "lang"}
    assert "200" in operation["responses"] and "403" in operation["responses"]
