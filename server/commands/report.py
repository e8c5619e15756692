"""`langso report UNIT --out FILE.pdf`: the PDF report of a unit, as the API serves it."""
import getpass

import click
from pony.orm import db_session

from exports.pdf import unit_report
from forms.i18n import environment_language, languages
from sync.errors import LangsoError

from ..audit import record
from ..cli import pass_app


@click.command("report")
@click.argument("unit")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
@click.option("--round", "round_name", default=None, help="Survey round (default: all rounds).")
@click.option("--lang", type=click.Choice(languages()), default="vi", show_default=True)
@pass_app
def report(app, unit, out, round_name, lang):
    """Write the PDF report of UNIT (a unit code) for one round."""
    db = app.extensions["langso_db"]
    try:
        body = unit_report(db, unit, round=round_name, lang=lang,
                           small_threshold=app.config.get("SMALL_NUMBER_THRESHOLD", 5))
    except LangsoError as error:
        raise click.ClickException(error.render(environment_language())) from error
    with open(out, "wb") as handle:
        handle.write(body)
    with db_session:
        record(db, "report_written", unit, {"round": round_name, "lang": lang, "via": "cli"},
               actor=f"cli:{getpass.getuser()}")
    click.echo(f"wrote {out} ({len(body):,} bytes)")


COMMANDS = (report,)
