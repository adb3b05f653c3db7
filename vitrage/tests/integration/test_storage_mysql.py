"""The storage layer on a real MariaDB server.

The event-log contract suite, the models-vs-migrations check, terms,
history and purge, each on a new database dropped afterwards.
"""
import datetime

import pytest

from vitrage.persistor import batch
from vitrage.persistor import writer as writer_mod
from vitrage.storage import eventlog
from vitrage.storage import history
from vitrage.storage import migrations
from vitrage.storage import purge
from vitrage.storage import terms
from vitrage.tests.unit.storage import eventlog_contract
from vitrage.tests.unit.storage import schema_checks
from vitrage.tests.unit.storage import test_terms


class TestMysqlEventLog(eventlog_contract.EventLogContract):

    @pytest.fixture
    def event_log(self, database):
        return eventlog.SqlEventLog(database)

    def test_large_batch_spans_several_statements(self, database):
        log = eventlog.SqlEventLog(database)
        big = 'x' * 300000
        records = [eventlog.EventRecord(s, 'update_entity', {'blob': big})
                   for s in range(40)]
        assert log.append(1, records) == 40
        assert log.append(1, records) == 0
        assert [e.seq for e in log.read_after((0, -1))] == list(range(40))

    def test_too_large_event_is_a_data_error(self, database):
        from oslo_db import exception as db_exc
        log = eventlog.SqlEventLog(database)
        huge = eventlog.EventRecord(0, 'x', {'blob': 'y' * (17 << 20)})
        with pytest.raises(db_exc.DBDataError):
            log.append(1, [huge])


def test_models_and_migrations_agree(database):
    assert schema_checks.schema_differences(database.engine) == []


def test_dbsync_twice_is_harmless(database):
    migrations.upgrade(database.engine)
    assert migrations.current_revision(database.engine) == \
        migrations.head_revision()


def test_concurrent_begins_get_distinct_terms(tmp_path, database):
    # The SQLite test, on MariaDB: 40 concurrent begins, 40 terms.
    test_terms.test_concurrent_begins_get_distinct_terms(tmp_path, database)


def test_fencing_and_history_through_the_writer(database):
    store = terms.TermStore(database)
    store.begin_term('a')
    store.begin_term('b')
    parsed = batch.Parsed(events={
        1: eventlog_contract.records([0, 1]),
        2: eventlog_contract.records([0, 1, 2])})
    parsed.history.append(history.parse(history.ALARM_ACTIVATE, {
        'vitrage_id': 'a1', 'name': 'n' * 300,
        'vitrage_sample_timestamp': '2025-03-02T08:15:04Z'}))
    parsed.barriers.append(batch.Barrier(2, 'barrier-1'))
    writer = writer_mod.Writer(database, batch_size=2)
    result = writer.write(parsed)
    assert (result.written, result.fenced, result.history) == (3, 2, 1)
    assert writer.barrier_written('barrier-1')
    [alarm] = history.HistoryStore(database).alarms()
    assert len(alarm.name) == 255  # the column keeps what fits


def test_purge(database):
    log = eventlog.SqlEventLog(database)
    log.append(1, eventlog_contract.records(range(20)))
    now = datetime.datetime(2025, 3, 30)
    from vitrage.tests.unit.storage import test_purge
    test_purge.add_snapshot(database, 's1', 1, 9)
    result = purge.purge(database, 1, 30, now=now)
    assert result.events == 10
    assert log.read_after((0, -1))[0].position == (1, 10)
