"""One owner of the submission table (sync/submission_table.py), and the dialect object it builds on."""
import ast
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from sync import submission_table
from sync.dialect import POSTGRES, SQLITE, dialect_named, dialect_of

ROOT = Path(__file__).resolve().parent.parent
OWNER = ROOT / "sync" / "submission_table.py"
PACKAGES = ("forms", "sync", "exports", "server")
# SQL that names the table: SELECT ... FROM submission, INSERT INTO, UPDATE, JOIN, CREATE/ALTER/DROP TABLE
SPELLS_TABLE = re.compile(r'\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+"?submission"?(?![\w])')


def table_sql(path):
    """The string constants of a Python file (f-string parts included) that name the submission table in SQL."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SPELLS_TABLE.search(node.value)]


def exempt(path):
    """The device client's own outbox file has a table named submission too (not the server's)."""
    parts = path.relative_to(ROOT).parts
    return path.name == "outbox.py" or any(part.startswith("device") for part in parts)


def test_no_module_but_the_owner_spells_the_submission_table_in_sql():
    offenders = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != OWNER and not exempt(path) and table_sql(path):
                offenders[str(path.relative_to(ROOT))] = table_sql(path)
    assert offenders == {}, "build submission SQL through sync/submission_table.py"


def test_the_scan_finds_the_owners_own_statements():
    found = " ".join(table_sql(OWNER))
    for spelled in ("FROM submission", "UPDATE submission", "JOIN unit", "submission s JOIN"):
        assert spelled in found
    assert table_sql(OWNER) and SPELLS_TABLE.search('INSERT INTO submission (a) VALUES (?)')
    assert not SPELLS_TABLE.search("the latest submissions FROM submissions_archive")


def test_the_owners_columns_are_the_tables_columns(store):
    declared = {column for attr in store.Submission._attrs_ for column in attr.columns}
    assert set(submission_table.COLUMNS) | {"id"} == declared
    assert len(set(submission_table.COLUMNS)) == len(submission_table.COLUMNS)
    assert set(submission_table.JSON_COLUMNS) <= set(submission_table.COLUMNS)
    assert dialect_of(store).name == store.provider_name


def test_dialects_differ_only_where_the_databases_do():
    assert dialect_named("sqlite") is SQLITE and dialect_named("postgres") is POSTGRES
    with pytest.raises(ValueError):
        dialect_named("mysql")
    sql = "SELECT a FROM t WHERE b = ? AND c = ?"
    assert SQLITE.text(sql) == sql
    assert POSTGRES.text(sql) == "SELECT a FROM t WHERE b = %s AND c = %s"
    moment, day = datetime(2025, 3, 1, 8, 0, 5), date(2025, 3, 1)
    assert (SQLITE.stamp(moment), SQLITE.day(day)) == ("2025-03-01 08:00:05", "2025-03-01")
    assert (POSTGRES.stamp(moment), POSTGRES.day(day)) == (moment, day)
    assert SQLITE.stamp(None) is None and POSTGRES.day(None) is None
    assert (SQLITE.json_mark, POSTGRES.json_mark) == ("?", "?::jsonb")


def test_bulk_statements_are_built_once_per_dialect():
    insert = SQLITE.bulk_insert("t", ("a", "b"), ("b",))
    assert insert is SQLITE.bulk_insert("t", ["a", "b"], ["b"])
    assert insert.statement == "INSERT INTO t (a,b) VALUES (?,?)"
    paged = POSTGRES.bulk_insert("t", ("a", "b"), ("b",))
    assert (paged.statement, paged.template) == ("INSERT INTO t (a,b) VALUES %s", "(%s,%s::jsonb)")
    upsert = SQLITE.bulk_upsert_add("s", ("k",), ("n", "m"))
    assert upsert.statement == ("INSERT INTO s (k,n,m) VALUES (?,?,?) "
                                "ON CONFLICT (k) DO UPDATE SET n = s.n + excluded.n, m = s.m + excluded.m")
    assert POSTGRES.bulk_upsert_add("s", ("k",), ("n",)).statement == (
        "INSERT INTO s (k,n) VALUES %s ON CONFLICT (k) DO UPDATE SET n = s.n + excluded.n")
    assert submission_table.insert_statement(POSTGRES, ("a", "b")) == "INSERT INTO submission (a,b) VALUES (%s,%s)"
