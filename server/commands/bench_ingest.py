"""`langso bench ingest`: validated household submissions per second over real HTTP.

Starts gunicorn on a fresh temporary database (SQLite by default, or a fresh schema in the
PostgreSQL database of --database-url), initialises it (tables, Gia Lai, ten villages, a
collector, the default form), posts pre-encoded batches of valid varied households from
client threads (twice as many as workers, as when many devices upload at once), and in the
same run times a raw executemany insert of the same rows into the same kind of database (one
transaction per batch) as the reference.
"""
import json
import random
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta

import click

from .bench import bench, json_option, report

VILLAGE_CODES = [f"23722{i:02d}" for i in range(1, 11)]


def valid_households(count, seed=2025):
    """`count` varied households that the default form accepts."""
    import forms
    from forms.bench import household
    compiled = forms.compile_form(forms.load_form(forms.household_digital()))
    rng, found = random.Random(seed), []
    while len(found) < count:
        answers = household(rng)
        if compiled.validate(answers).ok:
            found.append(answers)
    return found


def make_items(count):
    """Wire submissions for `count` distinct households across the villages."""
    start = datetime(2025, 3, 1, 8, 0)
    return [{"instance_id": str(uuid.uuid4()), "form_id": "household_digital", "form_version": "2025.1",
             "village_code": VILLAGE_CODES[i % len(VILLAGE_CODES)], "household_key": f"hh-{i}",
             "collected_at": (start + timedelta(seconds=i)).isoformat() + "+07:00", "answers": answers}
            for i, answers in enumerate(valid_households(count))]


def initialise(url):
    """Tables, Gia Lai, villages, a collector and the default form; returns a bearer token."""
    from pony.orm import db_session

    from sync import migrations
    from sync.accounts import create_user, issue_token
    from sync.form_versions import publish_default_form
    from sync.store import open_store
    from sync.units import import_units, load_gia_lai
    store = open_store(url)
    migrations.upgrade(store)
    load_gia_lai(store)
    import_units(store, "code,name,level,parent_code\n" +
                 "".join(f"{code},Thôn {code[-2:]},village,23722\n" for code in VILLAGE_CODES))
    publish_default_form(store)
    with db_session:
        user = create_user(store, "bench_collector", "collector", ["23722"], "bench-password-long")
        token = issue_token(store, user)
    store.disconnect()
    return token


def start_server(url, workers, folder):
    """gunicorn on a free port (server.bench.loadtest.Server); stop it with .stop()."""
    from ..bench.loadtest import Server
    try:
        return Server(url, folder, workers).start()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


