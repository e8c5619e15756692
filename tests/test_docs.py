"""Every `langso` command and subcommand is documented in README.md (as sqlite-utils' test_docs does)."""
import re
from pathlib import Path

import click
import pytest

from server.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(command, path=()):
    """Every leaf command of the `langso` group as a tuple of words, e.g. ("users", "disable")."""
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_paths(sub, path + (name,))
    else:
        yield path


def documented(path):
    """A README line names the command: `langso GROUP … NAME` (siblings may share the line, `a | b`)."""
    *groups, name = path
    prefix = " ".join(("langso", *groups))
    word = re.compile(rf"(^|[\s|`]){re.escape(name)}($|[\s|`\[])")
    for line in README.splitlines():
        at = line.find(prefix + " ")
        if at >= 0 and word.search(line[at + len(prefix):]):
            return True
    return False


@pytest.mark.parametrize("path", list(command_paths(main)), ids=" ".join)
def test_every_command_is_documented_in_the_readme(path):
    assert documented(path), f"`langso {' '.join(path)}` is not in README.md"


def test_the_documentation_check_notices_an_undocumented_command():
    assert not documented(("users", "teleport"))
    assert documented(("users", "disable"))
