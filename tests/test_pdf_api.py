"""Reports through the real path: posted households, the roll-up API's numbers, the PDF's text."""
import io
import re
from datetime import date

import requests
from pony.orm import db_session
from pypdf import PdfReader

from exports import pdf_text as text
from exports.pdf import unit_report

from .conftest import CHU_PAH, CHU_PAH_COMMUNE, PASSWORD, PLEIKU
from .support.pdf import pages_text, squash

PROVINCE = "64"


def rollup_api(client, headers, code, **query):
    """The roll-up API's answer for `code`."""
    response = client.get(f"/api/v1/rollups/{code}", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_the_district_pdf_shows_the_rollup_apis_names_percentages_and_statuses(surveyed, client, token_for):
    headers = token_for("staff_chupah")
    response = client.get(f"/api/v1/reports/{CHU_PAH}.pdf?round=2025", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = squash("".join(pages_text(response.data)))
    figures = rollup_api(client, headers, CHU_PAH, round="2025")
    assert squash(figures["unit"]["name"].upper()) in body
    for child in figures["children"]:
        assert squash(child["unit"]["name"]) in body
    for figure in figures["indicators"]:
        marked = not figure["reliable"] and figure["percent"] is not None
        shown = text.percent(figure["percent"]) + ("*" if marked else "")
        assert squash(shown + text.ratio(figure["numerator"], figure["denominator"])) in body
        for target in figure["targets"]:
            assert squash(text.target(target["op"], target["value"]) + text.status(target["status"])
                          + text.gap(target["gap"])) in body
    commune = next(c for c in figures["children"] if c["unit"]["code"] == CHU_PAH_COMMUNE)
    assert commune["households"] == 3
    assert squash(text.percent(commune["indicators"][1]["percent"]) + "*") in body


def test_a_commune_report_lists_its_villages_in_english_on_request(surveyed, client, token_for):
    headers = token_for("admin")
    response = client.get(f"/api/v1/reports/{CHU_PAH_COMMUNE}.pdf?lang=en", headers=headers)
    body = squash("".join(pages_text(response.data)))
    figures = rollup_api(client, headers, CHU_PAH_COMMUNE, lang="en")
    assert squash("HOUSEHOLD DIGITAL TRANSFORMATION SURVEY REPORT") in body
    assert [c["unit"]["name"] for c in figures["children"]] == ["Thôn 01", "Thôn 02"]
    assert squash("Thôn 01") in body and squash("Thôn 02") in body
    assert squash("all rounds") in body


def test_the_province_report_has_a_page_per_district_after_the_districts_table(surveyed, client, token_for):
    response = client.get(f"/api/v1/reports/{PROVINCE}.pdf?round=2025", headers=token_for("admin"))
    assert response.status_code == 200
    pages = pages_text(response.data)
    districts = rollup_api(client, token_for("admin"), PROVINCE, round="2025")["children"]
    assert len(districts) == 17 and len(pages) > 17
    starts = [next(i for i, page in enumerate(pages) if page.lstrip().startswith(d["unit"]["name"]))
              for d in districts]
    assert starts == sorted(starts) and starts[0] > 0


def test_reports_are_byte_identical_for_the_same_data_and_day(surveyed, store):
    first = unit_report(store, CHU_PAH, round="2025", generated_on=date(2025, 12, 1))
    again = unit_report(store, CHU_PAH, round="2025", generated_on=date(2025, 12, 1))
    assert first == again


def test_reports_are_limited_by_role_and_scope_and_audited(surveyed, client, token_for, store):
    assert client.get(f"/api/v1/reports/{CHU_PAH}.pdf").status_code == 401
    answer = client.get(f"/api/v1/reports/{CHU_PAH_COMMUNE}.pdf", headers=token_for("collector_phuhoa"))
    assert answer.status_code == 403
    assert client.get(f"/api/v1/reports/{CHU_PAH}.pdf", headers=token_for("staff_pleiku")).status_code == 403
    assert client.get(f"/api/v1/reports/{PROVINCE}.pdf", headers=token_for("staff_chupah")).status_code == 403
    assert client.get(f"/api/v1/reports/{PLEIKU}.pdf", headers=token_for("staff_pleiku")).status_code == 200
    assert client.get("/api/v1/reports/99999.pdf", headers=token_for("admin")).status_code == 404
    bad = client.get(f"/api/v1/reports/{CHU_PAH}.pdf?lang=fr", headers=token_for("admin"))
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "lang"
    unknown_round = client.get(f"/api/v1/reports/{CHU_PAH}.pdf?round=nope", headers=token_for("admin"))
    assert unknown_round.status_code == 422 and unknown_round.json["errors"][0]["field"] == "round"
    with db_session:
        downloads = store.AuditEntry.select(lambda e: e.action == "report_downloaded")
        entries = sorted((e.actor, e.target) for e in downloads)
    assert entries == [("staff_pleiku", PLEIKU)]


def test_the_report_command_writes_the_pdf(surveyed, runner, tmp_path, store):
    out = tmp_path / "chu_pah.pdf"
    result = runner.invoke(["report", CHU_PAH, "--out", str(out), "--round", "2025"])
    assert result.exit_code == 0, result.output
    assert "Huyện Chư Păh" in pages_text(out.read_bytes())[0]
    missing = runner.invoke(["report", "99999", "--out", str(out)])
    assert missing.exit_code != 0 and "99999" in missing.output
    with db_session:
        assert store.AuditEntry.select(lambda e: e.action == "report_written").count() == 1


def test_a_real_server_serves_a_report(surveyed, live_server):
    token = requests.post(f"{live_server}/api/v1/auth/token",
                          json={"username": "staff_chupah", "password": PASSWORD}).json()["token"]
    response = requests.get(f"{live_server}/api/v1/reports/{CHU_PAH}.pdf",
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) >= 2
    assert re.search("Chư\\s*Păh", pages_text(response.content)[0])
