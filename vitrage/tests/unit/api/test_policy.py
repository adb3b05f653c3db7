"""Policy in code: every route has a rule, defaults, file overrides."""
import json

from oslo_policy import opts as policy_opts
from oslo_policy import policy as oslo_policy
import pytest

from vitrage.api import app as api_app
from vitrage.api import policy
from vitrage.tests.unit.api.test_app import FakeGraphClient

MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
ADMIN = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'admin'}

# Endpoints the other API modules define (or will): they need rules too.
EXPECTED_ENDPOINTS = {
    'alarm.list_alarms', 'alarm.show_alarm', 'alarm.count_alarms',
    'alarm.alarm_history', 'rca.show_rca', 'template.list_templates',
    'template.template_versions', 'template.show_template',
    'template.validate_templates', 'template.add_templates',
    'template.delete_templates', 'event.post_event',
    'webhook.add_webhook', 'webhook.list_webhooks',
    'webhook.show_webhook', 'webhook.delete_webhook',
    'service.list_services', 'status.get_status',
    'topology.get_topology', 'resources.list_resources',
    'resources.show_resource', 'resources.count_resources',
}


@pytest.fixture
def app(conf):
    conf.set_override('auth_mode', 'noauth', 'api')
    return api_app.build_app(conf, FakeGraphClient())


def _registered() -> set[str]:
    return {rule.name for rule in policy.list_rules()}


def test_every_routed_endpoint_has_a_registered_rule(app):
    registered = _registered()
    routed = {rule.endpoint for rule in app.url_map.iter_rules()}
    for endpoint in sorted(routed):
        if endpoint in policy.PUBLIC_ENDPOINTS:
            continue
        assert endpoint in policy.ENDPOINT_RULES, (
            'route %s has no policy rule in vitrage.api.policy' % endpoint)
        assert policy.ENDPOINT_RULES[endpoint] in registered


def test_endpoints_of_every_api_module_have_rules():
    assert EXPECTED_ENDPOINTS <= set(policy.ENDPOINT_RULES)
    registered = _registered()
    for rule in policy.ENDPOINT_RULES.values():
        assert rule in registered
    for rule in policy.ALL_TENANTS_RULES:
        assert rule + policy.ALL_TENANTS_SUFFIX in registered


def test_secure_defaults():
    defaults = {r.name: r.check_str for r in policy.list_rules()}
    assert defaults['webhook:add'] == ''
    assert defaults['template:list'] == ''
    assert defaults['template:validate'] == ''
    assert defaults['template:add'] == 'rule:context_is_admin'
    assert defaults['template:delete'] == 'rule:context_is_admin'
    assert defaults['event:post'] == \
        'rule:context_is_admin or rule:service_api'
    assert defaults['service_api'] == 'role:service'
    assert defaults['topology:get:all_tenants'] == 'rule:context_is_admin'
    assert defaults['context_is_admin'] == 'role:admin or noauth_admin:True'
    for rule in policy.list_rules():
        if isinstance(rule, oslo_policy.DocumentedRuleDefault):
            assert rule.operations and rule.description
    # The documented way back names every tightened rule.
    for name, old in policy.RELAXED_RULES.items():
        assert defaults[name] != old
        assert '("%s")' % old in {
            r.name: r.description for r in policy.list_rules()}[name]


SERVICE = {'X-User-Id': 'am', 'X-Project-Id': 'svc', 'X-Roles': 'service'}
EVENT = {'type': 'compute.host.down',
         'details': {'hostname': 'h1', 'status': 'down'}}


@pytest.mark.parametrize('method, path, body', [
    ('put', '/v1/template/', {'templates': [], 'template_type': None}),
    ('delete', '/v1/template/', {'uuid': ['x']}),
    ('post', '/v1/event/', EVENT),
])
def test_member_may_not_change_what_every_tenant_sees(app, method, path,
                                                      body):
    http = app.test_client()
    for who in (MEMBER, dict(MEMBER, **{'X-User-Name': 'admin'})):
        response = getattr(http, method)(path, headers=who, json=body)
        assert response.status_code == 403, response.data
        answer = json.loads(response.data)
        assert answer['description'] == 'Authorization Failed'


class Publisher:
    def __init__(self) -> None:
        self.sent: list = []

    def publish(self, event_type: str, payload: dict) -> None:
        self.sent.append((event_type, payload))


def test_admin_and_service_role_post_events(app):
    app.extensions['vitrage.event_publisher'] = publisher = Publisher()
    http = app.test_client()
    # An admin, a monitor's service role, the identity-less noauth caller.
    for who in (ADMIN, SERVICE, {}):
        response = http.post('/v1/event/', headers=who, json=EVENT)
        assert response.status_code == 200, (who, response.data)
    assert len(publisher.sent) == 3
    # A service may post events but not manage templates.
    assert http.delete('/v1/template/', headers=SERVICE,
                       json={'uuid': ['x']}).status_code == 403


def test_member_reads_templates(app):
    http = app.test_client()
    response = http.get('/v1/template/versions', headers=MEMBER)
    assert response.status_code == 200


def test_rule_of_unknown_endpoint_falls_back_to_default():
    assert policy.rule_of('nonexistent.view') == policy.ANY_RULE
    assert policy.rule_of('root.healthcheck') is None
    assert policy.rule_of(None) is None


def test_member_passes_every_default_rule(app):
    http = app.test_client()
    assert http.get('/v1/status/', headers=MEMBER).status_code == 200


