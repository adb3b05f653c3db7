"""vitrage-all-in-one: every service in one process, embedded defaults.

With no arguments: the in-memory transport (``kombu+vitrage-memory:////``,
see :mod:`vitrage.common.memory_transport`), SQLite in a local state
directory, the ``simulated`` and ``doctor`` datasources (plus the demo
static topology when it is installed), the sample templates of
``etc/vitrage/templates`` (they seed an empty template store), and the
API on 127.0.0.1:8999 without authentication.
``--config-file`` overrides any of these. The services are the same
classes the distributed deployment runs, in threads.
"""
import os
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log

from vitrage.cmd import console_script
from vitrage.common import memory_transport
from vitrage import conf as vitrage_conf
from vitrage import service
from vitrage.storage import services

LOG = log.getLogger(__name__)


def state_dir() -> str:
    """Where the all-in-one keeps its state (SQLite database)."""
    base = os.environ.get('XDG_STATE_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'state')
    return os.path.join(base, 'vitrage')


def _installed_etc(*parts: str) -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    for root in (os.path.join(sys.prefix, 'etc', 'vitrage'),
                 os.path.join(here, '..', '..', 'etc', 'vitrage')):
        path = os.path.normpath(os.path.join(root, *parts))
        if os.path.exists(path):
            return path
    return None


def set_embedded_defaults(conf: cfg.ConfigOpts) -> None:
    """The all-in-one's defaults; config files still override them."""
    from oslo_messaging import opts as messaging_opts
    # oslo.messaging registers transport_url only when a transport is
    # made; register its [DEFAULT] options now so they can get defaults.
    for group, opts in messaging_opts.list_opts():
        if group in (None, 'DEFAULT', 'oslo_messaging_rabbit'):
            conf.register_opts(opts, group=group)
    conf.set_default('transport_url', memory_transport.URL)
    demo = _installed_etc('static_datasources')
    types = ['simulated', 'doctor'] + (['static'] if demo else [])
    conf.set_default('types', types, group='datasources')
    conf.set_default('changes_interval', 10, group='datasources')
    conf.set_default('auth_mode', 'noauth', group='api')
    conf.set_default('host', '127.0.0.1', group='api')
    conf.set_default('rpc_timeout', 60, group='datasources')
    # The in-memory transport has no heartbeats to send.
    conf.set_default('heartbeat_timeout_threshold', 0,
                     group='oslo_messaging_rabbit')
    if 'state_path' in conf:
        conf.set_default('state_path', state_dir())


def build_conf(argv: list[str] | None = None) -> cfg.ConfigOpts:
    conf = cfg.CONF
    log.register_options(conf)
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'kombu.connection=ERROR'])
    vitrage_conf.register_opts(conf)
    set_embedded_defaults(conf)
    conf = service.prepare_service(argv, conf=conf, default_config_files=[])
    demo = _installed_etc('static_datasources')
    if demo and 'static' in conf.datasources.types:
        conf.set_default('directory', demo, group='static')
    samples = _installed_etc('templates')
    if samples:
        # Seeds the template store on the first start.
        conf.set_default('templates_dir', samples, group='evaluator')
    return conf


class AllInOne:
    """Collector, graph and API in threads of one process."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.persistor = None
        self.collector = None
        self.graph = None
        self.api_server = None
        self._api_thread: threading.Thread | None = None

    def start(self) -> None:
        from vitrage.collector.service import Collector
        from vitrage.graph.service import GraphService
        if self.conf.persistency.enable_persistency:
            self._start_persistor()
        self.collector = Collector(self.conf)
        self.collector.start()
        self.graph = GraphService(self.conf)
        self.graph.prepare()
        self.graph.start()
        self.api_server = self._start_api()

    def _start_persistor(self) -> None:
        """Create or upgrade the database, then run a persistor."""
        from sqlalchemy.engine import url as sa_url

        from vitrage.persistor.service import PersistorService
        from vitrage.storage import connection as db_connection
        from vitrage.storage import migrations
        url = sa_url.make_url(self.conf.database.connection)
        if url.get_backend_name() == 'sqlite' and url.database:
            os.makedirs(os.path.dirname(os.path.abspath(url.database)),
                        exist_ok=True)
        database = db_connection.from_conf(self.conf)
        try:
            migrations.upgrade(database.engine)
        finally:
            database.dispose()
        self.persistor = PersistorService(0, self.conf)
        self.persistor.run()    # starts its listener thread and returns

    def _start_api(self):
        import oslo_messaging as messaging

        from vitrage.api import app as api_app
        from vitrage.cmd import api as api_cmd
        from vitrage.graph.rpcapi import GraphClient
        client = GraphClient(self.conf,
                             messaging.get_rpc_transport(self.conf))
        application = api_app.build_app(self.conf, client)
        server = api_cmd.serve(self.conf, application)
        LOG.info('vitrage-api listening on http://%s:%d',
                 self.conf.api.host, self.conf.api.port)
        return server

    def stop(self) -> None:
        if self.api_server is not None:
            self.api_server.shutdown()
        if self.graph is not None:
            self.graph.terminate()
        if self.collector is not None:
            self.collector.stop()
        if self.persistor is not None:
            self.persistor.terminate()


@console_script
def main(argv: list[str] | None = None) -> None:
    conf = build_conf(argv)
    from vitrage.cmd import api as api_cmd
    api_cmd.check_listen_address(conf)
    aio = AllInOne(conf)
    stop = threading.Event()

    def _signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    aio.start()
    registration = services.register(conf, 'AllInOne')
    print('Vitrage all-in-one: API on http://%s:%d (auth: %s). '
          'Ctrl-C stops it.' % (conf.api.host, conf.api.port,
                                conf.api.auth_mode), flush=True)
    stop.wait()
    if registration is not None:
        registration.stop()
    aio.stop()
