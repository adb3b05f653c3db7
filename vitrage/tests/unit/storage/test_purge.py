"""Retention: snapshots, events and history."""
import datetime

import pytest
import sqlalchemy as sa

from vitrage.storage import eventlog
from vitrage.storage import history
from vitrage.storage import models
from vitrage.storage import purge
from vitrage.tests.unit.storage import eventlog_contract

NOW = datetime.datetime(2025, 3, 30, 12, 0, 0)


def add_snapshot(database, snapshot_id, term, seq, chunks=2, rows=None):
    """A snapshot of ``chunks`` chunks of which ``rows`` (default: all)
    are stored.
    """
    with database.begin() as c:
        c.execute(models.GraphSnapshot.__table__.insert(), [
            {'snapshot_id': snapshot_id, 'term': term, 'seq': seq,
             'taken_at': NOW, 'format_version': 1, 'chunk': i,
             'chunks': chunks, 'data': b'x' * 10}
            for i in range(chunks if rows is None else rows)])


def snapshot_ids(database):
    with database.connect() as c:
        return set(c.execute(sa.select(
            models.GraphSnapshot.snapshot_id)).scalars())


def test_events_before_the_oldest_kept_snapshot_are_dropped(database):
    log = eventlog.SqlEventLog(database)
    log.append(1, eventlog_contract.records(range(10)))
    log.append(2, eventlog_contract.records(range(10)))
    add_snapshot(database, 's1', 1, 5)
    add_snapshot(database, 's2', 2, 2)
    add_snapshot(database, 's3', 2, 8)
    result = purge.purge(database, snapshots_to_keep=2,
                         alarm_history_ttl_days=30, now=NOW)
    assert snapshot_ids(database) == {'s2', 's3'}
    assert result.snapshots == 1      # one snapshot of two chunks
    assert result.events == 13
    assert [e.position for e in log.read_after((0, -1))] == [
        (2, s) for s in range(3, 10)]


def test_an_incomplete_snapshot_neither_counts_nor_bounds_events(database):
    log = eventlog.SqlEventLog(database)
    log.append(1, eventlog_contract.records(range(10)))
    add_snapshot(database, 'old', 1, 1)
    add_snapshot(database, 'complete', 1, 3)
    # Newer, but a chunk is missing: it cannot be restored from, so the
    # events after the complete one must stay.
    add_snapshot(database, 'partial', 1, 7, chunks=2, rows=1)
    result = purge.purge(database, snapshots_to_keep=1,
                         alarm_history_ttl_days=30, now=NOW)
    assert snapshot_ids(database) == {'complete', 'partial'}
    assert result.snapshots == 1
    assert result.events == 4
    assert log.read_after((0, -1))[0].position == (1, 4)


def test_bad_count_is_refused_and_nothing_deleted(database):
    add_snapshot(database, 's1', 1, 1)
    store = history.HistoryStore(database)
    store.record([history.parse(history.ALARM_CHANGE, {
        'vitrage_id': 'a', 'vitrage_sample_timestamp': '2024-01-01T00:00:00Z'
    })])
    with pytest.raises(ValueError, match='keep must be an integer >= 1'):
        purge.purge(database, snapshots_to_keep=0,
                    alarm_history_ttl_days=30, now=NOW)
    assert snapshot_ids(database) == {'s1'}
    assert len(store.changes()) == 1


def test_no_snapshot_no_event_deleted(database):
    log = eventlog.SqlEventLog(database)
    log.append(1, eventlog_contract.records(range(5)))
    result = purge.purge(database, 3, 30, now=NOW)
    assert result.events == 0
    assert log.last_position() == (1, 4)


def test_history_older_than_ttl_is_dropped_live_alarms_stay(database):
    store = history.HistoryStore(database)

    def alarm(vid, ts):
        return {'vitrage_id': vid, 'vitrage_sample_timestamp': ts}

    store.record([
        history.parse(history.ALARM_ACTIVATE,
                      alarm('old', '2025-01-01T00:00:00Z')),
        history.parse(history.ALARM_DEACTIVATE,
                      alarm('old', '2025-01-02T00:00:00Z')),
        history.parse(history.ALARM_ACTIVATE,
                      alarm('live', '2025-01-01T00:00:00Z')),
        history.parse(history.ALARM_ACTIVATE,
                      alarm('recent', '2025-03-20T00:00:00Z')),
        history.parse(history.ALARM_DEACTIVATE,
                      alarm('recent', '2025-03-21T00:00:00Z')),
        history.parse(history.ALARM_CHANGE,
                      alarm('live', '2025-01-05T00:00:00Z')),
        history.parse(history.ALARM_CHANGE,
                      alarm('live', '2025-03-25T00:00:00Z')),
    ])
    result = purge.purge(database, 3, alarm_history_ttl_days=30, now=NOW)
    assert result.alarms == 1 and result.changes == 1
    assert {r.vitrage_id for r in store.alarms()} == {'live', 'recent'}
    assert [c.timestamp.month for c in store.changes()] == [3]
