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


class FakeRPCClient:
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
    client._status_client = FakeRPCClient(exc=exc)
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
    assert client._status_client.timeout == rpcapi.STATUS_TIMEOUT
    assert client._client.timeout == 60


# -- large answers in parts ------------------------------------------------

class EndpointAsRPC:
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
