"""The app's database: one Pony Database per app, a db_session around every request.

The session commits when the view answers and rolls back when it fails (LangsoFlask, the app's
class, through Flask's documented methods and hooks): pony.flask only rolls back
when an exception escapes Flask, so an error an error handler turned into a response (ApiError,
domain errors, aborts, 422s) would otherwise commit whatever the view wrote before raising. Code
that must keep a write although the request fails (failed-login counting) calls `commit()` first.
"""
from flask import Flask, current_app, has_request_context, request, session
from pony.flask import Pony
from pony.orm import commit, rollback

from forms.i18n import N_
from sync import migrations
from sync.errors import LangsoError
from sync.store import open_store

from .errors import CONCURRENT_CHANGES


class SchemaOutOfDate(LangsoError):
    """The database predates this release; the message says which command fixes it."""
    code = "schema_out_of_date"


class LangsoFlask(Flask):
    """Flask with request transactions: a request's writes commit when it answers, roll back when it fails.

    Built on two documented Flask methods, each extended with super() rather than replaced:
    `handle_user_exception` (every exception raised by before_request hooks and views passes through
    it on its way to an error handler, app-wide or a blueprint's: that is where a failure is noticed)
    and `full_dispatch_request` (the response is built, after_request hooks included, and not yet
    sent: the commit happens there, so a failing commit changes the answer). The rollback of a
    failed request is an ordinary after_request hook (`roll_back_failed_request`).
    """

    def handle_user_exception(self, e):
        """Note that this request failed (its writes are rolled back once the error response is built)."""
        if has_request_context():
            request.langso_failed = True
        return super().handle_user_exception(e)

    def full_dispatch_request(self):
        """Dispatch, then commit once the answer is built but before it is sent.

        Pony's teardown commit comes too late: its failure skips every error handler and the client
        gets the WSGI server's bare 500. Committed here, a write that lost a race with another
        request (errors.CONCURRENT_CHANGES) becomes the 409 of errors.handle_concurrent_change, as a
        page or JSON, and any other failing commit the one JSON 500. Teardown then commits an empty
        session.
        """
        response = super().full_dispatch_request()
        if getattr(request, "langso_failed", False):
            return response  # rolled back by roll_back_failed_request
        try:
            commit()
        except CONCURRENT_CHANGES as error:
            session.pop("_flashes", None)  # "saved" messages of the lost write
            return self.finalize_request(self.handle_user_exception(error), from_error_handler=True)
        return response


def init_app(app):
    """Open the configured database and wrap each request in a Pony db_session (a transaction)."""
    if not isinstance(app, LangsoFlask):
        raise TypeError("request transactions need the app to be a server.db.LangsoFlask")
    db = open_store(app.config["DATABASE_URL"])
    app.extensions["langso_db"] = db
    Pony(app)
    app.after_request(roll_back_failed_request)

    @app.before_request
    def refuse_old_schema():
        if not app.extensions.get("langso_schema_ok"):
            check_schema(db)
            app.extensions["langso_schema_ok"] = True


def roll_back_failed_request(response):
    """Undo the writes of a request whose exception an error handler answered with a status >= 400.

    The rollback waits until the error response is built (templates may still read loaded
    objects), then Pony's teardown commits an empty session. A view that returns a 4xx itself
    (a draft saved with mistakes, the login page after a wrong password) still commits.
    """
    if response.status_code >= 400 and getattr(request, "langso_failed", False):
        try:
            rollback()
        except Exception:  # noqa: BLE001 - Pony dropped the connection: nothing was committed
            current_app.logger.exception("rolling back a failed request")
    return response


def get_db():
    """The current app's Database."""
    return current_app.extensions["langso_db"]


def check_schema(db):
    """Refuse to serve a database whose schema is older than this release expects."""
    current = migrations.current_version(db)
    if 0 < current < migrations.latest_version():
        raise SchemaOutOfDate(N_("the database schema is at version %(current)s, this release needs "
                                 "%(latest)s: run `langso db upgrade`"), current=current,
                              latest=migrations.latest_version())
