"""`langso db ...`: create the schema with Gia Lai loaded, and upgrade it between releases."""
import secrets

import click
from pony.orm import db_session

from sync import migrations
from sync.accounts import create_user
from sync.form_versions import publish_default_form
from sync.units import load_gia_lai

from ..cli import pass_app


@click.group()
def db():
    """Create and upgrade the database."""


@db.command()
@click.option("--admin-password", envvar="LANGSO_ADMIN_PASSWORD",
              help="Password for the 'admin' account (default: generated and printed once).")
@pass_app
def init(app, admin_password):
    """Create the schema, load Gia Lai's units and the default form, and an admin account."""
    store = app.extensions["langso_db"]
    applied = migrations.upgrade(store)
    if applied:
        click.echo(f"schema at version {migrations.latest_version()}")
    with click.progressbar(length=236, label="loading Gia Lai units") as bar:
        report = load_gia_lai(store, progress=lambda row: bar.update(1))
    click.echo(f"units: {len(report.created)} created, {len(report.updated)} updated")
    published = publish_default_form(store)
    click.echo(f"form household_digital: published version {published.version}" if published
               else "form household_digital: already published")
    ensure_admin(store, admin_password)


@db_session
def ensure_admin(store, password):
    """Create the 'admin' account unless an admin exists; print a generated password once."""
    if store.User.exists(role="admin"):
        click.echo("admin account: already present")
        return
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    create_user(store, "admin", "admin", [], password, "Quản trị viên")
    shown = password if generated else "(the one you gave)"
    click.echo(f"admin account created: username 'admin', password {shown}")


@db.command()
@pass_app
def upgrade(app):
    """Apply pending schema migrations, oldest first."""
    store = app.extensions["langso_db"]
    applied = migrations.upgrade(store, progress=lambda m: click.echo(f"applied {m.version}: {m.description}"))
    click.echo(f"schema at version {migrations.current_version(store)}"
               + ("" if applied else " (nothing to do)"))


@db.command()
@pass_app
def version(app):
    """Show the schema version of the database and of this release."""
    store = app.extensions["langso_db"]
    click.echo(f"database: {migrations.current_version(store)}, this release: {migrations.latest_version()}")


COMMANDS = (db,)
