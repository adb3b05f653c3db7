"""The graph RPC API: client/endpoint pairing, error and readiness data."""
import base64
import inspect
import json
import threading

import oslo_messaging
import pytest

from vitrage.graph import rpcapi
from vitrage.graph import views
from vitrage.tests.unit.graph import sample_graph


class Holder:
    """The graph service state the endpoint needs."""

    def __init__(self, ready: bool = True) -> None:
        self.graph = sample_graph.build()
        self.lock = threading.Lock()
        self.ready = ready

    def is_ready(self) -> bool:
        return self.ready


def public_methods(cls: type) -> dict:
    return {name: member for name, member in vars(cls).items()
            if inspect.isfunction(member) and not name.startswith('_')}


def test_every_client_method_has_an_endpoint_twin():
    client = public_methods(rpcapi.GraphClient)
    endpoint = public_methods(rpcapi.GraphEndpoint)
    assert set(client) == set(endpoint)
    assert {'get_topology', 'list_resources', 'show_resource',
            'count_resources', 'get_status'} <= set(client)
    for name in client:
        c = inspect.signature(client[name]).parameters
        e = inspect.signature(endpoint[name]).parameters
        assert list(c) == list(e), name
        assert [p.default for p in c.values()] == \
            [p.default for p in e.values()], name
        assert ':param' in inspect.getdoc(client[name]), name
        assert ':raises' in inspect.getdoc(client[name]), name
        assert ':raises' in inspect.getdoc(endpoint[name]), name


def test_endpoint_and_client_share_the_version():
    assert rpcapi.GraphEndpoint.target.version == rpcapi.API_VERSION


CTX = {'user_id': 'u', 'project_id': 'p1', 'roles': ['admin'],
       'is_admin': True, 'require_ready': True}


def test_endpoint_answers_with_results():
    endpoint = rpcapi.GraphEndpoint(Holder())
    answer = endpoint.show_resource(CTX, 'host1')
    assert answer['result']['id'] == 'compute-1'
    answer = endpoint.count_resources(CTX, None, True, None, None)
    assert answer == {'result': {'openstack.cluster': 1, 'nova.zone': 1,
                                 'nova.host': 2, 'nova.instance': 3}}
    # Large views travel as JSON text encoded outside the graph lock.
    answer = endpoint.list_resources(CTX, 'nova.host', False, None)
    assert {r['vitrage_id'] for r in json.loads(answer['result_json'])} \
        == {'host1', 'host2'}
    answer = endpoint.get_topology(CTX, 'graph', None, None, None, True)
    assert len(json.loads(answer['result_json'])['nodes']) == 10
    assert endpoint.get_status(CTX) == {'result': {'reason': 'OK'}}


def test_errors_are_data():
    endpoint = rpcapi.GraphEndpoint(Holder())
    assert endpoint.show_resource(CTX, 'nope') == {'error': {
        'code': 404, 'description': 'Failed to show resource.',
        'detail': "No resource with vitrage_id 'nope'"}}
    error = endpoint.get_topology(CTX, 'graph', 2, None, None, False)
    assert error == {'error': {
        'code': 403,
        'description': "Graph-type 'graph' requires a 'root' with 'depth'"}}
    error = endpoint.list_resources(CTX, None, False, '{"bad"')['error']
    assert error['code'] == 400
    assert error['description'].startswith('Invalid query')
    error = endpoint.get_topology(CTX, 'tree', None, None, None, True)
    assert error['error']['code'] == 404
    assert error['error']['description'] == 'Failed to get topology.'
    assert 'not a tree' in error['error']['detail']


