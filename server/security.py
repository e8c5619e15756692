"""Hardening shared by every worker: login rate limits (Redis-backed when configured) and page headers."""
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .errors import error_response

LOGIN_LIMIT = "10 per minute;100 per hour"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def init_app(app):
    """Share rate-limit counters through Redis when REDIS_URL is set (memory otherwise); add headers."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "langso")
    limiter.init_app(app)
    app.register_error_handler(429, lambda e: error_response(
        "too_many_requests", f"too many attempts ({e.description}); wait a minute and try again"))
    app.after_request(add_security_headers)


def add_security_headers(response):
    """No framing, no sniffing, no inline script on any page; API answers are never cached by proxies."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
