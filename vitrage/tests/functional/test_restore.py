"""Fast failover on the embedded default: snapshot + replay.

One process, SQLite and the in-memory transport, with a persistor: a
graph loads a static topology (and snapshots after the get_all), then
handles changes (logged, not in the snapshot), and stops. A new graph
restores the snapshot, replays the logged changes, and holds exactly the
graph the first one had, without calling get_all.
"""

from vitrage.common.constants import Prop
from vitrage.storage import snapshots
from vitrage.tests.functional import embedded


def topology(entities):
    rows = ''.join(
        '    - {static_id: %s, type: switch, id: %s, state: %s}\n'
        % (name, name, state) for name, state in entities)
    return ('definitions:\n  entities:\n' + rows +
            '  relationships:\n'
            '    - {source: %s, target: %s, relationship_type: attached}\n'
            % (entities[0][0], entities[1][0]))


def graph_state(graph):
    skip = {Prop.SAMPLE_TIMESTAMP, Prop.UPDATE_TIMESTAMP}
    vertices = {v[Prop.VITRAGE_ID]: {k: val for k, val in v.items()
                                     if k not in skip}
                for v in graph.vertices()}
    edges = {(s, d, label): {k: val for k, val in data.items()
                             if k not in skip}
             for s, d, label, data in graph.edges()}
    return vertices, edges


def test_new_graph_restores_snapshot_and_replays_the_log(tmp_path, conf):
    static = tmp_path / 'static'
    static.mkdir()
    (static / 'a.yaml').write_text(topology(
        [('sw-1', 'available'), ('sw-2', 'available'),
         ('sw-3', 'available')]))
    database = embedded.configure(conf, tmp_path, static)
    with embedded.running(conf, database) as services:
        first = services.graph()
        first.start()
        assert first.wait_ready(60)
        store = snapshots.SnapshotStore(database)
        assert store.latest() is not None, 'no snapshot after get_all'
        # Changes after the snapshot: logged events only.
        (static / 'a.yaml').write_text(topology(
            [('sw-1', 'ERROR'), ('sw-2', 'available'),
             ('sw-4', 'available')]))
        assert first.get_changes(['static'])
        sw1 = [v for v in first.graph.vertices() if v.get('id') == 'sw-1']
        assert sw1[0][Prop.STATE] == 'ERROR'
        expected = graph_state(first.graph)
        handled = first.handoff.seq
        first.terminate()
        # Everything the first graph acknowledged is written already.

        second = services.graph()
        second.start()
        assert second.wait_ready(60)
        assert second.restored
        assert second.term == first.term + 1
        assert graph_state(second.graph) == expected
        assert handled > 3
