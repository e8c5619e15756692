"""Helpers for page tests with Flask's test client: the web pages registered, signing in with CSRF."""
import re

import server.web

from ..conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def with_pages(app):
    """The app with its pages (create_app registers them once the lead wires server.web in)."""
    if "web" not in app.blueprints:
        server.web.init_app(app)
    return app


def csrf_token(client, path="/login"):
    """The CSRF token a page's forms carry."""
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, username, password=PASSWORD):
    """Sign in through the login form; returns the response."""
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})
