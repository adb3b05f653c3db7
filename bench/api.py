"""bench/api: latency of REST requests through the real services.

Real processes (``vitrage-collector``, ``vitrage-persistor``,
``vitrage-graph``, ``vitrage-api``) on RabbitMQ and MariaDB, the
``simulated`` datasource sized to each target and the ``doctor``
datasource for alarms. Requests are sent with ``requests`` as the stock
client sends them (``Accept-Encoding: gzip``), and timed from the first
byte sent to the last byte read and decoded:

* ``topology show`` (graph format, all tenants) at each size;
* every read request of the client at the smallest size (status,
  topology, resource list/show/count, alarm list/count, template list,
  service list);
* ``alarm list`` with ``--alarms`` doctor alarms raised through
  ``POST /v1/event`` (at the first size of at least 10,000 vertices),
  with the library's page of 1,000 and without a limit;
* ``event post`` to ``alarm list`` showing the deduced alarms of a host
  down: the newcomer's scenario of the sample ``host_down`` template.

Prints the median and the slowest of ``--repeat`` calls; nothing here
asserts a time.

    python bench/api.py [--sizes 1000 10000 100000] [--alarms 10000]
"""
import argparse
import contextlib
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

import psutil
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import failover  # noqa: E402

from vitrage.datasources.base import vitrage_id  # noqa: E402
from vitrage.datasources.doctor.transformer import alarm_key  # noqa: E402
from vitrage.tests import deployment as deploy  # noqa: E402
from vitrage.tests import helpers  # noqa: E402
from vitrage.tests.integration import persistor_procs  # noqa: E402
from vitrage.tests.integration import services  # noqa: E402

ADMIN = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'admin'}
TEMPLATES = pathlib.Path(__file__).resolve().parents[1] / 'etc' / \
    'vitrage' / 'templates'


#: Seconds of the last calls of :func:`timed` until the body was read
#: (gunzipped by requests), before JSON decoding.
READ_TIMES: list[float] = []


def timed(session: requests.Session, method: str, url: str,
          repeat: int, **kwargs) -> tuple[list[float], object]:
    """Seconds of ``repeat`` calls, JSON decoding included, and the last
    decoded answer; :data:`READ_TIMES` gets the times without decoding.

    :raises RuntimeError: on an answer other than 200.
    """
    times = []
    answer = None
    READ_TIMES.clear()
    for _ in range(repeat):
        began = time.perf_counter()
        response = session.request(method, url, headers=ADMIN,
                                   timeout=600, **kwargs)
        response.content
        READ_TIMES.append(time.perf_counter() - began)
        answer = response.json()
        times.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise RuntimeError('%s %s: %d %s' % (method, url,
                                                 response.status_code,
                                                 str(answer)[:500]))
    return times, answer


def line(label: str, times: list[float], extra: str = '') -> None:
    print('  %-44s median %8.1f ms  max %8.1f ms  (%d calls)%s' % (
        label, statistics.median(times) * 1000, max(times) * 1000,
        len(times), extra), flush=True)


def wait_for(predicate, timeout: float, what: str,
             deployment: deploy.Deployment) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        deployment.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError('timed out: %s\n%s' % (what,
                                                      deployment.logs()))
        time.sleep(0.01)


def post_event(session: requests.Session, url: str, hostname: str,
               alarm_type: str, status: str = 'down') -> None:
    response = session.post(url + '/v1/event/', headers=ADMIN, json={
        'time': time.strftime('%Y-%m-%dT%H:%M:%S.000000', time.gmtime()),
        'type': alarm_type,
        'details': {'hostname': hostname, 'status': status}}, timeout=30)
    if response.status_code != 200:
        raise RuntimeError('event post: %d %s' % (response.status_code,
                                                  response.text[:300]))


def alarm_count(session: requests.Session, url: str) -> int:
    response = session.get(url + '/v1/alarm/count/', headers=ADMIN,
                           params={'all_tenants': 'True'}, timeout=60)
    return sum(response.json().values()) if response.ok else -1


