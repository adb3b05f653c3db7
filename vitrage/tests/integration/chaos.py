"""Helpers of the failover and restart tests (real processes).

A :class:`Cluster` is the processes of one HA deployment (collectors,
persistor, graphs, API) started by a :class:`~vitrage.tests.deployment.
Deployment` from one config file, with the ``simulated`` datasource and
its failure schedule as the steady source of entity changes. The helpers
find the graph worker holding the term, kill it, wait for the takeover,
read the topology through the API and check the events table.

:func:`reference_topology` builds, in this process, a fresh graph from
the simulated cloud as it was at a given moment: what a graph that never
failed holds after the same inputs.
"""
import json
import os
import pathlib
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request

import psutil
import sqlalchemy as sa

from vitrage.tests import deployment as deploy
from vitrage.tests import helpers

HOST = 'chaos-host'
TOPOLOGY_BODY = json.dumps({'graph_type': 'graph', 'all_tenants': True,
                            'depth': None, 'root': None,
                            'query': None}).encode()
HEADERS = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'admin',
           'Content-Type': 'application/json'}
#: The request context of an admin, for :func:`vitrage.graph.views.topology`.
ADMIN = {'user_id': 'u', 'project_id': 'p', 'roles': ['admin'],
         'is_admin': True}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: A small simulated cloud: 1 cluster, 2 zones, 6 hosts, 1 network, 12
#: instances with their ports, 6 volumes.
CLOUD = {'zones': 2, 'hosts_per_zone': 3, 'instances_per_host': 2,
         'networks': 1, 'volume_ratio': 0.5, 'seed': 7,
         # Every second a new round takes one host down for 3 seconds:
         # some host goes down or comes back nearly every second.
         'failure_interval': 1, 'failures_per_round': 1,
         'recovery_after': 3, 'changes_interval': 1}
CLOUD_VERTICES = 1 + 2 + 6 + 1 + 2 * 12 + 6


def write_config(directory: pathlib.Path, prefix: str, transport_url: str,
                 db_url: str, port: int, lease: float = 2.0,
                 standby_mode: str = 'cold',
                 extra: dict | None = None) -> pathlib.Path:
    """The config file every process of a :class:`Cluster` reads.

    :param directory: where the file, and the state directory, go.
    :param prefix: the unique prefix of topics and the exchange.
    :param transport_url: the RabbitMQ URL.
    :param db_url: the SQLAlchemy URL of the (migrated) database.
    :param port: the API's port.
    :param lease: ``[entity_graph] lease_time``.
    :param standby_mode: ``cold`` or ``hot``.
    :param extra: ``{group: {option: value}}`` merged on top.
    """
    sections = {
        'DEFAULT': {'transport_url': transport_url,
                    'control_exchange': prefix,
                    'state_path': directory / 'state', 'host': HOST,
                    'rpc_response_timeout': 10},
        'database': {'connection': db_url},
        # Transient queues (replies, fanout) of the killed processes
        # expire a minute after their consumer went away.
        'oslo_messaging_rabbit': {'amqp_durable_queues': 'true',
                                  'rabbit_transient_queues_ttl': 60},
        'api': {'host': '127.0.0.1', 'port': port, 'auth_mode': 'noauth',
                'graph_rpc_timeout': 10},
        'datasources': {'types': 'simulated', 'snapshots_interval': 3600,
                        'ping_timeout': 2, 'rpc_timeout': 20},
        'simulated': dict(CLOUD),
        'collector': {'topic': prefix + '_collector'},
        'entity_graph': {'topic': prefix + '_graph',
                         'events_topic': prefix + '_events',
                         'lease_time': lease,
                         'heartbeat_interval': min(0.5, lease / 4)},
        'persistency': {'persistor_topic': prefix + '_persistor',
                        'standby_mode': standby_mode,
                        'snapshot_interval': 300,
                        'snapshot_events': 200,
                        'barrier_timeout': 60,
                        'batch_timeout_ms': 20,
                        'purge_interval': 0},
    }
    for group, options in (extra or {}).items():
        sections.setdefault(group, {}).update(options)
    return deploy.write_config(directory / 'vitrage.conf', sections)


