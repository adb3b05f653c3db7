"""The soak harness: a whole HA deployment under a steady load of doctor
events, with kills and server restarts, and the checks of the HA
contract at the end (issue 11, item 9).

Used by ``vitrage/tests/integration/test_soak.py`` (a few minutes, in
CI), by ``test_ha_cases.py`` and by ``bench/soak.py`` (the long run).

**The deployment** (:class:`SoakCluster`): RabbitMQ with durable queues
and MariaDB (private servers of the run, so that they can be restarted;
see :mod:`~vitrage.tests.integration.private_servers`), one persistor,
two ``vitrage-graph`` processes (``[persistency] standby_mode = hot``),
two collectors with ``[datasources] types = simulated,doctor``, the API
(noauth), and the sample template ``host_down`` in force (put in the
``[evaluator] templates_dir``, which the first active graph stores).
The simulated cloud is static (no failure schedule): the doctor events
are the load, and a fresh graph can be built from the same inputs.

**The load** (:class:`LoadGenerator`): ``rate`` events per second
through ``POST /v1/event``, host after host, each host alternating
``down`` and ``up``; each event carries ``details.event_id``
``<run>-<n>``, which the graph logs with the entity event (the
``events`` table's JSON payload). An event is *accepted* when the API
answered 2xx and *refused* otherwise (by status; ``None`` when nothing
answered). It stops by itself after ``max_events`` or ``seconds``; then
a final round sends one more event per host, at least 1.1 s after that
host's previous one (doctor times have whole seconds), so that the last
event of each host is unambiguous.

**The disruptions** (:class:`Disruptor`), at seeded random moments, one
at a time: SIGKILL of the active graph's whole process group (master and
worker; the holder of ``graph_term``), followed at once by a new
``vitrage-graph`` process, as systemd's ``Restart=always`` does (it
comes back as a standby); kill -9 of the persistor and of a collector
(each restarted); a restart of the private RabbitMQ and of the private
MariaDB. After a graph kill, ``GET /v1/status/`` is polled every 0.15 s
until it answers 200: that is the *API gap* of the kill. When slow
recoveries make the plan slip, a graph kill late by more than the
shortest kill interval is skipped (and counted), so that kills do not
bunch up and the one-off disruptions still come under load. Events posted
while RabbitMQ is down cannot be accepted by anyone (the bus is the
durable intake); they are counted apart (``refused_broker_down``), from
a second before the broker stops until :data:`BROKER_GRACE` seconds
after it serves again (the API's connection comes back with
oslo.messaging's reconnection back-off).

**Two actives** (:func:`two_actives`): a graph is active while it holds
a term; two actives are seen when either

* two different holders claimed the same term (``graph <holder> is
  active in term <n>`` in the graph logs), or
* the events table has a row of term ``t`` inserted after the first row
  of a later term (its auto-increment id is higher): something of the
  old term was written while, or after, its successor wrote; the
  contract allows neither (the successor restores everything its
  predecessor handed off before it hands off anything itself).

**The final check** (:meth:`SoakCluster.check`), once the load stopped
and the system settled: every accepted event id is in the ``events``
table (``lost`` otherwise; ``duplicates``, allowed, are counted); every
host's alarms, in the graph (topology) and in ``alarm list`` (the
history tables): the doctor alarm is there iff the last accepted event
for the host was ``down``, and the template's ``instance_down`` alarm on
each of its instances likewise; and the final graph (vertex ids, types,
states, edges) equals a fresh graph fed the same final inputs
(:func:`reference_topology`: the simulated cloud's get_all, the ``down``
events that are the last of their host, and the template). The fresh
graph is built from the inputs, not from the events log
(:func:`~vitrage.tests.integration.chaos.log_topology`): a graph equal
to its own log could still have lost what never reached the log.
"""
import collections
from collections.abc import Callable
import concurrent.futures
import contextlib
import dataclasses
import datetime
import json
import pathlib
import random
import re
import signal
import statistics
import threading
import time
from typing import Any
import urllib.error
import urllib.request

from oslo_config import cfg
import psutil

from vitrage.tests import deployment as deploy
from vitrage.tests import helpers
from vitrage.tests.integration import chaos
from vitrage.tests.integration import persistor_procs

#: The sample template put in force.
HOST_DOWN_TEMPLATE = (pathlib.Path(__file__).resolve().parents[3] / 'etc' /
                      'vitrage' / 'templates' / 'host_down.yaml')
