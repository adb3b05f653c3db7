"""``vitrage-purge-data``: apply the retention rules once.

Deletes old snapshots, the events they hold and history older than
``[persistency] alarm_history_ttl`` days (see :mod:`vitrage.storage.purge`).
"""
import dataclasses
import sys

from vitrage import service
from vitrage.storage import connection as db_connection
from vitrage.storage import purge


def main(argv: list[str] | None = None) -> int:
    conf = service.prepare_service(argv)
    database = db_connection.from_conf(conf)
    try:
        result = purge.purge_from_conf(database, conf)
    finally:
        database.dispose()
    print('vitrage-purge-data: deleted %s' % dataclasses.asdict(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
