"""``vitrage-dbsync``: create the Vitrage database schema or upgrade it.

Works on the database of ``[database] connection`` (MariaDB through
PyMySQL, or SQLite); the database itself must exist (an SQLite file is
created, with its folder).
"""
import argparse
import os
import sys

from oslo_log import log
from sqlalchemy.engine import url as sa_url

from vitrage.common import exceptions
from vitrage import service
from vitrage.storage import connection as db_connection
from vitrage.storage import migrations

LOG = log.getLogger(__name__)


def _split_argv(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--revision', default='head',
                        help='alembic revision to upgrade to')
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Upgrade the database to ``--revision`` (default ``head``).

    :param argv: command line arguments (``sys.argv[1:]`` when None).
    """
    own, rest = _split_argv(sys.argv[1:] if argv is None else argv)
    conf = service.prepare_service(rest)
    url = sa_url.make_url(conf.database.connection)
    if url.get_backend_name() == 'sqlite' and url.database:
        folder = os.path.dirname(os.path.abspath(url.database))
        os.makedirs(folder, exist_ok=True)
    try:
        database = db_connection.from_conf(conf)
    except exceptions.ConfigError as exc:
        print('vitrage-dbsync: %s' % exc, file=sys.stderr)
        return 2
    try:
        before = migrations.current_revision(database.engine)
        migrations.upgrade(database.engine, own.revision)
        after = migrations.current_revision(database.engine)
    finally:
        database.dispose()
    LOG.info('database %s upgraded from %s to %s',
             url.render_as_string(hide_password=True), before, after)
    print('vitrage-dbsync: %s -> %s' % (before, after))
    return 0


if __name__ == '__main__':
    sys.exit(main())