def test_unexpected_failure_is_a_500_and_the_next_call_works(
        monkeypatch):
    holder = Holder()
    endpoint = rpcapi.GraphEndpoint(holder)
    error = endpoint.count_resources(CTX, None, True, None, ['not', 'str'])
    assert error['error']['code'] == 400

    def broken(*args, **kwargs):
        raise KeyError('vitrage_id')

    def broken_midway(*args, **kwargs):
        yield b'{"nodes":['
        raise KeyError('vitrage_id')
    for view in (broken, broken_midway):
        monkeypatch.setattr(views, 'topology_json', view)
        error = endpoint.get_topology(CTX, 'graph', None, None, None, True)
        assert error['error']['code'] == 500
        assert 'KeyError' in error['error']['detail']
        assert not holder.lock.locked()
        assert error['error']['description'] == 'Failed to get topology.'
    assert endpoint.show_resource(CTX, 'host2')['result']['id'] == \
        'compute-2'


def test_not_ready_graph_answers_503():
    holder = Holder(ready=False)
    endpoint = rpcapi.GraphEndpoint(holder)
    expected = {'error': {'code': 503,
                          'description': 'vitrage-graph is not ready'}}
    assert endpoint.get_status(CTX) == expected
    assert endpoint.show_resource(CTX, 'host1') == expected
    # The API may ask for an answer anyway ([api] check_graph_ready off).
    relaxed = dict(CTX, require_ready=False)
    assert endpoint.show_resource(relaxed, 'host1')['result']['id'] == \
        'compute-1'
    assert endpoint.get_status(relaxed) == expected
    holder.ready = True
    assert endpoint.get_status(CTX) == {'result': {'reason': 'OK'}}


def test_endpoint_reads_under_the_lock():
    holder = Holder()
    seen = []

    class Graph(type(holder.graph)):
        def get_vertex(self, vertex_id):
            seen.append(holder.lock.locked())
            return super().get_vertex(vertex_id)
    holder.graph = Graph('g', holder.graph.networkx)
    rpcapi.GraphEndpoint(holder).show_resource(CTX, 'host1')
    assert seen == [True]
    assert not holder.lock.locked()


def test_caller_context_is_normalised():
    holder = Holder()
    contexts = []
    endpoint = rpcapi.GraphEndpoint(holder)

    def view(graph, ctx):
        contexts.append(ctx)
        return None
    endpoint._answer({'project_id': 'p', 'roles': None,
                      'require_ready': True}, 'Failed.', view)
    assert contexts == [{'user_id': None, 'project_id': 'p', 'roles': [],
                         'is_admin': False}]


class VersionedFake:
    """What the client needs of an oslo.messaging RPCClient besides
    ``call``: ``can_send_version`` (against ``cap``) and ``prepare``
    (recorded in ``prepared``).
    """

    cap: str | None = None

    def can_send_version(self, version: str) -> bool:
        return self.cap is None or rpcapi._version_le(version, self.cap)

    def prepare(self, **kwargs):
        self.__dict__.setdefault('prepared', []).append(kwargs)
        return self


class FakeRPCClient(VersionedFake):
    def __init__(self, answer=None, exc=None):
        self.answer = answer
        self.exc = exc
        self.calls = []

    def call(self, ctx, method, **kwargs):
        self.calls.append((ctx, method, kwargs))
        if self.exc is not None:
            raise self.exc
        return self.answer


@pytest.fixture
def client(conf):
    transport = oslo_messaging.get_rpc_transport(conf, url='fake:/')
    yield rpcapi.GraphClient(conf, transport)
    transport.cleanup()


def test_client_unwraps_results_and_sends_readiness(client, conf):
    fake = FakeRPCClient({'result': {'a': 1}})
    client._client = fake
    ctx = {'user_id': 'u', 'project_id': 'p', 'roles': [],
           'is_admin': False}
    assert client.count_resources(ctx, 'nova.host', False, None,
                                  'state') == {'a': 1}
    sent_ctx, method, kwargs = fake.calls[0]
    assert method == 'count_resources'
    assert kwargs == {'resource_type': 'nova.host', 'all_tenants': False,
                      'query': None, 'group_by': 'state'}
    assert sent_ctx['require_ready'] is True
    assert 'require_ready' not in ctx


def test_client_readiness_follows_the_option(conf):
    conf.set_override('check_graph_ready', False, 'api')
    transport = oslo_messaging.get_rpc_transport(conf, url='fake:/')
    try:
        client = rpcapi.GraphClient(conf, transport)
        fake = FakeRPCClient({'result': None})
        client._client = fake
        client.show_resource({}, 'x')
        assert fake.calls[0][0]['require_ready'] is False
    finally:
        transport.cleanup()


