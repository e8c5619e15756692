"""`langso bench rollup`: the province roll-up on a synthetic Gia Lai at two sizes (O(units) check).

The real 218 communes get about 9 villages each; the per-village sums that ingest would
keep for N households are bulk-loaded (one RollupSum row per village and indicator, one
HouseholdCount row per village, summing exactly to N). The province roll-up is timed
(median of several runs, each a fresh db_session as a request has) at both sizes, and in
the same run the reference: the bare SQL aggregate over the same rollup_sum rows.
"""
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from datetime import datetime

import click
from pony.orm import db_session

from .bench import bench, json_option, report

VILLAGES_PER_COMMUNE = 9
ROUND = "2025"
RUNS = 15
# Persons per household in each indicator's base (a plausible Gia Lai household of ~4).
BASE_PER_HOUSEHOLD = {"households": 1.0, "adults": 2.6, "people_15plus": 3.0, "working_age": 2.4,
                      "people": 4.2, "people_online": 2.0}


def build_base(path):
    """A SQLite file with the real Gia Lai units, ~9 villages per commune and the default form."""
    from sync.form_versions import publish_default_form
    from sync.store import open_store
    from sync.units import load_gia_lai
    db = open_store(f"sqlite:///{path}")
    load_gia_lai(db)
    publish_default_form(db)
    with db_session:
        communes = db.select("SELECT id, code, path, depth FROM unit WHERE level = 'commune' ORDER BY code")
        form_id, indicators = default_indicators(db)
        rows = [(f"{code}-{n:02d}", f"Thôn {n}", "village", "thôn", unit_id, f"{unit_path}{code}-{n:02d}/",
                 depth + 1, random.Random(f"{code}-{n}").randint(150, 450), datetime.utcnow())
                for unit_id, code, unit_path, depth in communes for n in range(1, VILLAGES_PER_COMMUNE + 1)]
        db.get_connection().executemany(
            "INSERT INTO unit (code, name, level, kind, parent, path, depth, expected_households, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.disconnect()
    db.provider.disconnect()
    return form_id, indicators, len(rows)


def default_indicators(db):
    """The default form's id and its [(indicator id, unit counted)]."""
    from sync.form_versions import latest_version
    version = latest_version(db, "household_digital")
    return "household_digital", [(i["id"], i.get("unit", "people")) for i in version.definition["indicators"]]


def load_sums(path, form_id, indicators, households):
    """Bulk-load the sums N households would leave: HouseholdCount summing to N, RollupSum per indicator."""
    rng = random.Random(households)
    with closing(sqlite3.connect(path)) as connection:
        villages = [row[0] for row in connection.execute(
            "SELECT id FROM unit WHERE level = 'village' ORDER BY code")]
        weights = [rng.uniform(0.5, 1.5) for _ in villages]
        per_village = [int(households * w / sum(weights)) for w in weights]
        for i in range(households - sum(per_village)):
            per_village[i % len(villages)] += 1
        counts, sums = [], []
        for village, count in zip(villages, per_village):
            counts.append((village, form_id, ROUND, count, int(count * 0.02)))
            for indicator, unit in indicators:
                denominator = round(count * BASE_PER_HOUSEHOLD.get(unit, 3.0))
                sums.append((village, form_id, ROUND, indicator, round(denominator * rng.uniform(0.2, 0.95)),
                             denominator, count))
        connection.executemany("INSERT INTO household_count (village, form_id, round, households, refusals)"
                               " VALUES (?, ?, ?, ?, ?)", counts)
        connection.executemany("INSERT INTO rollup_sum (village, form_id, round, indicator, numerator,"
                               " denominator, households) VALUES (?, ?, ?, ?, ?, ?, ?)", sums)
        connection.commit()
        connection.execute("ANALYZE")
    return len(sums)


def median_ms(action, runs=RUNS):
    """The median wall time of `action` in milliseconds, after one warm-up call."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def time_size(path, form_id):
    """(province roll-up ms, reference ms, households the roll-up reports) for one database file."""
    from exports.rollups import rollup
    from sync.store import open_store
    db = open_store(f"sqlite:///{path}")
    result = rollup(db, "64", form_id=form_id, round=ROUND)
    ms = median_ms(lambda: rollup(db, "64", form_id=form_id, round=ROUND))
    db.disconnect()
    db.provider.disconnect()
    with closing(sqlite3.connect(path)) as connection:
        reference = median_ms(lambda: connection.execute(
            "SELECT indicator, SUM(numerator), SUM(denominator), SUM(households) FROM rollup_sum"
            " WHERE form_id = ? AND round = ? GROUP BY indicator", (form_id, ROUND)).fetchall())
    return ms, reference, result["households"]


def run_rollup_bench(small, large, progress=lambda message: None):
    """Build the synthetic province, load both sizes and time the province roll-up; returns figures."""
    with tempfile.TemporaryDirectory(prefix="langso-bench-rollup-") as folder:
        base = os.path.join(folder, "base.db")
        progress("loading Gia Lai units and villages")
        form_id, indicators, villages = build_base(base)
        figures = {"villages": villages}
        for label, households in (("small", small), ("large", large)):
            path = os.path.join(folder, f"{label}.db")
            shutil.copyfile(base, path)
            progress(f"loading the sums of {households:,} households")
            rows = load_sums(path, form_id, indicators, households)
            ms, reference, counted = time_size(path, form_id)
            figures.update({f"households_{label}": counted, f"ms_{label}": round(ms, 3),
                            f"ms_reference_{label}": round(reference, 3), "rollup_sum_rows": rows})
    figures["ratio_large_to_small"] = round(figures["ms_large"] / figures["ms_small"], 3)
    figures["ratio_to_reference"] = round(figures["ms_large"] / max(figures["ms_reference_large"], 1e-6), 3)
    return figures


LABELS = {"villages": "villages", "rollup_sum_rows": "rollup_sum rows per size",
          "households_small": "households (small)", "ms_small": "roll-up ms (small)",
          "ms_reference_small": "SQL aggregate ms (small)", "households_large": "households (large)",
          "ms_large": "roll-up ms (large)", "ms_reference_large": "SQL aggregate ms (large)",
          "ratio_large_to_small": "large / small", "ratio_to_reference": "roll-up / SQL aggregate"}


@bench.command("rollup")
@click.option("--small", default=40_000, show_default=True, help="Households in the small province.")
@click.option("--large", default=4_000_000, show_default=True, help="Households in the large province.")
@json_option
def rollup_bench(small, large, as_json):
    """Province roll-up time at two sizes; keys households_small, ms_small, households_large, ms_large."""
    if small < 1 or large < 1:
        raise click.BadParameter("sizes must be at least 1 household")
    figures = run_rollup_bench(small, large, progress=lambda m: click.echo(m, err=True))
    report(figures, as_json, LABELS)


COMMANDS = ()
