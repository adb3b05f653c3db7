"""vitrage-api over real RPC, driven by the stock ``vitrage`` client CLI.

A :class:`GraphEndpoint` serves a hand-built graph in an oslo.messaging
RPC server on the in-memory transport (``kombu+vitrage-memory:////``);
the real API is served on a free port with :func:`vitrage.cmd.api.serve`; the
python-vitrageclient CLI runs as a subprocess in no-auth mode.
"""
from collections.abc import Iterator
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import oslo_messaging
import pytest

from vitrage.api.app import build_app
from vitrage.cmd.api import serve
from vitrage.graph import rpcapi
from vitrage.tests.unit.graph import sample_graph

VITRAGE_CLI = os.path.join(os.path.dirname(sys.executable), 'vitrage')
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Holder:
    def __init__(self) -> None:
        self.graph = sample_graph.build()
        self.lock = threading.RLock()
        self.ready = True

    def is_ready(self) -> bool:
        return self.ready


class Stack:
    def __init__(self, url: str, holder: Holder) -> None:
        self.url = url
        self.holder = holder

    def cli(self, *args: str, roles: str = 'admin', project: str = 'p',
            check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('OS_', 'VITRAGE_')) and
               k.lower() not in ('http_proxy', 'https_proxy')}
        env['NO_PROXY'] = env['no_proxy'] = '127.0.0.1,localhost'
        command = [VITRAGE_CLI, '--os-auth-type', 'vitrage-noauth',
                   '--user-id', 'u', '--project-id', project,
                   '--roles', roles, '--endpoint', self.url] + list(args)
        result = subprocess.run(command, capture_output=True, text=True,
                                env=env, timeout=120)
        if check:
            assert result.returncode == 0, (command, result.stdout,
                                            result.stderr)
        return result

    def cli_json(self, *args: str, **kwargs: str) -> object:
        return json.loads(self.cli(*args, **kwargs).stdout)


def run_stack(conf, topic: str) -> Iterator[Stack]:
    conf.set_override('topic', topic, 'entity_graph')
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('host', '127.0.0.1', 'api')
    conf.set_override('port', 0, 'api')
    conf.set_override('graph_rpc_timeout', 20, 'api')
    transport = oslo_messaging.get_rpc_transport(
        conf, url='kombu+vitrage-memory:////')
    holder = Holder()
    rpc_server = rpcapi.get_server(conf, transport, holder, 'test-graph')
    rpc_server.start()
    api_server = serve(conf, build_app(conf,
                                       rpcapi.GraphClient(conf, transport)))
    try:
        yield Stack('http://127.0.0.1:%d' % api_server.server_port, holder)
    finally:
        api_server.shutdown()
        rpc_server.stop()
        rpc_server.wait()
        transport.cleanup()


@pytest.fixture
def stack(conf, unique_topic) -> Iterator[Stack]:
    yield from run_stack(conf, unique_topic)


@pytest.fixture
def small_parts_stack(conf, unique_topic) -> Iterator[Stack]:
    """A stack whose graph sends large answers in 64 KiB parts."""
    conf.set_override('answer_part_size', 64 * 1024, 'entity_graph')
    yield from run_stack(conf, unique_topic)


def test_stock_client_against_the_api(stack):
    topology = stack.cli_json('topology', 'show', '--all-tenants')
    ids = {n['vitrage_id'] for n in topology['nodes']}
    assert ids == set(sample_graph.RESOURCES + sample_graph.ALARMS)
    types = {n['vitrage_id']: n['vitrage_type'] for n in topology['nodes']}
    assert types['cluster'] == 'openstack.cluster'
    assert types['inst1'] == 'nova.instance'
    assert len(topology['links']) == 10

    resources = stack.cli_json('resource', 'list', '--all-tenants',
                               '-f', 'json')
    by_id = {r['ID']: r for r in resources}
    assert set(by_id) == set(sample_graph.RESOURCES)
    assert by_id['host1']['Type'] == 'nova.host'
    assert by_id['host1']['Data Source ID'] == 'compute-1'
    assert by_id['inst3']['State'] == 'OK'

    shown = stack.cli_json('resource', 'show', 'inst1', '-f', 'json')
    assert shown['vitrage_id'] == 'inst1'
    assert shown['vitrage_type'] == 'nova.instance'
    assert shown['project_id'] == 'p1'

    counts = stack.cli_json('resource', 'count', '--all-tenants')
    assert counts == {'openstack.cluster': 1, 'nova.zone': 1,
                      'nova.host': 2, 'nova.instance': 3}

    status = stack.cli('status')
    assert 'OK' in status.stdout


