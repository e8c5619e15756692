"""The package layering: `sync` never reaches up into the web app, and the device client
(sync/device/) needs only `forms` and the wire format, so it can run on a phone without the server."""
import ast
import importlib.util
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SYNC = ROOT / "sync"
FIRST_PARTY = {"server", "exports", "sync", "forms", "tests"}
SERVER_ONLY_LIBRARIES = {"pony", "flask", "flask_smorest", "werkzeug", "marshmallow", "psycopg2", "gunicorn",
                         "babel", "reportlab", "openpyxl"}
DEVICE_MAY_IMPORT = ("forms", "sync.device", "sync.wire")
NAMES_SERVER = re.compile(r"(?<![\w/-])server(?:/|[.:][A-Za-z_])|`server`|\b(?:from|import)\s+server\b")


def modules(folder):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path):
    """Every module `path` imports (at the top or inside functions), relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from .. import wire` imports the module sync.wire, `from ..wire import API` a name of it
            found += [f"{base}.{alias.name}" if not node.module and alias.name != "*" else base
                      for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.append(str(node.args[0].value))
    return sorted(set(found))


def is_within(name, packages):
    return any(name == p or name.startswith(p + ".") for p in packages)


def device_import_problem(name):
    """Why a sync/device/ module may not import `name`, or None when it may."""
    top = name.split(".")[0]
    if top in FIRST_PARTY:
        return None if is_within(name, DEVICE_MAY_IMPORT) else "a first-party module outside forms and the wire format"
    if top in SERVER_ONLY_LIBRARIES:
        return "a server-side library"
    if top in sys.stdlib_module_names or importlib.util.find_spec(top) is not None:
        return None
    return "not installed"


@pytest.mark.parametrize("path", modules(SYNC / "device") + [SYNC / "wire.py"], ids=module_name)
def test_the_device_client_imports_only_forms_the_wire_format_and_libraries(path):
    problems = {name: device_import_problem(name) for name in imported(path)}
    assert {name: why for name, why in problems.items() if why} == {}


def test_the_wire_format_needs_only_the_standard_library():
    assert all(name.split(".")[0] in sys.stdlib_module_names for name in imported(SYNC / "wire.py"))


def test_the_device_client_is_a_package_of_its_own():
    assert {module_name(p) for p in modules(SYNC / "device")} >= {
        "sync.device", "sync.device.app", "sync.device.client", "sync.device.outbox", "sync.device.interview"}
    assert not (SYNC / "device.py").exists() and not (SYNC / "loadtest.py").exists()


@pytest.mark.parametrize("path", modules(SYNC), ids=module_name)
def test_no_module_of_sync_imports_or_names_the_web_app(path):
    assert [name for name in imported(path) if is_within(name, ("server",))] == []
    text = path.read_text(encoding="utf-8")
    assert [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)
            if NAMES_SERVER.search(line)] == []


@pytest.mark.parametrize("source, names", [
    ("import pony.orm\nfrom flask import g\n", ["flask", "pony.orm"]),
    ("def f():\n    from server.bench import loadtest\n", ["server.bench"]),
    ("from .. import ingest, wire\nfrom ..wire import API\nfrom . import outbox\n",
     ["sync.device.outbox", "sync.ingest", "sync.wire"]),
    ("import importlib\nimportlib.import_module('server.cli')\n", ["importlib", "server.cli"]),
])
def test_the_import_walk_sees_every_kind_of_import(tmp_path, monkeypatch, source, names):
    folder = tmp_path / "sync" / "device"
    folder.mkdir(parents=True)
    (folder / "probe.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert imported(folder / "probe.py") == names


@pytest.mark.parametrize("name, allowed", [
    ("forms", True), ("forms.evaluate", True), ("sync.wire", True), ("sync.device.outbox", True),
    ("requests", True), ("sqlite3", True), ("sync.ingest", False), ("sync", False), ("sync.store", False),
    ("server", False), ("server.bench.loadtest", False), ("exports.pdf", False), ("pony.orm", False),
    ("flask", False), ("no_such_module_anywhere", False),
])
def test_the_device_rule_allows_forms_the_wire_format_and_libraries_only(name, allowed):
    assert (device_import_problem(name) is None) is allowed


@pytest.mark.parametrize("line, names_it", [
    ('"server:create_app()"', True), ("--config python:server.gunicorn_conf", True),
    ("see server/commands/device.py", True), ("from server import create_app", True),
    ("the server's one error shape", False), ("server_url", False), ("the server.", False),
    ("change_server", False),
])
def test_the_name_check_tells_the_package_from_the_word(line, names_it):
    assert bool(NAMES_SERVER.search(line)) is names_it
