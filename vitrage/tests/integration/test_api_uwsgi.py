"""vitrage-api under uWSGI with the shipped sample, on the real RabbitMQ.

``uwsgi --ini etc/vitrage/api-uwsgi.ini`` (only the socket and the
virtualenv given on the command line) serves the API from two workers,
each of which built its own application and registered itself; the
graph answers over RabbitMQ; SIGTERM stops it.
"""
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import oslo_messaging

from vitrage.graph import rpcapi
from vitrage.tests.functional.test_api_rpc import Holder
from vitrage.tests import helpers
from vitrage.tests.unit.graph import sample_graph

SAMPLE = helpers.repo_path('etc', 'vitrage', 'api-uwsgi.ini')
UWSGI = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
HEADERS = {'X-User-Id': 'u', 'X-Project-Id': 'p1', 'X-Roles': 'admin'}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers=dict(HEADERS, **{
            'Content-Type': 'application/json'}))
    try:
        with _NO_PROXY.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:          # not listening yet
        return 0, str(exc)


def test_the_uwsgi_sample_serves_the_api(conf, tmp_path,
                                         rabbit_transport_url):
    assert os.path.exists(UWSGI), 'uWSGI is in test-requirements.txt'
    topic = helpers.unique_name('vitrage_test_uwsgi')
    db_url = helpers.sqlite_database(tmp_path / 'api.sqlite')
    config = tmp_path / 'vitrage.conf'
    config.write_text(
        '[DEFAULT]\ntransport_url = %s\nhost = uwsgi-node\n'
        '[api]\nauth_mode = noauth\n'
        '[entity_graph]\ntopic = %s\n'
        '[database]\nconnection = %s\n' % (
            rabbit_transport_url, topic, db_url))
    conf.set_override('topic', topic, 'entity_graph')
    transport = oslo_messaging.get_rpc_transport(
        conf, url=rabbit_transport_url)
    graph = rpcapi.get_server(conf, transport, Holder(), 'test-graph')
    graph.start()
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ('http_proxy', 'https_proxy')}
    env['VITRAGE_CONFIG_FILES'] = str(config)
    log = open(tmp_path / 'uwsgi.log', 'w')
    server = subprocess.Popen(
        [UWSGI, '--ini', SAMPLE,
         '--http-socket', '127.0.0.1:%d' % port,
         '--virtualenv', sys.prefix],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(tmp_path))

    def uwsgi_log() -> str:
        return (tmp_path / 'uwsgi.log').read_text()[-4000:]
    try:
        helpers.wait_for(
            lambda: server.poll() is not None or
            get(url + '/v1/service/')[0] == 200 and
            len(get(url + '/v1/service/')[1]) == 2, 60,
            'two uWSGI workers serving')
        assert server.poll() is None, uwsgi_log()
        status, versions = get(url + '/')
        assert status == 200, uwsgi_log()
        assert versions['versions'][0]['links'][0]['href'] == \
            url + '/v1/'
        status, workers = get(url + '/v1/service/')
        assert sorted(w['name'] for w in workers) == [
            'vitrageuWSGI_worker_1', 'vitrageuWSGI_worker_2']
        assert {w['hostname'] for w in workers} == {'uwsgi-node'}
        assert len({w['process'] for w in workers}) == 2
        # Each worker asks the graph over RabbitMQ.
        for _ in range(4):
            status, topology = get(url + '/v1/topology/', {
                'graph_type': 'graph', 'all_tenants': True})
            assert status == 200, topology
            assert {n['vitrage_id'] for n in topology['nodes']} == set(
                sample_graph.RESOURCES + sample_graph.ALARMS)
        status, error = get(url + '/v1/resources/nope')
        assert status == 404
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        log.close()
        graph.stop()
        graph.wait()
        transport.cleanup()
