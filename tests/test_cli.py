"""The `langso` command: version, help on every command, accounts."""
import click
import pytest

from server import __version__
from server.cli import main

from .conftest import CHU_PAH


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path,command", list(all_commands(main)),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help_text(path, command):
    assert command.help and command.help.strip(), f"langso {' '.join(path)} has no help text"
    result = click.testing.CliRunner().invoke(main, list(path) + ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_version_and_help_work_without_a_database():
    runner = click.testing.CliRunner()
    assert runner.invoke(main, ["--version"]).output.strip() == f"langso, version {__version__}"
    assert "Làng số" in runner.invoke(main, ["--help"]).output


def test_users_create_list_and_set_password(runner, client):
    created = runner.invoke(["users", "create", "staff2", "--role", "district_staff", "--scope", CHU_PAH,
                             "--password", "một-mật-khẩu"])
    assert created.exit_code == 0, created.output
    assert "staff2" in runner.invoke(["users", "list"]).output
    runner.invoke(["users", "set-password", "staff2", "--password", "mật-khẩu-mới-123"])
    login = client.post("/api/v1/auth/token", json={"username": "staff2", "password": "mật-khẩu-mới-123"})
    assert login.status_code == 201


def test_users_create_refuses_a_scope_at_the_wrong_level(runner):
    result = runner.invoke(["users", "create", "x", "--role", "district_staff", "--scope", "64",
                            "--password", "một-mật-khẩu"])
    assert result.exit_code == 1
    assert "district_staff is scoped to district units, and 64 is a province" in result.output


def test_db_init_is_idempotent_and_creates_an_admin(bare_app):
    runner = click.testing.CliRunner()
    first = runner.invoke(main, ["db", "init", "--admin-password", "mật-khẩu-quản-trị"], obj=bare_app)
    assert first.exit_code == 0, first.output
    assert "236 created" in first.output and "admin account created" in first.output
    second = runner.invoke(main, ["db", "init"], obj=bare_app)
    assert "0 created, 0 updated" in second.output and "already present" in second.output