def query(db_url: str, statement: str, **params) -> list:
    """All rows of one SQL statement."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(statement), params).all()
    finally:
        engine.dispose()


def term_holder(db_url: str) -> tuple[int, str] | None:
    """``(term, holder)`` of the graph_term row, None before the first."""
    rows = query(db_url, 'SELECT term, holder FROM graph_term')
    return (rows[0][0], rows[0][1]) if rows else None


def holder_pid(holder: str) -> int:
    """The process id in a term holder ``<host>:<pid>``."""
    return int(holder.rsplit(':', 1)[1])


def owner(graphs: list[deploy.ServiceProcess],
          holder: str) -> deploy.ServiceProcess:
    """The graph process (cotyledon master) whose worker holds the term.

    :raises AssertionError: when none of them has the holder's pid.
    """
    pid = holder_pid(holder)
    for graph in graphs:
        if graph.poll() is not None:
            continue
        master = psutil.Process(graph.pid)
        if pid == graph.pid or pid in [
                c.pid for c in master.children(recursive=True)]:
            return graph
    raise AssertionError('no graph process has pid %d' % pid)


def kill_worker(pid: int) -> None:
    """SIGKILL one process (the graph worker; its cotyledon master
    starts a new worker, which waits as a standby).
    """
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def topology(url: str, timeout: float = 30) -> dict | None:
    """``POST /v1/topology/`` (all tenants) as JSON; None unless 200.

    :param url: the API's base URL.
    """
    request = urllib.request.Request(url + '/v1/topology/',
                                     data=TOPOLOGY_BODY, headers=HEADERS,
                                     method='POST')
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if response.status != 200:
                return None
            return json.loads(response.read())
    except (urllib.error.HTTPError, OSError, ValueError):
        return None


def latest_sample(topology_json: dict) -> str:
    """The newest ``vitrage_sample_timestamp`` of a topology."""
    return max(n.get('vitrage_sample_timestamp') or ''
               for n in topology_json['nodes'])


def parse_config(conf, config: pathlib.Path):
    """Read the cluster's config file into the test's ``conf`` fixture
    (the global ``cfg.CONF``, reset after the test), once per test.
    """
    from vitrage import service

    return service.prepare_service(['--config-file', str(config)],
                                   conf=conf, setup_logging=False)


def reference_topology(conf, when: float) -> dict:
    """The topology a fresh graph builds from the simulated cloud at
    epoch second ``when``, in the API's format.

    :param conf: the configuration, parsed by :func:`parse_config`.
    :param when: the moment whose cloud is sampled.
    """
    from vitrage.collector.manager import DatasourceRunner
    from vitrage.common.constants import DatasourceAction
    from vitrage.datasources import loader
    from vitrage.graph.service import GraphService
    from vitrage.graph import views
    graph = GraphService(conf)
    runner = DatasourceRunner(conf, 'simulated',
                              loader.enabled_classes(conf)['simulated'],
                              'reference')
    runner.driver.clock = lambda: when
    events, _sample = runner.full(DatasourceAction.INIT_SNAPSHOT)
    assert graph.processor.process_events(events) == 0
    return views.topology(graph.graph, ADMIN, graph_type='graph',
                          all_tenants=True)


def diff(actual: tuple[dict, set], expected: tuple[dict, set]) -> str:
    """Where two :func:`~vitrage.tests.deployment.topology_summary`
    results differ, one line per vertex or edge, for failure messages.
    """
    vertices, edges = actual
    ref_vertices, ref_edges = expected
    lines = []
    for vid in sorted(set(vertices) | set(ref_vertices)):
        if vertices.get(vid) != ref_vertices.get(vid):
            lines.append('vertex %s: graph %r, reference %r' % (
                vid, vertices.get(vid), ref_vertices.get(vid)))
    lines += ['edge only in the graph: %r' % (e,)
              for e in sorted(edges - ref_edges)]
    lines += ['edge only in the reference: %r' % (e,)
              for e in sorted(ref_edges - edges)]
    return '\n'.join(lines)


def log_topology(conf, db_url: str) -> dict:
    """The topology of a fresh graph that applied every logged event in
    ``(term, seq)`` order, in the API's format: what the live graph must
    hold if every event it handled reached the events table.

    :param conf: the configuration, parsed by :func:`parse_config`.
    :param db_url: the cluster's database.
    """
    from vitrage.graph.service import GraphService
    from vitrage.graph import views
    from vitrage.storage import connection as db_connection
    from vitrage.storage import eventlog

    graph = GraphService(conf)
    database = db_connection.Database(db_url)
    try:
        log = eventlog.SqlEventLog(database)
        position = (0, -1)
        while True:
            batch = log.read_after(position, 10000)
            if not batch:
                break
            assert graph.processor.process_events(
                [logged.event for logged in batch]) == 0
            position = batch[-1].position
    finally:
        database.dispose()
    return views.topology(graph.graph, ADMIN, graph_type='graph',
                          all_tenants=True)


def event_positions(db_url: str) -> dict[int, list[int]]:
    """The logged seqs of each term, in order."""
    positions: dict[int, list[int]] = {}
    for term, seq in query(db_url, 'SELECT term, seq FROM events '
                                   'ORDER BY term, seq'):
        positions.setdefault(term, []).append(seq)
    return positions


def broker_names(prefix: str, deployment: deploy.Deployment) -> set[str]:
    """The queues a cluster's servers and listeners declared."""
    names = {prefix + '_collector', prefix + '_graph',
             '%s_graph.%s' % (prefix, HOST)}
    for topic in ('_events', '_persistor'):
        names.update('%s%s.%s' % (prefix, topic, priority)
                     for priority in ('info', 'audit', 'debug', 'warn',
                                      'error', 'critical', 'sample'))
    for proc in deployment.processes:
        for collector_id in re.findall(r'collector (\S+) serving',
                                       proc.log()):
            names.add('%s_collector.%s' % (prefix, collector_id))
    return names