DOCTOR_TYPE = 'compute.host.down'
#: The alarm the template deduces on the instances of a host that is down.
DEDUCED_ALARM = 'instance_down'
STATUS_POLL = 0.15
#: Seconds after RabbitMQ serves again during which a refusal still
#: counts as the broker's (the API reconnecting).
BROKER_GRACE = 10.0
#: Seconds between the last event of a host and its final one.
FINAL_SPACING = 1.2
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_CLAIM = re.compile(r'graph (\S+) is active in term (\d+)')
_EVENT_ID = re.compile(r'"event_id":\s*"([^"]+)"')


# -- the deployment ----------------------------------------------------------

def cloud_options(hosts: int, instances_per_host: int) -> dict[str, Any]:
    """``[simulated]`` options of a static cloud of about ``hosts`` hosts
    (two zones when there are more than 10), one network, no volumes.

    :param hosts: the number of hosts wanted (rounded to the zones).
    :param instances_per_host: instances (each with a port) per host.
    :raises ValueError: on fewer than one host or instance.
    """
    if hosts < 1 or instances_per_host < 1:
        raise ValueError('hosts and instances_per_host must be at least 1, '
                         'got %r and %r' % (hosts, instances_per_host))
    zones = 2 if hosts > 10 else 1
    return {'zones': zones, 'hosts_per_zone': max(1, round(hosts / zones)),
            'instances_per_host': instances_per_host, 'networks': 1,
            'volume_ratio': 0, 'seed': 11, 'failure_interval': 0,
            'changes_interval': 10}


def host_names(options: dict[str, Any]) -> list[str]:
    """The host names of the simulated cloud of ``options``."""
    from vitrage.datasources.simulated.cloud import SimulatedCloud
    return [SimulatedCloud.host_name(zone, host)
            for zone in range(options['zones'])
            for host in range(options['hosts_per_zone'])]


def says_standby(log: str) -> bool:
    """Whether a graph's log says it waits as a standby (any line of
    the service's own that mentions it; the command line is left out).
    """
    return any('standby' in line.lower() for line in log.splitlines()
               if not line.startswith('==='))


