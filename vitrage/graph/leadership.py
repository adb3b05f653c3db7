"""One active vitrage-graph: its term, lease, broker lock and watchdog.

A graph waits as a standby until it takes a *term* in the database
(:class:`vitrage.storage.terms.TermStore`): when the current holder's
lease ran out, when the holder's broker lock vanished (it died:
:mod:`vitrage.graph.liveness`), or when the holder is a process of this
host that no longer exists (a graph restarted alone after a kill, as
systemd's ``Restart=always`` does, takes over at once instead of waiting
out the lease of its own dead predecessor). Taking the term seals the
previous one: the persistor refuses its events from then on.

While active, the graph renews its lease every ``heartbeat_interval``
seconds. The heartbeat is also a watchdog: a graph whose processing
thread has been inside one piece of work for more than ``[entity_graph]
stall_timeout`` seconds (a stall) stops renewing and drops its broker
lock, so a standby takes over at once; a graph whose heartbeat thread
itself cannot run (a stall that holds the interpreter) stops renewing
too and is replaced when its lease runs out; in ``vitrage-graph`` its
cotyledon master, which such a stall does not reach, kills it first
(:class:`StallWatchdog`), so that its broker lock and its consumers go
at once. Before it handles or hands off anything, the graph checks that
its own lease is still running (:meth:`Leadership.holds`): a graph that
wakes after its lease ran out stops without handling or writing anything
more.
"""
from collections.abc import Callable
import multiprocessing
import os
import signal
import threading
import time

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log

from vitrage.graph import liveness

LOG = log.getLogger(__name__)


def holder_name(host: str) -> str:
    """The holder name of this process: ``<host>:<pid>``."""
    return '%s:%d' % (host, os.getpid())


def local_holder_gone(holder: str | None, host: str) -> bool:
    """Whether ``holder`` names a process of this host that has exited.

    :param holder: a holder name, ``<host>:<pid>``.
    :param host: this host's ``[DEFAULT] host``.
    """
    if not holder or ':' not in holder:
        return False
    holder_host, _sep, pid_text = holder.rpartition(':')
    if holder_host != host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False    # it exists, under another user
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process that its parent has not reaped yet."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (OSError, IndexError):
        return False


class Leadership:
    """The term of one graph process.

    :param conf: the configuration (``[entity_graph]``, ``[persistency]``).
    :param database: the database of the term row.
    :param stopping: set when the service stops.
    :param on_lost: called once when the term is lost (stop processing).
    :param holder: the holder name (default: :func:`holder_name`).
    """

    def __init__(self, conf: cfg.ConfigOpts, database,
                 stopping: threading.Event,
                 on_lost: Callable[[int], None],
                 holder: str | None = None) -> None:
        from vitrage.storage import terms
        self.conf = conf
        self.options = conf.entity_graph
        self.terms = terms.TermStore(database)
        self.holder = holder or holder_name(conf.host)
        self.term: int | None = None
        self.lost = threading.Event()
        self._stopping = stopping
        self._on_lost = on_lost
        self.broker_lock: liveness.BrokerLock | None = None
        #: time.monotonic() of the last renewal of the lease.
        self.renewed_at = float('-inf')

    # -- standby ------------------------------------------------------
    def construct_broker_lock(self) -> liveness.BrokerLock | None:
        """The active graph's lock queue on RabbitMQ, or None (disabled,
        or not RabbitMQ).
        """
        if not self.options.broker_lock:
            return None
        url = liveness.broker_urls(self.conf)
        if url is None:
            return None
        return liveness.BrokerLock(url, self.options.topic + '.active_graph')

    def _watch_holder(self, seen: tuple[int, str] | None
                      ) -> tuple[int | None, tuple[int, str] | None]:
        """One look of a standby at the broker lock.

        :param seen: the (term, holder) last seen holding the lock.
        :returns: (a term taken over, or None; the new ``seen``).
        """
        current, holder, _beat = self.terms.holder()
        state = self.broker_lock.probe()
        if state == liveness.UNKNOWN:
            # The broker restarted, or cannot be reached: what was seen
            # held says nothing about the holder any more.
            return None, None
        if state == liveness.HELD:
            return None, (current, holder) if holder else seen
        if state == liveness.FREE and holder and seen == (current, holder):
            term = self.terms.take_over(self.holder, current, holder)
            if term is not None:
                LOG.info('graph %s takes over term %d: the broker lock of '
                         '%s (term %d) is gone', self.holder, term, holder,
                         current)
            return term, seen
        return None, seen

    def _take_from_dead_local_holder(self) -> int | None:
        """Take over at once from a holder process of this host that no
        longer exists (no need to wait out its lease).
        """
        current, holder, _beat = self.terms.holder()
        if not local_holder_gone(holder, self.conf.host):
            return None
        term = self.terms.take_over(self.holder, current, holder)
        if term is not None:
            LOG.info('graph %s takes over term %d: its holder %s, a '
                     'process of this host, is gone', self.holder, term,
                     holder)
        return term

    def acquire(self, while_waiting: Callable[[], None]) -> int | None:
        """Wait as a standby until this graph holds a new term.

        :param while_waiting: called between two looks (the hot standby
            follows the log there).
        :returns: the term, or None when stopped.
        """
        announced = False
        if self.broker_lock is None:
            self.broker_lock = self.construct_broker_lock()
        interval = self.options.heartbeat_interval
        if self.broker_lock is not None:
            interval = min(interval, self.options.takeover_check_interval)
        seen = None
        while not self._stopping.is_set():
            try:
                term = self.terms.acquire(self.holder,
                                          self.options.lease_time)
                if term is None:
                    term = self._take_from_dead_local_holder()
                if term is None and self.broker_lock is not None:
                    term, seen = self._watch_holder(seen)
            except db_exc.DBError as exc:
                LOG.warning('cannot reach the database to take a term: %s',
                            exc)
                term = None
            if term is not None:
                LOG.info('graph %s is active in term %d', self.holder, term)
                self.term = term
                self.renewed_at = time.monotonic()
                if self.broker_lock is not None:
                    self.broker_lock.hold()
                return term
            if not announced:
                try:
                    current, holder, _beat = self.terms.holder()
                except db_exc.DBError:
                    current, holder = '?', '?'
                LOG.info('graph %s is a %s standby: term %s is held by %s',
                         self.holder, self.conf.persistency.standby_mode,
                         current, holder)
                announced = True
            while_waiting()
            self._stopping.wait(interval)
        return None

    # -- active -------------------------------------------------------
    def holds(self) -> bool:
        """Whether this graph still holds its term by its own clock: its
        lease was renewed less than ``lease_time`` ago and not lost.
        A graph that wakes from a stall finds this False before it
        handles or hands off anything.
        """
        if self.term is None or self.lost.is_set():
            return False
        return time.monotonic() - self.renewed_at < self.options.lease_time

    def heartbeat_loop(self, busy_for: Callable[[], float]) -> None:
        """Renew the lease every ``heartbeat_interval`` seconds until the
        term is lost or the service stops (runs on its own thread).

        :param busy_for: seconds the processing thread has been inside
            its current piece of work (0 when idle).
        """
        term = self.term
        options = self.options
        while not self._stopping.wait(options.heartbeat_interval):
            stuck = busy_for()
            if stuck > options.stall_timeout:
                LOG.error('graph %s has been stuck in one piece of work '
                          'for %.1fs (more than stall_timeout %.1fs): it '
                          'gives term %d up', self.holder, stuck,
                          options.stall_timeout, term)
                self.lose(term)
                return
            try:
                held = self.terms.heartbeat(term, self.holder)
            except db_exc.DBError as exc:
                LOG.warning('heartbeat of term %d failed: %s', term, exc)
                held = None
            if held:
                self.renewed_at = time.monotonic()
                if self.broker_lock is not None:
                    # Not held yet when the broker was down at takeover,
                    # or a graph that lost its term still held it.
                    self.broker_lock.hold()
                continue
            if held is False or \
                    time.monotonic() - self.renewed_at > options.lease_time:
                self.lose(term)
                return

    def lose(self, term: int) -> None:
        """Stop at once: the term was taken over, expired, or given up.
        The broker lock goes first, so a standby can take over now.
        """
        if self.lost.is_set():
            return
        LOG.error('graph %s lost term %d: it stops processing events',
                  self.holder, term)
        self.lost.set()
        if self.broker_lock is not None:
            self.broker_lock.release()
        self._on_lost(term)

    def close(self) -> None:
        """Close the broker lock's connections (last: a standby takes
        over as soon as it is gone).
        """
        if self.broker_lock is not None:
            self.broker_lock.close()
            self.broker_lock = None


