"""`langso backup OUT` and `langso restore FILE`."""
import click

from forms.i18n import environment_language
from sync.backup import BackupError, backup as backup_database, restore as restore_database

from ..cli import pass_app


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@pass_app
def backup(app, out):
    """Back up the database to OUT (SQLite: online, safe while serving; PostgreSQL: pg_dump)."""
    try:
        backup_database(app.config["DATABASE_URL"], out, progress=_progress())
    except BackupError as error:
        raise click.ClickException(error.render(environment_language())) from error
    click.echo(f"backup written to {out}")


@click.command()
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.confirmation_option(prompt="This replaces the current database. Stop the server first. Continue?")
@pass_app
def restore(app, backup_file):
    """Replace the database with BACKUP_FILE, then check it with `langso rollup check`."""
    app.extensions["langso_db"].disconnect()
    try:
        restore_database(app.config["DATABASE_URL"], backup_file, progress=_progress())
    except BackupError as error:
        raise click.ClickException(error.render(environment_language())) from error
    click.echo(f"restored from {backup_file}; now run `langso db upgrade` and `langso rollup check`")


def _progress():
    def show(done, total):
        click.echo(f"\r{done}/{total} pages", nl=False, err=True)
    return show


COMMANDS = (backup, restore)
