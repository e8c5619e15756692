"""`langso units ...`: import units from CSV and list the tree."""
import json

import click

from forms.i18n import environment_language
from sync.errors import UnitImportError
from sync.units import import_units, list_units

from ..cli import pass_app


@click.group()
def units():
    """Import and list administrative units."""


@units.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@pass_app
def import_(app, csv_file):
    """Add or update units from CSV_FILE (code,name,level,parent_code[,expected_households,kind]).

    All or nothing: a file with any bad line changes nothing and every bad line is listed.
    """
    try:
        report = import_units(app.extensions["langso_db"], csv_file.read())
    except UnitImportError as error:
        for item in error.errors:
            click.echo(f"{csv_file.name}:{item['line']}: {item['message']}", err=True)
        raise click.ClickException(
            f"{error.render(environment_language())}; fix the lines above and run the import again") from error
    click.echo(f"{len(report.created)} created, {len(report.updated)} updated")


@units.command("list")
@click.option("--under", metavar="CODE", help="Only units inside this unit.")
@click.option("--level", help="Only units at this level (province, district, commune, village...).")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_app
def list_(app, under, level, output):
    """List units, in code order within each level."""
    rows = list_units(app.extensions["langso_db"], under=under, level=level)
    if output == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        households = row["expected_households"] if row["expected_households"] is not None else ""
        click.echo(f"{row['code']:<10} {row['level']:<10} {row['parent_code'] or '':<8} {row['name']}"
                   + (f"  ({households} households)" if households != "" else ""))
    click.echo(f"{len(rows)} unit(s)", err=True)


COMMANDS = (units,)
