"""`langso bench ...`: benchmarks that print figures and, with --json, one JSON object last.

Each benchmark measures, in the same run, the reference it is compared to and prints the ratio.
Other modules add their benchmarks to the `bench` group.
"""
import json

import click


@click.group()
def bench():
    """Measure speed (figures vary between runs on shared machines)."""


def report(figures, as_json, labels=None):
    """Print figures one per line, or as one JSON object on the last line."""
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else value
        click.echo(f"{(labels or {}).get(key, key):<28} {shown}")


json_option = click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")


@bench.command("validate")
@click.option("-n", "--submissions", default=20000, show_default=True, help="Household submissions to validate.")
@json_option
def validate(submissions, as_json):
    """Validate varied household submissions with the compiled default form (key: submissions_per_s)."""
    from forms.bench import bench_validate
    report(bench_validate(submissions), as_json)


COMMANDS = (bench,)
