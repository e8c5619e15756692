"""Backups: SQLite's online backup API (safe while the server runs); pg_dump/pg_restore for PostgreSQL.

A backup holds password hashes, token digests and personal data: its file is owner-only (0600).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from typing import Any

from .errors import LangsoError
from .store import DatabaseUrl, owner_only


class BackupError(LangsoError):
    code = "backup_failed"


def backup(url: str, out_path: Any, progress: Any | None = None) -> None:
    """Copy the database at `url` into the file `out_path` (a SQLite file or a pg_dump archive)."""
    target = DatabaseUrl.parse(url)
    os.close(os.open(out_path, os.O_WRONLY | os.O_CREAT, 0o600))  # owner-only before any byte is written
    owner_only(out_path)
    old_umask = os.umask(0o077)
    try:
        if target.provider == "sqlite":
            with closing(sqlite3.connect(target.params["filename"])) as source, \
                    closing(sqlite3.connect(out_path)) as copy:
                source.backup(copy, pages=256, progress=_pages(progress))
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={out_path}", *_pg_args(target)])
    finally:
        os.umask(old_umask)
    owner_only(out_path, "-journal", "-wal", "-shm")


def restore(url: str, backup_path: Any, progress: Any | None = None) -> None:
    """Replace the database at `url` with the backup's content (stop the server first)."""
    target = DatabaseUrl.parse(url)
    if target.provider == "sqlite":
        with closing(sqlite3.connect(backup_path)) as source, \
                closing(sqlite3.connect(target.params["filename"])) as live:
            source.backup(live, pages=256, progress=_pages(progress))
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_args(target), backup_path])


def pg_dump_command(url: str, out_path: Any) -> str:
    """The pg_dump command line for a PostgreSQL URL, for operators and the README."""
    return " ".join(["pg_dump", "--format=custom", "--no-owner", f"--file={out_path}",
                     *_pg_args(DatabaseUrl.parse(url))])


def _pg_args(target):
    params = target.params
    args = [f"--host={params['host']}", f"--port={params['port']}", f"--username={params['user']}",
            f"--dbname={params['database']}"]
    options = params.get("options", "")
    if "search_path=" in options:
        args.append(f"--schema={options.split('search_path=')[1].split()[0]}")
    return args


def _run(command):
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; install the PostgreSQL client tools")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def _pages(progress):
    if progress is None:
        return None
    return lambda status, remaining, total: progress(total - remaining, total)
