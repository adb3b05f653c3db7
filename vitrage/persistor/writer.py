"""Writes parsed messages to the database, fenced by the graph term.

Only the events (and the alarm history bundled with them) of the
*current* term are written:

* a term older than the current one is sealed: its successor sealed it
  when it took the next term (:mod:`vitrage.storage.terms`), and has
  restored from what was written before that. Its events are refused;
  the graph that handed them off never acknowledged their inputs (it
  waits for them to be written, :class:`vitrage.graph.handoff.
  Durability`), so the broker gives those inputs to the successor.
* a term newer than the current one is one no graph has taken (a forged
  or corrupted message): refused, logged and counted.

A batch is written in transactions of at most ``batch_size`` events; the
last one also carries the history records and then the barriers, so a
barrier is committed after everything received before it. Inside each
transaction, after its rows are written, the current term is read with a
shared lock (MariaDB) or under the write lock the transaction already
holds (SQLite): a term that begins concurrently either sees these rows
committed first or makes this transaction start again with the new
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
    #: Events of terms no graph has taken.
    unknown: int = 0
    fenced_terms: set = dataclasses.field(default_factory=set)
    unknown_terms: set = dataclasses.field(default_factory=set)


class _TermMoved(Exception):
    def __init__(self, term: int) -> None:
        super().__init__(term)
        self.term = term


@dataclasses.dataclass
class _Unit:
    events: list[tuple[int, eventlog.EventRecord]]
    history: list[history.HistoryRecord]
    barriers: list[batch_mod.Barrier]
    term_history: dict[int, list[history.HistoryRecord]] = \
        dataclasses.field(default_factory=dict)

    @property
    def terms(self) -> set[int]:
        return {term for term, _record in self.events} | \
            set(self.term_history)


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
        """Write ``parsed``, refusing the events of any term but the
        current one (older: sealed; newer: taken by no graph).

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
        units[-1].term_history = parsed.term_history
        return units

    def _write_unit(self, unit: _Unit, current: int,
                    result: WriteResult) -> None:
        accepted: dict[int, list[eventlog.EventRecord]] = {}
        fenced: dict[int, int] = {}
        unknown: dict[int, int] = {}
        for term, record in unit.events:
            if term == current:
                accepted.setdefault(term, []).append(record)
            else:
                refused = fenced if term < current else unknown
                refused[term] = refused.get(term, 0) + 1
        term_history = unit.term_history.get(current, [])
        written = 0
        with self.database.begin() as connection:
            for term, records in accepted.items():
                written += self.events.insert(connection, term, records)
            if unit.history or term_history:
                self.history.apply(connection, unit.history + term_history)
            if unit.barriers:
                now = _now()
                connection.execute(
                    self.database.insert_ignore(BARRIERS),
                    [{'barrier_id': b.barrier_id, 'term': b.term,
                      'written_at': now} for b in unit.barriers])
            if unit.terms:
                latest = terms.TermStore.current_term_in(connection,
                                                         lock=True)
                if latest != current:
                    # A term began since ``current`` was read: decide
                    # again under the lock (the rollback undoes this).
                    raise _TermMoved(latest)
        accepted_count = sum(len(r) for r in accepted.values())
        result.written += written
        result.duplicates += accepted_count - written
        result.fenced += sum(fenced.values())
        result.fenced_terms.update(fenced)
        result.unknown += sum(unknown.values())
        result.unknown_terms.update(unknown)
        result.history += len(unit.history) + len(term_history)
        result.barriers += len(unit.barriers)
        sealed_history = sum(len(r) for t, r in unit.term_history.items()
                             if t < current)
        if fenced or sealed_history:
            LOG.warning('refused %d events (and %d history changes) of '
                        'terms %s: sealed by the current term %d',
                        sum(fenced.values()), sealed_history,
                        sorted(fenced), current)
        if unknown:
            LOG.error('refused %d events of terms %s that no graph has '
                      'taken (the current term is %d): a forged or '
                      'corrupted message', sum(unknown.values()),
                      sorted(unknown), current)

    def barrier_written(self, barrier_id: str) -> bool:
        """Whether barrier ``barrier_id`` is in the ``barriers`` table."""
        with self.database.connect() as connection:
            return connection.execute(
                sa.select(BARRIERS.c.barrier_id)
                .where(BARRIERS.c.barrier_id == barrier_id)
            ).first() is not None
