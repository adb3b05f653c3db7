"""Graph snapshots in the ``graph_snapshots`` table, in chunks.

A snapshot (the bytes of :func:`vitrage.graph.snapshot.dump`) is split
into chunks of at most ``chunk_size`` bytes, one row each, all sharing a
``snapshot_id`` and written in one transaction, one ``INSERT`` per chunk:
no statement comes near MariaDB's default ``max_allowed_packet`` (16 MiB
on 10.11), whatever the size of the graph. Every row records the chunk
count, so a snapshot missing a chunk is never taken for a complete one.

Snapshots are ordered by the position ``(term, seq)`` of the last event
they hold, then by when they were taken.
"""
from collections.abc import Iterator
import dataclasses
import datetime
import uuid

import sqlalchemy as sa

from vitrage.common import exceptions
from vitrage.graph import snapshot as graph_snapshot
from vitrage.storage import connection as db_connection
from vitrage.storage import models

SNAPSHOTS = models.GraphSnapshot.__table__

DEFAULT_CHUNK_SIZE = 4 << 20
#: A chunk is escaped into its INSERT statement (up to twice its size);
#: the statement must stay below MariaDB's default ``max_allowed_packet``
#: of 16 MiB.
MAX_CHUNK_SIZE = 7 << 20


class SnapshotNotFound(exceptions.NotFound):
    """No complete snapshot has this id."""


@dataclasses.dataclass(frozen=True)
class SnapshotInfo:
    """A complete stored snapshot (without its bytes).

    :param snapshot_id: its id, for :meth:`SnapshotStore.read`.
    :param term: the term of the last event it holds.
    :param seq: the sequence number of that event.
    :param taken_at: when it was taken (naive UTC).
    :param format_version: the snapshot format of its bytes.
    :param chunks: how many rows hold it.
    :param size: its length in bytes.
    """

    snapshot_id: str
    term: int
    seq: int
    taken_at: datetime.datetime
    format_version: int
    chunks: int
    size: int

    @property
    def position(self) -> tuple[int, int]:
        return self.term, self.seq


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, microsecond=0)


