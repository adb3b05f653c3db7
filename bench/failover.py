"""bench/failover: seconds until the topology is back after a kill -9.

Real processes (``vitrage-collector``, ``vitrage-persistor``,
``vitrage-graph``, ``vitrage-api``) from one generated config, on
RabbitMQ (durable queues) and MariaDB, with the ``simulated``
datasource sized to the wanted number of vertices. For each size:

* ``cold``: persistency on, an active graph A and a standby graph B.
  Once the API answers and a snapshot is stored, ``--replay`` doctor
  events are posted through the API (logged after the snapshot: a tail
  to replay), B starts, and two seconds later A's whole process group
  gets SIGKILL. B sees A's broker lock vanish (or waits for the lease),
  takes the next term, loads the latest snapshot and replays the logged
  events.
* ``hot``: as ``cold`` with ``[persistency] standby_mode = hot``: B
  loads the snapshot and follows the log while it waits, so taking over
  costs the tail.
* ``lone``: persistency on, one graph and no standby, with the default
  lease (10 s): after the snapshot and the posted events, the graph's
  process group gets SIGKILL and a new ``vitrage-graph`` process starts
  at once, as systemd's ``Restart=always`` does. It sees that the holder
  of the term was a process of its host that is gone, takes over without
  waiting out the lease, loads the snapshot and replays the tail.
* ``off``: persistency off, one graph and no persistor. The graph gets
  SIGKILL and a new graph process starts, which asks the collector for
  a full get_all.

The figure is the time from the kill until ``POST /v1/topology/``
answers 200 with as many nodes as before the kill, asked as the stock
client asks it (requests, gzip): ``answered`` when the whole answer is
in, ``parsed`` once the client has also parsed its JSON (the client's
own work: about 0.8 s of 80 MB at 100k vertices, failover or not). The
new graph's log shows where the time goes (term taken, snapshot
restored, graph ready).

    python bench/failover.py                   # 10k and 100k vertices
    python bench/failover.py --sizes 1000 --modes cold

Every process, queue, exchange and database it made is removed at the
end. Prints one line per (size, mode) and exits 0; nothing here asserts
a time.
"""
import argparse
import contextlib
import datetime
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import psutil
import requests
import sqlalchemy as sa

from vitrage.datasources.simulated.cloud import sizes_for_vertices
from vitrage.tests import deployment as deploy
from vitrage.tests import helpers
from vitrage.tests.integration.chaos import HEADERS
from vitrage.tests.integration.chaos import TOPOLOGY_BODY
from vitrage.tests.integration import persistor_procs
from vitrage.tests.integration import services

DEFAULT_SIZES = (10000, 100000)
MODES = ('cold', 'hot', 'lone', 'off')
#: [entity_graph] lease_time of the ``lone`` mode: the default.
DEFAULT_LEASE = 10.0
RABBIT = os.environ.get('VITRAGE_TEST_TRANSPORT_URL',
                        services.DEFAULT_TRANSPORT_URL)
MYSQL = os.environ.get('VITRAGE_TEST_DB_URL', services.DEFAULT_DB_URL)
HOST = 'bench-failover'
_SESSION = requests.Session()
_SESSION.trust_env = False     # no proxy for 127.0.0.1
_LOG_TIME = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) ')
_REPLAYED = re.compile(r'restored from .* and replayed (\d+) '
                       r'events \((?:hot standby|cold)\): (\d+) vertices')


def topology_nodes(url: str, timeout: float = 120,
                   received: list | None = None) -> int | None:
    """The number of nodes ``POST /v1/topology/`` returns, None unless 200.

    :param url: the API's base URL.
    :param timeout: seconds to wait for the answer.
    :param received: if given, gets the ``time.monotonic()`` at which the
        whole answer was in (read and gunzipped, before the JSON is
        parsed: the stock client's own parsing of 80 MB takes about
        0.8 s at 100k vertices).
    """
    # As the stock client asks (requests, Accept-Encoding: gzip): a
    # large topology travels gzipped from vitrage-graph to the client.
    try:
        response = _SESSION.post(url + '/v1/topology/', data=TOPOLOGY_BODY,
                                 headers=HEADERS, timeout=timeout)
        if received is not None:
            received.append(time.monotonic())
        if response.status_code != 200:
            return None
        return len(response.json()['nodes'])
    except (requests.RequestException, OSError, ValueError, KeyError):
        return None


