"""`langso rollup ...`: show a unit's roll-up, recompute the per-village sums, check them."""
import json

import click

from exports.rollups import DEFAULT_FORM, LANGUAGES, rollup as compute_rollup
from forms.i18n import environment_language
from sync.errors import LangsoError

from ..cli import pass_app


@click.group()
def rollup():
    """Indicator roll-ups and the per-village sums behind them."""


@rollup.command("show")
@click.argument("unit")
@click.option("--form", "form_id", default=DEFAULT_FORM, show_default=True, help="Form id.")
@click.option("--round", "round_name", help="Survey round (default: all rounds combined).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="vi", show_default=True)
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_app
def show(app, unit, form_id, round_name, lang, output):
    """Print UNIT and its direct children with every indicator (as GET /api/v1/rollups/UNIT)."""
    try:
        result = compute_rollup(app.extensions["langso_db"], unit, form_id=form_id, round=round_name,
                                lang=lang, small_threshold=app.config["SMALL_NUMBER_THRESHOLD"])
    except LangsoError as error:
        for item in error.errors:
            click.echo(f"{item.get('field')}: {item.get('message')}", err=True)
        raise click.ClickException(error.render(environment_language())) from error
    if output == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for line in table_lines(result, lang):
        click.echo(line)


def table_lines(result, lang):
    """A header, a line per child and a total line: each indicator's percent and n (its denominator)."""
    indicators = result["indicators"]
    yield (f"{result['unit']['name']} ({result['unit']['code']}) · {result['form_id']} · "
           f"round {result['round'] or 'all'}")
    for number, indicator in enumerate(indicators, start=1):
        targets = ", ".join(f"{t['year']} {t['op']}{t['value']:g}" for t in indicator["targets"])
        yield f"  [{number}] {indicator['label'].get(lang) or indicator['id']}" + (f" ({targets})" if targets else "")
    header = f"{'unit':<10} {'households':>10} {'coverage':>8}" + "".join(
        f" {f'[{n}]':>14}" for n in range(1, len(indicators) + 1))
    yield header
    for row in result["children"] + [result]:
        code = "total" if row is result else row["unit"]["code"]
        coverage = f"{row['coverage']:.0f}%" if row["coverage"] is not None else "-"
        yield f"{code:<10} {row['households']:>10} {coverage:>8}" + "".join(
            f" {cell(i):>14}" for i in row["indicators"])
    missing = result["villages_without_submissions"]
    if missing:
        yield f"villages without submissions ({len(missing)}): {', '.join(missing[:20])}" + (
            " ..." if len(missing) > 20 else "")


def cell(indicator):
    """"54.0% n=100", "-" without data, a "*" when below the small-number threshold."""
    if indicator["percent"] is None:
        return "-"
    mark = "" if indicator["reliable"] else "*"
    return f"{indicator['percent']:.1f}%{mark} n={indicator['denominator']:g}"


@rollup.command("rebuild")
@pass_app
def rebuild(app):
    """Recompute every per-village sum from the stored submissions (after a restore, or to repair)."""
    from sync import tally
    result = tally.rebuild(app.extensions["langso_db"])
    click.echo(f"roll-up sums rebuilt{': ' + str(result) if result not in (None, '') else ''}")


@rollup.command("check")
@pass_app
def check(app):
    """Verify the per-village sums equal a recomputation from submissions; exit 1 listing differences."""
    from sync import tally
    mismatches = tally.check(app.extensions["langso_db"])
    if not mismatches:
        click.echo("roll-up sums match the submissions")
        return
    for mismatch in mismatches:
        click.echo(describe(mismatch), err=True)
    raise click.ClickException(f"{len(mismatches)} roll-up sum(s) differ from the submissions; "
                               "run `langso rollup rebuild`")


def describe(mismatch):
    """One mismatch on one line, whatever shape sync.tally reports it in."""
    if isinstance(mismatch, dict):
        return " ".join(f"{key}={value}" for key, value in mismatch.items())
    return str(mismatch)


COMMANDS = (rollup,)
