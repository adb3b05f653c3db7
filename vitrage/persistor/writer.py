"""Writes parsed messages to the database, fenced by the graph term.

A batch is written in transactions of at most ``batch_size`` events; the
last one also carries the history records and then the barriers, so a
barrier is committed after everything received before it. Inside each
transaction, after its rows are written, the current term is read with a
shared lock (MariaDB) or under the write lock the transaction already
holds (SQLite): a term that begins concurrently either sees these rows
committed first or makes this transaction drop the events of the older
term. Duplicated positions are skipped and counted.
"""
import dataclasses
import datetime

from oslo_log import log
import sqlalchemy as sa

from vitrage.persistor import batch as batch_mod
from vitrage.storage import connection as db_connection
from vitrage.storage import eventlog
from vitrage.storage import history
from vitrage.storage import models
from vitrage.storage import terms

LOG = log.getLogger(__name__)

BARRIERS = models.Barrier.__table__


@dataclasses.dataclass
class WriteResult:
    """What one :meth:`Writer.write` did."""

    written: int = 0
    duplicates: int = 0
    fenced: int = 0
    history: int = 0
    barriers: int = 0
    fenced_terms: set = dataclasses.field(default_factory=set)


class _TermMoved(Exception):
    def __init__(self, term: int) -> None:
        super().__init__(term)
        self.term = term


@dataclasses.dataclass
class _Unit:
    events: list[tuple[int, eventlog.EventRecord]]
    history: list[history.HistoryRecord]
    barriers: list[batch_mod.Barrier]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Writer:
    """Writes :class:`~vitrage.persistor.batch.Parsed` batches.

    :param database: the database holding the migrated schema.
    :param batch_size: the most events in one transaction.
    """

    def __init__(self, database: db_connection.Database,
                 batch_size: int) -> None:
        self.database = database
        self.batch_size = batch_size
        self.events = eventlog.SqlEventLog(database)
        self.history = history.HistoryStore(database)
        self.terms = terms.TermStore(database)

    def write(self, parsed: batch_mod.Parsed) -> WriteResult:
        """Write ``parsed``, refusing events of a term older than current.

        :raises oslo_db.exception.DBError: on a database error; what was
            committed before stays (a retry skips it as duplicates).
        """
        result = WriteResult()
        current = self.terms.current_term()
        for unit in self._units(parsed):
            while True:
                try:
                    self._write_unit(unit, current, result)
                    break
                except _TermMoved as moved:
                    LOG.info('term moved to %d during a write; retrying',
                             moved.term)
                    current = moved.term
        return result

    def _units(self, parsed: batch_mod.Parsed) -> list[_Unit]:
        flat = [(term, record)
                for term in sorted(parsed.events)
                for record in parsed.events[term]]
        units = [_Unit(flat[i:i + self.batch_size], [], [])
                 for i in range(0, len(flat), self.batch_size)]
        if not units:
            units.append(_Unit([], [], []))
        units[-1].history = parsed.history
        units[-1].barriers = parsed.barriers
        return units

    def _write_unit(self, unit: _Unit, current: int,
                    result: WriteResult) -> None:
        accepted: dict[int, list[eventlog.EventRecord]] = {}
        fenced: dict[int, int] = {}
        for term, record in unit.events:
            if term < current:
                fenced[term] = fenced.get(term, 0) + 1
            else:
                accepted.setdefault(term, []).append(record)
        written = 0
        with self.database.begin() as connection:
            for term, records in accepted.items():
                written += self.events.insert(connection, term, records)
            if unit.history:
                self.history.apply(connection, unit.history)
            if unit.barriers:
                now = _now()
                connection.execute(
                    self.database.insert_ignore(BARRIERS),
                    [{'barrier_id': b.barrier_id, 'term': b.term,
                      'written_at': now} for b in unit.barriers])
            if accepted:
                latest = terms.TermStore.current_term_in(connection,
                                                         lock=True)
                if latest > current and min(accepted) < latest:
                    raise _TermMoved(latest)
        accepted_count = sum(len(r) for r in accepted.values())
        result.written += written
        result.duplicates += accepted_count - written
        result.fenced += sum(fenced.values())
        result.fenced_terms.update(fenced)
        result.history += len(unit.history)
        result.barriers += len(unit.barriers)
        if fenced:
            LOG.warning('refused %d events of terms %s older than the '
                        'current term %d', sum(fenced.values()),
                        sorted(fenced), current)

    def barrier_written(self, barrier_id: str) -> bool:
        """Whether barrier ``barrier_id`` is in the ``barriers`` table."""
        with self.database.connect() as connection:
            return connection.execute(
                sa.select(BARRIERS.c.barrier_id)
                .where(BARRIERS.c.barrier_id == barrier_id)
            ).first() is not None
