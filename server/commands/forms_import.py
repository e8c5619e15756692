"""`langso forms import FILE.xlsx`: an XLSForm becomes a form draft, with what was left out listed.

Unsupported features are printed by sheet, row and column; without --accept-unsupported
nothing is stored when there are any. Publish the draft afterwards (web pages or API).
"""
import json

import click
from pony.orm import db_session

from forms.i18n import environment_language
from sync.errors import Invalid
from sync.form_imports import audit_details, located, read_xlsform, save_import

from ..audit import record
from ..cli import pass_app


@click.group("forms")
def forms_group():
    """Survey forms: import XLSForm spreadsheets."""


def _line(problem):
    where = problem.get("field") or problem.get("sheet", "")
    column = f" ({problem['column']})" if problem.get("column") else ""
    return f"  {where}{column}: {problem['message']}"


@forms_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--accept-unsupported", is_flag=True,
              help="Store the draft even though unsupported features are left out.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_app
def import_(app, path, accept_unsupported, as_json):
    """Import the XLSForm at PATH as a form draft (a new form, or the draft of the form with its id)."""
    db = app.extensions["langso_db"]
    try:
        result = read_xlsform(path, accept_unsupported)
    except Invalid as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "message": error.render(environment_language()),
                                   "errors": error.errors}, ensure_ascii=False))
        else:
            click.echo(error.render(environment_language()), err=True)
            for problem in error.errors:
                click.echo(_line(problem), err=True)
        raise SystemExit(1) from None
    with db_session:
        form, created = save_import(db, result)
        record(db, "form_imported", form.form_id, audit_details(result, created), actor="cli")
        form_id = form.form_id
    if as_json:
        click.echo(json.dumps({"ok": True, "form_id": form_id, "created": created, "unsupported": result.unsupported,
                               "replaced": result.replaced, "warnings": result.warnings}, ensure_ascii=False))
        return
    click.echo(f"{'Created' if created else 'Replaced the draft of'} form {form_id} "
               f"({result.definition['version']}); publish it when ready.")
    for title, problems in (("Left out (not supported):", result.unsupported),
                            ("Replaced by langso:", result.replaced)):
        if problems:
            click.echo(title)
            for problem in problems:
                click.echo(_line(located(problem)))


COMMANDS = (forms_group,)
