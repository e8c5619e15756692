"""Browser tests (Playwright driving Debian's Chromium) and the survey data the page tests share."""
