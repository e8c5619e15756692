"""Server-rendered pages for admins, district staff and collectors (Vietnamese first, English too).

`init_app(app)` registers the `web` blueprint (every view module below adds routes to it),
Flask-Babel and the page-only response headers. Pages use the session cookie; every form
carries the CSRF token that server.auth checks on cookie-authenticated writes.
"""
from flask import request

from . import i18n, vocabulary
from .common import bp

VIEW_MODULES = ("session_pages", "dashboard", "form_pages", "preview", "submission_pages",
                "admin_pages", "audit_pages")


def init_app(app):
    """Add the pages, their language catalogue and their headers to `app`."""
    import importlib
    for name in VIEW_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    i18n.init_app(app)
    app.config["CSRF_LOGIN_ENDPOINTS"] = tuple(app.config.get("CSRF_LOGIN_ENDPOINTS", ())) + ("web.login",)
    app.register_blueprint(bp)
    app.context_processor(vocabulary.template_globals)
    app.after_request(page_headers)


def page_headers(response):
    """Signed-in pages are personal: never cached; pages are never framed (CSP is set app-wide)."""
    if request.blueprint == "web" and response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response
