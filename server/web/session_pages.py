"""Signing in and out with a session cookie, choosing the page language, the start page."""
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from pony.orm import commit

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ApiError
from .common import bp, signed_in
from .i18n import LANGUAGES


def safe_next(target):
    """Only a local path may be the page to come back to (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("web.index")
    return target


@bp.route("/")
def index():
    """Signed-in users start on their dashboard; others on the login page."""
    if g.get("user") is None:
        return redirect(url_for("web.login"))
    if g.user.role == "collector":
        return redirect(url_for("web.submissions"))
    return redirect(url_for("web.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; failed passwords are throttled per address as for API tokens (server.security)."""
    error, status, headers = None, 200, {}
    if request.method == "POST":
        db = get_db()
        username = request.form.get("username", "").strip()[:150]
        try:
            user = auth.authenticate(db, username, request.form.get("password", "")[:1024])
        except ApiError as failure:
            status, headers = failure.status, failure.headers
            if failure.code == "too_many_requests":
                error = _("Too many failed sign-ins from your address; wait %(seconds)s seconds and try again.",
                          seconds=failure.headers.get("Retry-After", "60"))
            else:
                record(db, "login_failed", username, {"via": "web"}, actor=username)
                commit()  # the failure is audited although the page is shown again
                error = _("Wrong username or password.")
        else:
            auth.start_session(db, user)
            record(db, "web_login", user.username, actor=user.username)
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", error=error,
                           username=request.form.get("username", "")), status, headers


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """End the web session server-side (a POST with the CSRF token, so no page can log you out)."""
    record(get_db(), "web_logout", g.user.username)
    auth.end_session(get_db())
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@bp.route("/lang/<code>")
def language(code):
    """Switch the page language and come back to the page the link was on."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))
