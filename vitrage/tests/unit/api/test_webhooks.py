"""Webhooks through the API (rest-api-v1.md 4.19-4.22) and their store."""
import json
import re

import pytest

from vitrage.storage import connection
from vitrage.storage import webhooks

P1_MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
P2_MEMBER = {'X-User-Id': 'u2', 'X-Project-Id': 'p2', 'X-Roles': 'member'}
P1_ADMIN = {'X-User-Id': 'a1', 'X-Project-Id': 'p1', 'X-Roles': 'admin'}


def body(response):
    assert response.mimetype == 'application/json'
    return json.loads(response.data)


def add(http, caller, **fields):
    response = http.post('/v1/webhook/', headers=caller, json=fields)
    assert response.status_code == 200, response.data
    return body(response)


def test_add_returns_the_stored_row_verbatim(db_http):
    regex = '{"name": "e2e.*"}'
    hdrs = "{'X-Foo': 'bar'}"
    row = add(db_http, P1_MEMBER, url='https://example.test/hook',
              regex_filter=regex, headers=hdrs)
    assert set(row) == {'id', 'project_id', 'is_admin_webhook',
                        'created_at', 'url', 'regex_filter', 'headers'}
    assert row['project_id'] == 'p1'
    assert row['is_admin_webhook'] is False
    assert row['url'] == 'https://example.test/hook'
    assert row['regex_filter'] == regex
    assert row['headers'] == hdrs
    assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d', row['created_at'])
    shown = body(db_http.get('/v1/webhook/%s' % row['id'],
                             headers=P1_MEMBER))
    assert shown == row


def test_absent_filter_and_headers_are_empty_strings(db_http):
    row = add(db_http, P1_ADMIN, url='http://h:8080/x', regex_filter=None)
    assert row['regex_filter'] == '' and row['headers'] == ''
    assert row['is_admin_webhook'] is True


@pytest.mark.parametrize('fields, words', [
    ({}, 'url is missing'),
    ({'url': ''}, 'url is missing'),
    ({'url': 'example.test/hook'}, 'scheme'),
    ({'url': 'ftp://example.test/'}, 'scheme'),
    ({'url': 'http://'}, 'host'),
    ({'url': 'http://h:99999/'}, 'malformed'),
    ({'url': 5}, 'must be a string'),
    ({'url': 'http://h/', 'headers': '[1, 2]'}, 'headers is not a dict'),
    ({'url': 'http://h/', 'headers': 'nonsense'}, 'headers is not a dict'),
    ({'url': 'http://h/', 'headers': '{"a": 1}'}, 'strings to strings'),
    ({'url': 'http://h/', 'headers': '{"a:b": "1"}'}, 'not a valid HTTP'),
    ({'url': 'http://h/', 'regex_filter': '{"name": "("}'},
     'not a valid regular expression'),
    ({'url': 'http://h/', 'regex_filter': ['x']}, 'must be a string'),
    ({'url': 'http://h/' + 'x' * 1100}, 'longer than'),
    ({'url': 'http://h/\ud800'}, 'Unicode'),
])
def test_bad_webhooks_are_400_and_store_nothing(db_http, fields, words):
    response = db_http.post('/v1/webhook/', headers=P1_ADMIN, json=fields)
    assert response.status_code == 400, response.data
    description = body(response)['description']
    assert description.startswith('Failed to add webhooks.')
    assert words in description
    assert body(db_http.get('/v1/webhook/?all_tenants=True',
                            headers=P1_ADMIN)) == []


def test_non_object_body_is_400(db_http):
    response = db_http.post('/v1/webhook/', headers=P1_ADMIN,
                            data='[1]', content_type='application/json')
    assert response.status_code == 400


def test_json_object_filter_is_kept_as_json_text(db_http):
    row = add(db_http, P1_MEMBER, url='http://h/',
              regex_filter={'name': 'a.*'})
    assert json.loads(row['regex_filter']) == {'name': 'a.*'}


