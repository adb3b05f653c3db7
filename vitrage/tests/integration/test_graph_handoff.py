"""The graph hands every handled event to the persistor (issue 3, item 4).

Real RabbitMQ (durable queues, publisher confirms), real MariaDB, a real
``vitrage-persistor`` process; the collector and the graph run here. The
persistor starts only after the graph has handled its first get_all, so
the events must have waited, durably, in the broker.
"""
import json
import textwrap
import time

import sqlalchemy as sa

from vitrage.collector.service import Collector
from vitrage.graph.service import GraphService
from vitrage import service
from vitrage.storage import connection as db_connection
from vitrage.storage import terms
from vitrage.tests import helpers
from vitrage.tests.integration import persistor_procs

STATIC = textwrap.dedent('''\
    metadata:
      name: handoff-test
    definitions:
      entities:
        - {static_id: s1, type: switch, id: sw-1, name: sw-1,
           state: available}
        - {static_id: s2, type: switch, id: sw-2, name: sw-2,
           state: available}
        - {static_id: r1, type: rack, id: rack-1, name: rack-1,
           state: available}
      relationships:
        - {source: r1, target: s1, relationship_type: contains}
        - {source: r1, target: s2, relationship_type: contains}
    ''')


def _rows(db_url: str) -> list[tuple]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                'SELECT term, seq, payload FROM events ORDER BY term, seq')
            ).all()
    finally:
        engine.dispose()


def test_every_handled_event_reaches_the_events_table(
        tmp_path, rabbit_transport_url, mysql_database, conf):
    topic = helpers.unique_name('vitrage_handoff')
    static_dir = tmp_path / 'static'
    static_dir.mkdir()
    (static_dir / 'topology.yaml').write_text(STATIC)
    config = persistor_procs.write_config(
        str(tmp_path), rabbit_transport_url, mysql_database, topic,
        batch_size=100, batch_timeout_ms=50)
    with open(config, 'a') as f:
        f.write(textwrap.dedent('''\
            [datasources]
            types = static
            [static]
            directory = {static}
            [collector]
            topic = {topic}_collector
            [entity_graph]
            topic = {topic}_graph
            events_topic = {topic}_events
            ''').format(static=static_dir, topic=topic))
    persistor_procs.dbsync(config)
    service.prepare_service(['--config-file', config], conf=conf,
                            setup_logging=False)
    collector = Collector(conf)
    graph = GraphService(conf)
    persistor = persistor_procs.Persistor(config,
                                          str(tmp_path / 'persistor.log'))
    try:
        collector.start()
        graph.start()
        assert graph.wait_ready(120), 'the graph never became ready'
        handled = graph.processor.stats['events']
        assert handled == 3, 'one event per static entity'
        database = db_connection.from_conf(conf)
        try:
            term = terms.TermStore(database).current_term()
        finally:
            database.dispose()
        assert graph.handoff.term == term
        # Nothing is written yet: no persistor runs.
        assert _rows(mysql_database) == []
        persistor.start()
        deadline = time.monotonic() + 60
        rows = _rows(mysql_database)
        while len(rows) < handled and time.monotonic() < deadline:
            time.sleep(0.5)
            rows = _rows(mysql_database)
        assert [(r[0], r[1]) for r in rows] == [
            (term, seq) for seq in range(1, handled + 1)]
        ids = {json.loads(r[2])['id'] for r in rows}
        assert ids == {'sw-1', 'sw-2', 'rack-1'}
    finally:
        graph.terminate()
        collector.stop()
        persistor.stop()
        persistor_procs.delete_queues(rabbit_transport_url, topic)