def test_client_raises_error_answers(client):
    client._client = FakeRPCClient({'error': {
        'code': 404, 'description': 'Failed to show resource.',
        'detail': 'gone'}})
    with pytest.raises(rpcapi.GraphError) as info:
        client.show_resource({}, 'x')
    assert (info.value.code, info.value.description, info.value.detail) == (
        404, 'Failed to show resource.', 'gone')


@pytest.mark.parametrize('exc', [
    oslo_messaging.MessagingTimeout('slow'),
    oslo_messaging.MessageDeliveryFailure('down'),
])
def test_client_maps_transport_failures_to_unavailable(client, exc):
    client._client = FakeRPCClient(exc=exc)
    with pytest.raises(rpcapi.GraphUnavailable) as info:
        client.get_status({})
    assert info.value.code == 503
    assert info.value.description == 'vitrage-graph is not available'


def test_client_maps_remote_errors_to_500(client):
    client._client = FakeRPCClient(
        exc=oslo_messaging.RemoteError('KeyError', 'boom'))
    with pytest.raises(rpcapi.GraphError) as info:
        client.list_resources({}, None, False, None)
    assert info.value.code == 500


def test_status_uses_a_short_timeout(client):
    assert client._client.timeout == 60
    client._client = fake = FakeRPCClient({'result': {'reason': 'OK'}})
    client.get_status({})
    client.show_resource({}, 'x')
    assert fake.prepared == [
        {'version': '1.0', 'timeout': rpcapi.STATUS_TIMEOUT},
        {'version': '1.0'}]


# -- large answers in parts ------------------------------------------------

class EndpointAsRPC(VersionedFake):
    """Calls an endpoint as oslo.messaging would (by method name), so that
    the client and the endpoint talk without a broker.
    """

    def __init__(self, endpoint: rpcapi.GraphEndpoint) -> None:
        self.endpoint = endpoint
        self.methods: list[str] = []

    def call(self, ctx, method, **kwargs):
        self.methods.append(method)
        return json.loads(json.dumps(getattr(self.endpoint, method)(
            ctx, **kwargs)))


def big_holder(vertices: int = 3000) -> Holder:
    holder = Holder()
    for i in range(vertices):
        holder.graph.add_vertex('v%d' % i, {
            'vitrage_category': 'RESOURCE', 'vitrage_type': 'switch',
            'vitrage_is_deleted': False, 'vitrage_is_placeholder': False,
            'name': 'switch-%d' % i, 'id': str(i), 'project_id': 'p'})
    return holder


def test_large_answers_travel_in_parts_and_are_joined(client):
    # No message may exceed the broker's max_message_size: a gzipped
    # answer longer than answer_part_size comes in several.
    holder = big_holder()
    endpoint = rpcapi.GraphEndpoint(holder, part_size=5000)
    rpc = client._client = EndpointAsRPC(endpoint)
    expected = views.topology(holder.graph, CTX, all_tenants=True)
    result = client.get_topology(CTX, 'graph', None, None, None, True)
    assert isinstance(result, rpcapi.GzipEncoded)
    assert result.decode_result() == expected
    parts = rpc.methods.count('get_answer_part')
    assert parts >= 2 and rpc.methods[0] == 'get_topology'
    first = endpoint.get_topology(dict(CTX, answer_parts=True), 'graph',
                                  None, None, None, True)
    assert first['more']['parts'] == parts + 1
    assert len(first['result_gzip']) <= 5000 * 4 / 3 + 4
    # A client that cannot join parts gets the answer whole.
    whole = endpoint.get_topology(CTX, 'graph', None, None, None, True)
    assert 'more' not in whole
    assert rpcapi.GzipEncoded(base64.b64decode(
        whole['result_gzip'])).decode_result() == expected
    # Small answers are not split.
    assert client.list_resources(CTX, 'nova.host', False,
                                 None).decode() != []
    assert rpc.methods[-1] == 'list_resources'