def request_json(url: str, method: str = 'GET', body: Any = None,
                 timeout: float = 30) -> tuple[int | None, Any]:
    """``(status, parsed JSON body or None)`` of one API request; status
    None when nothing answered within ``timeout``.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers=chaos.HEADERS)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return None, None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


class SoakCluster:
    """The processes of one soak run, on one config file.

    :param deployment: starts and kills the processes.
    :param directory: the config, state and logs directory.
    :param transport_url: the RabbitMQ URL.
    :param db_url: the SQLAlchemy URL of an empty database (migrated
        here by ``vitrage-dbsync``).
    :param hosts: about how many hosts the simulated cloud has.
    :param instances_per_host: instances per host.
    :param graphs: how many ``vitrage-graph`` processes run.
    :param collectors: how many collectors run.
    :param lease: ``[entity_graph] lease_time``.
    :param extra: ``{group: {option: value}}`` merged into the config.
    """

    def __init__(self, deployment: deploy.Deployment,
                 directory: pathlib.Path, transport_url: str, db_url: str,
                 hosts: int = 30, instances_per_host: int = 2,
                 graphs: int = 2, collectors: int = 2, lease: float = 2.0,
                 extra: dict[str, dict[str, Any]] | None = None) -> None:
        self.deployment = deployment
        self.directory = directory
        self.transport_url = transport_url
        self.db_url = db_url
        self.prefix = chaos.unique_prefix('soak')
        self.port = helpers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.cloud = cloud_options(hosts, instances_per_host)
        self.hosts = host_names(self.cloud)
        self.graph_count = graphs
        self.collector_count = collectors
        templates = directory / 'templates'
        templates.mkdir(exist_ok=True)
        (templates / HOST_DOWN_TEMPLATE.name).write_text(
            HOST_DOWN_TEMPLATE.read_text())
        options: dict[str, dict[str, Any]] = {
            'datasources': {'types': 'simulated,doctor',
                            'notification_topics':
                                self.prefix + '_notifications'},
            'simulated': dict(self.cloud),
            'evaluator': {'templates_dir': templates},
            'persistency': {'standby_mode': 'hot', 'stats_interval': 5}}
        for group, values in (extra or {}).items():
            options.setdefault(group, {}).update(values)
        self.config = chaos.write_config(directory, self.prefix,
                                         transport_url, db_url, self.port,
                                         lease=lease, extra=options)
        self.graphs: list[deploy.ServiceProcess] = []
        self.collectors: list[deploy.ServiceProcess] = []
        self.persistor: deploy.ServiceProcess | None = None
        self._starts: collections.Counter = collections.Counter()

    # -- processes -------------------------------------------------------
    def _start(self, kind: str, script_name: str) -> deploy.ServiceProcess:
        self._starts[kind] += 1
        return self.deployment.start('%s-%d' % (kind, self._starts[kind]),
                                     script_name, self.config)

    def start_graph(self) -> deploy.ServiceProcess:
        """Start one more ``vitrage-graph`` process."""
        graph = self._start('graph', 'vitrage-graph')
        self.graphs.append(graph)
        return graph

    def start_collector(self) -> deploy.ServiceProcess:
        collector = self._start('collector', 'vitrage-collector')
        self.collectors.append(collector)
        return collector

    def start_persistor(self) -> deploy.ServiceProcess:
        self.persistor = self._start('persistor', 'vitrage-persistor')
        return self.persistor

    def start(self, timeout: float = 180) -> 'SoakCluster':
        """Migrate the database, start every process and wait until the
        API serves and the other graphs wait as standbys.

        :raises AssertionError: on timeout or when a process exits.
        """
        persistor_procs.dbsync(str(self.config))
        for _ in range(self.collector_count):
            self.start_collector()
        self.start_persistor()
        first = self.start_graph()
        self.deployment.start('api', 'vitrage-api', self.config)
        deploy.wait_for_api(self.url, self.deployment, timeout=timeout)
        deploy.wait_until(lambda: self.resource_count() is not None,
                          timeout, 'the topology', deployment=self.deployment)
        for _ in range(self.graph_count - 1):
            standby = self.start_graph()
            deploy.wait_until(lambda: says_standby(standby.log()), timeout,
                              '%s to wait as a standby' % standby.name,
                              deployment=self.deployment)
        assert first.poll() is None
        return self

    def forget(self, proc: deploy.ServiceProcess) -> None:
        """Stop checking a process that was killed on purpose."""
        proc.stopping = True
        for group in (self.graphs, self.collectors):
            if proc in group:
                group.remove(proc)

    def holder(self) -> tuple[int, str] | None:
        """``(term, holder)`` of ``graph_term``; None when unreadable."""
        try:
            return chaos.term_holder(self.db_url)
        except Exception:  # the database may be restarting
            return None

    def active_graph(self) -> tuple[int, str, deploy.ServiceProcess]:
        """``(term, holder, the graph process whose worker holds it)``.

        :raises AssertionError: when no running graph holds the term.
        """
        found = self.holder()
        assert found is not None, 'no term is held'
        term, holder = found
        return term, holder, chaos.owner(self.graphs, holder)

    def worker_pid(self, holder: str) -> int:
        """The pid of the graph worker in a term holder."""
        return chaos.holder_pid(holder)

    def kill_group(self, proc: deploy.ServiceProcess) -> None:
        self.forget(proc)
        proc.kill_group()

    # -- API ---------------------------------------------------------------
    def status(self, timeout: float = 5) -> int | None:
        """The status of ``GET /v1/status/``."""
        return deploy.http_status(self.url + '/v1/status/', timeout=timeout)

    def post_event(self, event: dict, timeout: float = 30) -> int | None:
        """``POST /v1/event``: the answer's status, None if none came."""
        status, _body = request_json(self.url + '/v1/event', 'POST', event,
                                     timeout)
        return status

    def topology(self) -> dict | None:
        return chaos.topology(self.url)

    def resource_count(self) -> int | None:
        """Resource vertices of the topology, None unless it answers."""
        topology = self.topology()
        if topology is None:
            return None
        return sum(1 for n in topology['nodes']
                   if n.get('vitrage_category') == 'RESOURCE')

    def alarm_list(self) -> list[dict] | None:
        """``GET /v1/alarm/?all_tenants=1`` (active alarms)."""
        status, body = request_json(self.url + '/v1/alarm/?vitrage_id=all'
                                    '&all_tenants=1')
        return body if status == 200 else None

    def alarm_history(self) -> list[dict] | None:
        """``GET /v1/alarm/history/?all_tenants=1`` (ended ones too)."""
        status, body = request_json(self.url + '/v1/alarm/history/'
                                    '?all_tenants=1')
        return body if status == 200 else None

    # -- database ----------------------------------------------------------
    def logged_ids(self, run_id: str) -> collections.Counter:
        """How many times each event id of the run is in ``events``."""
        rows = chaos.query(self.db_url, 'SELECT payload FROM events WHERE '
                           'payload LIKE :pattern',
                           pattern='%%%s-%%' % run_id)
        found: collections.Counter = collections.Counter()
        prefix = run_id + '-'
        for (payload,) in rows:
            text = payload if isinstance(payload, str) else json.dumps(
                payload)
            for event_id in _EVENT_ID.findall(text):
                if event_id.startswith(prefix):
                    found[event_id] += 1
        return found

    def logs(self, kind: str) -> str:
        return ''.join(p.log() for p in self.deployment.processes
                       if p.name.startswith(kind + '-'))

    def cleanup(self) -> None:
        """Kill every process, delete the run's queues and exchanges."""
        self.deployment.cleanup()
        with contextlib.suppress(Exception):
            chaos.delete_broker_objects(self.transport_url, self.prefix,
                                        self.deployment)
            persistor_procs.delete_queues(self.transport_url,
                                          self.prefix + '_notifications')


