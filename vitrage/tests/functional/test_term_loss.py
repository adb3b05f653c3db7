"""A graph that loses its term stops processing and handing off.

In one process on the embedded default (SQLite, in-memory transport):
another holder takes the term in the database; the active graph notices
on its next heartbeat, stops its listener and API server and its
hand-off, and reports not ready (GraphWorker then exits to come back as a
standby).
"""
import textwrap

from vitrage.collector.service import Collector
from vitrage.graph.service import GraphService
from vitrage.storage import terms
from vitrage.tests.functional import embedded


def test_lost_term_stops_the_graph(tmp_path, conf):
    static = tmp_path / 'static'
    static.mkdir()
    (static / 'a.yaml').write_text(textwrap.dedent('''\
        definitions:
          entities:
            - {static_id: s, type: switch, id: sw, state: available}
          relationships: []
        '''))
    database = embedded.configure(
        conf, tmp_path, static,
        entity_graph={'lease_time': 5, 'heartbeat_interval': 0.2})
    collector = Collector(conf)
    graph = GraphService(conf)
    try:
        collector.start()
        graph.start()
        assert graph.wait_ready(60)
        assert graph.handoff is not None
        term = graph.term
        store = terms.TermStore(database)
        assert store.holder()[:2] == (term, graph.holder)
        # A standby elsewhere took over (e.g. after a network partition).
        with database.begin() as connection:
            connection.execute(terms.TERM.update().values(
                term=term + 1, holder='other-host:1'))
        assert graph.lost_term.wait(10), 'the graph did not notice'
        assert graph.handoff is None
        assert not graph.is_ready()
        assert store.holder()[:2] == (term + 1, 'other-host:1')
    finally:
        graph.terminate()
        collector.stop()
        database.dispose()
