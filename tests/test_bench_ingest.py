"""`langso bench ingest` posts real batches to gunicorn and reports its figures (no timing asserted)."""
import json

import click
import pytest
from click.testing import CliRunner

from server.cli import main
from server.commands.bench_ingest import initialise, make_items, post_all, start_server
from tests.conftest import postgres_base_url


def test_bench_ingest_reports_the_named_figures_as_one_json_object_last():
    base = postgres_base_url()
    args = ["bench", "ingest", "--batches", "3", "--batch-size", "20", "--workers", "2", "--clients", "2",
            "--json"] + (["--database-url", base] if base else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {"submissions_per_s", "raw_insert_per_s", "ratio"} <= set(figures)
    assert (figures["submissions"], figures["batch_size"]) == (60, 20)
    assert figures["submissions_per_s"] > 0 and figures["raw_insert_per_s"] > 0
    assert figures["ratio"] == pytest.approx(figures["submissions_per_s"] / figures["raw_insert_per_s"], rel=1e-2)


def test_a_refused_batch_stops_the_bench_with_the_servers_answer(database_url, tmp_path):
    initialise(database_url)
    body = json.dumps({"submissions": make_items(5)}).encode("utf-8")
    server = start_server(database_url, 1, str(tmp_path))
    try:
        with pytest.raises(click.ClickException) as refused:
            post_all(server.base, "not-a-token", [body, body], clients=2)
    finally:
        server.stop()
    assert "HTTP 401" in refused.value.message and "Bearer" in refused.value.message
