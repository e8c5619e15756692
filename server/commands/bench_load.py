"""`langso bench load`: many devices pushing and pulling through a network that cuts connections.

Starts gunicorn (4 workers by default) on a fresh temporary database (SQLite WAL, or a fresh
schema in the PostgreSQL database of --database-url), runs the simulated devices of
server/bench/loadtest.py through a TCP proxy that cuts --cut-rate of the connections (before the
request reaches the server, halfway through it, or after the server answered), then checks
that every submitted household is on the server exactly once and that the roll-up sums agree
with a recomputation. The reference, measured in the same run, is one client posting the same
kind of batches straight to the server with no cuts. tests/test_load.py and tests/test_crash.py
run the same library at a reduced size; this command runs the full size.
"""
import sys
import tempfile

import click

from .bench import bench, json_option, report


@bench.command("load")
@click.option("--devices", default=50, show_default=True, help="Simulated devices (one thread each).")
@click.option("--submissions-per-device", default=200, show_default=True, help="Households each device sends.")
@click.option("--batch-size", default=50, show_default=True, help="Submissions per batch.")
@click.option("--workers", default=4, show_default=True, help="gunicorn workers.")
@click.option("--database-url", default=None,
              help="PostgreSQL database to run in (a fresh schema is made and dropped); default SQLite.")
@click.option("--cut-rate", default=0.10, show_default=True, help="Share of connections the proxy cuts.")
@click.option("--seconds-limit", default=120, show_default=True, help="Stop the devices after this long.")
@json_option
def load(devices, submissions_per_device, batch_size, workers, database_url, cut_rate, seconds_limit, as_json):
    """Exactly-once delivery, throughput and latency under load with cut connections (exit 1 on loss)."""
    from ..bench.loadtest import FreshDatabase, passed, run_load
    with tempfile.TemporaryDirectory(prefix="langso-load-") as folder:
        database = FreshDatabase(database_url, folder, "load")
        try:
            figures = run_load(database.url, folder, devices, submissions_per_device, batch_size, workers,
                               cut_rate, seconds_limit)
        finally:
            database.drop()
    examples = figures.pop("failure_examples")
    if examples and not as_json:
        click.echo("failures: " + "; ".join(examples), err=True)
    report(figures, as_json)
    if not passed(figures):
        sys.exit(1)


COMMANDS = ()