def _check_position_part(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError('%s must be an integer >= 0, got %r'
                         % (name, value))


class SnapshotStore:
    """Saves, finds, reads and prunes graph snapshots.

    :param database: the database holding the migrated schema.
    :param chunk_size: the largest chunk (row) in bytes, 1 to 8 MiB.
    :raises ValueError: on a chunk size out of range.
    """

    def __init__(self, database: db_connection.Database,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                or not 1 <= chunk_size <= MAX_CHUNK_SIZE):
            raise ValueError('chunk_size must be an integer from 1 to %d, '
                             'got %r' % (MAX_CHUNK_SIZE, chunk_size))
        self.database = database
        self.chunk_size = chunk_size

    # -- writing ------------------------------------------------------
    def save(self, term: int, seq: int, data: bytes,
             taken_at: datetime.datetime | None = None) -> str:
        """Store a snapshot holding every event up to ``(term, seq)``.

        :param term: the term of the last event the snapshot holds.
        :param seq: its sequence number.
        :param data: the snapshot's bytes (format version in its header).
        :param taken_at: when it was taken, naive UTC (default: now).
        :returns: the new snapshot's id.
        :raises ValueError: on a bad position or timestamp.
        :raises vitrage.graph.snapshot.SnapshotFormatError: when ``data``
            has no snapshot header.
        :raises oslo_db.exception.DBError: on a database error (no row of
            the snapshot is stored then).
        """
        _check_position_part('term', term)
        _check_position_part('seq', seq)
        header = graph_snapshot.read_header(data)
        if taken_at is None:
            taken_at = _now()
        elif not isinstance(taken_at, datetime.datetime):
            raise ValueError('taken_at must be a datetime, got %r'
                             % (taken_at,))
        elif taken_at.tzinfo is not None:
            taken_at = taken_at.astimezone(
                datetime.timezone.utc).replace(tzinfo=None)
        view = memoryview(data)
        size = self.chunk_size
        count = max(1, -(-len(view) // size))
        snapshot_id = str(uuid.uuid4())
        with self.database.begin() as connection:
            # One statement per chunk keeps every packet below the
            # server's limit; one transaction keeps the snapshot whole.
            for number in range(count):
                connection.execute(SNAPSHOTS.insert().values(
                    snapshot_id=snapshot_id, term=term, seq=seq,
                    taken_at=taken_at, format_version=header.version,
                    chunk=number, chunks=count,
                    data=bytes(view[number * size:(number + 1) * size])))
        return snapshot_id

    # -- finding ------------------------------------------------------
    def _complete(self) -> sa.Select:
        c = SNAPSHOTS.c
        return (sa.select(c.snapshot_id, c.term, c.seq,
                          sa.func.max(c.taken_at).label('taken_at'),
                          sa.func.max(c.format_version).label('version'),
                          sa.func.max(c.chunks).label('chunks'),
                          sa.func.sum(sa.func.length(c.data)).label('size'))
                .group_by(c.snapshot_id, c.term, c.seq)
                .having(sa.func.count(c.chunk) == sa.func.max(c.chunks))
                .having(sa.func.min(c.chunks) == sa.func.max(c.chunks))
                .order_by(c.term.desc(), c.seq.desc(),
                          sa.desc('taken_at'), c.snapshot_id.desc()))

    @staticmethod
    def _info(row) -> SnapshotInfo:
        return SnapshotInfo(row.snapshot_id, row.term, row.seq,
                            row.taken_at, row.version, row.chunks,
                            int(row.size or 0))

    def list_complete(self) -> list[SnapshotInfo]:
        """Every complete snapshot, the newest first."""
        with self.database.connect() as connection:
            return [self._info(row)
                    for row in connection.execute(self._complete())]

    def latest(self, before: datetime.datetime | None = None
               ) -> SnapshotInfo | None:
        """The newest complete snapshot, or None.

        :param before: only snapshots taken at or before this time
            (naive UTC), e.g. to rebuild the graph of a past moment.
        """
        query = self._complete()
        if before is not None:
            query = query.where(SNAPSHOTS.c.taken_at <= before)
        with self.database.connect() as connection:
            row = connection.execute(query.limit(1)).first()
        return None if row is None else self._info(row)

    # -- reading ------------------------------------------------------
    def _chunks(self, snapshot_id: str) -> Iterator[sa.Row]:
        c = SNAPSHOTS.c
        with self.database.connect() as connection:
            yield from connection.execute(
                sa.select(c.chunk, c.chunks, c.data)
                .where(c.snapshot_id == snapshot_id).order_by(c.chunk))

    def read(self, snapshot_id: str) -> bytes:
        """The bytes of a complete snapshot.

        :param snapshot_id: an id from :meth:`save` or :meth:`latest`.
        :raises SnapshotNotFound: when no snapshot has this id or a chunk
            of it is missing.
        """
        pieces = []
        expected = None
        for row in self._chunks(snapshot_id):
            if expected is None:
                expected = row.chunks
            if row.chunk != len(pieces) or row.chunks != expected:
                break
            pieces.append(row.data)
        if expected is None:
            raise SnapshotNotFound('no graph snapshot %r' % snapshot_id)
        if len(pieces) != expected:
            raise SnapshotNotFound(
                'graph snapshot %r is incomplete: chunk %d of %d missing'
                % (snapshot_id, len(pieces), expected))
        return b''.join(pieces)

    # -- retention ----------------------------------------------------
    def prune(self, keep: int) -> int:
        """Keep the newest ``keep`` complete snapshots, delete older ones.

        An incomplete snapshot older than the oldest one kept is deleted
        too; a newer one is left alone.

        :param keep: how many complete snapshots to keep, >= 1.
        :returns: how many snapshots were deleted.
        :raises ValueError: when ``keep`` < 1.
        """
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError('keep must be an integer >= 1, got %r'
                             % (keep,))
        complete = self.list_complete()
        if len(complete) < keep:
            return 0
        kept = {info.snapshot_id for info in complete[:keep]}
        oldest = complete[keep - 1]
        c = SNAPSHOTS.c
        with self.database.connect() as connection:
            rows = connection.execute(
                sa.select(c.snapshot_id, c.term, c.seq,
                          sa.func.max(c.taken_at).label('taken_at'))
                .group_by(c.snapshot_id, c.term, c.seq)).all()
        # Compared like the ordering of _complete: position, then time.
        doomed = [row.snapshot_id for row in rows
                  if row.snapshot_id not in kept
                  and (row.term, row.seq, row.taken_at) <= (
                      oldest.term, oldest.seq, oldest.taken_at)]
        for snapshot_id in doomed:
            with self.database.begin() as connection:
                connection.execute(SNAPSHOTS.delete().where(
                    c.snapshot_id == snapshot_id))
        return len(doomed)
