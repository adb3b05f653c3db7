"""The event log: every handled event at its position ``(term, seq)``.

A narrow interface with an in-memory twin (:class:`MemoryEventLog`) and a
database implementation (:class:`SqlEventLog`, SQLite and MariaDB), all
checked by one contract test suite. Appending is idempotent on the
position: the first event stored at a position stays, a later one at the
same position is skipped and counts as success. Replays go by position,
never by the auto-increment id.

:func:`get_event_log` picks the implementation by URL scheme:
``memory://``, ``sqlite:///...`` or ``mysql+pymysql://...``.
"""
import abc
from collections.abc import Iterable
from collections.abc import Sequence
import dataclasses
import datetime
import functools
import json
import threading

from oslo_db import exception as db_exc
from pymysql import converters
import sqlalchemy as sa

from vitrage.common import timeutils
from vitrage.storage import connection as db_connection
from vitrage.storage import models

Position = tuple[int, int]

EVENTS = models.Event.__table__
MAX_EVENT_TYPE_LENGTH = 64


@dataclasses.dataclass(frozen=True)
class EventRecord:
    """An event to append: its sequence number within a term and content.

    :param seq: its position within the term, >= 0.
    :param event_type: the kind of event (``update_entity``...).
    :param event: the entity event itself (JSON-serialisable).
    :param collector_timestamp: when the collector produced it,
        ``YYYY-MM-DDTHH:MM:SSZ``, or None.
    :raises ValueError: when a field has the wrong type or form.
    """

    seq: int
    event_type: str
    event: dict
    collector_timestamp: str | None = None

    def __post_init__(self) -> None:
        _check_position_part('seq', self.seq)
        if not isinstance(self.event_type, str) or not self.event_type:
            raise ValueError('event type must be a non-empty string, got %r'
                             % (self.event_type,))
        if len(self.event_type) > MAX_EVENT_TYPE_LENGTH:
            raise ValueError('event type longer than %d characters: %r'
                             % (MAX_EVENT_TYPE_LENGTH, self.event_type))
        if not isinstance(self.event, dict):
            raise ValueError('event must be a dict, got %s'
                             % type(self.event).__name__)
        if self.collector_timestamp is not None:
            if not isinstance(self.collector_timestamp, str):
                raise ValueError('collector_timestamp must be a string or '
                                 'null, got %r' % (self.collector_timestamp,))
            try:
                sample_to_datetime(self.collector_timestamp)
            except ValueError:
                raise ValueError('collector_timestamp %r is not '
                                 'YYYY-MM-DDTHH:MM:SSZ'
                                 % self.collector_timestamp) from None


@dataclasses.dataclass(frozen=True)
class LoggedEvent:
    """An event read back from the log."""

    term: int
    seq: int
    event_type: str
    event: dict
    collector_timestamp: str | None = None

    @property
    def position(self) -> Position:
        return self.term, self.seq


@functools.lru_cache(maxsize=4096)
def sample_to_datetime(text: str) -> datetime.datetime:
    """``YYYY-MM-DDTHH:MM:SSZ`` as a naive UTC datetime.

    Cached: the events of a batch mostly share a few timestamps, and
    ``strptime`` was a tenth of the persistor's time.

    :raises ValueError: when ``text`` has another form.
    """
    if (len(text) != 20 or text[4] != '-' or text[7] != '-'
            or text[10] != 'T' or text[13] != ':' or text[16] != ':'
            or text[19] != 'Z' or not (
                text[0:4] + text[5:7] + text[8:10] + text[11:13]
                + text[14:16] + text[17:19]).isdigit()):
        raise ValueError('not YYYY-MM-DDTHH:MM:SSZ: %r' % text)
    try:
        return datetime.datetime(
            int(text[0:4]), int(text[5:7]), int(text[8:10]),
            int(text[11:13]), int(text[14:16]), int(text[17:19]))
    except ValueError:
        raise ValueError('not YYYY-MM-DDTHH:MM:SSZ: %r' % text) from None


