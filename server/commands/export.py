"""`langso export UNIT --format csv|xlsx --out FILE`: the unit's submissions, streamed to a file."""
import getpass

import click
from pony.orm import db_session

from exports.rollups import check_round
from exports.tabular import export as prepare_export
from forms.i18n import environment_language
from sync.errors import LangsoError

from ..audit import record
from ..cli import pass_app


@click.command("export")
@click.argument("unit")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--round", "round_name", default=None, help="Survey round (default: all rounds).")
@click.option("--personal/--no-personal", default=False, show_default=True,
              help="Include personal fields (head of household, phone, GPS).")
@click.option("--labels", is_flag=True, help="Question labels instead of names as headers.")
@pass_app
def export(app, unit, fmt, out, round_name, personal, labels):
    """Write UNIT's current submissions (one row per household and round) as CSV or XLSX."""
    db = app.extensions["langso_db"]
    try:
        with db_session:
            round_name = check_round(db, "household_digital", round_name)
        prepared = prepare_export(db, unit, fmt, round=round_name, personal=personal, use_labels=labels)
    except LangsoError as error:
        raise click.ClickException(error.render(environment_language())) from error
    size = 0
    with open(out, "wb") as handle:
        for chunk in prepared.chunks:
            handle.write(chunk)
            size += len(chunk)
    with db_session:
        record(db, "export_written", unit, {"format": fmt, "round": round_name, "personal": personal,
                                            "via": "cli"}, actor=f"cli:{getpass.getuser()}")
    click.echo(f"wrote {out} ({size:,} bytes)")


COMMANDS = (export,)
