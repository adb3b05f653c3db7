"""An API of this release against a vitrage-graph of the previous one.

During a rolling upgrade vitrage-api may be upgraded before
vitrage-graph. The graph here speaks graph RPC 1.1, the version of the
previous release: it has no ``get_answer_part`` (1.2) and answers large
results whole, knowing nothing of the ``answer_parts`` flag. It is
served by a real oslo.messaging RPC server on the in-memory transport
(``kombu+vitrage-memory:////``), so its dispatcher refuses versions and
methods it does not know exactly as a deployed old graph would; the API
is the real application with the real :class:`GraphClient`.
"""
from collections.abc import Iterator
import json
import threading
from typing import Any

import oslo_messaging
import pytest

from vitrage.api.app import build_app
from vitrage.graph import rpcapi
from vitrage.graph import views
from vitrage.tests.unit.graph import sample_graph

PREVIOUS_VERSION = '1.1'
PREVIOUS_METHODS = ('get_topology', 'list_resources', 'show_resource',
                    'count_resources', 'get_status', 'show_alarm',
                    'list_alarms', 'get_rca')
"""The graph RPC calls of the previous release."""

SWITCHES = 3000
"""Enough vertices for a topology answer gzipped and, from a graph of
this release with 1 KiB parts, split."""


class Holder:
    def __init__(self) -> None:
        self.graph = sample_graph.build()
        for i in range(SWITCHES):
            self.graph.add_vertex('sw%d' % i, {
                'vitrage_category': 'RESOURCE', 'vitrage_type': 'switch',
                'vitrage_is_deleted': False,
                'vitrage_is_placeholder': False, 'name': 'switch-%d' % i,
                'id': str(i), 'project_id': None})
        self.lock = threading.RLock()

    def is_ready(self) -> bool:
        return True


class PreviousGraphEndpoint:
    """The wire behaviour of a graph RPC 1.1 endpoint.

    :param holder: the graph state.
    """

    target = oslo_messaging.Target(version=PREVIOUS_VERSION)

    def __init__(self, holder: Holder) -> None:
        # A graph of this release would split these answers in 1 KiB
        # parts for a client that asks; the previous one never does.
        self._graph = rpcapi.GraphEndpoint(holder, part_size=1024)
        self.calls: list[tuple[str, dict]] = []

    def _relay(self, name: str, ctx: dict, kwargs: dict) -> Any:
        self.calls.append((name, dict(ctx)))
        old_ctx = {k: v for k, v in ctx.items() if k != 'answer_parts'}
        return getattr(self._graph, name)(old_ctx, **kwargs)


def _relay(name: str) -> Any:
    def method(self: PreviousGraphEndpoint, ctx: dict, **kwargs: Any
               ) -> Any:
        return self._relay(name, ctx, kwargs)
    method.__name__ = name
    return method


for _name in PREVIOUS_METHODS:
    setattr(PreviousGraphEndpoint, _name, _relay(_name))


class Deployment:
    def __init__(self, conf, transport, endpoint, holder) -> None:
        self.conf = conf
        self.transport = transport
        self.endpoint = endpoint
        self.holder = holder

    def client(self) -> rpcapi.GraphClient:
        return rpcapi.GraphClient(self.conf, self.transport)

    def http(self) -> Any:
        return build_app(self.conf, self.client()).test_client()


@pytest.fixture
def old_graph(conf, unique_topic, monkeypatch) -> Iterator[Deployment]:
    conf.set_override('topic', unique_topic, 'entity_graph')
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('graph_rpc_timeout', 20, 'api')
    conf.set_override('enable_persistency', False, 'persistency')
    # Large answers travel gzipped from a few KiB on, as from 256 KiB in
    # production: the old graph sends them whole.
    monkeypatch.setattr(rpcapi, 'COMPRESS_ABOVE', 4096)
    transport = oslo_messaging.get_rpc_transport(
        conf, url='kombu+vitrage-memory:////')
    holder = Holder()
    endpoint = PreviousGraphEndpoint(holder)
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=unique_topic,
                                         server='old-graph'),
        [endpoint], executor='threading')
    server.start()
    try:
        yield Deployment(conf, transport, endpoint, holder)
    finally:
        server.stop()
        server.wait()
        transport.cleanup()


def ok(response) -> Any:
    assert response.status_code == 200, response.data
    return json.loads(response.data)


def test_every_api_call_of_this_release_works_with_the_old_graph(
        old_graph):
    http = old_graph.http()
    assert ok(http.get('/v1/status/')) == {'reason': 'OK'}
    topology = ok(http.post('/v1/topology/', json={'all_tenants': True}))
    ctx = {'user_id': None, 'project_id': None, 'roles': [],
           'is_admin': True}
    assert topology == views.topology(old_graph.holder.graph, ctx,
                                      all_tenants=True)
    assert len(topology['nodes']) > SWITCHES
    whole = old_graph.client().get_topology(ctx, 'graph', None, None, None,
                                            True)
    assert isinstance(whole, rpcapi.GzipEncoded)       # one answer, whole
    listed = ok(http.get('/v1/resources/?all_tenants=true'))
    assert len(listed) == len(sample_graph.RESOURCES) + SWITCHES
    assert ok(http.get('/v1/resources/host1'))['id'] == 'compute-1'
    counts = ok(http.post('/v1/resources/count/',
                          json={'all_tenants': True}))
    assert counts['switch'] == SWITCHES
    alarms = ok(http.get('/v1/alarm/?vitrage_id=all&all_tenants=true'))
    assert {a['vitrage_id'] for a in alarms} == \
        set(sample_graph.ALARMS)
    shown = ok(http.get('/v1/alarm/alarm_host1'))
    assert shown['vitrage_id'] == 'alarm_host1'
    rca = ok(http.get('/v1/rca/alarm_inst1?all_tenants=true'))
    assert rca['nodes'][rca['inspected_index']]['vitrage_id'] == \
        'alarm_inst1'
    # Every call reached the old graph, each with the old graph's surface.
    called = {name for name, _ in old_graph.endpoint.calls}
    assert called == set(PREVIOUS_METHODS)


def test_a_call_the_old_graph_lacks_is_a_503_naming_the_versions(
        old_graph):
    client = old_graph.client()
    with pytest.raises(rpcapi.GraphTooOld) as info:
        client.get_answer_part({}, 'token', 1)
    assert info.value.code == 503
    assert info.value.description.startswith(
        'vitrage-graph is too old for get_answer_part: it needs graph RPC '
        'version 1.2')


def test_a_cap_holds_the_api_to_the_old_graph(old_graph):
    old_graph.conf.set_override('graph_rpc_version_cap', '1.0', 'api')
    http = old_graph.http()
    assert ok(http.get('/v1/resources/host1'))['id'] == 'compute-1'
    response = http.get('/v1/alarm/alarm_host1')
    assert response.status_code == 503
    body = json.loads(response.data)
    assert 'show_alarm' in body['description']
    assert 'version 1.1' in body['description']
    assert 'speaks 1.0' in body['description']
    # Under the cap nothing asks a graph for answers in parts.
    assert all(ctx['answer_parts'] is False
               for name, ctx in old_graph.endpoint.calls)
