"""The dashboard shows the roll-up API's numbers for the user's scope, with drill-down and downloads."""
import re

import pytest

from .browser.pages import sign_in, with_pages
from .browser.survey_data import load_survey


@pytest.fixture
def web(app, store):
    load_survey(store)
    return with_pages(app).test_client()


def vi_percent(value):
    """What the page shows for an API percentage in Vietnamese: 63.636... -> "63,6 %"."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",") + "\u00a0%"


def shown_percents(page):
    """{indicator id: shown text} from the indicator cards."""
    cards = re.findall(r'data-indicator="(\w+)">\s*<div class="ind-head">.*?<span class="pct"[^>]*>([^<]*)<',
                       page, re.S)
    return dict(cards)


def test_district_staff_see_their_district_with_the_api_numbers(web, token_for):
    sign_in(web, "staff_chupah")
    page = web.get("/dashboard").get_data(as_text=True)
    api = web.get("/api/v1/rollups/627", headers=token_for("staff_chupah")).json
    assert "Huyện Chư Păh" in page
    assert shown_percents(page) == {i["id"]: vi_percent(i["percent"]) for i in api["indicators"]}
    assert f'data-field="households">{api["households"]}<' in page


def test_child_units_are_listed_with_coverage_and_small_number_marks(web, token_for):
    sign_in(web, "staff_chupah")
    page = web.get("/dashboard/23722").get_data(as_text=True)
    api = web.get("/api/v1/rollups/23722", headers=token_for("staff_chupah")).json
    for child in api["children"]:
        assert f'data-unit="{child["unit"]["code"]}"' in page
    small = [c for c in api["children"] if any(i["percent"] is not None and not i["reliable"]
                                                for i in c["indicators"])]
    assert small and 'class="small-mark"' in page
    assert vi_percent(api["children"][0]["coverage"]) in page


def test_drilling_down_reaches_a_village_and_stops_at_the_scope(web):
    sign_in(web, "staff_chupah")
    district = web.get("/dashboard/627").get_data(as_text=True)
    assert 'href="/dashboard/23722' in district
    village = web.get("/dashboard/2372201")
    assert village.status_code == 200 and "Làng Kép" in village.get_data(as_text=True)
    assert web.get("/dashboard/622").status_code == 403
    assert 'href="/dashboard/64' not in village.get_data(as_text=True)


def test_the_round_selector_lists_rounds_with_data_and_refuses_unknown_ones(web):
    sign_in(web, "staff_chupah")
    page = web.get("/dashboard/627").get_data(as_text=True)
    assert '<option value="2025"' in page
    assert "Không có đợt khảo sát 1999-xx" in web.get("/dashboard/627?round=1999-xx").get_data(as_text=True)
    assert web.get("/dashboard/627?round=2025").status_code == 200


def test_download_buttons_point_at_the_report_and_export_endpoints(web):
    sign_in(web, "staff_chupah")
    page = web.get("/dashboard/627?round=2025").get_data(as_text=True)
    links = dict(re.findall(r'href="([^"]+)" data-download="(\w+)"', page))
    by_kind = {kind: href.replace("&amp;", "&") for href, kind in links.items()}
    assert set(by_kind) == {"pdf", "csv", "xlsx"}
    assert by_kind["pdf"].startswith("/api/v1/reports/627.pdf") and "round=2025" in by_kind["pdf"]
    pdf = web.get(by_kind["pdf"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    for kind in ("csv", "xlsx"):
        assert web.get(by_kind[kind]).status_code == 200


def test_english_pages_format_numbers_the_english_way(web, token_for):
    sign_in(web, "staff_chupah")
    web.get("/lang/en")
    page = web.get("/dashboard/627").get_data(as_text=True)
    api = web.get("/api/v1/rollups/627?lang=en", headers=token_for("staff_chupah")).json
    first = api["indicators"][0]
    assert f'{first["percent"]:.1f}%' in page and first["label"]["en"] in page


def test_admins_open_on_the_province(web):
    sign_in(web, "admin")
    page = web.get("/dashboard").get_data(as_text=True)
    assert "Tỉnh Gia Lai" in page and 'data-unit="627"' in page


def test_without_a_published_form_the_dashboard_says_there_is_no_data_yet(app):
    client = with_pages(app).test_client()
    sign_in(client, "staff_chupah")
    response = client.get("/dashboard")
    assert response.status_code == 200 and "Chưa có dữ liệu" in response.get_data(as_text=True)
