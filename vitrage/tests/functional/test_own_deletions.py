"""The graph's own deletions are logged, so a restore reproduces them.

One process, SQLite, the in-memory transport and a persistor: a graph
loads a static topology and snapshots it; then an entity vanishes from
the files and a full re-sample (a get_changes that re-seeds) deletes it
as outdated, and consistency removes it for good. Neither is in the
snapshot. A new graph restores the snapshot and replays the log: the
entity is gone there too, and both graphs are equal.
"""
import sqlalchemy as sa

from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common import timeutils
from vitrage.storage import models
from vitrage.storage import snapshots
from vitrage.tests.functional import embedded
from vitrage.tests.functional import test_restore
from vitrage.tests import helpers


def _vertex(graph, entity_id):
    for vertex in graph.vertices():
        if vertex.get('id') == entity_id:
            return vertex
    return None


def _logged_types(database, term):
    events = models.Event.__table__
    with database.connect() as connection:
        return [row.event_type for row in connection.execute(
            sa.select(events.c.event_type).where(events.c.term == term)
            .order_by(events.c.seq))]


def test_restore_reproduces_outdated_deletion_and_removal(tmp_path, conf):
    static = tmp_path / 'static'
    static.mkdir()
    (static / 'a.yaml').write_text(test_restore.topology(
        [('sw-1', 'available'), ('sw-2', 'available'),
         ('sw-3', 'available')]))
    database = embedded.configure(conf, tmp_path, static,
                                  consistency={'min_time_to_delete': 0})
    with embedded.running(conf, database) as services:
        first = services.graph()
        first.start()
        assert first.wait_ready(60)
        store = snapshots.SnapshotStore(database)
        snapshot = store.latest()
        assert snapshot is not None, 'no snapshot after get_all'
        assert _vertex(first.graph, 'sw-3')[Prop.IS_DELETED] is False

        # sw-3 vanishes; a re-seeding sample deletes it as outdated.
        (static / 'a.yaml').write_text(test_restore.topology(
            [('sw-1', 'available'), ('sw-2', 'available')]))
        first.polling.tokens['static'] = None   # not this collector's baseline
        # Sampled in a later second than the load (timestamps are to the
        # second), or sw-3 would not be older than the sample.
        loaded_at = _vertex(first.graph, 'sw-3')[Prop.SAMPLE_TIMESTAMP]
        helpers.wait_for(lambda: timeutils.sample_now() > loaded_at, 10,
                         'a second after the load', interval=0.1)
        assert first.get_changes(['static'])
        sw3 = _vertex(first.graph, 'sw-3')
        assert sw3[Prop.IS_DELETED] is True
        # Consistency removes it (deleted "now": once a second passed).
        helpers.wait_for(lambda: first.run_consistency() == 1, 10,
                         'consistency removes sw-3', interval=0.2)
        assert _vertex(first.graph, 'sw-3') is None
        assert store.latest().snapshot_id == snapshot.snapshot_id
        expected = test_restore.graph_state(first.graph)
        assert sw3[Prop.VITRAGE_ID] not in expected[0]
        term = first.term
        first.terminate()

        second = services.graph()
        second.start()
        assert second.wait_ready(60)
        assert second.restored
        # The first graph acknowledged only what was written: its own
        # deletions are logged.
        logged = _logged_types(database, term)
        assert logged[-2:] == [GraphAction.DELETE_ENTITY,
                               GraphAction.REMOVE_DELETED_ENTITY]
        assert _vertex(second.graph, 'sw-3') is None
        assert test_restore.graph_state(second.graph) == expected
