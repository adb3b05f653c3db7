"""The Flask application through its test client, with a fake graph."""
import base64
import gzip
import json
import threading

import pytest

from vitrage.api import app as api_app
from vitrage.graph.driver import EntityGraph
from vitrage.graph import rpcapi
from vitrage.graph import views
from vitrage.tests.unit.graph import sample_graph

NOAUTH_MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                 'X-Roles': 'member,reader'}
NOAUTH_ADMIN = {'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                'X-Roles': 'reader,admin'}


class FakeGraphClient:
    """Records calls and answers from ``answers``.

    ``answers`` maps a method name to a value or an exception to raise.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, dict]] = []
        self.answers: dict = {'get_status': {'reason': 'OK'}}

    def _answer(self, method, ctx, **kwargs):
        self.calls.append((method, ctx, kwargs))
        answer = self.answers.get(method)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get_topology(self, ctx, graph_type, depth, query, root,
                     all_tenants):
        return self._answer('get_topology', ctx, graph_type=graph_type,
                            depth=depth, query=query, root=root,
                            all_tenants=all_tenants)

    def list_resources(self, ctx, resource_type, all_tenants, query):
        return self._answer('list_resources', ctx,
                            resource_type=resource_type,
                            all_tenants=all_tenants, query=query)

    def show_resource(self, ctx, vitrage_id):
        return self._answer('show_resource', ctx, vitrage_id=vitrage_id)

    def get_answer_part(self, ctx, token, index):
        return self._answer('get_answer_part', ctx, token=token,
                            index=index)

    def count_resources(self, ctx, resource_type, all_tenants, query,
                        group_by):
        return self._answer('count_resources', ctx,
                            resource_type=resource_type,
                            all_tenants=all_tenants, query=query,
                            group_by=group_by)

    def show_alarm(self, ctx, vitrage_id):
        return self._answer('show_alarm', ctx, vitrage_id=vitrage_id)

    def list_alarms(self, ctx, vitrage_id, all_tenants):
        return self._answer('list_alarms', ctx, vitrage_id=vitrage_id,
                            all_tenants=all_tenants)

    def get_rca(self, ctx, alarm_id, all_tenants):
        return self._answer('get_rca', ctx, alarm_id=alarm_id,
                            all_tenants=all_tenants)

    def get_status(self, ctx):
        return self._answer('get_status', ctx)


@pytest.fixture
def graph():
    return FakeGraphClient()


@pytest.fixture
def noauth(conf):
    conf.set_override('auth_mode', 'noauth', 'api')
    return conf


@pytest.fixture
def http(noauth, graph):
    return api_app.build_app(noauth, graph).test_client()


def body(response):
    assert response.mimetype == 'application/json'
    return json.loads(response.data)


def assert_error(response, code, description):
    assert response.status_code == code
    data = body(response)
    assert data['code'] == code
    assert data['description'] == description
    assert data['title']
    return data


def test_client_and_fake_have_the_same_methods():
    real = {n for n in vars(rpcapi.GraphClient) if not n.startswith('_')}
    fake = {n for n in vars(FakeGraphClient) if not n.startswith('_')}
    assert real == fake


# -- root ---------------------------------------------------------------

def test_versions(http):
    for path in ('/', ''):
        data = body(http.get(path))
        version = data['versions'][0]
        assert version['id'] == 'v1.0'
        assert version['status'] == 'CURRENT'
        assert version['links'] == [{'rel': 'self',
                                     'href': 'http://localhost/v1/'}]


def test_versions_and_routes_under_a_prefix(noauth, graph):
    noauth.set_override('url_prefix', '/rca/', 'api')
    http = api_app.build_app(noauth, graph).test_client()
    data = body(http.get('/rca/'))
    assert data['versions'][0]['links'][0]['href'] == \
        'http://localhost/rca/v1/'
    assert body(http.get('/rca/v1/status/')) == {'reason': 'OK'}
    assert_error(http.get('/v1/status/'), 404,
                 'The path is outside the API URL prefix')


def test_healthcheck(http, tmp_path):
    for path in ('/healthcheck', '/healthcheck/'):
        assert body(http.get(path)) == {'detailed': False, 'reasons': ['OK']}
    flag = tmp_path / 'disable'
    http.application.config['HEALTHCHECK_DISABLE_FILE'] = str(flag)
    assert http.get('/healthcheck').status_code == 200
    flag.write_text('')
    response = http.get('/healthcheck/')
    assert response.status_code == 503
    assert body(response) == {'detailed': False,
                              'reasons': ['DISABLED BY FILE']}


# -- topology -------------------------------------------------------------

def test_topology_forwards_the_request(http, graph):
    graph.answers['get_topology'] = {'nodes': [], 'links': []}
    query = '{"==": {"vitrage_category": "RESOURCE"}}'
    for path in ('/v1/topology', '/v1/topology/'):
        response = http.post(path, headers=NOAUTH_ADMIN, json={
            'depth': 2, 'graph_type': 'tree', 'root': None,
            'all_tenants': 'True', 'query': query})
        assert response.status_code == 200
        assert body(response) == {'nodes': [], 'links': []}
    method, ctx, kwargs = graph.calls[-1]
    assert method == 'get_topology'
    assert kwargs == {'graph_type': 'tree', 'depth': 2, 'query': query,
                      'root': None, 'all_tenants': True}
    assert ctx['user_id'] == 'u1'
    assert ctx['project_id'] == 'p1'
    assert ctx['roles'] == ['reader', 'admin']
    assert ctx['is_admin'] is True


def test_topology_defaults(http, graph):
    graph.answers['get_topology'] = {}
    assert http.post('/v1/topology/', headers=NOAUTH_MEMBER).status_code \
        == 200
    _, ctx, kwargs = graph.calls[-1]
    assert kwargs == {'graph_type': 'graph', 'depth': None, 'query': None,
                      'root': None, 'all_tenants': False}
    assert ctx['is_admin'] is False


def test_query_object_is_accepted_and_reencoded(http, graph):
    graph.answers['get_topology'] = {}
    http.post('/v1/topology', headers=NOAUTH_ADMIN,
              json={'query': {'==': {'name': 'x'}}, 'depth': '3',
                    'root': 'r'})
    kwargs = graph.calls[-1][2]
    assert json.loads(kwargs['query']) == {'==': {'name': 'x'}}
    assert kwargs['depth'] == 3


@pytest.mark.parametrize('payload, words', [
    ({'all_tenants': 'maybe'}, "'all_tenants'"),
    ({'depth': -1}, "'depth'"),
    ({'depth': 'deep'}, "'depth'"),
    ({'depth': True}, "'depth'"),
    ({'query': 5}, "'query'"),
    ({'graph_type': 3}, "'graph_type'"),
    ({'root': ['a']}, "'root'"),
])
def test_topology_bad_parameters(http, graph, payload, words):
    response = http.post('/v1/topology', headers=NOAUTH_ADMIN,
                         json=payload)
    assert response.status_code == 400
    assert words in body(response)['description']
    assert graph.calls == []


def test_bad_json_body(http, graph):
    for data in ('{"depth": ', '[1, 2]'):
        response = http.post('/v1/topology', headers=NOAUTH_ADMIN,
                             data=data, content_type='application/json')
        assert response.status_code == 400
    assert graph.calls == []


def test_all_tenants_needs_admin(http, graph):
    response = http.post('/v1/topology/', headers=NOAUTH_MEMBER,
                         json={'all_tenants': True})
    assert_error(response, 403, 'Authorization Failed')
    response = http.get('/v1/resources/?all_tenants=True',
                        headers=NOAUTH_MEMBER)
    assert_error(response, 403, 'Authorization Failed')
    response = http.post('/v1/resources/count/', headers=NOAUTH_MEMBER,
                         json={'all_tenants': 'yes'})
    assert_error(response, 403, 'Authorization Failed')
    assert graph.calls == []


def test_user_named_admin_without_the_role_is_no_admin(http, graph):
    # Roles come from X-Roles alone: the user name grants nothing.
    graph.answers['list_resources'] = []
    headers = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'member',
               'X-User-Name': 'admin'}
    response = http.post('/v1/resources/', headers=headers,
                         json={'all_tenants': True})
    assert_error(response, 403, 'Authorization Failed')
    response = http.post('/v1/resources/', headers=headers, json={})
    assert response.status_code == 200
    assert graph.calls[-1][1]['is_admin'] is False
    # A user name alone is an identity: no longer the noauth admin.
    response = http.post('/v1/resources/', json={'all_tenants': True},
                         headers={'X-User-Name': 'admin'})
    assert_error(response, 403, 'Authorization Failed')
    headers['X-Roles'] = 'member,Admin'
    response = http.post('/v1/resources/', headers=headers,
                         json={'all_tenants': True})
    assert response.status_code == 200
    assert graph.calls[-1][1]['is_admin'] is True


def test_no_identity_in_noauth_is_admin_of_no_project(http, graph):
    graph.answers['list_resources'] = []
    response = http.post('/v1/resources/', json={'all_tenants': True},
                         headers={'X-Auth-Token': 'notused'})
    assert response.status_code == 200
    ctx = graph.calls[-1][1]
    assert ctx['is_admin'] is True
    assert ctx['project_id'] is None


def test_identity_aliases(http, graph):
    graph.answers['show_resource'] = {}
    http.get('/v1/resources/x', headers={'X-User': 'u9',
                                         'X-Tenant-Id': 'p9'})
    ctx = graph.calls[-1][1]
    assert (ctx['user_id'], ctx['project_id'], ctx['is_admin']) == (
        'u9', 'p9', False)


def test_graph_errors_become_http_errors(http, graph):
    graph.answers['get_topology'] = rpcapi.GraphError(
        403, "Graph-type 'graph' requires a 'root' with 'depth'")
    response = http.post('/v1/topology', headers=NOAUTH_ADMIN,
                         json={'depth': 2})
    data = assert_error(response, 403,
                        "Graph-type 'graph' requires a 'root' with 'depth'")
    assert data['title'] == 'Forbidden'
    graph.answers['get_topology'] = rpcapi.GraphError(
        404, 'Failed to get topology.', 'not a tree')
    response = http.post('/v1/topology', headers=NOAUTH_ADMIN, json={})
    data = assert_error(response, 404, 'Failed to get topology.')
    assert data == {'code': 404, 'title': 'Not Found',
                    'description': 'Failed to get topology.',
                    'detail': 'not a tree'}


def test_graph_not_ready_or_unavailable_is_503(http, graph):
    graph.answers['show_resource'] = rpcapi.GraphError(
        503, rpcapi.NOT_READY)
    assert_error(http.get('/v1/resources/x', headers=NOAUTH_ADMIN), 503,
                 'vitrage-graph is not ready')
    graph.answers['show_resource'] = rpcapi.GraphUnavailable('timeout')
    assert_error(http.get('/v1/resources/x', headers=NOAUTH_ADMIN), 503,
                 'vitrage-graph is not available')
    graph.answers['get_status'] = rpcapi.GraphError(503, rpcapi.NOT_READY)
    assert_error(http.get('/v1/status/'), 503, 'vitrage-graph is not ready')


def test_graph_backed_routes_make_one_call(http, graph):
    graph.answers['list_resources'] = []
    http.post('/v1/resources', headers=NOAUTH_ADMIN, json={})
    http.post('/v1/resources', headers=NOAUTH_ADMIN, json={})
    assert [c[0] for c in graph.calls] == ['list_resources'] * 2


# -- resources and status -------------------------------------------------

def test_resource_list_forms(http, graph):
    graph.answers['list_resources'] = [{'vitrage_id': 'a'}]
    response = http.post('/v1/resources/', headers=NOAUTH_ADMIN, json={
        'resource_type': 'nova.host', 'all_tenants': False,
        'query': '{"==": {"state": "ok"}}'})
    assert body(response) == [{'vitrage_id': 'a'}]
    assert graph.calls[-1][2] == {'resource_type': 'nova.host',
                                  'all_tenants': False,
                                  'query': '{"==": {"state": "ok"}}'}
    response = http.get('/v1/resources?resource_type=nova.zone'
                        '&all_tenants=False', headers=NOAUTH_ADMIN)
    assert body(response) == [{'vitrage_id': 'a'}]
    assert graph.calls[-1][2] == {'resource_type': 'nova.zone',
                                  'all_tenants': False, 'query': None}


def test_resource_show_decodes_the_id(http, graph):
    graph.answers['show_resource'] = {'vitrage_id': 'a b'}
    for path in ('/v1/resources/a%20b', '/v1/resources/a%20b/'):
        assert body(http.get(path, headers=NOAUTH_MEMBER)) == {
            'vitrage_id': 'a b'}
        assert graph.calls[-1][2] == {'vitrage_id': 'a b'}


def test_resource_count_defaults_group_by(http, graph):
    graph.answers['count_resources'] = {'nova.host': 2}
    response = http.post('/v1/resources/count/', headers=NOAUTH_ADMIN,
                         json={'resource_type': None, 'all_tenants': True,
                               'query': None, 'group_by': None})
    assert body(response) == {'nova.host': 2}
    assert graph.calls[-1][2]['group_by'] == 'vitrage_type'
    http.post('/v1/resources/count', headers=NOAUTH_ADMIN,
              json={'group_by': 'state'})
    assert graph.calls[-1][2]['group_by'] == 'state'


def test_status(http, graph):
    for path in ('/v1/status', '/v1/status/'):
        response = http.get(path, headers=NOAUTH_MEMBER)
        assert response.status_code == 200
        assert body(response) == {'reason': 'OK'}


def test_null_result_is_a_json_null(http, graph):
    graph.answers['show_resource'] = None
    response = http.get('/v1/resources/x', headers=NOAUTH_ADMIN)
    assert response.status_code == 200
    assert response.data == b'null'


# -- generic errors -------------------------------------------------------

def test_wrong_method_is_405_with_a_json_body(http):
    for method, path in (('GET', '/v1/topology'), ('GET', '/v1/topology/'),
                         ('DELETE', '/v1/resources/x'),
                         ('POST', '/v1/status'), ('PUT', '/healthcheck')):
        response = http.open(path, method=method, headers=NOAUTH_ADMIN)
        assert response.status_code == 405, (method, path)
        assert body(response)['code'] == 405
        assert response.headers['Allow']


def test_unknown_path_is_404_with_a_json_body(http):
    response = http.get('/v1/nothing/here', headers={'Accept': 'text/html'})
    assert response.status_code == 404
    assert body(response)['code'] == 404


def test_unexpected_exception_is_500_json(http, graph):
    graph.answers['show_resource'] = RuntimeError('bug')
    response = http.get('/v1/resources/x', headers=NOAUTH_ADMIN)
    data = assert_error(response, 500, 'Internal error')
    assert 'RuntimeError' in data['detail']


# -- readiness gate -------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_readiness_gate_caches_answers(graph):
    clock = Clock()
    gate = api_app.ReadinessGate(graph, ttl=1.0, clock=clock)
    gate.check()
    gate.check()
    assert [c[0] for c in graph.calls] == ['get_status']
    clock.now += 1.5
    graph.answers['get_status'] = rpcapi.GraphError(503, rpcapi.NOT_READY)
    with pytest.raises(rpcapi.GraphError):
        gate.check()
    with pytest.raises(rpcapi.GraphError):
        gate.check()  # cached failure, no new call
    assert len(graph.calls) == 2
    gate.mark_ready()  # a graph call succeeded meanwhile
    gate.check()
    assert len(graph.calls) == 2
    clock.now += 1.5
    graph.answers['get_status'] = {'reason': 'OK'}
    gate.check()
    assert len(graph.calls) == 3


def test_gate_guards_v1_routes_that_do_not_ask_the_graph(noauth, graph):
    import flask
    from vitrage.api import controllers

    extra = flask.Blueprint('extra_for_test', __name__)

    @extra.route('/local', methods=['GET'])
    def local():
        return flask.jsonify('local')
    original = controllers.V1
    controllers.V1 = original + (extra,)
    try:
        app = api_app.build_app(noauth, graph)
    finally:
        controllers.V1 = original
    http = app.test_client()
    graph.answers['get_status'] = rpcapi.GraphError(503, rpcapi.NOT_READY)
    assert_error(http.get('/v1/local'), 503, 'vitrage-graph is not ready')
    # Not gated: the root and the healthcheck.
    assert http.get('/').status_code == 200
    assert http.get('/healthcheck').status_code == 200
    noauth.set_override('check_graph_ready', False, 'api')
    assert http.get('/v1/local').status_code == 200


def test_keystone_mode_protects_v1_but_not_root(conf_fixture, graph):
    from keystonemiddleware.auth_token import _opts
    conf = conf_fixture.conf
    for group, opts in _opts.list_opts():
        conf_fixture.register_opts(opts, group=group)
    conf_fixture.config(group='keystone_authtoken',
                        www_authenticate_uri='http://keystone.test:5000')
    conf.set_override('auth_mode', 'keystone', 'api')
    http = api_app.build_app(conf, graph).test_client()
    assert http.get('/').status_code == 200
    assert http.get('/healthcheck/').status_code == 200
    response = http.get('/v1/status/', headers=NOAUTH_ADMIN)
    assert response.status_code == 401
    assert graph.calls == []


def test_large_answers_pass_through_gzipped(http, graph):
    topology = {'nodes': [{'vitrage_id': 'v%d' % i} for i in range(5)],
                'links': []}
    text = json.dumps(topology)
    graph.answers['get_topology'] = rpcapi.GzipEncoded(
        gzip.compress(text.encode()))
    response = http.post('/v1/topology/', json={},
                         headers={'Accept-Encoding': 'gzip, deflate'})
    assert response.status_code == 200
    assert response.headers['Content-Encoding'] == 'gzip'
    assert json.loads(gzip.decompress(response.data)) == topology
    # A client that does not take gzip gets plain JSON.
    response = http.post('/v1/topology/', json={})
    assert 'Content-Encoding' not in response.headers
    assert body(response) == topology
    graph.answers['list_resources'] = rpcapi.PreEncoded('[{"id": "x"}]')
    assert body(http.post('/v1/resources/', json={})) == [{'id': 'x'}]


def test_endpoint_gzips_only_large_answers():
    class Holder:
        lock = threading.RLock()

        def __init__(self, graph):
            self.graph = graph

        def is_ready(self):
            return True

    small = sample_graph.build()
    endpoint = rpcapi.GraphEndpoint(Holder(small))
    ctx = {'user_id': 'u', 'project_id': 'p', 'roles': ['admin']}
    answer = endpoint.get_topology(ctx, 'graph', None, None, None, True)
    assert 'result_json' in answer
    big = EntityGraph()
    for i in range(3000):
        big.add_vertex('v%d' % i, {'vitrage_category': 'RESOURCE',
                                   'vitrage_type': 'switch',
                                   'vitrage_is_deleted': False,
                                   'vitrage_is_placeholder': False,
                                   'name': 'switch-%d' % i, 'id': str(i),
                                   'project_id': 'p'})
    endpoint = rpcapi.GraphEndpoint(Holder(big))
    topology = endpoint.get_topology(ctx, 'graph', None, None, None, True)
    assert 'result_json' not in topology
    assert json.loads(gzip.decompress(base64.b64decode(
        topology['result_gzip']))) == views.topology(big, ctx,
                                                     all_tenants=True)
    answer = endpoint.list_resources(ctx, None, True, None)
    assert 'result_gzip' in answer
    client = rpcapi.GraphClient.__new__(rpcapi.GraphClient)
    client._require_ready = True

    class Fake:
        def can_send_version(self, version):
            return True

        def prepare(self, **kwargs):
            return self

        def call(self, context, method, **kwargs):
            return answer
    client._client = Fake()
    result = client.list_resources(ctx, None, True, None)
    assert isinstance(result, rpcapi.GzipEncoded)
    assert len(result.decode_result()) == 3000
