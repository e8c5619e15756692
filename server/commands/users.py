"""`langso users ...`: accounts, their role and geographic scope."""

import click
from pony.orm import db_session

from forms.i18n import environment_language
from sync import accounts
from sync.accounts import AccountError, create_user, revoke_tokens
from sync.store import ROLES

from ..audit import record
from ..cli import pass_app


@click.group()
def users():
    """Create, list and disable accounts; set passwords."""


@users.command()
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--scope", "scope_codes", multiple=True, metavar="CODE",
              help="Unit code of the scope: villages or a commune (collector), a district (district_staff).")
@click.option("--name", "display_name", default="", help="Full name shown in pages.")
@click.password_option(help="Password (prompted when not given).")
@pass_app
def create(app, username, role, scope_codes, display_name, password):
    """Create an account with a role and a geographic scope."""
    store = app.extensions["langso_db"]
    try:
        with db_session:
            user = create_user(store, username, role, list(scope_codes), password, display_name)
            record(store, "user_created", username, {"role": role, "scope": list(scope_codes)}, actor="cli")
    except AccountError as error:
        raise click.ClickException(error.render(environment_language())) from error
    click.echo(f"created {user.username} ({role})")


@users.command("list")
@pass_app
@db_session
def list_(app):
    """List accounts with role, scope and status."""
    store = app.extensions["langso_db"]
    for user in store.User.select().order_by(lambda u: u.username):
        scope = ",".join(sorted(u.code for u in user.scope))
        click.echo(f"{user.username:<20} {user.role:<15} {'active' if user.active else 'disabled':<9} {scope}")


@users.command()
@click.argument("username")
@pass_app
@db_session
def disable(app, username):
    """Disable an account and revoke its tokens."""
    store = app.extensions["langso_db"]
    user = _get(store, username)
    user.active = False
    revoke_tokens(store, user)
    record(store, "user_disabled", username, actor="cli")
    click.echo(f"disabled {username}")


@users.command("set-password")
@click.argument("username")
@click.password_option(help="New password (prompted when not given).")
@pass_app
@db_session
def set_password(app, username, password):
    """Set a new password (revokes the user's API tokens, device tokens and web sessions)."""
    store = app.extensions["langso_db"]
    user = _get(store, username)
    try:
        revoked = accounts.set_password(store, user, password)
    except AccountError as error:
        raise click.ClickException(error.render(environment_language())) from error
    record(store, "password_set", username, {"revoked": revoked}, actor="cli")
    click.echo(f"password set for {username}; {revoked} token(s) and session(s) revoked")


def _get(store, username):
    user = store.User.get(username=username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}; see `langso users list`")
    return user


COMMANDS = (users,)
