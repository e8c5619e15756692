"""The gunicorn settings module: each worker freezes the loaded app out of the collector and collects less often."""
import gc

from server import gunicorn_conf


def test_a_loaded_worker_freezes_the_app_and_raises_the_collection_thresholds():
    before = gc.get_threshold()
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_threshold() == gunicorn_conf.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
