"""gunicorn settings for langso: `gunicorn -c python:server.gunicorn_conf 'server:create_app()'`.

Command-line options (--workers, --bind, ...) still apply on top of these.
"""
import gc

# Ingest allocates many short-lived dicts per household; with Python's default threshold (700)
# the collector runs every few households and each full pass walks every object of the app.
GC_THRESHOLDS = (50_000, 20, 20)


def post_worker_init(worker):
    """Once the app is loaded: leave its long-lived objects out of collections, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
