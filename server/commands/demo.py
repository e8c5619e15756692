"""`langso demo`: a simulated survey campaign across Gia Lai, to explore langso on a laptop."""
import click

from ..bench.demo import DEMO_PASSWORD, run_demo
from ..cli import pass_app


@click.command()
@click.option("--households", default=10000, show_default=True, help="Household visits to simulate.")
@click.option("--seed", default=2025, show_default=True, help="Random seed (the same seed gives the same data).")
@pass_app
def demo(app, households, seed):
    """Create villages, accounts and a simulated survey submitted through the real ingest path."""
    with click.progressbar(length=households, label="submitting simulated visits") as bar:
        report = run_demo(app.extensions["langso_db"], households, seed,
                          progress=lambda n: bar.update(min(n, households - bar.pos)))
    if not report.results:
        click.echo(f"demo campaign already loaded (seed {seed}); nothing changed")
    else:
        summary = ", ".join(f"{count} {status}" for status, count in sorted(report.results.items()))
        click.echo(f"{report.villages} villages, {households} visits: {summary}")
    click.echo(f"demo accounts (password {DEMO_PASSWORD}):")
    shown = [a for a in report.accounts if a[0] in ("canbo_622", "canbo_627", "ctv_23722", "ctv_23557")]
    for username, role, unit_name in shown:
        click.echo(f"  {username:<12} {role:<15} {unit_name}")
    click.echo(f"  ... and canbo_<district code> / ctv_<commune code> for every unit "
               f"({len(report.accounts)} accounts); the admin account is made by `langso db init`")


COMMANDS = (demo,)