def delete_broker_objects(transport_url: str, prefix: str,
                          deployment: deploy.Deployment) -> None:
    """Delete a cluster's queues and exchanges (missing ones are fine)."""
    import kombu

    url = urllib.parse.urlsplit(transport_url)._replace(scheme='amqp')
    with kombu.Connection(url.geturl(), connect_timeout=5) as connection:
        channel = connection.channel()
        for name in sorted(broker_names(prefix, deployment)):
            try:
                channel.queue_delete(name)
            except Exception:  # closed channel after an error: reopen
                channel = connection.channel()
        for name in (prefix, prefix + '_persistor', prefix + '_events'):
            try:
                channel.exchange_delete(name)
            except Exception:  # absent exchange
                channel = connection.channel()


def wait_takeover(db_url: str, url: str, previous_term: int,
                  deployment: deploy.Deployment,
                  timeout: float = 60) -> tuple[int, str, float]:
    """Wait until a new term is held and the API answers 200 again.

    :returns: ``(term, holder, seconds waited)``.
    :raises AssertionError: on timeout or when a process exits.
    """
    began = time.monotonic()
    term, holder = deploy.wait_until(
        lambda: (lambda row: row if row and row[0] > previous_term
                 else None)(term_holder(db_url)),
        timeout, 'a term after %d' % previous_term, interval=0.2,
        deployment=deployment)
    deploy.wait_until(
        lambda: deploy.http_status(url + '/v1/status/', timeout=5) == 200,
        timeout, 'the new active graph to serve', interval=0.2,
        deployment=deployment)
    return term, holder, time.monotonic() - began


def unique_prefix(kind: str) -> str:
    """Topic, exchange and database prefix of one test."""
    return helpers.unique_name('vitrage_%s' % kind)
