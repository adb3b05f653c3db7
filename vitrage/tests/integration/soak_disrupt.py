"""The soak's disruptions: kills and restarts at seeded moments.

:func:`plan` draws the moments; :class:`Disruptor` runs them one at a
time against a :class:`~vitrage.tests.integration.soak.SoakCluster`:
SIGKILL of the active graph's whole process group (master and worker;
the holder of ``graph_term``), followed at once by a new
``vitrage-graph`` process, as systemd's ``Restart=always`` does (it
comes back as a standby); kill -9 of the persistor and of a collector
(each restarted); a restart of the private RabbitMQ and of the private
MariaDB. After a graph kill, ``GET /v1/status/`` is polled every
:data:`STATUS_POLL` s until it answers 200: that is the *API gap* of the
kill; each disruption waits until the API serves again before the next.
When slow recoveries make the plan slip, a graph kill late by more than
the shortest kill interval is skipped (and counted), so that kills do
not bunch up and the one-off disruptions still come under load.
"""
import dataclasses
import random
import signal
import threading
import time
import typing
from typing import Any

STATUS_POLL = 0.15

if typing.TYPE_CHECKING:
    from vitrage.tests.integration.soak import SoakCluster


@dataclasses.dataclass
class Disruption:
    """One kill or restart and what followed."""

    action: str
    #: Seconds after the load started.
    at: float
    #: Seconds from the kill until ``/v1/status/`` answered 200.
    gap: float | None = None
    old_term: int | None = None
    new_term: int | None = None
    #: ``time.monotonic()`` bounds of a server outage.
    down_from: float = 0.0
    down_until: float = 0.0
    error: str = ''


GRAPH = 'kill -9 active graph'
PERSISTOR = 'kill -9 persistor'
COLLECTOR = 'kill -9 collector'
RABBIT = 'restart RabbitMQ'
MARIADB = 'restart MariaDB'


def plan(seed: int, seconds: float, graph_every: tuple[float, float],
         others: list[str]) -> list[tuple[float, str]]:
    """The moments (seconds after the load starts) of the disruptions.

    Graph kills every ``graph_every`` seconds (uniform); each of
    ``others`` once at a uniform moment; none in the last 10 s.

    :raises ValueError: on a ``graph_every`` that is not ``(min, max)``
        with ``0 < min <= max``, or an unknown action in ``others``.
    """
    low, high = graph_every
    if not 0 < low <= high:
        raise ValueError('graph_every must be (min, max) seconds with '
                         '0 < min <= max, got %r' % (graph_every,))
    unknown = set(others) - {PERSISTOR, COLLECTOR, RABBIT, MARIADB}
    if unknown:
        raise ValueError('unknown disruptions %s (known: %r, %r, %r, %r)'
                         % (sorted(unknown), PERSISTOR, COLLECTOR, RABBIT,
                            MARIADB))
    rng = random.Random(seed)
    moments = []
    at = rng.uniform(*graph_every)
    while at < seconds - 10:
        moments.append((at, GRAPH))
        at += rng.uniform(*graph_every)
    for action in others:
        moments.append((rng.uniform(5, max(6.0, seconds - 15)), action))
    return sorted(moments)


class Disruptor:
    """Runs a :func:`plan` against a :class:`SoakCluster`, one disruption
    at a time; each waits until the API serves again before the next.

    :param cluster: the deployment.
    :param moments: from :func:`plan`.
    :param rabbit: the private RabbitMQ (``restart``), if any.
    :param mariadb: the private MariaDB (``restart``), if any.
    :param downtime: seconds a restarted server stays down.
    :param recover_timeout: seconds allowed for the API to serve again.
    """

    def __init__(self, cluster: 'SoakCluster',
                 moments: list[tuple[float, str]], rabbit: Any = None,
                 mariadb: Any = None, downtime: float = 2.0,
                 recover_timeout: float = 120,
                 skip_late_kills: float | None = None) -> None:
        """
        :param skip_late_kills: a graph kill due more than this many
            seconds ago (slow recoveries made the plan slip) is skipped
            and counted, so that kills do not bunch up and the one-off
            disruptions still happen under load; None: never skipped.
        """
        self.cluster = cluster
        self.moments = moments
        self.skip_late_kills = skip_late_kills
        #: Graph kills skipped for being late.
        self.skipped = 0
        self.rabbit = rabbit
        self.mariadb = mariadb
        self.downtime = downtime
        self.recover_timeout = recover_timeout
        self.done: list[Disruption] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='soak-disruptor')
        self.started_at = 0.0
        self.failure: BaseException | None = None

    def start(self, started_at: float) -> 'Disruptor':
        self.started_at = started_at
        self._thread.start()
        return self

    def stop(self) -> None:
        """Start no more disruptions; one in progress goes to its end."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def broker_outages(self) -> list[tuple[float, float]]:
        return [(d.down_from, d.down_until) for d in self.done
                if d.action == RABBIT]

    def _run(self) -> None:
        try:
            for at, action in self.moments:
                delay = self.started_at + at - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                if self._stop.is_set():
                    return
                late = time.monotonic() - self.started_at - at
                if action == GRAPH and self.skip_late_kills is not None \
                        and late > self.skip_late_kills:
                    self.skipped += 1
                    continue
                record = Disruption(action, time.monotonic() -
                                    self.started_at)
                self.done.append(record)
                try:
                    self._do(record)
                except Exception as exc:  # recorded; the run goes on
                    record.error = '%s: %s' % (type(exc).__name__, exc)
        except BaseException as exc:  # reported by the caller
            self.failure = exc

    def _wait_serving(self, since: float) -> float | None:
        """Poll the status until 200; seconds since ``since``."""
        # Not cut short by stop(): a disruption in progress is measured
        # to its end.
        deadline = time.monotonic() + self.recover_timeout
        while time.monotonic() < deadline:
            if self.cluster.status(timeout=5) == 200:
                return time.monotonic() - since
            time.sleep(STATUS_POLL)
        return None

    def _do(self, record: Disruption) -> None:
        cluster = self.cluster
        if record.action == GRAPH:
            term, _holder, active = cluster.active_graph()
            record.old_term = term
            killed_at = time.monotonic()
            cluster.kill_group(active)
            cluster.start_graph()      # Restart=always: back as a standby
            record.gap = self._wait_serving(killed_at)
            found = cluster.holder()
            record.new_term = found[0] if found else None
        elif record.action == PERSISTOR:
            cluster.kill_group(cluster.persistor)
            cluster.start_persistor()
        elif record.action == COLLECTOR:
            cluster.kill_group(cluster.collectors[0])
            cluster.start_collector()
        elif record.action in (RABBIT, MARIADB):
            server = self.rabbit if record.action == RABBIT else self.mariadb
            if server is None:
                record.error = 'no private server to restart'
                return
            record.down_from = time.monotonic()
            server.restart(signal.SIGTERM, downtime=self.downtime)
            record.down_until = time.monotonic()
            record.gap = self._wait_serving(record.down_from)
        else:
            raise ValueError('unknown disruption %r' % record.action)
        if record.action != GRAPH:
            self._wait_serving(time.monotonic())
