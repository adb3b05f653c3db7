"""HTTP Basic credentials on ``POST /v1/event`` in keystone mode.

Keystone is replaced at one boundary, :func:`vitrage.api.auth.
keystone_login` (and, for that function's own test, keystoneauth1's
``get_auth_ref``).
"""
import base64
import json

from oslo_policy import opts as policy_opts
import pytest

from vitrage.api import app as api_app
from vitrage.api import auth
from vitrage.tests.unit.api.test_app import FakeGraphClient


class Publisher:
    def __init__(self) -> None:
        self.sent: list = []

    def publish(self, event_type, payload):
        self.sent.append((event_type, payload))


class Keystone:
    """Accepts alice/secret; records every login."""

    def __init__(self, roles=('alerter',)) -> None:
        self.calls: list = []
        self.roles = roles

    def __call__(self, conf, username, password):
        self.calls.append((username, password))
        if (username, password) != ('alice', 'secret'):
            raise auth.LoginFailed('The request you have made requires '
                                   'authentication. (HTTP 401)')
        return auth.KeystoneIdentity('alice-id', 'alice', 'p-alert',
                                     tuple(self.roles))


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(('%s:%s' % (user, password)).encode()).decode()
    return {'Authorization': 'Basic ' + token}


EVENT = {'type': 'compute.host.down', 'time': '2024-05-01T10:00:00',
         'details': {'hostname': 'compute-1', 'status': 'down'}}


@pytest.fixture
def keystone(monkeypatch):
    fake = Keystone()
    monkeypatch.setattr(auth, 'keystone_login', fake)
    return fake


@pytest.fixture
def app(conf_fixture, tmp_path):
    from keystonemiddleware.auth_token import _opts
    conf = conf_fixture.conf
    for group, opts in _opts.list_opts():
        conf_fixture.register_opts(opts, group=group)
    conf_fixture.config(group='keystone_authtoken',
                        www_authenticate_uri='http://keystone.test:5000')
    conf([], project='vitrage', default_config_files=[])
    conf.set_override('auth_mode', 'keystone', 'api')
    conf.set_override('check_graph_ready', False, 'api')
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"event:post": "role:alerter"\n')
    for group, opts in policy_opts.list_opts():
        conf_fixture.register_opts(opts, group=group)
    conf.set_override('policy_file', str(policy_file), 'oslo_policy')
    application = api_app.build_app(conf, FakeGraphClient())
    application.extensions['vitrage.event_publisher'] = Publisher()
    return application


def test_good_credentials_post_the_event(app, keystone):
    http = app.test_client()
    for path in ('/v1/event', '/v1/event/'):
        response = http.post(path, headers=basic('alice', 'secret'),
                             json=EVENT)
        assert response.status_code == 200, response.data
        assert json.loads(response.data) is None
    assert keystone.calls == [('alice', 'secret')] * 2
    sent = app.extensions['vitrage.event_publisher'].sent
    assert len(sent) == 2
    assert sent[0][1]['details'] == EVENT['details']


def test_identity_comes_from_keystone_not_from_headers(app, keystone):
    # The policy wants role alerter: Keystone gives none, the forged
    # X-Roles header must not count.
    keystone.roles = ()
    headers = dict(basic('alice', 'secret'), **{'X-Roles': 'alerter,admin'})
    response = app.test_client().post('/v1/event/', headers=headers,
                                      json=EVENT)
    assert response.status_code == 403
    assert app.extensions['vitrage.event_publisher'].sent == []


def test_wrong_credentials_are_401_with_a_basic_challenge(app, keystone):
    response = app.test_client().post(
        '/v1/event/', headers=basic('alice', 'wrong'), json=EVENT)
    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'] == 'Basic realm="vitrage"'
    data = json.loads(response.data)
    assert data['code'] == 401 and data['description']
    assert app.extensions['vitrage.event_publisher'].sent == []


@pytest.mark.parametrize('header', ['Basic !!!notbase64',
                                    'Basic ' + base64.b64encode(
                                        b'no-colon').decode()])
def test_malformed_basic_header_is_401(app, keystone, header):
    response = app.test_client().post(
        '/v1/event/', headers={'Authorization': header}, json=EVENT)
    assert response.status_code == 401
    assert 'malformed' in json.loads(response.data)['detail']
    assert keystone.calls == []


def test_basic_is_only_for_events(app, keystone):
    http = app.test_client()
    response = http.get('/v1/status/', headers=basic('alice', 'secret'))
    assert response.status_code == 401
    assert keystone.calls == []
    # Without any credentials the token middleware answers.
    assert http.post('/v1/event/', json=EVENT).status_code == 401
    assert keystone.calls == []
    assert http.get('/healthcheck').status_code == 200
    assert http.get('/').status_code == 200


def test_keystone_login_asks_keystone_with_the_configured_scope(
        conf_fixture, monkeypatch):
    from keystoneauth1 import access
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import fixture
    from keystoneauth1.identity import v3
    conf = conf_fixture.conf
    conf.set_override('basic_auth_keystone_url', 'http://ks.test/v3', 'api')
    conf.set_override('basic_auth_project', 'alerts', 'api')
    seen = {}

    def get_auth_ref(self, session):
        seen['auth_url'] = self.auth_url
        method = self.auth_methods[0]
        seen['user'] = (method.username, method.password,
                        method.user_domain_name)
        seen['project'] = (self.project_name, self.project_domain_name)
        if method.password != 'secret':
            raise ks_exceptions.Unauthorized('bad password')
        token = fixture.V3Token(user_id='uid', user_name='alice',
                                project_id='pid', project_name='alerts')
        token.add_role(name='alerter')
        return access.create(body=token, auth_token='tok')

    monkeypatch.setattr(v3.Password, 'get_auth_ref', get_auth_ref)
    identity = auth.keystone_login(conf, 'alice', 'secret')
    assert identity == auth.KeystoneIdentity('uid', 'alice', 'pid',
                                             ('alerter',))
    assert seen == {'auth_url': 'http://ks.test/v3',
                    'user': ('alice', 'secret', 'Default'),
                    'project': ('alerts', 'Default')}
    with pytest.raises(auth.LoginFailed, match='bad password'):
        auth.keystone_login(conf, 'alice', 'nope')


def test_keystone_login_needs_a_url(conf):
    with pytest.raises(auth.LoginFailed, match='basic_auth_keystone_url'):
        auth.keystone_login(conf, 'alice', 'secret')