def test_list_is_scoped_and_in_creation_order(db_http):
    ids = [add(db_http, P1_MEMBER, url='http://h/%d' % i)['id']
           for i in range(5)]
    other = add(db_http, P2_MEMBER, url='http://other/')['id']
    mine = body(db_http.get('/v1/webhook/', headers=P1_MEMBER))
    assert [w['id'] for w in mine] == ids
    assert [w['id'] for w in body(db_http.get(
        '/v1/webhook/?all_tenants=False', headers=P2_MEMBER))] == [other]
    # The admin without all_tenants sees its own project only.
    assert [w['id'] for w in body(db_http.get(
        '/v1/webhook/', headers=P1_ADMIN))] == ids
    everything = body(db_http.get('/v1/webhook/?all_tenants=True',
                                  headers=P1_ADMIN))
    assert [w['id'] for w in everything] == ids + [other]


def test_list_all_tenants_needs_admin(db_http):
    add(db_http, P2_MEMBER, url='http://other/')
    response = db_http.get('/v1/webhook/?all_tenants=True',
                           headers=P1_MEMBER)
    assert response.status_code == 403
    assert body(response)['description'] == 'Authorization Failed'
    response = db_http.get('/v1/webhook/?all_tenants=maybe',
                           headers=P1_MEMBER)
    assert response.status_code == 400


def test_show_and_delete_of_another_project_are_404(db_http):
    theirs = add(db_http, P2_MEMBER, url='http://other/')['id']
    response = db_http.get('/v1/webhook/%s' % theirs, headers=P1_MEMBER)
    assert response.status_code == 404
    assert body(response)['description'] == 'Failed to get webhook.'
    response = db_http.delete('/v1/webhook/%s' % theirs, headers=P1_MEMBER)
    assert response.status_code == 404
    assert body(response)['description'] == 'Failed to delete webhook.'
    # Still there for its owner; an admin may show it.
    assert db_http.get('/v1/webhook/%s' % theirs,
                       headers=P2_MEMBER).status_code == 200
    assert db_http.get('/v1/webhook/%s' % theirs,
                       headers=P1_ADMIN).status_code == 200


def test_delete(db_http):
    row = add(db_http, P1_MEMBER, url='http://h/')
    response = db_http.delete('/v1/webhook/%s' % row['id'],
                              headers=P1_MEMBER)
    assert response.status_code == 200
    assert body(response) == {'SUCCESS': 'Webhook %s deleted' % row['id']}
    for call in (db_http.get, db_http.delete):
        assert call('/v1/webhook/%s' % row['id'],
                    headers=P1_MEMBER).status_code == 404
    response = db_http.delete('/v1/webhook/non%20existent',
                              headers=P1_MEMBER)
    assert body(response)['description'] == 'Failed to delete webhook.'


def test_admin_deletes_any_project_webhook(db_http):
    theirs = add(db_http, P2_MEMBER, url='http://other/')['id']
    assert db_http.delete('/v1/webhook/%s/' % theirs,
                          headers=P1_ADMIN).status_code == 200
    assert body(db_http.get('/v1/webhook/', headers=P2_MEMBER)) == []


# -- store -------------------------------------------------------------------

@pytest.fixture
def store(db_url):
    database = connection.Database(db_url)
    yield webhooks.WebhookStore(database)
    database.dispose()


def test_ids_are_uuids_that_sort_by_creation():
    ids = [webhooks.new_id() for _ in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 200
    import uuid
    assert all(uuid.UUID(i).version == 7 for i in ids)


def test_store_parses_filters_and_headers(store):
    hook = store.add('p1', False, 'http://h/', "{'name': 'cpu.*'}",
                     '{"X-A": "b"}')
    assert hook.filters['name'].match('cpu_high')
    assert hook.header_dict == {'X-A': 'b'}
    listed = store.list_webhooks(all_tenants=True)
    assert listed == [hook]
    empty = store.add(None, True, 'http://h/')
    assert empty.filters == {} and empty.header_dict == {}
    assert store.list_webhooks(None) == [empty]


def test_store_rejects_before_writing(store):
    with pytest.raises(webhooks.InvalidWebhook, match='regex_filter'):
        store.add('p1', False, 'http://h/', '{"a": "["}')
    assert store.list_webhooks(all_tenants=True) == []