def test_all_tenants_is_checked_against_the_endpoint_rule(app):
    http = app.test_client()
    response = http.post('/v1/topology/', headers=MEMBER,
                         json={'all_tenants': True})
    assert response.status_code == 403
    body = json.loads(response.data)
    assert body['description'] == 'Authorization Failed'
    assert 'topology:get:all_tenants' in body['detail']
    assert http.post('/v1/topology/', headers=ADMIN,
                     json={'all_tenants': True}).status_code == 200


def _app_with_policy_file(conf_fixture, tmp_path, rules: dict):
    conf = conf_fixture.conf
    path = tmp_path / 'policy.yaml'
    path.write_text(''.join('"%s": "%s"\n' % item for item in rules.items()))
    conf([], project='vitrage', default_config_files=[])
    conf.set_override('auth_mode', 'noauth', 'api')
    for group, opts in policy_opts.list_opts():
        conf_fixture.register_opts(opts, group=group)
    conf.set_override('policy_file', str(path), 'oslo_policy')
    return api_app.build_app(conf, FakeGraphClient()), path


def test_policy_file_overrides_a_rule(conf_fixture, tmp_path):
    app, _ = _app_with_policy_file(conf_fixture, tmp_path,
                                   {'status:get': 'role:admin'})
    http = app.test_client()
    denied = http.get('/v1/status/', headers=MEMBER)
    assert denied.status_code == 403
    assert json.loads(denied.data)['description'] == 'Authorization Failed'
    assert http.get('/v1/status/', headers=ADMIN).status_code == 200
    # Rules the file does not name keep their defaults.
    assert http.post('/v1/topology/', headers=MEMBER,
                     json={}).status_code == 200


def test_policy_file_can_open_all_tenants_to_a_role(conf_fixture,
                                                    tmp_path):
    app, _ = _app_with_policy_file(
        conf_fixture, tmp_path,
        {'topology:get:all_tenants': 'role:auditor'})
    http = app.test_client()
    auditor = dict(MEMBER, **{'X-Roles': 'auditor'})
    assert http.post('/v1/topology/', headers=auditor,
                     json={'all_tenants': True}).status_code == 200
    assert http.post('/v1/topology/', headers=ADMIN,
                     json={'all_tenants': True}).status_code == 403


def test_relaxed_rules_restore_the_old_defaults(conf_fixture, tmp_path):
    app, _ = _app_with_policy_file(conf_fixture, tmp_path,
                                   policy.RELAXED_RULES)
    app.extensions['vitrage.event_publisher'] = Publisher()
    http = app.test_client()
    response = http.post('/v1/event/', headers=MEMBER, json=EVENT)
    assert response.status_code == 200, response.data
    response = http.delete('/v1/template/', headers=MEMBER,
                           json={'uuid': ['x']})
    assert response.status_code != 403, response.data


def test_documented_user_name_admin_relaxation(conf_fixture, tmp_path):
    # doc/source/admin/policy.rst: the rule of earlier releases.
    app, _ = _app_with_policy_file(conf_fixture, tmp_path, {
        'context_is_admin':
            'role:admin or user_name:admin or noauth_admin:True'})
    http = app.test_client()
    named = dict(MEMBER, **{'X-User-Name': 'admin'})
    assert http.post('/v1/topology/', headers=named,
                     json={'all_tenants': True}).status_code == 200
    assert http.post('/v1/topology/', headers=MEMBER,
                     json={'all_tenants': True}).status_code == 403


def test_public_paths_ignore_the_policy(conf_fixture, tmp_path):
    app, _ = _app_with_policy_file(conf_fixture, tmp_path,
                                   {'default': '!', 'status:get': '!'})
    http = app.test_client()
    assert http.get('/v1/status', headers=ADMIN).status_code == 403
    assert http.get('/').status_code == 200
    assert http.get('/healthcheck').status_code == 200


def test_noauth_caller_without_headers_is_admin(app):
    http = app.test_client()
    assert http.post('/v1/topology/',
                     json={'all_tenants': True}).status_code == 200
    noname = {'X-Project-Id': 'p1'}
    assert http.post('/v1/topology/', headers=noname,
                     json={'all_tenants': True}).status_code == 403


def test_sample_generator_entry_point():
    from importlib import metadata
    eps = metadata.entry_points()
    policies = {e.name: e.value for e in eps.select(
        group='oslo.policy.policies')}
    enforcers = {e.name: e.value for e in eps.select(
        group='oslo.policy.enforcer')}
    assert policies.get('vitrage') == 'vitrage.api.policy:list_rules'
    assert enforcers.get('vitrage') == 'vitrage.api.policy:get_enforcer'
    enforcer = policy.get_enforcer()
    assert 'webhook:add' in enforcer.registered_rules


def test_policy_sample_is_up_to_date(tmp_path):
    import os
    import subprocess
    import sys
    from vitrage.tests import helpers
    generator = os.path.join(os.path.dirname(sys.executable),
                             'oslopolicy-sample-generator')
    output = tmp_path / 'policy.yaml.sample'
    subprocess.run([generator, '--namespace', 'vitrage', '--output-file',
                    str(output)], check=True, capture_output=True)
    with open(helpers.repo_path('etc', 'vitrage',
                                'policy.yaml.sample')) as f:
        assert f.read() == output.read_text(), (
            'etc/vitrage/policy.yaml.sample is stale: tox -e genpolicy')
