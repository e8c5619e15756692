"""A reduced-size load run: devices through a proxy that cuts a fifth of the connections.

`langso bench load` runs the full size (50 devices × 200 submissions) and reports speed; this
test only asserts exactly-once delivery and consistent roll-up sums, on SQLite or PostgreSQL.
"""
import json

from click.testing import CliRunner

from server.bench.loadtest import passed, percentile, run_load
from server.cli import main
from tests.conftest import postgres_base_url


def test_every_household_sent_through_a_cutting_network_is_stored_exactly_once(database_url, tmp_path):
    figures = run_load(database_url, str(tmp_path), devices=5, per_device=40, batch_size=10, workers=2,
                       cut_rate=0.2, seconds_limit=120, seed=7, reference=False)
    assert figures["failure_examples"] == []
    assert figures["submitted"] == 200
    assert figures["acknowledged"] == figures["on_server"] == 200
    assert figures["lost"] == 0 and figures["duplicated"] == 0
    assert figures["tally_mismatches"] == 0
    assert figures["connections_cut"] > 0
    assert passed(figures)


def test_bench_load_reports_the_named_figures_as_one_json_object_last():
    base = postgres_base_url()
    args = ["bench", "load", "--devices", "3", "--submissions-per-device", "20", "--batch-size", "10",
            "--workers", "2", "--cut-rate", "0.3", "--json"] + (["--database-url", base] if base else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {"devices", "submitted", "on_server", "lost", "duplicated", "submissions_per_s",
            "p50_ms", "p95_ms", "p99_ms", "ratio"} <= set(figures)
    assert (figures["devices"], figures["submitted"], figures["on_server"]) == (3, 60, 60)
    assert figures["lost"] == figures["duplicated"] == 0


def test_a_run_with_a_lost_or_doubled_household_does_not_pass():
    clean = {"submitted": 10, "acknowledged": 10, "on_server": 10, "lost": 0, "duplicated": 0, "tally_mismatches": 0}
    assert passed(clean)
    assert not passed(dict(clean, lost=1, on_server=9))
    assert not passed(dict(clean, duplicated=1))
    assert not passed(dict(clean, tally_mismatches=2))
    assert not passed(dict(clean, acknowledged=9))


def test_latency_percentiles_use_the_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50, 95, 99)
    assert percentile([], 0.5) == 0.0 and percentile([7], 0.99) == 7
