"""A graph's recovery: snapshots, replay of the log, the hot standby.

With persistency on, a graph that becomes active always restores (HA
contract, promise 4b): it loads the latest snapshot, however old, and
applies the events logged after it in ``(term, seq)`` order with the
evaluator quiet; with no snapshot it applies the whole log to an empty
graph. Only an empty log (a new deployment) means a fresh start with
get_all. Taking the term sealed the previous one, so the log it reads is
final: nothing of an earlier term is written after that, and nothing
needs waiting for. The pull datasources are reconciled with a get_all
afterwards (:mod:`vitrage.graph.polling`); push-only alarms live on from
the log.

A hot standby (``[persistency] standby_mode = hot``) does the same while
it waits, and then follows the log as it grows, so that taking over
costs only the tail.
"""
import ctypes
import ctypes.util
import gc
import time

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log

from vitrage.common import exceptions

LOG = log.getLogger(__name__)

#: Young-generation threshold of the cyclic garbage collector. The
#: default (700) makes collections run every few events while a large
#: graph loads, which halves the processor's rate at 100k vertices.
GC_THRESHOLD = (50000, 20, 100)


def tune_gc() -> None:
    """Collect less often: the graph is millions of long-lived dicts."""
    gc.set_threshold(*GC_THRESHOLD)


def freeze_graph_memory() -> None:
    """Move what exists now (the loaded graph) out of the collector's
    sight, so later collections do not traverse it again and again, and
    give the C heap's free pages (decoded messages) back to the system.
    """
    gc.collect()
    gc.freeze()
    _malloc_trim()


def _malloc_trim() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass    # not glibc: nothing to give back this way


#: The position before every logged event.
START = (0, 0)
#: Logged events read at once while replaying.
REPLAY_BATCH = 10000
#: Tries of a restore whose database fails before a fresh start.
RESTORE_ATTEMPTS = 8


