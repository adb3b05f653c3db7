"""``/v1/template`` through the Flask test client, on SQLite."""
import json

import pytest

from vitrage.api import app as api_app
from vitrage.storage import migrations
from vitrage.storage import templates as store_mod
from vitrage.tests.unit.api.test_app import body
from vitrage.tests.unit.api.test_app import FakeGraphClient

TEMPLATE = {'metadata': {'version': '3', 'name': 'host down',
                         'type': 'standard'},
            'entities': {'alarm': {'category': 'ALARM', 'type': 'nagios'},
                         'host': {'category': 'RESOURCE',
                                  'type': 'nova.host'}},
            'scenarios': [{'condition': 'alarm [on] host',
                           'actions': [{'mark_down': {'target': 'host'}}]}]}


@pytest.fixture
def http(conf, tmp_path):
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('connection', 'sqlite:///%s' % (tmp_path / 'v.db'),
                      'database')
    application = api_app.build_app(conf, FakeGraphClient())
    migrations.upgrade(application.extensions['vitrage'].database.engine)
    return application.test_client()


def put(http, *templates, **extra):
    payload = {'templates': [['/tmp/%d.yaml' % i, t]
                             for i, t in enumerate(templates)],
               'template_type': None, 'params': {}, 'overwrite': False}
    payload.update(extra)
    return http.put('/v1/template/', json=payload)


def test_template_versions(http):
    assert body(http.get('/v1/template/versions')) == [
        {'version': 'v1', 'status': 'SUPPORTED'},
        {'version': 'v2', 'status': 'SUPPORTED'},
        {'version': 'v3', 'status': 'CURRENT'}]


def test_validate_answers_one_result_per_template(http):
    response = http.post('/v1/template/', json={
        'templates': [['/a.yaml', TEMPLATE], [None, {'metadata': {}}]],
        'template_type': None, 'params': {}})
    assert response.status_code == 200
    results = body(response)['results']
    assert [r['status code'] for r in results] == [0, 66]
    assert results[0]['file path'] == '/a.yaml'
    assert results[1]['file path'] is None
    assert body(http.get('/v1/template/')) == []


def test_validating_an_equivalence_answers_an_empty_status_code(http):
    equivalence = {'metadata': {'version': '2', 'name': 'eq',
                                'type': 'equivalence'},
                   'equivalences': [{'equivalence': [
                       {'entity': {'category': 'ALARM', 'type': 'nagios',
                                   'name': 'disk_full'}},
                       {'entity': {'category': 'ALARM', 'type': 'zabbix',
                                   'name': 'Disk is full'}}]}]}
    response = http.post('/v1/template/', json={
        'templates': [['/eq.yaml', equivalence]], 'template_type': None,
        'params': {}})
    assert body(response)['results'] == [{
        'file path': '/eq.yaml', 'status': 'validation OK',
        'description': 'Template validation', 'message': 'No Validation',
        'status code': ''}]


def test_add_list_show_and_delete(http):
    rows = body(put(http, TEMPLATE))
    assert len(rows) == 1
    assert rows[0]['status'] == store_mod.LOADING
    assert rows[0]['name'] == 'host down'
    listed = body(http.get('/v1/template'))
    assert [r['uuid'] for r in listed] == [rows[0]['uuid']]
    # By uuid and, with its URL-encoded space, by name.
    by_uuid = body(http.get('/v1/template/%s' % rows[0]['uuid']))
    by_name = body(http.get('/v1/template/host%20down'))
    assert by_uuid == by_name
    assert by_uuid['metadata']['name'] == 'host down'
    duplicate = body(put(http, TEMPLATE))
    assert duplicate[0]['status details'] == 'Duplicate template name'
    response = http.delete('/v1/template/',
                           json={'id': ['host down', 'unknown']})
    assert response.status_code == 200
    assert response.data.strip() == b'null'
    assert [r['status'] for r in body(http.get('/v1/template/'))] == [
        store_mod.DELETING]


def test_delete_accepts_a_bare_string_and_query_parameters(http):
    invalid = dict(TEMPLATE, scenarios=[])
    first = body(put(http, invalid))[0]
    assert first['status'] == store_mod.ERROR
    assert http.delete('/v1/template',
                       data=json.dumps({'uuid': first['uuid']}),
                       content_type='application/json').status_code == 200
    assert body(http.get('/v1/template/')) == []
    second = body(put(http, invalid))[0]
    assert http.delete('/v1/template?id=%s' % second['uuid']
                       ).status_code == 200
    assert body(http.get('/v1/template/')) == []


def test_delete_of_an_empty_list_is_200_and_deletes_nothing(http):
    kept = body(put(http, TEMPLATE))[0]
    # What the stock client sends once no template is left to delete.
    response = http.delete('/v1/template/', json={'id': []})
    assert response.status_code == 200
    assert response.data.strip() == b'null'
    assert [r['uuid'] for r in body(http.get('/v1/template/'))] == [
        kept['uuid']]


def test_show_unknown_is_404_with_the_client_text(http):
    response = http.get('/v1/template/nothing')
    assert response.status_code == 404
    assert body(response)['description'] == 'Failed to show template.'


@pytest.mark.parametrize('payload,needle', [
    ({'templates': 'x'}, 'templates'),
    ({'templates': []}, 'templates'),
    ({'templates': [['a', TEMPLATE, 'extra']]}, 'templates[0]'),
    ({'templates': [[3, TEMPLATE]]}, 'file path'),
    ({'templates': [[None, TEMPLATE]], 'params': 'a=1'}, 'params'),
    ({'templates': [[None, TEMPLATE]], 'overwrite': 'maybe'}, 'overwrite'),
])
def test_bad_add_requests_are_400_naming_the_field(http, payload, needle):
    response = http.put('/v1/template/', json=payload)
    assert response.status_code == 400
    assert needle in body(response)['description']


def test_bad_delete_request_is_400(http):
    response = http.delete('/v1/template/', json={'id': [1, 2]})
    assert response.status_code == 400
    assert http.delete('/v1/template/').status_code == 400


def test_database_failure_is_404_failed_to(conf, tmp_path):
    conf.set_override('auth_mode', 'noauth', 'api')
    # No schema: every query fails.
    conf.set_override('connection', 'sqlite:///%s' % (tmp_path / 'e.db'),
                      'database')
    http = api_app.build_app(conf, FakeGraphClient()).test_client()
    response = http.get('/v1/template/')
    assert response.status_code == 404
    assert body(response)['description'] == 'Failed to get templates.'
    response = put(http, TEMPLATE)
    assert body(response)['description'] == 'Failed to add template.'
