"""The term lease on MariaDB keeps the heartbeat's fraction of a second.

MariaDB's DATETIME drops fractions unless declared with a precision; a
heartbeat rounded down a second makes a standby take over up to a second
before the lease really ran out.
"""
import datetime

from vitrage.storage import connection as db_connection
from vitrage.storage import migrations
from vitrage.storage import terms


def test_heartbeat_keeps_microseconds_and_lease_holds(mysql_database):
    database = db_connection.Database(mysql_database)
    try:
        migrations.upgrade(database.engine)
        store = terms.TermStore(database)
        term = store.acquire('host-a:1', lease=10)
        beats = set()
        for _ in range(3):
            assert store.heartbeat(term, 'host-a:1')
            beats.add(store.holder()[2].microsecond)
        assert beats != {0}, 'fractions of a second were dropped'
        # Just inside the lease the holder keeps the term.
        with database.begin() as connection:
            connection.execute(terms.TERM.update().values(
                heartbeat_at=terms._now() - datetime.timedelta(
                    seconds=9.5)))
        assert store.acquire('host-b:2', lease=10) is None
        assert store.holder()[1] == 'host-a:1'
    finally:
        database.dispose()
