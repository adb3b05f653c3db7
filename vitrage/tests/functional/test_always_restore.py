"""Always restore (HA contract, promise 4b): push-only alarms survive a
restart of any duration.

On the embedded default (SQLite, in-memory transport, a persistor and a
collector in this process), doctor alarms exist by notification only:
no datasource reports them again. A graph restarted after a downtime
longer than ``[persistency] snapshot_interval`` restores the stale
snapshot and the log after it; with no snapshot at all, the whole log.
Either way every alarm is back, and the alarm history agrees with the
graph. Then the pull datasources are reconciled with a get_all.
"""
import oslo_messaging

from vitrage.api.controllers import event as event_api
from vitrage.common.constants import Prop
from vitrage.storage import history
from vitrage.storage import snapshots
from vitrage.tests.functional import embedded
from vitrage.tests.functional import test_restore
from vitrage.tests import helpers

HOSTS = ['cmp-%d' % i for i in range(4)]


def _post(conf, hostname: str, status: str, second: int) -> None:
    publisher = event_api.EventPublisher(
        conf, oslo_messaging.get_notification_transport(conf))
    publisher.publish(
        event_api.event_type_of('compute.host.down', {'status': status}),
        {'type': 'compute.host.down',
         'time': '2026-12-08T01:00:%02dZ' % second,
         'details': {'hostname': hostname, 'status': status}})


def _doctor_alarms(graph) -> dict[str, str]:
    """vitrage_id -> host name of the live doctor alarms of a graph."""
    with graph.lock:
        return {v[Prop.VITRAGE_ID]: v.get('hostname')
                for v in graph.graph.vertices()
                if v.get(Prop.TYPE) == 'doctor'
                and not v.get(Prop.IS_DELETED)}


def _active_in_history(database) -> set[str]:
    """The vitrage ids of the alarms the history says are active."""
    return {row.vitrage_id for row in history.HistoryStore(database).alarms()
            if row.end_timestamp is None and row.vitrage_type == 'doctor'}


def _age_snapshots(database, seconds: int) -> None:
    import datetime

    from vitrage.storage import models
    table = models.GraphSnapshot.__table__
    with database.begin() as connection:
        connection.execute(table.update().values(
            taken_at=snapshots._now() - datetime.timedelta(seconds=seconds)))


def _delete_snapshots(database) -> None:
    from vitrage.storage import models
    with database.begin() as connection:
        connection.execute(models.GraphSnapshot.__table__.delete())


def _restored(services, database, alarms: dict[str, str]):
    """A new graph, started: it restored, with every doctor alarm of
    ``alarms``, and the alarm history agrees.
    """
    graph = services.graph()
    graph.start()
    assert graph.wait_ready(60)
    assert graph.restored
    assert _doctor_alarms(graph) == alarms
    assert _active_in_history(database) == set(alarms)
    return graph


def test_push_only_alarms_survive_any_downtime(tmp_path, conf):
    static = tmp_path / 'static'
    static.mkdir()
    (static / 'a.yaml').write_text(test_restore.topology(
        [('sw-1', 'available'), ('sw-2', 'available')]))
    topics = helpers.unique_name('notifications')
    database = embedded.configure(
        conf, tmp_path, static,
        datasources={'types': 'static,doctor',
                     'notification_topics': topics,
                     'snapshots_interval': 3600},
        persistency={'snapshot_interval': 5})
    with embedded.running(conf, database) as services:
        first = services.graph()
        first.start()
        assert first.wait_ready(60)
        for second, host in enumerate(HOSTS):
            _post(conf, host, 'down', second)
        _post(conf, HOSTS[0], 'up', 30)
        expected = set(HOSTS[1:])
        helpers.wait_for(
            lambda: set(_doctor_alarms(first).values()) == expected, 30,
            'the doctor alarms in the first graph')
        alarms = _doctor_alarms(first)
        helpers.wait_for(lambda: _active_in_history(database) == set(alarms),
                         30, 'the alarm history to agree with the graph')
        first.terminate()

        # A downtime longer than snapshot_interval: the snapshot is stale.
        _age_snapshots(database, 3600)
        assert snapshots.SnapshotStore(database).latest() is not None
        second = _restored(services, database, alarms)
        # The pull datasources are reconciled with a get_all.
        helpers.wait_for(lambda: second.polling.stats['get_all'] == 1, 30,
                         'the reconciling get_all')
        second.terminate()

        # No snapshot at all: the whole log is replayed.
        _delete_snapshots(database)
        third = _restored(services, database, alarms)
        assert third.term == second.term + 1 == first.term + 2
