"""`langso serve`: the development server (use gunicorn in production, see README)."""
import click

from ..cli import pass_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@pass_app
def serve(app, host, port, debug):
    """Run the development web server."""
    click.echo(f"langso is running at http://{host}:{port}/  (database: {app.config['DATABASE_URL']})")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


COMMANDS = (serve,)
