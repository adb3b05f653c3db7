"""The event-log contract on the in-memory and SQLite backends.

The MariaDB run is in vitrage/tests/integration/test_storage_mysql.py.
"""
import pytest

from vitrage.storage import eventlog
from vitrage.tests.unit.storage import eventlog_contract


class TestMemoryEventLog(eventlog_contract.EventLogContract):

    @pytest.fixture
    def event_log(self):
        return eventlog.get_event_log('memory://')


class TestSqliteEventLog(eventlog_contract.EventLogContract):

    @pytest.fixture
    def event_log(self, database):
        return eventlog.SqlEventLog(database)

    def test_survives_a_new_connection(self, database):
        eventlog.SqlEventLog(database).append(
            4, eventlog_contract.records([1, 2]))
        other = eventlog.get_event_log(database.url)
        assert other.last_position() == (4, 2)