def test_large_answers_in_parts_reach_the_stock_client(
        small_parts_stack, monkeypatch):
    # A graph too large for one broker message (here: 64 KiB parts)
    # still answers whole, to the stock client and to plain HTTP.
    parts_sent = []
    part = rpcapi.AnswerParts.part

    def counted(self, token, index):
        parts_sent.append(index)
        return part(self, token, index)
    monkeypatch.setattr(rpcapi.AnswerParts, 'part', counted)
    graph = small_parts_stack.holder.graph
    for i in range(20000):
        graph.add_vertex('sw%d' % i, {
            'vitrage_category': 'RESOURCE', 'vitrage_type': 'switch',
            'vitrage_is_deleted': False, 'vitrage_is_placeholder': False,
            'name': 'switch-%d' % i, 'id': 'sw-%d' % i,
            'state': 'available', 'project_id': 'p1'})
        graph.add_edge('zone', 'sw%d' % i, 'contains')
    topology = small_parts_stack.cli_json('topology', 'show',
                                          '--all-tenants')
    assert len(topology['nodes']) == 20000 + len(
        sample_graph.RESOURCES + sample_graph.ALARMS)
    assert len(topology['links']) == 20000 + 10
    assert len(parts_sent) >= 2, 'the topology did not come in parts'
    resources = small_parts_stack.cli_json(
        'resource', 'list', '--all-tenants', '--type', 'switch',
        '-f', 'json')
    assert len(resources) == 20000
    request = urllib.request.Request(
        small_parts_stack.url + '/v1/resources/?all_tenants=1',
        headers={'X-User-Id': 'u', 'X-Project-Id': 'p',
                 'X-Roles': 'admin'})
    with _NO_PROXY.open(request, timeout=60) as response:
        plain = json.loads(response.read())
    assert len(plain) == 20000 + len(sample_graph.RESOURCES)


def test_stock_client_scoping_and_errors(stack):
    mine = stack.cli_json('resource', 'list', '-f', 'json',
                          roles='member', project='p1')
    assert {r['ID'] for r in mine} == {'inst1', 'inst3'}

    tree = stack.cli_json('topology', 'show', '--graph-type', 'tree',
                          '--filter', json.dumps({'==': {
                              'vitrage_category': 'RESOURCE'}}),
                          '--limit', '2', '--all-tenants')
    assert tree['vitrage_id'] == 'cluster'
    assert [c['vitrage_id'] for c in tree['children']] == ['zone']

    denied = stack.cli('topology', 'show', '--all-tenants',
                       roles='member', check=False)
    assert denied.returncode != 0
    assert 'Authorization Failed (HTTP 403)' in denied.stderr

    missing = stack.cli('resource', 'show', 'inst2', roles='member',
                        project='p1', check=False)
    assert missing.returncode != 0
    assert 'Failed to show resource. (HTTP 404)' in missing.stderr

    stack.holder.ready = False
    not_ready = stack.cli('status', check=False)
    assert not_ready.returncode != 0
    assert 'vitrage-graph is not ready (HTTP 503)' in not_ready.stderr


def test_console_script_serves_until_sigterm(tmp_path, unused_port):
    config = tmp_path / 'vitrage.conf'
    config.write_text(
        '[DEFAULT]\ntransport_url = kombu+vitrage-memory:////\n'
        '[api]\nauth_mode = noauth\nhost = 127.0.0.1\nport = %d\n'
        'graph_rpc_timeout = 1\n' % unused_port)
    script = os.path.join(os.path.dirname(sys.executable), 'vitrage-api')
    process = subprocess.Popen([script, '--config-file', str(config)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = 'http://127.0.0.1:%d' % unused_port
    try:
        versions = _get_json(base + '/', attempts=100)
        assert versions[1]['versions'][0]['links'][0]['href'] == \
            base + '/v1/'
        # No vitrage-graph answers on this private in-memory transport.
        status, error = _get_json(base + '/v1/status/')
        assert status == 503
        assert error['description'] == 'vitrage-graph is not available'
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        # No access-log line per request.
        assert '"GET /v1/status/ HTTP/1.1"' not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize('script', ['vitrage-api', 'vitrage-all-in-one'])
def test_noauth_on_a_public_address_refuses_to_start(tmp_path, script):
    # vitrage-api's default host is 0.0.0.0; the all-in-one's 127.0.0.1,
    # which a config file may change.
    config = tmp_path / 'vitrage.conf'
    config.write_text(
        '[DEFAULT]\ntransport_url = kombu+vitrage-memory:////\n'
        '[api]\nauth_mode = noauth\nhost = 0.0.0.0\nport = 1\n'
        '[database]\nconnection = sqlite:///%s\n' % (tmp_path / 'db'))
    path = os.path.join(os.path.dirname(sys.executable), script)
    result = subprocess.run([path, '--config-file', str(config)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    # One line (after the import-time warnings of some libraries).
    assert 'Traceback' not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(script + ': configuration error: [api] host '
                           '0.0.0.0 is not a loopback address'), line
    assert 'allow_noauth_on_public_address' in line
    assert not os.path.exists(tmp_path / 'db')


def _get_json(url: str, attempts: int = 1) -> tuple[int, object]:
    for attempt in range(attempts):
        try:
            with _NO_PROXY.open(url, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)
    raise AssertionError('unreachable')
