"""The pages in a real browser: district staff drill down and download, an admin fixes and publishes a
draft, a collector is kept out of admin pages, a form without its CSRF token is refused."""
import os

import requests

from sync.form_versions import publish_default_form

from ..conftest import PASSWORD
from .conftest import DESKTOP, PHONE, sign_in
from .survey_data import load_survey


def vi_percent(value):
    return "–" if value is None else f"{value:.1f}".replace(".", ",") + "\u00a0%"


def api_rollup(page, code):
    """The roll-up API's answer, fetched with the browser's own session cookie."""
    response = page.request.get(f"/api/v1/rollups/{code}")
    assert response.ok
    return response.json()


def shown_indicators(page):
    """{indicator id: percentage text} as the page shows it."""
    cards = page.locator("li.indicator")
    return {cards.nth(i).get_attribute("data-indicator"): cards.nth(i).locator(".pct").inner_text()
            for i in range(cards.count())}


def test_district_staff_drill_down_see_the_api_numbers_and_download_the_pdf(page, store, tmp_path):
    load_survey(store)
    sign_in(page, "staff_chupah", PASSWORD)
    assert page.locator("h1").inner_text().startswith("Huyện Chư Păh")
    api = api_rollup(page, "627")
    assert shown_indicators(page) == {i["id"]: vi_percent(i["percent"]) for i in api["indicators"]}

    page.click("table#children a:has-text('Thị trấn Phú Hòa')")
    page.wait_for_url("**/dashboard/23722**")
    api = api_rollup(page, "23722")
    assert shown_indicators(page) == {i["id"]: vi_percent(i["percent"]) for i in api["indicators"]}
    row = page.locator("tr[data-unit='2372201']")
    village = next(c for c in api["children"] if c["unit"]["code"] == "2372201")
    assert row.locator("td[data-indicator='smartphone_adults']").inner_text().startswith(
        vi_percent(village["indicators"][1]["percent"]))

    page.select_option("#round-select", "2025")
    page.wait_for_url("**round=2025**")
    with page.expect_download() as download:
        page.click("a[data-download=pdf]")
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    page.click("tr[data-unit='2372201'] a")
    page.wait_for_url("**/dashboard/2372201**")
    assert "Làng Kép" in page.locator("h1").inner_text()


def test_sorting_the_child_units_by_households(page, store):
    load_survey(store)
    sign_in(page, "staff_chupah", PASSWORD)
    page.goto("/dashboard/23722")
    page.click("table#children th:nth-child(2) button")
    page.click("table#children th:nth-child(2) button")
    first = page.locator("table#children tbody tr").first.get_attribute("data-unit")
    assert first == "2372201"  # 8 households, the most


def test_an_admin_sees_a_mistake_in_the_draft_fixes_it_and_publishes(page, store):
    publish_default_form(store)
    sign_in(page, "admin", PASSWORD)
    page.goto("/forms/household_digital")
    text = page.input_value("#text")
    broken = text.replace("version: '2025.1'", "version: '2025.2'").replace("type: integer", "type: integr", 1)
    assert broken != text
    page.fill("#text", broken)
    page.click("button[value=validate]")
    errors = page.locator("#errors li.error-item")
    assert errors.count() >= 1
    assert "integr" in errors.first.inner_text() or errors.first.get_attribute("data-field").endswith(".type")
    line = int(errors.first.get_attribute("data-line"))
    assert "integr" in page.input_value("#text").splitlines()[line - 1]
    page.click("#errors a.goto-line")

    page.fill("#text", page.input_value("#text").replace("type: integr", "type: integer", 1)
              .replace("Tổng số nhân khẩu của hộ", "Tổng số người trong hộ"))
    page.click("button[value=validate]")
    assert page.locator("#validation").inner_text().startswith("Không có lỗi")
    page.click("#publish")
    page.wait_for_selector("tr[data-version='2025.2']")
    assert "Đã phát hành phiên bản 2025.2" in page.locator(".flash").first.inner_text()


def test_the_preview_hides_questions_and_shows_constraint_errors(page, store):
    publish_default_form(store)
    sign_in(page, "admin", PASSWORD)
    page.goto("/forms/household_digital/preview")
    page.check("input[name=consent][value=no]")
    page.wait_for_selector("[data-q=core]", state="hidden")
    page.check("input[name=consent][value=yes]")
    page.wait_for_selector("[data-q=members]", state="visible")
    page.fill("input[name=members]", "2")
    page.fill("input[name=members_15plus]", "5")
    page.wait_for_selector("[data-error-of=members_15plus]:not(:empty)")
    assert "không được lớn hơn" in page.locator("[data-error-of=members_15plus]").inner_text()
    assert page.locator("[data-q=fibre_subscribed]").is_hidden()


def test_a_collector_cannot_reach_admin_pages(page):
    sign_in(page, "collector_phuhoa", PASSWORD)
    assert page.url.endswith("/submissions")
    assert page.locator("nav.main-nav a[href='/forms']").count() == 0
    for path in ("/forms", "/users", "/audit", "/units"):
        response = page.goto(path)
        assert response.status == 403
        assert "Bạn không có quyền truy cập trang này" in page.content()


def test_a_form_posted_without_its_csrf_token_is_refused(page, store):
    sign_in(page, "admin", PASSWORD)
    page.goto("/users")
    page.locator("#new-user input[name=csrf_token]").evaluate("input => input.remove()")
    page.fill("#new-user input[name=username]", "mallory")
    page.fill("#new-user input[name=password]", "mật-khẩu-dài-lắm")
    with page.expect_navigation() as navigation:
        page.click("#new-user button[type=submit]")
    assert navigation.value.status == 403
    assert "tải lại trang" in page.content()
    page.goto("/users")
    assert page.locator("tr[data-user=mallory]").count() == 0
    forged = requests.post(page.url.replace("/users", "/users"), data={"username": "eve", "role": "admin",
                                                                      "password": "xxxxxxxxxxxx"},
                           cookies={c["name"]: c["value"] for c in page.context.cookies()})
    assert forged.status_code == 403


def test_screenshots_of_the_main_pages_on_a_phone_and_a_desktop(browser, site, store, shots):
    load_survey(store)
    pages = [("login", "/login", None), ("dashboard-district", "/dashboard/627", "staff_chupah"),
             ("dashboard-commune", "/dashboard/23722", "staff_chupah"),
             ("submissions", "/submissions", "staff_chupah"), ("forms", "/forms", "admin"),
             ("form-editor", "/forms/household_digital", "admin"),
             ("preview", "/forms/household_digital/preview", "admin"), ("users", "/users", "admin"),
             ("units", "/units", "admin"), ("audit", "/audit", "admin"),
             ("my-submissions", "/submissions", "collector_phuhoa")]
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        signed_in = {}
        for name, path, username in pages:
            context = signed_in.get(username)
            if context is None:
                context = signed_in[username] = browser.new_context(viewport=size, base_url=site)
                if username:
                    sign_in(context.new_page(), username, PASSWORD)
            tab = context.new_page()
            response = tab.goto(path)
            assert response.status == 200, (name, response.status)
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"] + 1, f"{name} is {width}px wide on a {size['width']}px screen"
            tab.screenshot(path=os.path.join(shots, f"{name}-{size_name}.png"), full_page=True)
            tab.close()
        for context in signed_in.values():
            context.close()