def query(db_url: str, statement: str):
    """All rows of one SQL statement."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(statement)).all()
    finally:
        engine.dispose()


def owner(graphs: list[deploy.ServiceProcess],
          holder: str) -> deploy.ServiceProcess:
    """The graph process whose worker holds the term.

    :raises RuntimeError: when none of them has the holder's pid.
    """
    pid = int(holder.rsplit(':', 1)[1])
    for graph in graphs:
        master = psutil.Process(graph.pid)
        if pid == graph.pid or pid in [
                c.pid for c in master.children(recursive=True)]:
            return graph
    raise RuntimeError('no graph process has pid %d' % pid)


def log_times(text: str, *needles: str) -> dict[str, float]:
    """Epoch seconds of the last log line containing each needle."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = _LOG_TIME.match(line)
        if match is None:
            continue
        for needle in needles:
            if needle in line:
                stamp = datetime.datetime.strptime(
                    match.group(1), '%Y-%m-%d %H:%M:%S.%f')
                found[needle] = stamp.timestamp()
    return found


SAMPLE_TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / \
    'etc' / 'vitrage' / 'templates'


def write_config(directory: pathlib.Path, prefix: str, db_url: str,
                 port: int, target: int, persistency: bool,
                 lease: float, standby_mode: str = 'cold',
                 templates: bool = False) -> pathlib.Path:
    """The one config file every process of a run reads."""
    sizes = sizes_for_vertices(target)
    return deploy.write_config(directory / 'vitrage.conf', {
        'evaluator': {'templates_dir': SAMPLE_TEMPLATES if templates
                      else ''},
        'DEFAULT': {'transport_url': RABBIT, 'control_exchange': prefix,
                    'state_path': directory / 'state', 'host': HOST,
                    'debug': 'false'},
        'database': {'connection': db_url},
        'oslo_messaging_rabbit': {'amqp_durable_queues': 'true'},
        'api': {'host': '127.0.0.1', 'port': port, 'auth_mode': 'noauth',
                'graph_rpc_timeout': 10},
        'datasources': {'types': 'simulated,doctor',
                        'snapshots_interval': 3600,
                        'rpc_timeout': 600,
                        'notification_topics': prefix + '_notifications'},
        'simulated': {'zones': sizes.zones,
                      'hosts_per_zone': sizes.hosts_per_zone,
                      'instances_per_host': sizes.instances_per_host,
                      'networks': sizes.networks,
                      'volume_ratio': sizes.volume_ratio,
                      'changes_interval': 3600},
        'collector': {'topic': prefix + '_collector'},
        'entity_graph': {'topic': prefix + '_graph',
                         'events_topic': prefix + '_events',
                         'lease_time': lease, 'heartbeat_interval': 0.5},
        'persistency': {'enable_persistency': str(persistency).lower(),
                        'persistor_topic': prefix + '_persistor',
                        'standby_mode': standby_mode,
                        'purge_interval': 0},
    })


