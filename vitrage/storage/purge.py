"""Retention: what recovery and the history window no longer need.

* Graph snapshots beyond the newest ``[persistency] snapshots_to_keep``
  complete ones (:meth:`vitrage.storage.snapshots.SnapshotStore.prune`).
* Events at or before the position of the oldest complete snapshot kept
  (that snapshot holds them); with no snapshot, no event is deleted.
* Ended alarms and causal edges, alarm changes and barriers older than
  ``[persistency] alarm_history_ttl`` days. Live alarms and edges stay.

Run by ``vitrage-purge-data`` and periodically by the persistor. Deletes go
in chunks so that no single transaction grows with the table.
"""
import dataclasses
import datetime

from oslo_log import log
import sqlalchemy as sa

from vitrage.storage import connection as db_connection
from vitrage.storage import models
from vitrage.storage import snapshots

LOG = log.getLogger(__name__)

EVENTS = models.Event.__table__
ALARMS = models.Alarm.__table__
EDGES = models.Edge.__table__
CHANGES = models.Change.__table__
BARRIERS = models.Barrier.__table__

CHUNK = 10000


@dataclasses.dataclass
class PurgeResult:
    """How many rows of each kind a purge deleted (snapshots: how many
    snapshots, whatever their number of chunks).
    """

    snapshots: int = 0
    events: int = 0
    alarms: int = 0
    edges: int = 0
    changes: int = 0
    barriers: int = 0


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _delete_chunked(database: db_connection.Database, key: sa.Column,
                    condition: sa.ColumnElement) -> int:
    table = key.table
    deleted = 0
    while True:
        with database.begin() as connection:
            ids = connection.execute(
                sa.select(key).where(condition).limit(CHUNK)).scalars().all()
            if not ids:
                return deleted
            connection.execute(table.delete().where(key.in_(ids)))
            deleted += len(ids)
        if len(ids) < CHUNK:
            return deleted


def purge_snapshots(database: db_connection.Database,
                    snapshots_to_keep: int) -> tuple[int, tuple | None]:
    """Delete all but the newest ``snapshots_to_keep`` complete snapshots
    (:meth:`vitrage.storage.snapshots.SnapshotStore.prune`).

    :returns: how many snapshots were deleted and the ``(term, seq)`` of
        the oldest complete snapshot left (None when there is none).
    :raises ValueError: when ``snapshots_to_keep`` < 1.
    """
    store = snapshots.SnapshotStore(database)
    deleted = store.prune(snapshots_to_keep)
    kept = store.list_complete()
    # The oldest snapshot left bounds the events still needed to replay.
    return deleted, kept[-1].position if kept else None


def purge_events(database: db_connection.Database,
                 up_to: tuple[int, int]) -> int:
    """Delete the events at or before position ``up_to``.

    :param up_to: ``(term, seq)``, usually the oldest kept snapshot's.
    :returns: how many events were deleted.
    """
    term, seq = up_to
    condition = sa.or_(EVENTS.c.term < term,
                       sa.and_(EVENTS.c.term == term, EVENTS.c.seq <= seq))
    return _delete_chunked(database, EVENTS.c.id, condition)


def purge_history(database: db_connection.Database,
                  before: datetime.datetime) -> PurgeResult:
    """Delete history that ended before ``before`` (naive UTC).

    :param before: the oldest time kept.
    """
    result = PurgeResult()
    result.alarms = _delete_chunked(
        database, ALARMS.c.id, sa.and_(ALARMS.c.end_timestamp.is_not(None),
                                       ALARMS.c.end_timestamp < before))
    result.edges = _delete_chunked(
        database, EDGES.c.id, sa.and_(EDGES.c.end_timestamp.is_not(None),
                                      EDGES.c.end_timestamp < before))
    result.changes = _delete_chunked(database, CHANGES.c.id,
                                     CHANGES.c.timestamp < before)
    result.barriers = _delete_chunked(database, BARRIERS.c.barrier_id,
                                      BARRIERS.c.written_at < before)
    return result


def purge(database: db_connection.Database, snapshots_to_keep: int,
          alarm_history_ttl_days: int,
          now: datetime.datetime | None = None) -> PurgeResult:
    """Run every retention rule once.

    :param database: the database holding the migrated schema.
    :param snapshots_to_keep: the newest snapshots kept.
    :param alarm_history_ttl_days: days of ended history kept.
    :param now: the current naive UTC time (tests pass one).
    :raises ValueError: on a bad count or number of days.
    :raises oslo_db.exception.DBError: on a database error.
    """
    if alarm_history_ttl_days < 1:
        raise ValueError('alarm_history_ttl must be >= 1 day, got %r'
                         % alarm_history_ttl_days)
    now = now or _now()
    # Snapshots first: a bad count is refused before anything is deleted.
    snapshots_deleted, oldest = purge_snapshots(database, snapshots_to_keep)
    result = purge_history(
        database, now - datetime.timedelta(days=alarm_history_ttl_days))
    result.snapshots = snapshots_deleted
    if oldest is not None:
        result.events = purge_events(database, oldest)
    LOG.info('purge deleted %s', dataclasses.asdict(result))
    return result


def purge_from_conf(database: db_connection.Database, conf) -> PurgeResult:
    """:func:`purge` with the ``[persistency]`` options of ``conf``."""
    return purge(database, conf.persistency.snapshots_to_keep,
                 conf.persistency.alarm_history_ttl)
