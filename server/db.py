"""The app's database: one Pony Database per app, a db_session around every request.

The session commits when the view answers and rolls back when it fails: pony.flask only rolls back
when an exception escapes Flask, so an error an error handler turned into a response (ApiError,
domain errors, aborts, 422s) would otherwise commit whatever the view wrote before raising. Code
that must keep a write although the request fails (failed-login counting) calls `commit()` first.
"""
import functools

from flask import request, session
from pony.flask import Pony
from pony.orm import commit, rollback

from sync import migrations
from forms.i18n import N_
from sync.errors import LangsoError
from sync.store import open_store

from .errors import CONCURRENT_CHANGES


class SchemaOutOfDate(LangsoError):
    """The database predates this release; the message says which command fixes it."""
    code = "schema_out_of_date"


def init_app(app):
    """Open the configured database and wrap each request in a Pony db_session."""
    db = open_store(app.config["DATABASE_URL"])
    app.extensions["langso_db"] = db
    Pony(app)
    roll_back_handled_errors(app)
    commit_before_answering(app)

    @app.before_request
    def refuse_old_schema():
        if not app.extensions.get("langso_schema_ok"):
            check_schema(db)
            app.extensions["langso_schema_ok"] = True


def roll_back_handled_errors(app):
    """Undo the writes of a request whose exception an error handler answered with a status >= 400.

    Flask passes every exception raised by before_request hooks and views to handle_user_exception,
    which finds the error handler (app-wide or a blueprint's); that is where a failure is noticed.
    The rollback itself waits until the error response is built (templates may still read loaded
    objects), then Pony's teardown commits an empty session. A view that returns a 4xx itself
    (a draft saved with mistakes, the login page after a wrong password) still commits.
    """
    handle_user_exception = app.handle_user_exception

    @functools.wraps(handle_user_exception)
    def noting_failure(error):
        request.langso_failed = True
        return handle_user_exception(error)

    app.handle_user_exception = noting_failure

    @app.after_request
    def roll_back_failed_request(response):
        if response.status_code >= 400 and getattr(request, "langso_failed", False):
            try:
                rollback()
            except Exception:  # noqa: BLE001 - Pony dropped the connection: nothing was committed
                app.logger.exception("rolling back a failed request")
        return response


def commit_before_answering(app):
    """Commit once the answer is built but before it is sent, so a failing commit changes the answer.

    Pony's teardown commit comes too late: its failure skips every error handler and the client
    gets the WSGI server's bare 500. Committed here, a write that lost a race with another request
    (errors.CONCURRENT_CHANGES) becomes the 409 of errors.handle_concurrent_change, as a page or
    JSON, and any other failing commit the one JSON 500. Teardown then commits an empty session.
    """
    dispatch = app.full_dispatch_request

    @functools.wraps(dispatch)
    def dispatch_then_commit():
        response = dispatch()
        if getattr(request, "langso_failed", False):
            return response  # rolled back by roll_back_failed_request
        try:
            commit()
        except CONCURRENT_CHANGES as error:
            session.pop("_flashes", None)  # "saved" messages of the lost write
            return app.finalize_request(app.handle_user_exception(error), from_error_handler=True)
        return response

    app.full_dispatch_request = dispatch_then_commit


def get_db():
    """The current app's Database."""
    from flask import current_app
    return current_app.extensions["langso_db"]


def check_schema(db):
    """Refuse to serve a database whose schema is older than this release expects."""
    current = migrations.current_version(db)
    if 0 < current < migrations.latest_version():
        raise SchemaOutOfDate(N_("the database schema is at version %(current)s, this release needs "
                                 "%(latest)s: run `langso db upgrade`"), current=current,
                              latest=migrations.latest_version())
