"""The `langso` command: a thin click layer over the library functions in sync/, forms/, exports/.

Commands get the app (and so the configured database) through `pass_app`; tests hand
in their own app with `CliRunner().invoke(main, args, obj=app)`.
"""
import functools
import importlib
import pkgutil

import click

from . import __version__


class AppHolder:
    """Creates the Flask app on first use, so `--help` works without a database."""

    def __init__(self, app=None):
        self._app = app

    @property
    def app(self):
        if self._app is None:
            from . import create_app
            self._app = create_app()
        return self._app


def pass_app(command):
    """Give the command the app as its first argument, inside an app context."""
    @functools.wraps(command)
    @click.pass_context
    def wrapped(ctx, *args, **kwargs):
        holder = ctx.find_object(AppHolder)
        with holder.app.app_context():
            return command(holder.app, *args, **kwargs)
    return wrapped


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="langso")
@click.pass_context
def main(ctx):
    """Làng số: offline household surveys for Gia Lai's digital-society plan."""
    if not isinstance(ctx.obj, AppHolder):
        ctx.obj = AppHolder(ctx.obj)


def register_commands():
    """Attach the COMMANDS of every module in server/commands to `main`."""
    from . import commands
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


register_commands()