class StallWatchdog:
    """The master process's watch over its active graph worker.

    The worker calls :meth:`beat` every second from a thread of its own
    while it is active and its processing thread is not stuck
    (:meth:`run_beats`); the master kills a worker whose beats stopped
    for ``timeout`` seconds (:meth:`watch`): a worker whose interpreter
    is held by one call (a regex that backtracks for minutes) cannot
    give its term up itself, but its death closes its broker lock and its
    consumers, so a standby takes over at once and no message waits on
    it. cotyledon then starts a new worker, which waits as a standby.

    The shared values are made before the fork (shared memory, no lock:
    one writer each); ``time.monotonic`` is the same clock in both.

    :param timeout: seconds without a beat after which the worker dies.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._beat = multiprocessing.Value('d', 0.0, lock=False)
        self._pid = multiprocessing.Value('i', 0, lock=False)

    # -- worker side --------------------------------------------------
    def beat(self) -> None:
        """The active worker is alive and not stuck."""
        self._pid.value = os.getpid()
        self._beat.value = time.monotonic()

    def rest(self) -> None:
        """The worker is not active (a standby): nothing to watch."""
        self._beat.value = 0.0

    def run_beats(self, active: Callable[[], bool],
                  busy_for: Callable[[], float],
                  stopping: threading.Event) -> None:
        """Beat every second while ``active()`` and the processing thread
        has not been inside one piece of work for ``timeout`` seconds.
        """
        while not stopping.wait(1.0):
            if not active():
                self.rest()
            elif busy_for() <= self.timeout:
                self.beat()

    # -- master side --------------------------------------------------
    def check(self) -> int | None:
        """Kill the worker if its beats stopped.

        :returns: the pid killed, or None.
        """
        beat, pid = self._beat.value, self._pid.value
        if not beat or not pid or time.monotonic() - beat <= self.timeout:
            return None
        self._beat.value = 0.0
        LOG.error('graph worker %d gave no sign of life for %.1fs (more '
                  'than %.1fs): it is stalled; killing it so that a '
                  'standby takes over', pid, time.monotonic() - beat,
                  self.timeout)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return pid

    def watch(self, interval: float = 1.0) -> threading.Thread:
        """Check every ``interval`` seconds, on a daemon thread of the
        master process.
        """
        def loop() -> None:
            while True:
                time.sleep(interval)
                self.check()

        thread = threading.Thread(target=loop, name='graph-stall-watchdog',
                                  daemon=True)
        thread.start()
        return thread
