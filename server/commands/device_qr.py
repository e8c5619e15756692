"""`langso device qr USER`: provision ODK Collect for an account from the server's terminal.

Issues a device token (revocable: `langso device qr USER --revoke`) and prints Collect's
settings QR code as text, with the server URL it carries; `--png FILE` also writes it as PNG.
"""
import click
from pony.orm import db_session

from sync.devices import provision, qr_png, qr_text, revoke_devices

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


def _revoke(db, user):
    """Revoke every live device token of the account."""
    count = revoke_devices(user)
    record(db, "device_tokens_revoked", user.username, {"count": count}, actor="cli")
    click.echo(f"revoked {count} device token(s) of {user.username}")


COMMANDS = ()
