"""The event-log contract on the in-memory and SQLite backends.

The MariaDB run is in vitrage/tests/integration/test_storage_mysql.py.
"""
import pytest

from vitrage.storage import connection
from vitrage.storage import eventlog
from vitrage.storage import migrations
from vitrage.tests.unit.storage import eventlog_contract


@pytest.fixture
def sqlite_database(tmp_path):
    database = connection.Database('sqlite:///%s' % (tmp_path / 'v.sqlite'))
    migrations.upgrade(database.engine)
    yield database
    database.dispose()


class TestMemoryEventLog(eventlog_contract.EventLogContract):

    @pytest.fixture
    def event_log(self):
        return eventlog.get_event_log('memory://')


class TestSqliteEventLog(eventlog_contract.EventLogContract):

    @pytest.fixture
    def event_log(self, sqlite_database):
        return eventlog.SqlEventLog(sqlite_database)

    def test_survives_a_new_connection(self, sqlite_database):
        eventlog.SqlEventLog(sqlite_database).append(
            4, eventlog_contract.records([1, 2]))
        other = eventlog.get_event_log(sqlite_database.url)
        assert other.last_position() == (4, 2)