def post_all(base, token, bodies, clients):
    """Post the encoded batches from `clients` threads; returns (seconds, result statuses)."""
    import requests
    statuses, failures, lock, queue = [], [], threading.Lock(), list(reversed(bodies))

    def work():
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue or failures:
                    return
                body = queue.pop()
            try:
                answer = session.post(base + "/api/v1/submissions/batch", data=body, headers=headers, timeout=120)
                answer.raise_for_status()
                found = [r["status"] for r in answer.json()["results"]]
            except requests.RequestException as error:
                with lock:
                    failures.append(_failure(error))
                return
            with lock:
                statuses.extend(found)
    threads = [threading.Thread(target=work) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise click.ClickException(f"a batch upload failed ({failures[0]})")
    return time.perf_counter() - start, statuses


def _failure(error):
    """What a failed upload answered: the status and the server's error message, or the network error."""
    response = getattr(error, "response", None)
    if response is None:
        return str(error)
    try:
        return f"HTTP {response.status_code}: {response.json().get('message')}"
    except ValueError:
        return f"HTTP {response.status_code}"


def raw_rows(items, village_ids, dialect):
    """The submission rows a raw insert writes for the same households."""
    from sync.ingest_items import content_hash
    now = datetime.utcnow()
    rows = []
    for seq, item in enumerate(items, start=1):
        answers = json.dumps(item["answers"], ensure_ascii=False, separators=(",", ":"))
        moment = datetime.fromisoformat(item["collected_at"]).replace(tzinfo=None)
        stamp, received = dialect.stamp(moment), dialect.stamp(now)
        rows.append((item["instance_id"], item["form_id"], item["form_version"], village_ids[item["village_code"]],
                     item["village_code"], item["household_key"], "2025", stamp, received, seq, "accepted", True,
                     answers, False, content_hash(item)))
    return rows


RAW_COLUMNS = ("instance_id", "form_id", "form_version", "village", "village_code", "household_key", "round",
               "collected_at", "received_at", "seq", "status", "is_current", "answers", "refusal", "content_hash")


def raw_insert_rate(url, items, batch_size):
    """Rows per second of a bare executemany insert of the same rows, one transaction per batch."""
    from pony.orm import db_session

    from sync import migrations
    from sync.dialect import dialect_of
    from sync.store import open_store
    from sync.submission_table import TABLE, insert_statement
    from sync.units import import_units
    store = open_store(url)
    migrations.upgrade(store)  # the same tables and indexes as the served database
    import_units(store, "code,name,level,parent_code\n" + "".join(f"{c},Thôn,village,\n" for c in VILLAGE_CODES))
    with db_session:
        village_ids = {u.code: u.id for u in store.Unit.select()}
    dialect = dialect_of(store)
    rows = raw_rows(items, village_ids, dialect)
    store.disconnect()
    if not dialect.postgres:
        import sqlite3
        connection = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        statement = insert_statement(dialect, RAW_COLUMNS)
        start = time.perf_counter()
        for i in range(0, len(rows), batch_size):
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(statement, rows[i:i + batch_size])
            connection.execute("COMMIT")
    else:
        import psycopg2
        from psycopg2.extras import execute_values

        from sync.store import DatabaseUrl
        connection = psycopg2.connect(**DatabaseUrl.parse(url).params)
        insert = dialect.bulk_insert(TABLE, RAW_COLUMNS, ("answers",))
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for i in range(0, len(rows), batch_size):
                execute_values(cursor, insert.statement, rows[i:i + batch_size],
                               template=insert.template, page_size=batch_size)
                connection.commit()
    seconds = time.perf_counter() - start
    connection.close()
    return len(rows) / seconds


@bench.command("ingest")
@click.option("--database-url", default=None,
              help="PostgreSQL database to bench in (a fresh schema is made and dropped); default SQLite.")
@click.option("--batches", default=100, show_default=True, help="Timed batches to post.")
@click.option("--batch-size", default=500, show_default=True, help="Submissions per batch.")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers.")
@click.option("--clients", type=click.IntRange(min=1), default=None,
              help="Client threads posting at once (devices uploading together).  [default: twice the workers]")
@json_option
def ingest(database_url, batches, batch_size, workers, clients, as_json):
    """Validated household submissions per second over HTTP, against a raw insert of the same rows."""
    from ..bench.loadtest import FreshDatabase
    clients = clients if clients is not None else 2 * workers  # no worker waits for its next batch to arrive
    with tempfile.TemporaryDirectory(prefix="langso-bench-") as folder:
        served, reference = FreshDatabase(database_url, folder, "ingest"), FreshDatabase(database_url, folder, "raw")
        try:
            figures = run(served.url, reference.url, batches, batch_size, workers, clients, folder)
        finally:
            served.drop()
            reference.drop()
    report(figures, as_json)


def run(url, reference_url, batches, batch_size, workers, clients, folder):
    """Initialise, serve, post, then time the raw insert; returns the figures."""
    token = initialise(url)
    warmup = max(2, workers) * 2
    items = make_items((batches + warmup) * batch_size)
    bodies = [json.dumps({"submissions": items[i:i + batch_size]}, ensure_ascii=False).encode("utf-8")
              for i in range(0, len(items), batch_size)]
    server = start_server(url, workers, folder)
    try:
        post_all(server.base, token, bodies[:warmup], clients)  # compiles the form in each worker
        seconds, statuses = post_all(server.base, token, bodies[warmup:], clients)
    except click.ClickException as error:
        error.message += "; the server's log ends:\n" + server.log_tail()
        raise
    finally:
        server.stop()
    accepted = statuses.count("accepted")
    if accepted != batches * batch_size:
        raise click.ClickException(f"only {accepted} of {batches * batch_size} submissions were accepted")
    per_s = accepted / seconds
    raw_per_s = raw_insert_rate(reference_url, items[warmup * batch_size:], batch_size)
    return {"submissions": accepted, "batch_size": batch_size, "seconds": round(seconds, 3),
            "submissions_per_s": round(per_s, 1), "raw_insert_per_s": round(raw_per_s, 1),
            "ratio": round(per_s / raw_per_s, 4) if raw_per_s else 0.0}


COMMANDS = ()