def test_parts_are_kept_until_taken_and_a_lost_answer_is_asked_again(
        client):
    holder = big_holder()
    endpoint = rpcapi.GraphEndpoint(holder, part_size=5000)
    first = endpoint.get_topology(dict(CTX, answer_parts=True), 'graph',
                                  None, None, None, True)
    token, parts = first['more']['token'], first['more']['parts']
    for index in range(1, parts):
        assert 'result_gzip' in endpoint.get_answer_part(CTX, token, index)
    # Gone once the last part is taken; unknown tokens and bad indexes
    # are a 410, not a failure of the graph.
    for token_, index in ((token, 1), ('nope', 1), (token, 0)):
        assert endpoint.get_answer_part(CTX, token_, index)['error'][
            'code'] == 410

    # The graph that had the answer is gone after the first part (a
    # takeover): the client asks the new one for the whole answer again.
    class Takeover(EndpointAsRPC):
        lost = 0

        def call(self, ctx, method, **kwargs):
            if method == 'get_answer_part' and self.lost == 0:
                self.lost += 1
                self.endpoint = rpcapi.GraphEndpoint(holder,
                                                     part_size=5000)
            return super().call(ctx, method, **kwargs)
    rpc = client._client = Takeover(endpoint)
    result = client.get_topology(CTX, 'graph', None, None, None, True)
    assert result.decode_result() == views.topology(holder.graph, CTX,
                                                    all_tenants=True)
    assert rpc.methods.count('get_topology') == 2

    # Lost twice: the API answers 503.
    class AlwaysLost(EndpointAsRPC):
        def call(self, ctx, method, **kwargs):
            if method == 'get_answer_part':
                self.endpoint = rpcapi.GraphEndpoint(holder,
                                                     part_size=5000)
            return super().call(ctx, method, **kwargs)
    client._client = AlwaysLost(endpoint)
    with pytest.raises(rpcapi.GraphUnavailable):
        client.get_topology(CTX, 'graph', None, None, None, True)


def test_kept_answers_are_bounded():
    kept = rpcapi.AnswerParts(part_size=10, keep=2, ttl=60)
    tokens = [kept.message(bytes(range(30)))['more']['token']
              for _ in range(3)]
    assert kept.part(tokens[0], 1) is None          # the oldest went
    assert kept.part(tokens[2], 2) is not None
    expired = rpcapi.AnswerParts(part_size=10, keep=2, ttl=-1)
    token = expired.message(bytes(30))['more']['token']
    assert expired.part(token, 1) is None


# -- versions: rolling upgrades --------------------------------------------

# Every client call: its arguments and the version it must be sent with.
# A change here is a change of the RPC API: bump API_VERSION, add to the
# module's History and keep older graphs answering (rest of this file).
EXPECTED_CALLS = [
    ('get_topology', ('graph', 2, '{}', 'r', True),
     {'graph_type': 'graph', 'depth': 2, 'query': '{}', 'root': 'r',
      'all_tenants': True}, '1.0'),
    ('list_resources', ('nova.host', False, None),
     {'resource_type': 'nova.host', 'all_tenants': False, 'query': None},
     '1.0'),
    ('show_resource', ('v1',), {'vitrage_id': 'v1'}, '1.0'),
    ('count_resources', (None, True, None, 'state'),
     {'resource_type': None, 'all_tenants': True, 'query': None,
      'group_by': 'state'}, '1.0'),
    ('get_status', (), {}, '1.0'),
    ('show_alarm', ('a1',), {'vitrage_id': 'a1'}, '1.1'),
    ('list_alarms', ('all', False), {'vitrage_id': 'all',
                                     'all_tenants': False}, '1.1'),
    ('get_rca', ('a1', True), {'alarm_id': 'a1', 'all_tenants': True},
     '1.1'),
    ('get_answer_part', ('t0k', 1), {'token': 't0k', 'index': 1}, '1.2'),
]


