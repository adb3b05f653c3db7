"""The embedded default for functional tests of one process.

SQLite in the test's tmp dir, the in-memory transport, the static
datasource on a folder of the test's, and topics of the test alone.
"""
from collections.abc import Iterator
import contextlib
import pathlib

from oslo_config import cfg

from vitrage import service
from vitrage.storage import connection as db_connection
from vitrage.storage import migrations
from vitrage.tests import deployment
from vitrage.tests import helpers


def configure(conf: cfg.ConfigOpts, tmp_path: pathlib.Path,
              static: pathlib.Path, **sections: dict
              ) -> db_connection.Database:
    """Fill ``conf`` and create the schema; returns the database.

    :param sections: option groups merged over the defaults here
        (``entity_graph={'lease_time': 2}``...).
    """
    name = helpers.unique_name('embedded')
    options = {
        'DEFAULT': {'transport_url': 'kombu+vitrage-memory:////',
                    'state_path': tmp_path},
        'datasources': {'types': 'static', 'snapshots_interval': 3600},
        'static': {'directory': static, 'changes_interval': 10},
        'collector': {'topic': name + '_c'},
        'entity_graph': {'topic': name + '_g', 'events_topic': name + '_e'},
        'persistency': {'persistor_topic': name + '_p',
                        'batch_timeout_ms': 20, 'purge_interval': 0},
    }
    for group, values in sections.items():
        options.setdefault(group, {}).update(values)
    config = deployment.write_config(tmp_path / 'vitrage.conf', options)
    service.prepare_service(['--config-file', str(config)], conf=conf,
                            setup_logging=False)
    database = db_connection.from_conf(conf)
    migrations.upgrade(database.engine)
    return database


class Services:
    """What :func:`running` runs; :meth:`graph` makes graph services that
    are terminated with the rest.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.graphs: list = []

    def graph(self):
        """A new (not started) :class:`vitrage.graph.service.GraphService`.
        """
        from vitrage.graph.service import GraphService
        graph = GraphService(self.conf)
        self.graphs.append(graph)
        return graph


@contextlib.contextmanager
def running(conf: cfg.ConfigOpts, database: db_connection.Database
            ) -> Iterator[Services]:
    """A persistor (with persistency) and a collector in this process;
    afterwards the graphs made meanwhile, the collector and the persistor
    are stopped and the database is closed.
    """
    from vitrage.collector.service import Collector
    from vitrage.persistor.service import PersistorService
    persistor = None
    if conf.persistency.enable_persistency:
        persistor = PersistorService(0, conf)
        persistor.run()
    collector = Collector(conf)
    collector.start()
    services = Services(conf)
    try:
        yield services
    finally:
        for graph in reversed(services.graphs):
            graph.terminate()
        collector.stop()
        if persistor is not None:
            persistor.terminate()
        database.dispose()