class Recovery:
    """Snapshots and replay of one graph service.

    :param conf: the configuration (``[persistency]``).
    :param service: the :class:`vitrage.graph.service.GraphService` (its
        lock, graph, processor, evaluator, history and database).
    """

    def __init__(self, conf: cfg.ConfigOpts, service) -> None:
        self.conf = conf
        self.service = service
        #: Hot standby: the log position the graph has followed to.
        self.followed: tuple[int, int] | None = None
        self.snapshot_mark = (0, time.monotonic())

    # -- snapshots ----------------------------------------------------
    def take_snapshot(self) -> str | None:
        """Store a snapshot of the graph and the position it includes.

        The graph lock is held only while the snapshot is forked off
        (:func:`vitrage.graph.snapshot.capture`), so processing goes on.

        :returns: the snapshot id; None when it could not be stored.
        """
        from vitrage.graph import snapshot
        from vitrage.storage import snapshots
        service = self.service
        handoff = service.handoff
        if handoff is None or not service.accepting():
            # Only the holder of the current term stores snapshots.
            return None

        class PositionLock:
            """The graph lock, noting the position the capture includes."""

            position = (handoff.term, 0)

            def __enter__(self):
                service.lock.acquire()
                PositionLock.position = (handoff.term, handoff.seq)

            def __exit__(self, *exc_info):
                service.lock.release()

        try:
            data = snapshot.capture(service.graph, PositionLock())
            store = snapshots.SnapshotStore(service.database)
            term, seq = PositionLock.position
            snapshot_id = store.save(term, seq, data)
            store.prune(self.conf.persistency.snapshots_to_keep)
        except (snapshot.SnapshotError, db_exc.DBError) as exc:
            LOG.error('graph snapshot failed: %s', exc)
            return None
        self.snapshot_mark = (service.processor.stats['events'],
                              time.monotonic())
        LOG.info('snapshot %s at (%d, %d): %d vertices, %d bytes',
                 snapshot_id, term, seq, service.graph.num_vertices(),
                 len(data))
        return snapshot_id

    def snapshot_due(self) -> bool:
        """The policy between get_alls: enough events or enough time."""
        events, since = self.snapshot_mark
        new_events = self.service.processor.stats['events'] - events
        options = self.conf.persistency
        return new_events > 0 and (
            new_events >= options.snapshot_events or
            time.monotonic() - since >= options.snapshot_interval / 2)

    def load_latest_snapshot(self) -> tuple[int, int] | None:
        """Swap in the latest snapshot, however old.

        :returns: the position it includes, or None (no snapshot yet).
        :raises vitrage.graph.snapshot.SnapshotError: on unreadable data.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        from vitrage.graph import snapshot
        from vitrage.storage import snapshots
        service = self.service
        store = snapshots.SnapshotStore(service.database)
        info = store.latest()
        if info is None:
            LOG.info('no graph snapshot yet')
            return None
        age = (snapshots._now() - info.taken_at).total_seconds()
        graph = snapshot.load(store.read(info.snapshot_id))
        service.swap_graph(graph)
        # The loaded graph lives as long as the process: out of the
        # collector's sight at once (a full collection of 100k vertices
        # costs 0.3 s, at takeover or whenever it comes).
        gc.freeze()
        LOG.info('loaded snapshot %s at %s, %.0fs old: %d vertices',
                 info.snapshot_id, info.position, age, graph.num_vertices())
        return info.position

    def _fresh_start(self, exc: Exception) -> bool:
        LOG.error('cannot restore from the snapshot and the log: %s; a '
                  'fresh start with get_all', exc)
        self.followed = None
        self.service.swap_graph(self.service.construct_graph())
        return False

    # -- the log ------------------------------------------------------
    def replay_after(self, position: tuple[int, int]
                     ) -> tuple[tuple[int, int], int]:
        """Apply the logged events after ``position``, in (term, seq)
        order, with no hand-off (they are logged already).

        :returns: the last position applied and how many events.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        from vitrage.storage import eventlog
        service = self.service
        log_ = eventlog.SqlEventLog(service.database)
        replayed = 0
        while True:
            batch = log_.read_after(position, REPLAY_BATCH)
            if not batch:
                return position, replayed
            with service.lock:
                for logged in batch:
                    try:
                        service.processor.process_event(logged.event)
                    except exceptions.MalformedEvent as exc:
                        LOG.error('skipping logged event %s: %s',
                                  logged.position, exc)
                    replayed += 1
                # Replayed changes are history already recorded.
                service.history.take()
            position = batch[-1].position

    def _start_position(self) -> tuple[int, int]:
        """Load the latest snapshot; without one, the whole log applies
        to the empty graph.
        """
        position = self.load_latest_snapshot()
        return START if position is None else position

    def follow_log(self) -> None:
        """Hot standby: keep the graph current from the events table.

        The first call loads the latest snapshot; each call then applies
        what was logged since, so taking over costs only the tail.
        """
        from vitrage.graph import snapshot
        try:
            if self.followed is None:
                self.followed = self._start_position()
            self.followed, count = self.replay_after(self.followed)
            if count:
                LOG.debug('hot standby applied %d logged events, now at %s',
                          count, self.followed)
                # What the tail added is collected now, not at takeover.
                freeze_graph_memory()
        except (snapshot.SnapshotError, db_exc.DBError) as exc:
            LOG.warning('hot standby cannot follow the log: %s', exc)
            self.followed = None

    def restore(self) -> bool:
        """Restore the graph from the latest snapshot, however old, and the
        events logged after it (HA contract, promise 4b); a hot standby
        only applies the tail it has not followed yet.

        :returns: True when the graph was restored; False on a fresh
            start (nothing logged yet) or when the log cannot be read
            (then get_all rebuilds the pull datasources' part).
        """
        from vitrage.graph import snapshot
        from vitrage.storage import snapshots
        mode = 'hot standby' if self.followed is not None else 'cold'
        pause = 0.5
        for attempt in range(1, RESTORE_ATTEMPTS + 1):
            try:
                position = self.followed
                if position is None:
                    position = self._start_position()
                start = position
                position, replayed = self.replay_after(position)
                break
            except db_exc.DBError as exc:
                # The term was just taken in this database: it is back
                # soon. A fresh start would lose the push-only alarms.
                LOG.warning('cannot read the snapshot or the log (attempt '
                            '%d of %d): %s', attempt, RESTORE_ATTEMPTS, exc)
                self.followed = None
                if attempt == RESTORE_ATTEMPTS or \
                        self.service.stopping.wait(pause):
                    return self._fresh_start(exc)
                pause = min(pause * 2, 5.0)
            except (snapshot.SnapshotError,
                    snapshots.SnapshotNotFound) as exc:
                return self._fresh_start(exc)
        self.followed = position
        if position == START:
            LOG.info('a fresh start: nothing is logged yet')
            return False
        LOG.info('restored from %s and replayed %d events (%s): %d '
                 'vertices', start, replayed, mode,
                 self.service.graph.num_vertices())
        self.snapshot_mark = (self.service.processor.stats['events'],
                              time.monotonic())
        return True
