"""Playwright on Debian's Chromium (/usr/bin/chromium; never `playwright install`), headless, against
a real HTTP server (`http_server`) serving the test's app and database."""
import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed: run scripts/ensure_chromium.sh")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(http_server):
    """Base URL of the real HTTP server serving this test's app (the pages are part of create_app)."""
    return http_server


@pytest.fixture
def page(browser, site):
    """A fresh browser tab (own cookies) at desktop size, with `page.site` the server's base URL."""
    context = browser.new_context(viewport=DESKTOP, base_url=site, accept_downloads=True, locale="vi-VN")
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


@pytest.fixture
def shots():
    """Where screenshots go: $LANGSO_SCREENSHOTS (to look at them) or a throwaway folder."""
    folder = os.environ.get("LANGSO_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        return folder
    import tempfile
    return tempfile.mkdtemp(prefix="langso-screens-")


def sign_in(page, username, password):
    """Sign in through the login form like a person would."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