def run(size: int, all_requests: bool, alarms: int, repeat: int,
        keep: bool) -> None:
    prefix = helpers.unique_name('vitrage_bench_api')
    work = pathlib.Path(tempfile.mkdtemp(prefix='vitrage-bench-api-'))
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    deployment = deploy.Deployment(work)
    db_url = services.create_database(failover.MYSQL, prefix)
    ok = False
    try:
        config = failover.write_config(work, prefix, db_url, port, size,
                                       True, 10.0)
        text = config.read_text().replace(
            'types = simulated', 'types = simulated, doctor')
        text += '\n[evaluator]\ntemplates_dir = %s\n' % TEMPLATES
        config.write_text(text)
        persistor_procs.dbsync(str(config))
        for name, command in (('collector', 'vitrage-collector'),
                              ('persistor', 'vitrage-persistor'),
                              ('graph', 'vitrage-graph'),
                              ('api', 'vitrage-api')):
            deployment.start(name, command, config)
        deploy.wait_for_api(url, deployment, timeout=900)
        session = requests.Session()
        body = {'graph_type': 'graph', 'all_tenants': True, 'depth': None,
                'root': None, 'query': None}
        times, topology = timed(session, 'POST', url + '/v1/topology/',
                                repeat, json=body)
        nodes = topology['nodes']
        print('%d vertices target: %d nodes, %d links' % (
            size, len(nodes), len(topology['links'])), flush=True)
        line('topology show (graph, all tenants)', times)
        line('  the same, until its body is read', list(READ_TIMES))

        if all_requests:
            resource = next(n['vitrage_id'] for n in nodes
                            if n.get('vitrage_type') == 'nova.instance')
            reads = [
                ('status', 'GET', '/v1/status/', {}),
                ('topology show (project p)', 'POST', '/v1/topology/',
                 {'json': dict(body, all_tenants=False)}),
                ('resource list', 'POST', '/v1/resources/',
                 {'json': {'resource_type': None, 'all_tenants': True,
                           'query': None}}),
                ('resource show', 'GET', '/v1/resources/' + resource, {}),
                ('resource count', 'POST', '/v1/resources/count/',
                 {'json': {'resource_type': None, 'all_tenants': True,
                           'query': None, 'group_by': 'vitrage_type'}}),
                ('alarm list', 'GET', '/v1/alarm/',
                 {'params': {'vitrage_id': 'all', 'all_tenants': 'True'}}),
                ('alarm count', 'GET', '/v1/alarm/count/',
                 {'params': {'all_tenants': 'True'}}),
                ('template list', 'GET', '/v1/template/', {}),
                ('service list', 'GET', '/v1/service/', {}),
            ]
            for label, method, path, kwargs in reads:
                times, _answer = timed(session, method, url + path,
                                       max(repeat, 20), **kwargs)
                line(label, times)

        hosts = sorted(n['id'] for n in nodes
                       if n.get('vitrage_type') == 'nova.host')
        # The newcomer's scenario: a host down shows its deduced alarms.
        deduced = sum(1 for n in nodes
                      if n.get('vitrage_type') == 'nova.instance')
        per_host = deduced // max(1, len(hosts))
        lags, in_graph = [], []
        for hostname in hosts[:5]:
            before = alarm_count(session, url)
            shown = url + '/v1/alarm/' + vitrage_id(
                alarm_key('compute.host.down', hostname))
            began = time.perf_counter()
            post_event(session, url, hostname, 'compute.host.down')
            wait_for(lambda: session.get(shown, headers=ADMIN).ok, 60,
                     'the doctor alarm of %s' % hostname, deployment)
            in_graph.append(time.perf_counter() - began)
            wait_for(lambda: alarm_count(session, url) >=
                     before + 1 + per_host, 60,
                     'deduced alarms of %s' % hostname, deployment)
            lags.append(time.perf_counter() - began)
        line('event post -> host alarm in graph (show)', in_graph)
        line('event post -> %d deduced alarms in list' % per_host, lags)

        if alarms:
            began = time.perf_counter()
            raised = 0
            while raised < alarms:
                host = hosts[raised % len(hosts)]
                post_event(session, url, host,
                           'bench.check.%d' % (raised // len(hosts)))
                raised += 1
            target = alarms + 5 * (1 + per_host)
            wait_for(lambda: alarm_count(session, url) >= target, 900,
                     '%d alarms' % target, deployment)
            print('  %d events posted and listed in %.1f s' % (
                alarms, time.perf_counter() - began), flush=True)
            params = {'vitrage_id': 'all', 'all_tenants': 'True',
                      'sort_by': ['start_timestamp', 'vitrage_id'],
                      'sort_dirs': ['asc', 'asc'], 'next_page': 'True'}
            times, page = timed(session, 'GET', url + '/v1/alarm/',
                                repeat, params=dict(params, limit=1000))
            line('alarm list, limit 1000 (library)', times,
                 ' %d rows' % len(page))
            times, rows = timed(session, 'GET', url + '/v1/alarm/',
                                repeat, params=params)
            line('alarm list, no limit (CLI)', times, ' %d rows' % len(
                rows))
        ok = True
    finally:
        deployment.cleanup()
        with contextlib.suppress(Exception):
            failover.delete_broker_objects(prefix)
        services.drop_database(failover.MYSQL, prefix)
        if keep or not ok:
            print('  logs kept in %s' % work, flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='*',
                        default=[1000, 10000, 100000])
    parser.add_argument('--alarms', type=int, default=10000,
                        help='alarms for the alarm list figures')
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--keep', action='store_true',
                        help='keep the logs directory')
    args = parser.parse_args()
    print('machine: %d cores, %.1f GiB, python %s' % (
        os.cpu_count(), psutil.virtual_memory().total / 2 ** 30,
        sys.version.split()[0]), flush=True)
    alarms_at = next((s for s in args.sizes if s >= 10000),
                     args.sizes[-1])
    for size in args.sizes:
        try:
            run(size, size == min(args.sizes),
                args.alarms if size == alarms_at else 0, args.repeat,
                args.keep)
        except Exception as exc:  # report it, go on with the rest
            print('%d vertices target: failed: %s' % (size,
                                                      str(exc)[-4000:]),
                  flush=True)


if __name__ == '__main__':
    main()
