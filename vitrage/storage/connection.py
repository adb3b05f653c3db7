"""Database connections, chosen by the URL scheme of ``[database]``.

* ``sqlite:///path/vitrage.sqlite``: the embedded default. Connections use
  WAL journaling (readers never wait for the writer) and a busy timeout;
  several processes may share the file.
* ``mysql+pymysql://user:password@host/vitrage?charset=utf8mb4``:
  MariaDB in production, through PyMySQL.

Engines are built with oslo.db's :func:`engines.create_engine`, which
retries the first connection, guards against sharing a connection with a
forked process and, on SQLite, emits ``BEGIN`` itself so a transaction
really starts at its first statement.
"""
from collections.abc import Iterator
import contextlib

from oslo_config import cfg
from oslo_db.sqlalchemy import engines
from oslo_log import log
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import url as sa_url

from vitrage.common import exceptions

LOG = log.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30000


class Database:
    """An engine on one Vitrage database and its dialect's small differences.

    :param url: an SQLAlchemy URL, ``sqlite://...`` or
        ``mysql+pymysql://...``.
    :param engine_kwargs: passed to oslo.db's ``create_engine``
        (``max_pool_size``, ``max_retries``...).
    :raises vitrage.common.exceptions.ConfigError: when the URL names
        another backend.
    """

    def __init__(self, url: str, **engine_kwargs) -> None:
        parsed = sa_url.make_url(url)
        backend = parsed.get_backend_name()
        if backend not in ('sqlite', 'mysql'):
            raise exceptions.ConfigError(
                'unsupported [database] connection %r: use sqlite:// or '
                'mysql+pymysql://' % parsed.render_as_string())
        self.url = url
        self.backend = backend
        if backend == 'mysql':
            # Without it MariaDB truncates too long values with a warning.
            engine_kwargs.setdefault('mysql_sql_mode', 'TRADITIONAL')
        self.engine = engines.create_engine(url, **engine_kwargs)
        if backend == 'sqlite' and parsed.database not in (None, '',
                                                           ':memory:'):
            sa.event.listen(self.engine, 'connect', _sqlite_pragmas)

    @property
    def is_sqlite(self) -> bool:
        return self.backend == 'sqlite'

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection inside one transaction, committed on exit.

        :raises oslo_db.exception.DBError: on any database error (the
            transaction is rolled back).
        """
        with self.engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection for reads; it is rolled back on exit."""
        with self.engine.connect() as connection:
            yield connection

    def insert_ignore(self, table: sa.Table) -> sa.Insert:
        """An INSERT of ``table`` that skips rows breaking a unique key.

        ``INSERT OR IGNORE`` on SQLite; on MariaDB ``ON DUPLICATE KEY
        UPDATE <key> = <key>``, which, unlike ``INSERT IGNORE``, still
        raises on a value that does not fit its column. A duplicate
        position is success, not an error.

        :param table: the table to insert into (single-column primary key).
        """
        if self.is_sqlite:
            return sa.insert(table).prefix_with('OR IGNORE')
        key = list(table.primary_key.columns)[0]
        return mysql.insert(table).on_duplicate_key_update(
            {key.name: key})

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('PRAGMA busy_timeout = %d' % SQLITE_BUSY_TIMEOUT_MS)
        cursor.execute('PRAGMA journal_mode = WAL')
    finally:
        cursor.close()


def from_conf(conf: cfg.ConfigOpts) -> Database:
    """The database of ``[database] connection``.

    :param conf: a configuration with the ``[database]`` group.
    :raises vitrage.common.exceptions.ConfigError: on an unsupported URL.
    """
    db = conf.database
    kwargs = {
        'max_retries': db.max_retries,
        'retry_interval': db.retry_interval,
        'connection_recycle_time': db.connection_recycle_time,
    }
    if db.max_pool_size is not None:
        kwargs['max_pool_size'] = db.max_pool_size
    if db.max_overflow is not None:
        kwargs['max_overflow'] = db.max_overflow
    return Database(db.connection, **kwargs)
