"""Configuration: defaults in code, then the instance file `langso.cfg`, then LANGSO_* variables."""
import hashlib
import json
import os
import secrets

DEFAULTS = {
    "DATABASE_URL": None,  # default: sqlite:///<instance>/langso.db
    "SECRET_KEY": None,  # default: generated once into <instance>/secret_key
    "TOKEN_TTL_DAYS": 90,  # API tokens and web sessions
    "DEVICE_TOKEN_TTL_DAYS": 180,  # ODK Collect device tokens (a new QR code renews)
    "BATCH_MAX_SUBMISSIONS": 1000,
    "BATCH_MAX_BYTES": 8 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SMALL_NUMBER_THRESHOLD": 5,
    "LOGIN_FREE_FAILURES": 5,  # failed passwords per account and address before the back-off starts
    "LOGIN_BACKOFF_SECONDS": 30,  # the first wait; it doubles with each further failure
    "LOGIN_BACKOFF_MAX_SECONDS": 3600,
    "LOGIN_SOURCE_LIMIT": "10 per minute;100 per hour",  # failed passwords per client address, any name
    "REDIS_URL": None,
    # argon2 parameters for new password hashes, e.g. {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
    # (memory in KiB; the test suite's cheap ones); None keeps sync.accounts.PASSWORD_HASH_PARAMETERS
    "PASSWORD_HASH": None,
    "INSTANCE_NAME": None,  # names this installation's rate-limit keys in a shared Redis
    "TRUSTED_PROXIES": None,  # reverse proxies in front: a number, or their addresses / networks
    "PUBLIC_URL": None,  # the address phones reach, for QR codes and ODK download links
    "OPENROSA_MAX_BYTES": 10 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "API_TITLE": "langso",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
}
ENV_PREFIX = "LANGSO_"


def load(app, test_config=None):
    """Fill app.config from defaults, the instance file, the environment, then test_config."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("langso.cfg", silent=True)
        app.config.update(from_environment(os.environ))
    else:
        app.config.update(test_config)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "langso.db")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)
    if not app.config["INSTANCE_NAME"]:
        app.config["INSTANCE_NAME"] = instance_name(app.config["DATABASE_URL"])
    if str(app.config.get("PUBLIC_URL") or "").lower().startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True


def instance_name(database_url):
    """A short stable name for the installation, from its database (two instances never share it)."""
    return hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:12]


def from_environment(environ):
    """LANGSO_FOO=value becomes FOO; JSON-looking values (numbers, true/false) are decoded."""
    values = {}
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX):
            try:
                values[name[len(ENV_PREFIX):]] = json.loads(raw)
            except ValueError:
                values[name[len(ENV_PREFIX):]] = raw
    return values


def instance_secret(instance_path):
    """A random secret kept in the instance folder, so sessions survive restarts."""
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # another worker made it first
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    with open(path) as handle:
        return handle.read().strip()
