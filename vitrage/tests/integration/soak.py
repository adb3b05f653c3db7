"""The soak harness: a whole HA deployment under a steady load of doctor
events, with kills and server restarts, and the checks of the HA
contract at the end (issue 11, item 9).

Used by ``vitrage/tests/integration/test_soak.py`` (a few minutes, in
CI), by ``test_ha_cases.py`` and by ``bench/soak.py`` (the long run).
:func:`run_soak` puts together:

* the deployment (:class:`SoakCluster`): RabbitMQ with durable queues
  and MariaDB (private servers of the run, so that they can be
  restarted; see :mod:`~vitrage.tests.integration.private_servers`), one
  persistor, two ``vitrage-graph`` processes (``[persistency]
  standby_mode = hot``), two collectors with ``[datasources] types =
  simulated,doctor``, the API (noauth), and the sample template
  ``host_down`` in force (put in the ``[evaluator] templates_dir``,
  which the first active graph stores). The simulated cloud is static
  (no failure schedule): the doctor events are the load, and a fresh
  graph can be built from the same inputs;
* the load (:mod:`~vitrage.tests.integration.soak_load`);
* the disruptions (:mod:`~vitrage.tests.integration.soak_disrupt`);
* the final checks (:mod:`~vitrage.tests.integration.soak_checks`);
* the figures (:class:`SoakResult`). Events posted while RabbitMQ is
  down cannot be accepted by anyone (the bus is the durable intake);
  they are counted apart (``refused_broker_down``), from a second before
  the broker stops until :data:`BROKER_GRACE` seconds after it serves
  again (the API's connection comes back with oslo.messaging's
  reconnection back-off).
"""
import collections
from collections.abc import Callable
import contextlib
import dataclasses
import json
import pathlib
import re
import statistics
from typing import Any
import urllib.error
import urllib.request

from oslo_config import cfg
import psutil

from vitrage.tests import deployment as deploy
from vitrage.tests import helpers
from vitrage.tests.integration import chaos
from vitrage.tests.integration import persistor_procs
from vitrage.tests.integration import soak_checks as checks
from vitrage.tests.integration import soak_disrupt as disrupt
from vitrage.tests.integration import soak_load as loadgen

#: The sample template put in force.
HOST_DOWN_TEMPLATE = (pathlib.Path(__file__).resolve().parents[3] / 'etc' /
                      'vitrage' / 'templates' / 'host_down.yaml')
#: Seconds after RabbitMQ serves again during which a refusal still
#: counts as the broker's (the API reconnecting).
BROKER_GRACE = 10.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
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
    disruptions: list[disrupt.Disruption]
    two_actives: list[str]
    notes: list[str] = dataclasses.field(default_factory=list)
    #: Graph kills of the plan skipped because earlier recoveries made
    #: them late (see ``soak_disrupt.Disruptor``).
    skipped_kills: int = 0

    @property
    def refused_count(self) -> int:
        return sum(self.refused.values())

    @property
    def gaps(self) -> list[float]:
        return [d.gap for d in self.disruptions
                if d.action == disrupt.GRAPH and d.gap is not None]

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
                                if d.action == disrupt.GRAPH]),
            'skipped_kills': self.skipped_kills,
            'gaps': [round(g, 2) for g in gaps],
            'gap_median': round(statistics.median(gaps), 2) if gaps
            else None,
            'gap_max': round(max(gaps), 2) if gaps else None,
            'unrecovered': [d.action for d in self.disruptions
                            if d.gap is None and d.action in (
                                disrupt.GRAPH, disrupt.RABBIT,
                                disrupt.MARIADB)],
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
    others: tuple[str, ...] = (disrupt.PERSISTOR, disrupt.COLLECTOR,
                               disrupt.RABBIT, disrupt.MARIADB)
    downtime: float = 2.0
    settle_timeout: float = 180


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
    load = loadgen.LoadGenerator(
        cluster.post_event, cluster.hosts, params.rate,
        int(params.rate * params.load_seconds) + 1, params.load_seconds,
        run_id, workers=max(4, int(params.rate // 5)))
    moments = disrupt.plan(params.seed, params.load_seconds,
                           params.graph_every, list(params.others))
    disruptor = disrupt.Disruptor(cluster, moments, rabbit, mariadb,
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
        logged, topology = checks.settle(cluster, load,
                                         params.settle_timeout)
    finally:
        load.close()
        disruptor.stop()
    if disruptor.failure is not None:
        raise disruptor.failure

    outages = disruptor.broker_outages()

    def in_outage(event: loadgen.SentEvent) -> bool:
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
    wrong = checks.wrong_hosts(expected, topology, cluster.alarm_list())
    final_bodies = {}
    for event in accepted:
        final_bodies[event.host] = event
    chaos.parse_config(conf, cluster.config)
    reference = deploy.topology_summary(checks.reference_topology(conf, {
        host: loadgen.doctor_event(e.event_id, host, e.status)
        for host, e in final_bodies.items() if e.status == 'down'}))
    final = deploy.topology_summary(topology)
    graph_diff = chaos.diff(final, reference)
    notes = []
    if not checks.CLAIM.search(cluster.logs('graph')):
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
        two_actives=checks.two_actives(cluster.db_url,
                                       cluster.logs('graph')),
        notes=notes, skipped_kills=disruptor.skipped)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
