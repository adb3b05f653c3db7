"""Hot standby: a standby follows the log, so taking over costs the tail.

One process, SQLite, the in-memory transport and a persistor: graph A is
active; graph B (another holder, ``standby_mode = hot``) waits and keeps
its graph current from the events table. When A stops heart-beating, B
takes the next term and holds exactly A's last graph.
"""
import threading

from vitrage.collector.service import Collector
from vitrage.common.constants import Prop
from vitrage.graph.service import GraphService
from vitrage.persistor.service import PersistorService
from vitrage.tests.functional import embedded
from vitrage.tests.functional import test_restore
from vitrage.tests import helpers


def _state_of(graph, entity_id):
    for vertex in graph.vertices():
        if vertex.get('id') == entity_id:
            return vertex.get(Prop.STATE)
    return None


def test_hot_standby_follows_then_takes_over(tmp_path, conf):
    static = tmp_path / 'static'
    static.mkdir()
    (static / 'a.yaml').write_text(test_restore.topology(
        [('sw-1', 'available'), ('sw-2', 'available')]))
    database = embedded.configure(
        conf, tmp_path, static,
        entity_graph={'lease_time': 2, 'heartbeat_interval': 0.2},
        persistency={'standby_mode': 'hot'})
    persistor = PersistorService(0, conf)
    persistor.run()
    collector = Collector(conf)
    collector.start()
    active = GraphService(conf)
    standby = GraphService(conf)
    standby.holder = 'standby-host:2'
    starter = threading.Thread(target=standby.start, daemon=True)
    try:
        active.start()
        assert active.wait_ready(60)
        starter.start()
        # The standby loads the snapshot and follows the log.
        helpers.wait_for(lambda: _state_of(standby.graph, 'sw-1')
                         == 'available', 30, 'standby loads the snapshot')
        assert not standby.is_ready() and standby.term is None
        (static / 'a.yaml').write_text(test_restore.topology(
            [('sw-1', 'ERROR'), ('sw-2', 'available'),
             ('sw-3', 'available')]))
        assert active.get_changes(['static'])
        helpers.wait_for(lambda: _state_of(standby.graph, 'sw-3')
                         == 'available', 30, 'standby follows the log')
        assert _state_of(standby.graph, 'sw-1') == 'ERROR'
        assert not standby.is_ready()
        expected = test_restore.graph_state(active.graph)
        active.terminate()      # no more heartbeats: the lease runs out
        assert standby.wait_ready(60), 'the standby did not take over'
        assert standby.restored
        assert standby.term == active.term + 1
        assert test_restore.graph_state(standby.graph) == expected
    finally:
        standby.terminate()
        active.terminate()
        collector.stop()
        persistor.terminate()
        database.dispose()
