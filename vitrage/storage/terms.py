"""The graph term: the fencing token of the one active vitrage-graph.

The ``graph_term`` table holds a single row: the current term, who holds
it and when it last said it was alive. A graph that becomes active calls
:meth:`TermStore.begin_term`, which increments the term atomically (one
transaction, on SQLite and MariaDB alike); the persistor refuses events of
an older term (see :mod:`vitrage.persistor.writer`).
"""
import datetime

from oslo_db import exception as db_exc
from oslo_log import log
import sqlalchemy as sa

from vitrage.storage import connection as db_connection
from vitrage.storage import models

LOG = log.getLogger(__name__)

TERM = models.GraphTerm.__table__
ROW_ID = 1
_MAX_ATTEMPTS = 5


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class TermStore:
    """Reads and changes the graph term.

    :param database: the database holding the migrated schema.
    """

    def __init__(self, database: db_connection.Database) -> None:
        self.database = database

    def begin_term(self, holder: str) -> int:
        """Start a new term held by ``holder``; return its number.

        The increment and the read happen in one transaction, so two
        graphs calling this at once get two different terms.

        :param holder: who takes the term (host name and process id).
        :raises oslo_db.exception.DBError: on a database error.
        """
        for attempt in range(_MAX_ATTEMPTS):
            try:
                return self._begin_term(holder)
            except db_exc.DBDuplicateEntry:
                # Another caller created the missing row first: retry.
                if attempt == _MAX_ATTEMPTS - 1:
                    raise
        raise AssertionError('unreachable')

    def _begin_term(self, holder: str) -> int:
        now = _now()
        with self.database.begin() as connection:
            # The UPDATE comes first: it takes the row (InnoDB) or the
            # database (SQLite) write lock before anything is read.
            updated = connection.execute(
                TERM.update().where(TERM.c.id == ROW_ID).values(
                    term=TERM.c.term + 1, holder=holder, started_at=now,
                    heartbeat_at=now)).rowcount
            if not updated:
                connection.execute(TERM.insert().values(
                    id=ROW_ID, term=1, holder=holder, started_at=now,
                    heartbeat_at=now))
            term = connection.execute(
                sa.select(TERM.c.term).where(TERM.c.id == ROW_ID)
            ).scalar_one()
        LOG.info('term %d begins, held by %s', term, holder)
        return term

    def acquire(self, holder: str, lease: float) -> int | None:
        """Begin a new term if no other live graph holds the current one.

        The current term is free when it has no holder, its holder is
        ``holder`` itself, or its holder's last heartbeat is older than
        ``lease`` seconds. The check and the increment are one UPDATE, so
        of two graphs racing for a free term exactly one wins. Heartbeats
        are stamped with each graph's own clock: keep the hosts' clocks
        synchronised (NTP) well within the lease.

        :param holder: who takes the term (host name and process id).
        :param lease: seconds without a heartbeat after which a holder is
            considered dead.
        :returns: the new term, or None while another graph holds it.
        :raises oslo_db.exception.DBError: on a database error.
        """
        now = _now()
        expired = now - datetime.timedelta(seconds=lease)
        with self.database.begin() as connection:
            updated = connection.execute(
                TERM.update().where(TERM.c.id == ROW_ID).where(sa.or_(
                    TERM.c.holder.is_(None), TERM.c.holder == holder,
                    TERM.c.heartbeat_at.is_(None),
                    TERM.c.heartbeat_at < expired)).values(
                    term=TERM.c.term + 1, holder=holder, started_at=now,
                    heartbeat_at=now)).rowcount
            if updated:
                term = self.current_term_in(connection)
            elif connection.execute(sa.select(TERM.c.id).where(
                    TERM.c.id == ROW_ID)).first() is not None:
                return None
        if not updated:
            # No row yet (a database older than the seeding migration).
            return self.begin_term(holder)
        LOG.info('term %d begins, held by %s', term, holder)
        return term

    def take_over(self, holder: str, term: int, previous: str) -> int | None:
        """Begin the next term if ``term`` is still the current one and
        still held by ``previous`` (whose death the caller has seen, e.g.
        through :class:`vitrage.graph.liveness.BrokerLock`), without
        waiting for its lease to expire. Of several standbys taking over
        the same dead holder exactly one wins.

        :param holder: who takes the term.
        :param term: the term the caller saw held.
        :param previous: its holder.
        :returns: the new term, or None when something changed meanwhile.
        :raises oslo_db.exception.DBError: on a database error.
        """
        now = _now()
        with self.database.begin() as connection:
            updated = connection.execute(
                TERM.update().where(TERM.c.id == ROW_ID)
                .where(TERM.c.term == term)
                .where(TERM.c.holder == previous).values(
                    term=TERM.c.term + 1, holder=holder, started_at=now,
                    heartbeat_at=now)).rowcount
            if not updated:
                return None
            new_term = self.current_term_in(connection)
        LOG.info('term %d begins, held by %s (took over from %s)',
                 new_term, holder, previous)
        return new_term

    def current_term(self) -> int:
        """The current term; 0 before any graph began one."""
        with self.database.connect() as connection:
            return self.current_term_in(connection)

    @staticmethod
    def current_term_in(connection: sa.Connection,
                        lock: bool = False) -> int:
        """The current term, read on the caller's connection.

        :param connection: a connection, inside a transaction if ``lock``.
        :param lock: take a shared lock on the term row (MariaDB) so no
            new term can begin before the caller's transaction ends. On
            SQLite, the caller's transaction must already have written.
        """
        query = sa.select(TERM.c.term).where(TERM.c.id == ROW_ID)
        if lock:
            query = query.with_for_update(read=True)
        term = connection.execute(query).scalar()
        return 0 if term is None else term

    def holder(self) -> tuple[int, str | None, datetime.datetime | None]:
        """The current term, its holder and its last heartbeat (UTC)."""
        with self.database.connect() as connection:
            row = connection.execute(
                sa.select(TERM.c.term, TERM.c.holder, TERM.c.heartbeat_at)
                .where(TERM.c.id == ROW_ID)).first()
        if row is None:
            return 0, None, None
        return row.term, row.holder, row.heartbeat_at

    def heartbeat(self, term: int, holder: str) -> bool:
        """Record that ``holder`` still runs ``term``.

        :param term: the term the caller believes it holds.
        :param holder: the caller, as given to :meth:`begin_term`.
        :returns: False when the caller no longer holds the current term
            (it must stop writing).
        :raises oslo_db.exception.DBError: on a database error.
        """
        with self.database.begin() as connection:
            updated = connection.execute(
                TERM.update().where(TERM.c.id == ROW_ID)
                .where(TERM.c.term == term)
                .where(TERM.c.holder == holder)
                .values(heartbeat_at=_now())).rowcount
        return bool(updated)