def _check_position_part(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError('%s must be an integer >= 0, got %r'
                         % (name, value))


class EventLog(abc.ABC):
    """Where the active graph's handled events are kept, in order."""

    @abc.abstractmethod
    def append(self, term: int, events: Sequence[EventRecord]) -> int:
        """Store ``events`` of ``term``; a position already held is skipped.

        :param term: the term of the graph that handled them.
        :param events: the events, in any order.
        :returns: how many events were new.
        :raises ValueError: when ``term`` is not an integer >= 0.
        :raises oslo_db.exception.DBError: on a database error (nothing
            of this call is stored).
        """

    @abc.abstractmethod
    def read_after(self, position: Position,
                   limit: int | None = None) -> list[LoggedEvent]:
        """The events after ``position`` (excluded), by ``(term, seq)``.

        :param position: ``(term, seq)``; ``(0, -1)`` reads from the start.
        :param limit: at most this many events; None for all.
        :raises ValueError: when ``limit`` is < 1.
        """

    @abc.abstractmethod
    def last_position(self) -> Position | None:
        """The greatest ``(term, seq)`` stored; None when empty."""


def _check_limit(limit: int | None) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError('limit must be an integer >= 1 or None, got %r'
                         % (limit,))


class MemoryEventLog(EventLog):
    """The in-memory twin of :class:`SqlEventLog`, for tests and dry runs.

    Thread-safe; forgets everything when the process ends.
    """

    def __init__(self) -> None:
        self._events: dict[Position, LoggedEvent] = {}
        self._lock = threading.Lock()

    def append(self, term: int, events: Sequence[EventRecord]) -> int:
        _check_position_part('term', term)
        new = 0
        with self._lock:
            for record in events:
                position = (term, record.seq)
                if position in self._events:
                    continue
                # A copy through JSON, as a database would store it.
                self._events[position] = LoggedEvent(
                    term, record.seq, record.event_type,
                    json.loads(json.dumps(record.event)),
                    record.collector_timestamp)
                new += 1
        return new

    def read_after(self, position: Position,
                   limit: int | None = None) -> list[LoggedEvent]:
        _check_limit(limit)
        after = tuple(position)
        with self._lock:
            found = sorted(p for p in self._events if p > after)
            if limit is not None:
                found = found[:limit]
            return [self._events[p] for p in found]

    def last_position(self) -> Position | None:
        with self._lock:
            return max(self._events) if self._events else None


class SqlEventLog(EventLog):
    """The event log in the ``events`` table (SQLite or MariaDB).

    :param database: the database holding the migrated schema.
    """

    def __init__(self, database: db_connection.Database) -> None:
        self.database = database

    def append(self, term: int, events: Sequence[EventRecord]) -> int:
        _check_position_part('term', term)
        with self.database.begin() as connection:
            return self.insert(connection, term, events)

    def insert(self, connection: sa.Connection, term: int,
               events: Iterable[EventRecord]) -> int:
        """Insert ``events`` inside the caller's transaction.

        :param connection: a connection inside a transaction.
        :param term: the term of the events.
        :param events: the events.
        :returns: how many events were new.
        :raises oslo_db.exception.DBError: on a database error.
        """
        rows = [to_row(term, record) for record in events]
        if not rows:
            return 0
        if not self.database.is_sqlite:
            return _mysql_insert(connection, rows)
        result = connection.execute(
            self.database.insert_ignore(EVENTS), rows)
        return max(result.rowcount, 0)

    def read_after(self, position: Position,
                   limit: int | None = None) -> list[LoggedEvent]:
        _check_limit(limit)
        term, seq = position
        query = (sa.select(EVENTS.c.term, EVENTS.c.seq, EVENTS.c.event_type,
                           EVENTS.c.payload, EVENTS.c.collector_timestamp)
                 .where(sa.or_(EVENTS.c.term > term,
                               sa.and_(EVENTS.c.term == term,
                                       EVENTS.c.seq > seq)))
                 .order_by(EVENTS.c.term, EVENTS.c.seq))
        if limit is not None:
            query = query.limit(limit)
        with self.database.connect() as connection:
            return [from_row(row) for row in connection.execute(query)]

    def last_position(self) -> Position | None:
        query = (sa.select(EVENTS.c.term, EVENTS.c.seq)
                 .order_by(EVENTS.c.term.desc(), EVENTS.c.seq.desc())
                 .limit(1))
        with self.database.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (row.term, row.seq)


def to_row(term: int, record: EventRecord) -> dict:
    """The ``events`` row of ``record``."""
    stamp = None
    if record.collector_timestamp is not None:
        stamp = sample_to_datetime(record.collector_timestamp)
    return {'term': term, 'seq': record.seq,
            'event_type': record.event_type,
            'collector_timestamp': stamp,
            'payload': json.dumps(record.event, separators=(',', ':'),
                                  ensure_ascii=True)}


# MariaDB fast path. PyMySQL's generic escaping was two thirds of the
# persistor's time; the values here need little: integers, a validated
# timestamp, a short validated event type and compact JSON, which
# json.dumps keeps ASCII with every control character escaped, so only
# backslashes and quotes need escaping. INSERT IGNORE skips duplicated
# positions (its affected-rows count is the number of new rows; that of
# ON DUPLICATE KEY UPDATE is not, under SQLAlchemy's CLIENT_FOUND_ROWS);
# the checks below keep it from ignoring anything else.
_MYSQL_INSERT = ('INSERT IGNORE INTO events (term, seq, collector_timestamp, '
                 'event_type, payload) VALUES ')
_MYSQL_STATEMENT_BYTES = 4 * 1024 * 1024
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024 - 1
MAX_POSITION = 2 ** 63 - 1


def _mysql_literal(text: str) -> str:
    return "'%s'" % text.replace('\\', '\\\\').replace("'", "\\'")


def _mysql_values(row: dict) -> str:
    if row['term'] > MAX_POSITION or row['seq'] > MAX_POSITION:
        raise db_exc.DBDataError(ValueError(
            'position (%d, %d) beyond BIGINT' % (row['term'], row['seq'])))
    payload = row['payload']
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise db_exc.DBDataError(ValueError(
            'event (%d, %d) is %d bytes of JSON, more than %d'
            % (row['term'], row['seq'], len(payload), MAX_PAYLOAD_BYTES)))
    stamp = row['collector_timestamp']
    return '(%d,%d,%s,%s,%s)' % (
        row['term'], row['seq'],
        'NULL' if stamp is None else stamp.strftime("'%Y-%m-%d %H:%M:%S'"),
        "'%s'" % converters.escape_string(row['event_type']),
        _mysql_literal(payload))


def _mysql_insert(connection: sa.Connection, rows: list[dict]) -> int:
    raw = connection.execution_options(no_parameters=True)
    new = 0
    values: list[str] = []
    size = 0
    for row in rows:
        value = _mysql_values(row)
        if values and size + len(value) > _MYSQL_STATEMENT_BYTES:
            new += raw.exec_driver_sql(
                _MYSQL_INSERT + ','.join(values)).rowcount
            values, size = [], 0
        values.append(value)
        size += len(value) + 1
    if values:
        new += raw.exec_driver_sql(_MYSQL_INSERT + ','.join(values)).rowcount
    return new


def from_row(row: sa.Row) -> LoggedEvent:
    stamp: datetime.datetime | None = row.collector_timestamp
    return LoggedEvent(
        row.term, row.seq, row.event_type, json.loads(row.payload),
        None if stamp is None else stamp.strftime(timeutils.SAMPLE_FORMAT))


def get_event_log(url: str) -> EventLog:
    """The event log at ``url``: ``memory://`` or a database URL.

    :param url: ``memory://``, ``sqlite:///...`` or ``mysql+pymysql://...``.
    :raises vitrage.common.exceptions.ConfigError: on another scheme.
    """
    if url.startswith('memory://'):
        return MemoryEventLog()
    return SqlEventLog(db_connection.Database(url))
