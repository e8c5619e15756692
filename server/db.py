"""The app's database: one Pony Database per app, a db_session around every request."""
from pony.flask import Pony

from sync import migrations
from sync.errors import LangsoError
from sync.store import open_store


class SchemaOutOfDate(LangsoError):
    """The database predates this release; the message says which command fixes it."""
    code = "schema_out_of_date"


def init_app(app):
    """Open the configured database and wrap each request in a Pony db_session."""
    db = open_store(app.config["DATABASE_URL"])
    app.extensions["langso_db"] = db
    Pony(app)

    @app.before_request
    def refuse_old_schema():
        if not app.extensions.get("langso_schema_ok"):
            check_schema(db)
            app.extensions["langso_schema_ok"] = True


def get_db():
    """The current app's Database."""
    from flask import current_app
    return current_app.extensions["langso_db"]


def check_schema(db):
    """Refuse to serve a database whose schema is older than this release expects."""
    current = migrations.current_version(db)
    if 0 < current < migrations.latest_version():
        raise SchemaOutOfDate(f"the database schema is at version {current}, this release needs "
                              f"{migrations.latest_version()}: run `langso db upgrade`")
