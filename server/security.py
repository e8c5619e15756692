"""Hardening shared by every worker: password throttling (Redis-backed when configured), the
client address behind trusted reverse proxies, secure session cookies, and page headers.

Password checks are throttled before any hash is computed, in two ways, and only failures count:

* per client address, whatever the name: `LOGIN_SOURCE_LIMIT` failed passwords
  ("10 per minute;100 per hour"); this stops password spraying and floods of argon2 hashes;
* per account *and* address, with exponential back-off: after `LOGIN_FREE_FAILURES` failures
  the next attempt from that address for that name waits `LOGIN_BACKOFF_SECONDS`, doubling with
  each further failure up to `LOGIN_BACKOFF_MAX_SECONDS`. A good password resets it.

Nothing locks an account: a stranger's failures slow down only the stranger's address, and an
unknown name is throttled exactly like an existing one. Counters live in Redis when
`REDIS_URL` is set (shared by every worker), under keys named by `INSTANCE_NAME`.
"""
import ipaddress
import math
import time

from flask import current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import ApiError, error_response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
BACKOFF_MEMORY_SECONDS = 24 * 3600  # failures per account and address are forgotten a day after the last

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def init_app(app):
    """Throttle storage (Redis when REDIS_URL is set, memory otherwise), proxies, cookies and headers."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"langso:{app.config['INSTANCE_NAME']}")
    # flask-limiter's one Limiter would otherwise pass on the last app's RATELIMIT_ENABLED as the default
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    app.extensions["langso_throttle"] = Throttle(app.config)
    app.register_error_handler(429, lambda e: error_response(
        "too_many_requests", f"too many attempts ({e.description}); wait a minute and try again"))
    app.after_request(add_security_headers)
    app.session_interface = SessionInterface()
    trust_proxies(app, app.config.get("TRUSTED_PROXIES"))


class Throttle:
    """Failed-password counters per address and per account and address (see the module's doc)."""

    def __init__(self, config):
        self.config = config
        self.storage = storage_from_string(config["RATELIMIT_STORAGE_URI"])
        self.windows = FixedWindowRateLimiter(self.storage)
        self.prefix = config["RATELIMIT_KEY_PREFIX"]

    @property
    def enabled(self):
        return self.config.get("RATELIMIT_ENABLED", True)

    def _limits(self):
        return parse_many(self.config["LOGIN_SOURCE_LIMIT"])

    def _keys(self, username, source):
        account = f"{self.prefix}:backoff:{source}:{username}"
        return f"{self.prefix}:login-failures:{source}", account + ":failures", account + ":wait"

    def check(self, username, source):
        """Raise 429 (with Retry-After) if attempts for this name from this address must wait; hashes nothing."""
        if not self.enabled:
            return
        per_source, _failures, wait = self._keys(username, source)
        waits = [self.storage.get_expiry(wait) - time.time()] if self.storage.get(wait) > 0 else []
        for item in self._limits():
            if not self.windows.test(item, per_source):
                waits.append(self.windows.get_window_stats(item, per_source)[0] - time.time())
        if waits:
            seconds = max(1, math.ceil(max(waits)))
            raise ApiError("too_many_requests",
                           "too many failed sign-ins from your address; wait %(seconds)s seconds and try again",
                           headers={"Retry-After": str(seconds)}, seconds=seconds)

    def failed(self, username, source):
        """Count a failed password; from the LOGIN_FREE_FAILURES-th on, this name waits longer each time."""
        if not self.enabled:
            return
        per_source, failures_key, wait = self._keys(username, source)
        for item in self._limits():
            self.windows.hit(item, per_source)
        failures = self.storage.incr(failures_key, BACKOFF_MEMORY_SECONDS)
        beyond = failures - int(self.config["LOGIN_FREE_FAILURES"]) + 1
        if beyond > 0:
            seconds = min(int(self.config["LOGIN_BACKOFF_SECONDS"]) * 2 ** min(beyond - 1, 32),
                          int(self.config["LOGIN_BACKOFF_MAX_SECONDS"]))
            self.storage.clear(wait)
            self.storage.incr(wait, seconds)

    def succeeded(self, username, source):
        """A good password from this address forgets its failures for this name (not the address's)."""
        if self.enabled:
            _per_source, failures_key, wait = self._keys(username, source)
            self.storage.clear(failures_key)
            self.storage.clear(wait)


def throttle():
    """The app's password throttle."""
    return current_app.extensions["langso_throttle"]


def client_address():
    """The caller's address: the socket peer, or what trusted proxies reported (see trust_proxies)."""
    return request.remote_addr or "unknown"


def trust_proxies(app, setting):
    """Believe X-Forwarded-For / -Proto only from trusted reverse proxies; never otherwise.

    `setting` is the number of proxies in front of the app (ProxyFix takes that many
    addresses from the right of X-Forwarded-For), or their addresses and networks,
    comma-separated (then X-Forwarded-* count only when the peer is one of them, and the
    client is the right-most address in X-Forwarded-For that is not).
    """
    if setting in (None, "", 0, "0", False):
        return
    if isinstance(setting, int) or str(setting).strip().isdigit():
        hops = int(setting)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
    else:
        app.wsgi_app = TrustedProxies(app.wsgi_app, setting)


class TrustedProxies:
    """WSGI middleware: the client address and scheme from X-Forwarded-* sent by listed proxies."""

    def __init__(self, wsgi_app, addresses):
        items = addresses if isinstance(addresses, (list, tuple)) else str(addresses).replace(",", " ").split()
        self.networks = [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]
        self.wsgi_app = wsgi_app

    def trusted(self, address):
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        if self.trusted(peer):
            hops = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
            client = peer
            while hops and self.trusted(client):
                client = hops.pop()
            environ["werkzeug.proxy_fix.orig_remote_addr"] = peer
            environ["REMOTE_ADDR"] = client
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.wsgi_app(environ, start_response)


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (directly or via a trusted proxy)."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))


def add_security_headers(response):
    """No framing, no sniffing, no inline script on any page; API answers are never cached by proxies."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