class Recorder(VersionedFake):
    """Records (method, version, kwargs, ctx) of every call."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []
        self._version: str | None = None

    def prepare(self, **kwargs):
        self._version = kwargs.get('version')
        return self

    def call(self, ctx, method, **kwargs):
        self.sent.append((method, self._version, kwargs, ctx))
        if method == 'get_answer_part':
            return {'result_gzip': ''}
        return {'result': None}


def test_each_client_method_name_arguments_and_version(client):
    assert {c[0] for c in EXPECTED_CALLS} == set(
        public_methods(rpcapi.GraphClient)) == set(rpcapi.METHOD_VERSIONS)
    assert max(rpcapi.METHOD_VERSIONS.values(),
               key=lambda v: tuple(map(int, v.split('.')))) == \
        rpcapi.API_VERSION
    for name, args, kwargs, version in EXPECTED_CALLS:
        client._client = recorder = Recorder()
        getattr(client, name)(CTX, *args)
        [(method, sent_version, sent_kwargs, ctx)] = recorder.sent
        assert (method, sent_version, sent_kwargs) == (name, version,
                                                       kwargs)
        if name != 'get_answer_part':     # itself part of an answer
            assert ctx['answer_parts'] is True
            assert ctx['require_ready'] is True


def test_a_cap_sends_what_the_old_graph_knows_and_refuses_the_rest(conf):
    # The real oslo.messaging client decides can_send_version from the
    # cap; the recorder only stands in for the wire.
    conf.set_override('graph_rpc_version_cap', '1.1', 'api')
    transport = oslo_messaging.get_rpc_transport(conf, url='fake:/')
    try:
        client = rpcapi.GraphClient(conf, transport)
        real = client._client
        assert real.can_send_version('1.1')
        assert not real.can_send_version('1.2')
        recorder = Recorder()
        recorder.can_send_version = real.can_send_version
        client._client = recorder
        client.list_alarms(CTX, None, True)
        [(_, version, _, ctx)] = recorder.sent
        # A 1.1 graph cannot give parts: not asked for them.
        assert version == '1.1' and ctx['answer_parts'] is False
        with pytest.raises(rpcapi.GraphTooOld) as info:
            client.get_answer_part(CTX, 't', 1)
        assert info.value.code == 503
        assert 'get_answer_part' in info.value.description
        assert 'version 1.2' in info.value.description
        assert 'speaks 1.1' in info.value.description
        assert len(recorder.sent) == 1          # nothing sent

        conf.set_override('graph_rpc_version_cap', '1.0', 'api')
        client = rpcapi.GraphClient(conf, transport)
        with pytest.raises(rpcapi.GraphTooOld) as info:
            client.get_rca(CTX, 'a1', False)
        assert info.value.description == (
            'vitrage-graph is too old for get_rca: it needs graph RPC '
            'version 1.1, the graph speaks 1.0 ([api] graph_rpc_version_cap); '
            'upgrade vitrage-graph')
    finally:
        transport.cleanup()


def test_a_cap_newer_than_this_release_is_a_configuration_error(conf):
    from vitrage.common import exceptions
    conf.set_override('graph_rpc_version_cap', '1.9', 'api')
    transport = oslo_messaging.get_rpc_transport(conf, url='fake:/')
    try:
        with pytest.raises(exceptions.ConfigError,
                           match=r'\[api\] graph_rpc_version_cap: 1.9'):
            rpcapi.GraphClient(conf, transport)
    finally:
        transport.cleanup()


@pytest.mark.parametrize('exc_type', ['UnsupportedVersion', 'NoSuchMethod'])
def test_a_graph_without_the_call_is_a_503_naming_the_version(client,
                                                              exc_type):
    # No cap set and an older graph: its dispatcher refuses the call.
    client._client = FakeRPCClient(
        exc=oslo_messaging.RemoteError(exc_type, 'Endpoint does not '
                                       'support RPC version 1.1'))
    with pytest.raises(rpcapi.GraphTooOld) as info:
        client.show_alarm(CTX, 'a1')
    assert info.value.code == 503
    assert 'show_alarm' in info.value.description
    assert 'version 1.1' in info.value.description