def delete_broker_objects(prefix: str) -> int:
    """Delete the queues and exchanges whose names start with ``prefix``.

    Lists them with ``rabbitmqctl`` when it runs here; otherwise deletes
    the notification queues of the known topics only.

    :returns: how many queues were deleted.
    """
    import kombu

    try:
        listed = subprocess.run(
            ['rabbitmqctl', '-q', 'list_queues', 'name'],
            capture_output=True, text=True, timeout=60, check=True)
        exchanges = subprocess.run(
            ['rabbitmqctl', '-q', 'list_exchanges', 'name'],
            capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        for topic in ('_persistor', '_events', '_notifications'):
            persistor_procs.delete_queues(RABBIT, prefix + topic)
        return 0
    queues = [n.strip() for n in listed.stdout.splitlines()
              if n.strip().startswith(prefix)]
    names = [n.strip() for n in exchanges.stdout.splitlines()
             if n.strip().startswith(prefix)]
    url = RABBIT.replace('rabbit://', 'amqp://', 1)
    with kombu.Connection(url, connect_timeout=5) as connection:
        channel = connection.channel()
        for name in queues:
            try:
                channel.queue_delete(name)
            except Exception:  # gone meanwhile: the channel is closed
                channel = connection.channel()
        for name in names:
            try:
                channel.exchange_delete(name)
            except Exception:  # gone meanwhile
                channel = connection.channel()
    return len(queues)


def restore_costs(db_url: str) -> dict[str, float]:
    """Time reading and loading the latest snapshot here, as a restore
    does, to split the new graph's restore time.
    """
    from vitrage.graph import snapshot
    from vitrage.storage import connection as db_connection
    from vitrage.storage import snapshots
    database = db_connection.Database(db_url)
    try:
        store = snapshots.SnapshotStore(database)
        info = store.latest()
        began = time.perf_counter()
        data = store.read(info.snapshot_id)
        read = time.perf_counter() - began
        began = time.perf_counter()
        snapshot.load(data)
        load = time.perf_counter() - began
    finally:
        database.dispose()
    return {'read': read, 'load': load, 'bytes': len(data)}


def wait_complete(url: str, nodes: int, deployment: deploy.Deployment,
                  killed_at: float, timeout: float) -> dict[str, float]:
    """Poll until the topology has ``nodes`` nodes again.

    :returns: seconds after the kill: ``status`` (first 200 of
        ``/v1/status/``), ``answered`` (the first complete topology
        answer is in) and ``complete`` (the client has parsed it and
        counted its nodes), and ``call`` (how long that call took).
    """
    status_at = None
    deadline = killed_at + timeout
    while True:
        deployment.check_alive()
        if status_at is None:
            if deploy.http_status(url + '/v1/status/', timeout=5) == 200:
                status_at = time.monotonic() - killed_at
        if status_at is not None:
            began = time.monotonic()
            received: list[float] = []
            got = topology_nodes(url, received=received)
            if got == nodes:
                done = time.monotonic()
                return {'status': status_at, 'complete': done - killed_at,
                        'answered': received[0] - killed_at,
                        'call': done - began}
        if time.monotonic() > deadline:
            raise RuntimeError('topology not complete %.0f s after the '
                               'kill\n%s' % (timeout, deployment.logs()))
        time.sleep(0.1)


def post_events(url: str, count: int, db_url: str,
                deployment: deploy.Deployment, timeout: float) -> int:
    """Post ``count`` doctor events through the API and wait until the
    graph has logged them: the tail a restore replays.

    :returns: how many events are logged now.
    """
    before = query(db_url, 'SELECT COUNT(*) FROM events')[0][0]
    for n in range(count):
        status = 'down' if n % 2 == 0 else 'up'
        response = _SESSION.post(url + '/v1/event/', json={
            'type': 'compute.host.down',
            'details': {'hostname': 'bench-host-%d' % (n // 2 % 50),
                        'status': status}},
            headers=HEADERS, timeout=30)
        response.raise_for_status()
    return deploy.wait_until(
        lambda: (lambda n: n if n >= before + count else None)(
            query(db_url, 'SELECT COUNT(*) FROM events')[0][0]),
        timeout, '%d posted events logged' % count, deployment=deployment)


def run_persistent(work: pathlib.Path, deployment: deploy.Deployment,
                   config: pathlib.Path, url: str, db_url: str,
                   timeout: float, replay: int, lone: bool) -> dict:
    deployment.start('collector', 'vitrage-collector', config)
    deployment.start('persistor', 'vitrage-persistor', config)
    graphs = [deployment.start('graph-a', 'vitrage-graph', config)]
    deployment.start('api', 'vitrage-api', config)
    deploy.wait_for_api(url, deployment, timeout=timeout)
    deploy.wait_until(
        lambda: query(db_url, 'SELECT COUNT(*) FROM graph_snapshots')[0][0],
        timeout, 'a graph snapshot', deployment=deployment)
    post_events(url, replay, db_url, deployment, timeout)
    began = time.monotonic()
    nodes = topology_nodes(url)
    before_call = time.monotonic() - began
    if not nodes:
        raise RuntimeError('no topology before the kill')
    if not lone:
        graphs.append(deployment.start('graph-b', 'vitrage-graph', config))
        deploy.wait_until(lambda: ' standby: term ' in graphs[1].log(), 60,
                          'graph B to wait as a standby',
                          deployment=deployment)
        time.sleep(2)
    term, holder = query(db_url, 'SELECT term, holder FROM graph_term')[0]
    active = owner(graphs, holder)
    events_before = query(db_url, 'SELECT COUNT(*) FROM events')[0][0]
    killed_wall = time.time()
    killed_at = time.monotonic()
    active.kill_group()
    deployment.processes.remove(active)
    if lone:
        # systemd's Restart=always: a new process at once.
        standby = deployment.start('graph-b', 'vitrage-graph', config)
    else:
        standby = graphs[1] if active is graphs[0] else graphs[0]
    figures = wait_complete(url, nodes, deployment, killed_at, timeout)
    text = standby.log()
    replayed = _REPLAYED.search(text)
    marks = log_times(text, 'is active in term', 'restored from',
                      'evaluator enabled', 'graph ready')
    new_term = query(db_url, 'SELECT term FROM graph_term')[0][0]
    figures.update(
        nodes=nodes, before_call=before_call,
        replayed=int(replayed.group(1)) if replayed else None,
        term=(term, new_term), events_logged=events_before,
        snapshots=query(db_url, 'SELECT COUNT(DISTINCT snapshot_id) FROM '
                        'graph_snapshots')[0][0],
        marks={k: v - killed_wall for k, v in marks.items()},
        costs=restore_costs(db_url), owner=active.name,
        restore_line=replayed.group(0) if replayed else
        'NO restored line; tail:\n' + text[-2000:])
    return figures


def run_off(work: pathlib.Path, deployment: deploy.Deployment,
            config: pathlib.Path, url: str, timeout: float) -> dict:
    deployment.start('collector', 'vitrage-collector', config)
    graph = deployment.start('graph-a', 'vitrage-graph', config)
    deployment.start('api', 'vitrage-api', config)
    deploy.wait_for_api(url, deployment, timeout=timeout)
    began = time.monotonic()
    nodes = topology_nodes(url)
    before_call = time.monotonic() - began
    if not nodes:
        raise RuntimeError('no topology before the kill')
    killed_wall = time.time()
    killed_at = time.monotonic()
    graph.kill_group()
    deployment.processes.remove(graph)
    fresh = deployment.start('graph-b', 'vitrage-graph', config)
    figures = wait_complete(url, nodes, deployment, killed_at, timeout)
    marks = log_times(fresh.log(), 'graph ready')
    figures.update(nodes=nodes, before_call=before_call,
                   marks={k: v - killed_wall for k, v in marks.items()})
    return figures


def run(size: int, mode: str, lease: float, timeout: float,
        keep: bool, templates: bool = False, replay: int = 1000) -> dict:
    """One (size, mode) measure, cleaned up whatever happens."""
    prefix = helpers.unique_name('vitrage_bench_fo')
    work = pathlib.Path(tempfile.mkdtemp(prefix='vitrage-failover-'))
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    deployment = deploy.Deployment(work)
    db_url = services.create_database(MYSQL, prefix)
    ok = False
    try:
        config = write_config(work, prefix, db_url, port, size,
                              mode != 'off',
                              DEFAULT_LEASE if mode == 'lone' else lease,
                              'hot' if mode == 'hot' else 'cold',
                              templates)
        persistor_procs.dbsync(str(config))
        if mode != 'off':
            figures = run_persistent(work, deployment, config, url, db_url,
                                     timeout, replay, mode == 'lone')
        else:
            figures = run_off(work, deployment, config, url, timeout)
        ok = True
        return figures
    finally:
        deployment.cleanup()
        with contextlib.suppress(Exception):
            delete_broker_objects(prefix)
        services.drop_database(MYSQL, prefix)
        if keep or not ok:
            print('  logs kept in %s' % work, flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(size: int, mode: str, lease: float, r: dict) -> None:
    marks = ', '.join('%s at %+.2f s' % (k, v)
                      for k, v in sorted(r['marks'].items(),
                                         key=lambda kv: kv[1]))
    if mode != 'off':
        what = ('a lone graph restarted at once' if mode == 'lone'
                else '%s standby' % mode)
        print('%7d vertices target, %s: complete topology '
              'answered %.2f s after kill -9, parsed by the client at '
              '%.2f s (lease %.1f s: not waited out with the broker lock '
              'or a dead local holder); '
              '%d nodes; replayed %s events (%d logged before the kill, '
              'term %d -> %d, %d snapshot(s), killed %s)' % (
                  size, what, r['answered'], r['complete'],
                  DEFAULT_LEASE if mode == 'lone' else lease,
                  r['nodes'], r['replayed'], r['events_logged'],
                  r['term'][0], r['term'][1], r['snapshots'], r['owner']),
              flush=True)
        costs = r['costs']
        print('        new graph log: %s; /v1/status/ 200 at %.2f s; last '
              'topology call %.2f s (%.2f s before the kill); snapshot %d '
              'bytes: read %.2f s, load %.2f s (timed here)' % (
                  marks, r['status'], r['call'], r['before_call'],
                  costs['bytes'], costs['read'], costs['load']),
              flush=True)
        print('        %s' % r['restore_line'], flush=True)
    else:
        print('%7d vertices target, persistency off: complete topology '
              'answered %.2f s after kill -9 and restart (no lease), '
              'parsed by the client at %.2f s; %d nodes' % (
                  size, r['answered'], r['complete'], r['nodes']),
              flush=True)
        print('        new graph log: %s; /v1/status/ 200 at %.2f s; last '
              'topology call %.2f s (%.2f s before the kill)' % (
                  marks, r['status'], r['call'], r['before_call']),
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='*',
                        default=list(DEFAULT_SIZES))
    parser.add_argument('--modes', nargs='*', choices=MODES,
                        default=list(MODES))
    parser.add_argument('--lease', type=float, default=2.0,
                        help='[entity_graph] lease_time (seconds)')
    parser.add_argument('--timeout', type=float, default=900,
                        help='seconds allowed for each wait')
    parser.add_argument('--keep', action='store_true',
                        help='keep the logs directory')
    parser.add_argument('--replay', type=int, default=1000,
                        help='doctor events posted after the snapshot and '
                        'before the kill (the tail a restore replays)')
    parser.add_argument('--templates', action='store_true',
                        help='put the sample templates of '
                        'etc/vitrage/templates in force')
    args = parser.parse_args()
    print('machine: %d cores, %.1f GiB, python %s' % (
        os.cpu_count(), psutil.virtual_memory().total / 2 ** 30,
        sys.version.split()[0]), flush=True)
    for size in args.sizes:
        for mode in args.modes:
            try:
                figures = run(size, mode, args.lease, args.timeout,
                              args.keep, args.templates, args.replay)
            except Exception as exc:  # report it, go on with the rest
                print('%7d vertices target, %s: failed: %s' % (
                    size, mode, str(exc)[-4000:]), flush=True)
                continue
            report(size, mode, args.lease, figures)


if __name__ == '__main__':
    main()
