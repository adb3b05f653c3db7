"""WSGI entry point of vitrage-api for uWSGI or Apache mod_wsgi.

``application`` is built at import from the default configuration files
(``/etc/vitrage/vitrage.conf`` and the other places oslo.config looks for
project ``vitrage``), or from the files listed, comma-separated, in the
``VITRAGE_CONFIG_FILES`` environment variable. Each process that imports
it registers itself in the service registry as
``vitrageuWSGI_worker_<uWSGI worker id>`` (run uWSGI with ``lazy-apps``
so that every worker loads its own application); samples are
``etc/vitrage/api-uwsgi.ini`` and ``etc/vitrage/apache-vitrage.conf``.
"""
import os
from typing import Any

import oslo_messaging

from vitrage.api import app as api_app
from vitrage.graph.rpcapi import GraphClient
from vitrage import service
from vitrage.storage import services

CONFIG_FILES_ENV = 'VITRAGE_CONFIG_FILES'
ROLE = 'vitrageuWSGI'


def _worker_id() -> int:
    try:
        import uwsgi    # only importable inside uWSGI
    except ImportError:
        return 0
    return int(uwsgi.worker_id())


def config_files() -> list[str] | None:
    """The files of ``VITRAGE_CONFIG_FILES``; None: oslo's defaults."""
    listed = os.environ.get(CONFIG_FILES_ENV, '')
    files = [f.strip() for f in listed.split(',') if f.strip()]
    return files or None


def init_application() -> Any:
    """Read the configuration and build the API application.

    :returns: the WSGI application.
    :raises oslo_config.cfg.Error: the configuration is invalid.
    :raises vitrage.common.exceptions.ConfigError: an option is invalid.
    """
    conf = service.prepare_service(argv=[],
                                   default_config_files=config_files())
    transport = oslo_messaging.get_rpc_transport(conf)
    application = api_app.build_app(conf, GraphClient(conf, transport))
    services.register(conf, ROLE, _worker_id())
    return application


application = init_application()