# -- the load ----------------------------------------------------------------

@dataclasses.dataclass
class SentEvent:
    """One posted doctor event and the API's answer."""

    event_id: str
    host: str
    status: str
    #: ``time.monotonic()`` when it was sent and answered.
    sent_at: float
    answered_at: float = 0.0
    #: The HTTP status; None when nothing answered.
    http_status: int | None = None
    final: bool = False

    @property
    def accepted(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def doctor_event(event_id: str, host: str, status: str) -> dict:
    """The body of ``POST /v1/event`` for one doctor event."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {'type': DOCTOR_TYPE,
            'time': now.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
            'details': {'hostname': host, 'status': status,
                        'source': 'soak', 'event_id': event_id}}


class LoadGenerator:
    """Posts doctor events at a steady rate from a few threads.

    :param post: posts one body; returns the HTTP status or None.
    :param hosts: the hosts, visited in turn.
    :param rate: events per second.
    :param max_events: stop after this many (the final round aside).
    :param seconds: stop after this long.
    :param run_id: the prefix of the event ids.
    :param workers: threads posting at once.
    """

    def __init__(self, post: Callable[[dict], int | None], hosts: list[str],
                 rate: float, max_events: int, seconds: float, run_id: str,
                 workers: int = 8) -> None:
        if rate <= 0 or not hosts:
            raise ValueError('the load needs a rate > 0 and hosts, got %r '
                             'and %d hosts' % (rate, len(hosts)))
        self.post = post
        self.hosts = hosts
        self.rate = rate
        self.max_events = max_events
        self.seconds = seconds
        self.run_id = run_id
        self.sent: list[SentEvent] = []
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix='soak-load')
        self._futures: list[concurrent.futures.Future] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='soak-load')
        self._next_status = {host: 'down' for host in hosts}
        self.started_at = 0.0
        self.stopped_at = 0.0

    def start(self) -> 'LoadGenerator':
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending before the bounds are reached."""
        self._stop.set()

    def _send(self, host: str, final: bool = False) -> None:
        status = self._next_status[host]
        self._next_status[host] = 'up' if status == 'down' else 'down'
        with self._lock:
            event = SentEvent('%s-%d' % (self.run_id, len(self.sent)), host,
                              status, time.monotonic(), final=final)
            self.sent.append(event)
        body = doctor_event(event.event_id, host, status)
        self._futures.append(self._pool.submit(self._post, event, body))

    def _post(self, event: SentEvent, body: dict) -> None:
        try:
            event.http_status = self.post(body)
        except Exception:  # counted as refused (nothing answered)
            event.http_status = None
        event.answered_at = time.monotonic()

    def _run(self) -> None:
        count = 0
        while not self._stop.is_set() and count < self.max_events:
            due = self.started_at + count / self.rate
            if due - self.started_at > self.seconds:
                break
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            self._send(self.hosts[count % len(self.hosts)])
            count += 1
        self.stopped_at = time.monotonic()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the load ended and every answer is in."""
        self._thread.join(timeout)
        for future in list(self._futures):
            future.result(timeout)

    def final_round(self) -> None:
        """One last event per host, at least :data:`FINAL_SPACING` s after
        that host's previous one; waits for every answer.
        """
        self.wait()
        last = {}
        for event in self.sent:
            last[event.host] = event.sent_at
        for host in self.hosts:
            delay = last.get(host, 0) + FINAL_SPACING - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._send(host, final=True)
            time.sleep(1 / self.rate)
        for future in list(self._futures):
            future.result()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def expected_down(self) -> dict[str, bool]:
        """Whether each host's last accepted event was ``down``."""
        expected = {host: False for host in self.hosts}
        for event in self.sent:
            if event.accepted:
                expected[event.host] = event.status == 'down'
        return expected


# -- the disruptions --------------------------------------------------------

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

    def __init__(self, cluster: SoakCluster,
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


# -- checks ------------------------------------------------------------------

def two_actives(db_url: str, graph_logs: str) -> list[str]:
    """Signs of two active graphs at once (see the module docstring).

    :param db_url: the run's database.
    :param graph_logs: every graph process's log, concatenated.
    :returns: one line per sign; empty when none was seen.
    """
    signs = []
    claims: dict[int, set[str]] = collections.defaultdict(set)
    for holder, term in _CLAIM.findall(graph_logs):
        claims[int(term)].add(holder)
    for term, holders in sorted(claims.items()):
        if len(holders) > 1:
            signs.append('term %d claimed by %s' % (term, sorted(holders)))
    rows = chaos.query(db_url, 'SELECT term, MIN(id), MAX(id), COUNT(*) '
                       'FROM events GROUP BY term ORDER BY term')
    for index, (term, _first, last, _count) in enumerate(rows):
        later = [first for (t, first, _l, _c) in rows[index + 1:]
                 if t > term]
        if later and last > min(later):
            late = chaos.query(db_url, 'SELECT COUNT(*) FROM events WHERE '
                               'term = :term AND id > :bound', term=term,
                               bound=min(later))[0][0]
            signs.append('%d events of term %d written after the first '
                         'event of a later term' % (late, term))
    return signs


def reference_topology(conf: cfg.ConfigOpts,
                       final: dict[str, dict]) -> dict:
    """The topology of a fresh graph fed the final inputs, in the API's
    format: the simulated cloud's get_all, the given doctor events (the
    bodies posted last for the hosts that are down) through the doctor
    driver, then the templates of ``[evaluator] templates_dir``.

    In this process, with persistency off (nothing is written).

    :param conf: the run's configuration, parsed
        (:func:`~vitrage.tests.integration.chaos.parse_config`).
    :param final: ``{host: posted body}``.
    """
    from vitrage.collector.manager import DatasourceRunner
    from vitrage.common.constants import DatasourceAction
    from vitrage.datasources import loader
    from vitrage.graph.service import GraphService
    from vitrage.graph import views

    conf.set_override('enable_persistency', False, 'persistency')
    graph = GraphService(conf)
    classes = loader.enabled_classes(conf)
    simulated = DatasourceRunner(conf, 'simulated', classes['simulated'],
                                 'reference')
    events, _sample = simulated.full(DatasourceAction.INIT_SNAPSHOT)
    assert graph.processor.process_events(events) == 0
    doctor = DatasourceRunner(conf, 'doctor', classes['doctor'], 'reference')
    from vitrage.common import timeutils
    sample = timeutils.sample_now()
    pushed = []
    for _host, body in sorted(final.items()):
        event_type = 'vitrage.custom.event.' + body['details']['status']
        pushed.extend(doctor.stamp(
            iter(doctor.driver.enrich_event(event_type, body)),
            DatasourceAction.UPDATE, sample))
    assert graph.processor.process_events(pushed) == 0
    graph.coordinator.start()
    try:
        graph.enable_evaluator()
    finally:
        graph.coordinator.stop()
    return views.topology(graph.graph, chaos.ADMIN, graph_type='graph',
                          all_tenants=True)


def _instances_by_host(topology: dict) -> dict[str, list[str]]:
    """Instance vitrage ids of each host name (``contains`` edges)."""
    nodes = topology['nodes']
    result: dict[str, list[str]] = collections.defaultdict(list)
    for link in topology['links']:
        source, target = nodes[link['source']], nodes[link['target']]
        if (link.get('relationship_type') == 'contains' and
                source.get('vitrage_type') == 'nova.host' and
                target.get('vitrage_type') == 'nova.instance'):
            result[source.get('id')].append(target['vitrage_id'])
    return result


def wrong_hosts(expected_down: dict[str, bool], topology: dict,
                alarms: list[dict] | None) -> dict[str, str]:
    """Hosts whose alarms disagree with their last accepted event.

    :param expected_down: host -> whether it must have a doctor alarm.
    :param topology: the final topology.
    :param alarms: ``alarm list`` (active alarms), None if it failed.
    :returns: host -> what is wrong.
    """
    instances = _instances_by_host(topology)
    host_ids = {n.get('id'): n['vitrage_id'] for n in topology['nodes']
                if n.get('vitrage_type') == 'nova.host'}
    graph_doctor = {n.get('vitrage_resource_id') for n in topology['nodes']
                    if n.get('vitrage_type') == 'doctor'}
    graph_deduced = {n.get('vitrage_resource_id') for n in topology['nodes']
                     if n.get('name') == DEDUCED_ALARM}
    listed_doctor = {a.get('vitrage_resource_id') for a in alarms or []
                     if a.get('vitrage_type') == 'doctor'}
    listed_deduced = {a.get('vitrage_resource_id') for a in alarms or []
                      if a.get('name') == DEDUCED_ALARM}
    wrong = {}
    for host, down in sorted(expected_down.items()):
        host_id = host_ids.get(host)
        problems = []
        if host_id is None:
            problems.append('not in the topology')
        else:
            if (host_id in graph_doctor) != down:
                problems.append('graph: doctor alarm %s' % (
                    'missing' if down else 'still raised'))
            if alarms is None:
                problems.append('alarm list failed')
            elif (host_id in listed_doctor) != down:
                problems.append('alarm list: doctor alarm %s' % (
                    'missing' if down else 'still active'))
            for instance in instances.get(host, []):
                if (instance in graph_deduced) != down:
                    problems.append('graph: %s on %s %s' % (
                        DEDUCED_ALARM, instance,
                        'missing' if down else 'still raised'))
                if alarms is not None and \
                        (instance in listed_deduced) != down:
                    problems.append('alarm list: %s on %s %s' % (
                        DEDUCED_ALARM, instance,
                        'missing' if down else 'still active'))
        if problems:
            wrong[host] = '; '.join(problems)
    return wrong


# -- the result --------------------------------------------------------------

@dataclasses.dataclass
class SoakResult:
    """The figures of one run (see :meth:`table`)."""

    seed: int
    hosts: int
    vertices: int
    rate: float
    load_seconds: float
    sent: int
    accepted: int
    #: HTTP status (or ``None``) -> count, outside RabbitMQ outages.
    refused: dict[str, int]
    #: Refused while the private RabbitMQ was down or just back (no
    #: intake possible; see :data:`BROKER_GRACE`).
    refused_broker_down: int
    lost: list[str]
    duplicates: int
    wrong_hosts: dict[str, str]
    graph_diff: str
    disruptions: list[Disruption]
    two_actives: list[str]
    notes: list[str] = dataclasses.field(default_factory=list)
    #: Graph kills of the plan skipped because earlier recoveries made
    #: them late (see :class:`Disruptor`).
    skipped_kills: int = 0

    @property
    def refused_count(self) -> int:
        return sum(self.refused.values())

    @property
    def gaps(self) -> list[float]:
        return [d.gap for d in self.disruptions
                if d.action == GRAPH and d.gap is not None]

    def figures(self) -> dict[str, Any]:
        """The figures as plain data (one JSON line of a bench child)."""
        gaps = self.gaps
        return {
            'seed': self.seed, 'hosts': self.hosts,
            'vertices': self.vertices, 'rate': self.rate,
            'load_seconds': round(self.load_seconds, 1),
            'sent': self.sent, 'accepted': self.accepted,
            'refused': self.refused,
            'refused_broker_down': self.refused_broker_down,
            'lost': len(self.lost), 'lost_ids': self.lost[:20],
            'duplicates': self.duplicates,
            'wrong_hosts': len(self.wrong_hosts),
            'wrong_examples': dict(list(self.wrong_hosts.items())[:5]),
            'graph_equal': not self.graph_diff,
            'graph_diff': self.graph_diff[:3000],
            'graph_kills': len([d for d in self.disruptions
                                if d.action == GRAPH]),
            'skipped_kills': self.skipped_kills,
            'gaps': [round(g, 2) for g in gaps],
            'gap_median': round(statistics.median(gaps), 2) if gaps
            else None,
            'gap_max': round(max(gaps), 2) if gaps else None,
            'unrecovered': [d.action for d in self.disruptions
                            if d.gap is None and d.action in (
                                GRAPH, RABBIT, MARIADB)],
            'disruptions': [
                {'action': d.action, 'at': round(d.at, 1),
                 'gap': None if d.gap is None else round(d.gap, 2),
                 'terms': [d.old_term, d.new_term], 'error': d.error}
                for d in self.disruptions],
            'two_actives': self.two_actives, 'notes': self.notes}

    def table(self) -> str:
        """The figures as a text table."""
        f = self.figures()
        refused = ', '.join('%s: %d' % kv for kv in sorted(
            f['refused'].items())) or '0'
        rows = [
            ('seed', f['seed']),
            ('cloud', '%d hosts, %d vertices' % (f['hosts'],
                                                 f['vertices'])),
            ('load', '%.0f events/s for %.0f s' % (f['rate'],
                                                   f['load_seconds'])),
            ('events sent', f['sent']),
            ('accepted (2xx)', f['accepted']),
            ('refused', refused),
            ('refused, RabbitMQ down (+10 s)', f['refused_broker_down']),
            ('lost (accepted, not logged)', f['lost']),
            ('duplicates (allowed)', f['duplicates']),
            ('hosts in a wrong state', '%d of %d' % (f['wrong_hosts'],
                                                     f['hosts'])),
            ('final graph = fresh graph', 'yes' if f['graph_equal']
             else 'NO'),
            ('graph kills', '%d (%d of the plan skipped: late)' % (
                f['graph_kills'], f['skipped_kills'])),
            ('API gap per kill (median)', '%s s' % f['gap_median']),
            ('API gap per kill (max)', '%s s' % f['gap_max']),
            ('two actives seen', 'yes: %s' % '; '.join(f['two_actives'])
             if f['two_actives'] else 'no'),
        ]
        width = max(len(name) for name, _ in rows)
        lines = ['%-*s  %s' % (width, name, value) for name, value in rows]
        lines.append('disruptions (s after the load began, gap s, terms):')
        for d in f['disruptions']:
            lines.append('  %7.1f  %-22s %-6s %s%s' % (
                d['at'], d['action'], d['gap'], d['terms'],
                ('  ' + d['error']) if d['error'] else ''))
        if f['wrong_examples']:
            lines.append('wrong hosts (first): %s' % f['wrong_examples'])
        if f['lost_ids']:
            lines.append('lost (first): %s' % f['lost_ids'])
        if f['graph_diff']:
            lines.append('graph diff (first lines):\n%s' % '\n'.join(
                f['graph_diff'].splitlines()[:20]))
        lines.extend('note: %s' % note for note in f['notes'])
        return '\n'.join(lines)


# -- one run -----------------------------------------------------------------

@dataclasses.dataclass
class SoakParams:
    """What one run does; see :func:`run_soak`."""

    seed: int
    rate: float = 25
    load_seconds: float = 210
    graph_every: tuple[float, float] = (20, 40)
    others: tuple[str, ...] = (PERSISTOR, COLLECTOR, RABBIT, MARIADB)
    downtime: float = 2.0
    settle_timeout: float = 180


def settle(cluster: SoakCluster, load: LoadGenerator,
           timeout: float) -> tuple[collections.Counter, dict]:
    """Wait until the API serves, every accepted event is logged (or the
    log stops growing for 20 s) and two readings of the topology and of
    ``alarm list``, 2 s apart, agree.

    :returns: ``(logged ids, settled topology)``.
    :raises AssertionError: when the API does not serve in time.
    """
    deadline = time.monotonic() + timeout
    deploy.wait_until(lambda: cluster.status() == 200, timeout,
                      'the API to serve after the load')
    accepted = {e.event_id for e in load.sent if e.accepted}
    logged: collections.Counter = collections.Counter()
    still = time.monotonic()
    while time.monotonic() < deadline:
        try:
            now = cluster.logged_ids(load.run_id)
        except Exception:  # the database may be back only now
            time.sleep(1)
            continue
        if len(now) != len(logged):
            still = time.monotonic()
        logged = now
        if accepted <= set(logged) or time.monotonic() - still > 20:
            break
        time.sleep(1)
    previous = None
    while True:
        current = cluster.topology()
        alarms = cluster.alarm_list()
        if current is not None and alarms is not None:
            summary = (deploy.topology_summary(current),
                       sorted(a.get('vitrage_id') or '' for a in alarms))
            if previous is not None and summary == previous[0]:
                return logged, current
            previous = (summary, current)
        if time.monotonic() > deadline:
            assert previous is not None, 'no topology after the load'
            return logged, previous[1]
        time.sleep(2)


def run_soak(cluster: SoakCluster, params: SoakParams,
             conf: cfg.ConfigOpts,
             rabbit: Any = None, mariadb: Any = None,
             log: Callable[[str], None] = print) -> SoakResult:
    """Load, disrupt, settle and check one started cluster.

    :param cluster: a started :class:`SoakCluster`.
    :param params: the run's parameters.
    :param conf: a ConfigOpts to parse the run's config into (for the
        fresh graph); the caller resets it.
    :param rabbit: the private RabbitMQ, to restart.
    :param mariadb: the private MariaDB, to restart.
    :param log: where progress lines go.
    """
    run_id = helpers.unique_name('soak')
    log('soak seed %d, run %s: %d hosts, %.0f events/s for %.0f s' % (
        params.seed, run_id, len(cluster.hosts), params.rate,
        params.load_seconds))
    vertices = cluster.resource_count() or 0
    load = LoadGenerator(cluster.post_event, cluster.hosts, params.rate,
                         int(params.rate * params.load_seconds) + 1,
                         params.load_seconds, run_id,
                         workers=max(4, int(params.rate // 5)))
    moments = plan(params.seed, params.load_seconds, params.graph_every,
                   list(params.others))
    disruptor = Disruptor(cluster, moments, rabbit, mariadb,
                          params.downtime,
                          skip_late_kills=params.graph_every[0])
    try:
        load.start()
        disruptor.start(load.started_at)
        load.wait()
        # A disruption in progress finishes (its server comes back).
        disruptor.stop()
        disruptor.wait()
        log('load done: %d sent; disruptions: %s' % (
            len(load.sent), [(round(d.at), d.action, d.gap)
                             for d in disruptor.done]))
        load.final_round()
        load_seconds = load.stopped_at - load.started_at
        logged, topology = settle(cluster, load, params.settle_timeout)
    finally:
        load.close()
        disruptor.stop()
    if disruptor.failure is not None:
        raise disruptor.failure

    outages = disruptor.broker_outages()

    def in_outage(event: SentEvent) -> bool:
        return any(start - 1 <= event.sent_at <= end + BROKER_GRACE or
                   start <= event.answered_at <= end + BROKER_GRACE
                   for start, end in outages)
    refused: collections.Counter = collections.Counter()
    refused_broker_down = 0
    for event in load.sent:
        if event.accepted:
            continue
        if in_outage(event):
            refused_broker_down += 1
        else:
            refused[str(event.http_status)] += 1
    accepted = [e for e in load.sent if e.accepted]
    lost = sorted({e.event_id for e in accepted} - set(logged),
                  key=lambda i: int(i.rsplit('-', 1)[1]))
    duplicates = sum(n - 1 for n in logged.values() if n > 1)

    expected = load.expected_down()
    wrong = wrong_hosts(expected, topology, cluster.alarm_list())
    final_bodies = {}
    for event in accepted:
        final_bodies[event.host] = event
    chaos.parse_config(conf, cluster.config)
    reference = deploy.topology_summary(reference_topology(conf, {
        host: doctor_event(e.event_id, host, e.status)
        for host, e in final_bodies.items() if e.status == 'down'}))
    final = deploy.topology_summary(topology)
    graph_diff = chaos.diff(final, reference)
    notes = []
    if not _CLAIM.search(cluster.logs('graph')):
        notes.append('no "graph <holder> is active in term <n>" line in '
                     'the graph logs: two actives checked on the events '
                     'table only')
    missing = sorted(set(params.others) -
                     {d.action for d in disruptor.done})
    if missing:
        notes.append('not done before the load ended (earlier recoveries '
                     'were slow): %s' % ', '.join(missing))
    unplanned = [p.name for p in cluster.deployment.processes
                 if not p.stopping and p.poll() is not None]
    if unplanned:
        notes.append('processes that exited by themselves: %s' %
                     ', '.join(unplanned))
    return SoakResult(
        seed=params.seed, hosts=len(cluster.hosts), vertices=vertices,
        rate=params.rate, load_seconds=load_seconds, sent=len(load.sent),
        accepted=len(accepted), refused=dict(refused),
        refused_broker_down=refused_broker_down, lost=lost,
        duplicates=duplicates, wrong_hosts=wrong, graph_diff=graph_diff,
        disruptions=disruptor.done,
        two_actives=two_actives(cluster.db_url, cluster.logs('graph')),
        notes=notes, skipped_kills=disruptor.skipped)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
