"""The langso web server: app factory, API blueprints, auth and the `langso` CLI."""
import os

__version__ = "0.1.0"


def create_app(test_config=None):
    """Build the Flask app; `test_config` replaces the instance file and environment."""
    instance_path = os.path.abspath(os.environ.get("LANGSO_INSTANCE_PATH", "instance"))
    if test_config and test_config.get("INSTANCE_PATH"):
        instance_path = test_config["INSTANCE_PATH"]
    from .db import LangsoFlask
    app = LangsoFlask(__name__, instance_path=instance_path, instance_relative_config=True)
    from . import config
    config.load(app, test_config)

    from . import api, auth, db, errors, security, web
    from .api import openrosa
    db.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    api.init_app(app)
    openrosa.init_app(app)
    web.init_app(app)
    return app
