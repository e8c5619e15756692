"""`langso device qr USER`: provision ODK Collect for an account from the server's terminal.

Issues a device token (it works only on the OpenRosa endpoints and expires after
DEVICE_TOKEN_TTL_DAYS; a new QR code renews) and prints Collect's settings QR code as text,
with the server URL it carries; `--png FILE` also writes it as PNG. Admin accounts get none.
`langso device tokens USER` lists an account's device tokens, `langso device revoke USER [ID]`
revokes one (or all; `langso device qr USER --revoke` does the same).
"""
from datetime import datetime

import click
from pony.orm import db_session

from sync.devices import device_tokens, provision, qr_png, qr_text, revoke_devices, token_dict

from ..audit import record
from ..cli import pass_app
from .device import device


@device.command("qr")
@click.argument("username")
@click.option("--url", "root_url", help="The server's public address, e.g. https://langso.example.vn "
              "[default: PUBLIC_URL from the configuration].")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, writable=True), help="Also write the QR code here.")
@click.option("--revoke", is_flag=True, help="Revoke the account's device tokens instead (phones stop syncing).")
@pass_app
def qr(app, username, root_url, png_path, revoke):
    """Show the ODK Collect QR code for USER (scan it in Collect: Configure with QR code)."""
    db = app.extensions["langso_db"]
    with db_session:
        user = db.User.get(username=username)
        if user is None or not user.active:
            raise click.ClickException(f"no active account {username!r}")
        if revoke:
            return _revoke(db, user)
        if user.role == "admin":
            raise click.ClickException("admin accounts get no device tokens; use a collector or staff account")
        root_url = root_url or app.config.get("PUBLIC_URL")
        if not root_url:
            raise click.ClickException("give the server's public address with --url https://... "
                                       "(or set LANGSO_PUBLIC_URL)")
        server_url, payload = provision(db, user, root_url, label="ODK Collect (langso device qr)")
        record(db, "device_token_created", username, {"via": "cli"}, actor="cli")
    click.echo(qr_text(payload))
    click.echo(f"ODK Collect server URL for {username} (secret, like a password):\n{server_url}")
    if png_path:
        with open(png_path, "wb") as handle:
            handle.write(qr_png(payload))
        click.echo(f"QR code written to {png_path}")


def _revoke(db, user, token_id=None):
    """Revoke one device token of the account, or every live one."""
    if token_id is not None:
        token = db.ApiToken.get(id=token_id)
        if token is None or token.user.id != user.id or token.kind != "device":
            raise click.ClickException(f"no device token {token_id} of {user.username}; "
                                       f"see `langso device tokens {user.username}`")
    count = revoke_devices(db, user, ids=None if token_id is None else [token_id])
    record(db, "device_tokens_revoked", user.username, {"count": count, "id": token_id}, actor="cli")
    click.echo(f"revoked {count} device token(s) of {user.username}")


@device.command("tokens")
@click.argument("username")
@pass_app
def tokens(app, username):
    """List USER's device tokens (ODK Collect phones): id, state, expiry, last use, label."""
    db = app.extensions["langso_db"]
    now = datetime.utcnow()
    with db_session:
        user = db.User.get(username=username)
        if user is None:
            raise click.ClickException(f"no account {username!r}")
        for token in device_tokens(user):
            row = token_dict(token, app.config["DEVICE_TOKEN_TTL_DAYS"], now)
            state = "revoked" if row["revoked_at"] else "live" if row["live"] else "expired"
            expiry = f"expires {row['expires_at']:%Y-%m-%d %H:%M}" if row["expires_at"] else "never expires"
            used = f"{row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"] else "never"
            click.echo(f"{row['id']:>6}  {state:<8} {expiry}  last used {used}  {row['label'] or ''}")


@device.command("revoke")
@click.argument("username")
@click.argument("token_id", type=int, required=False)
@pass_app
def revoke(app, username, token_id):
    """Revoke USER's device token TOKEN_ID (one phone; see `langso device tokens`), or all of them."""
    db = app.extensions["langso_db"]
    with db_session:
        user = db.User.get(username=username)
        if user is None:
            raise click.ClickException(f"no account {username!r}")
        _revoke(db, user, token_id)


COMMANDS = ()
