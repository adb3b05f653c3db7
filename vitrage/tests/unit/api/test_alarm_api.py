"""``/v1/alarm``, ``/v1/rca`` and ``/v1/event`` through the Flask test
client, on a migrated SQLite database and a fake graph."""
import datetime
import json
import urllib.parse

import oslo_messaging
import pytest

from vitrage.api.controllers import event as event_api
from vitrage.graph import rpcapi
from vitrage.storage import history

MEMBER_A = {'X-User-Id': 'u1', 'X-Project-Id': 'pA', 'X-Roles': 'member'}
MEMBER_B = {'X-User-Id': 'u2', 'X-Project-Id': 'pB', 'X-Roles': 'member'}
ADMIN_A = {'X-User-Id': 'u3', 'X-Project-Id': 'pA', 'X-Roles': 'admin'}
# What "vitrage alarm list" sends (rest-api-v1.md section 9).
CLIENT_LIST = ('vitrage_id=all&all_tenants=False&sort_by=start_timestamp'
               '&sort_by=vitrage_id&sort_dirs=asc&sort_dirs=asc'
               '&next_page=True')


class FakePublisher:
    def __init__(self, failure=None):
        self.sent = []
        self.failure = failure

    def publish(self, event_type, payload):
        if self.failure is not None:
            raise self.failure
        self.sent.append((event_type, payload))


@pytest.fixture
def app(db_app):
    db_app.extensions[event_api._EXTENSION] = FakePublisher()
    return db_app


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def store(database):
    return history.HistoryStore(database)


def alarm(vid, ts, **extra):
    body = {'vitrage_id': vid, 'name': 'alarm-' + vid,
            'vitrage_type': 'doctor', 'vitrage_category': 'ALARM',
            'state': 'Active', 'severity': 'critical',
            'vitrage_aggregated_severity': 'CRITICAL',
            'vitrage_operational_severity': 'CRITICAL',
            'vitrage_resource_id': 'host-' + vid,
            'vitrage_resource_type': 'nova.host',
            'vitrage_sample_timestamp': ts, 'update_timestamp': ts}
    body.update(extra)
    return body


def raise_(store, vid, ts, **extra):
    store.record([history.parse(history.ALARM_ACTIVATE,
                                alarm(vid, ts, **extra))])


def clear(store, vid, ts):
    store.record([history.parse(history.ALARM_DEACTIVATE,
                                alarm(vid, ts, vitrage_is_deleted=True))])


def cause(store, source, target, ts):
    store.record([history.parse(history.EDGE_ACTIVATE, {
        'source_id': source, 'target_id': target,
        'relationship_type': 'causes', 'vitrage_is_deleted': False,
        'update_timestamp': ts})])


def body(response):
    assert response.mimetype == 'application/json', response.data
    return json.loads(response.data)


def ok(response):
    assert response.status_code == 200, response.data
    return body(response)


def error(response, code):
    assert response.status_code == code, response.data
    return body(response)['description']


def ids(records):
    return [r['vitrage_id'] for r in records]


# -- alarm list, count, history ------------------------------------------

def test_list_as_the_client_asks(http, store):
    raise_(store, 'a2', '2025-03-02T08:00:02Z')
    raise_(store, 'a1', '2025-03-02T08:00:01Z', hostname='cmp-1')
    raise_(store, 'a3', '2025-03-02T08:00:03Z')
    clear(store, 'a3', '2025-03-02T08:10:00Z')
    for path in ('/v1/alarm/', '/v1/alarm'):
        records = ok(http.get(path + '?' + CLIENT_LIST))
        assert ids(records) == ['a1', 'a2']
    first = records[0]
    assert first['hostname'] == 'cmp-1'
    assert first['start_timestamp'] == '2025-03-02 08:00:01+00:00'
    assert first['vitrage_operational_severity'] == 'CRITICAL'
    assert 'end_timestamp' not in first
    # One resource's alarms.
    assert ids(ok(http.get('/v1/alarm/?vitrage_id=host-a2'))) == ['a2']


def test_list_pages_sorts_and_filters(http, store):
    for i in range(5):
        raise_(store, 'a%d' % i, '2025-03-02T08:00:0%dZ' % i,
               name='disk %d' % i if i % 2 else 'host %d' % i)
    page = ok(http.get('/v1/alarm/?limit=2'))
    assert ids(page) == ['a0', 'a1']
    page = ok(http.get('/v1/alarm/?limit=2&marker=a1&next_page=True'))
    assert ids(page) == ['a2', 'a3']
    page = ok(http.get('/v1/alarm/?limit=2&marker=a2&next_page=False'))
    assert ids(page) == ['a0', 'a1']
    page = ok(http.get('/v1/alarm/?sort_by=name&sort_dirs=desc'))
    assert ids(page) == ['a4', 'a2', 'a0', 'a3', 'a1']
    page = ok(http.get('/v1/alarm/?filter_by=name&filter_vals=disk'))
    assert ids(page) == ['a1', 'a3']
    query = urllib.parse.urlencode([('filter_by', 'name'),
                                    ('filter_vals', "['disk 1', 'host 4']")])
    assert ids(ok(http.get('/v1/alarm/?' + query))) == ['a1', 'a4']


@pytest.mark.parametrize('query, problem', [
    ('limit=-1', "Invalid value -1 for 'limit'"),
    ('limit=many', "Invalid value 'many' for 'limit'"),
    ('sort_by=payload', "Invalid sort_by 'payload'"),
    ('sort_dirs=sideways', "Invalid sort_dirs 'sideways'"),
    ('filter_by=name', 'same length'),
    ('next_page=perhaps', "Invalid value 'perhaps' for 'next_page'"),
    ('marker=unknown', "Invalid marker 'unknown'"),
    ('all_tenants=maybe', "Invalid value 'maybe' for 'all_tenants'"),
])
def test_list_rejects_bad_arguments(http, store, query, problem):
    raise_(store, 'a1', '2025-03-02T08:00:00Z')
    assert problem in error(http.get('/v1/alarm/?' + query), 400)


def test_count_has_the_five_keys(http, store):
    assert ok(http.get('/v1/alarm/count/?all_tenants=False')) == {
        'CRITICAL': 0, 'SEVERE': 0, 'WARNING': 0, 'OK': 0, 'N/A': 0}
    raise_(store, 'a1', '2025-03-02T08:00:00Z')
    raise_(store, 'a2', '2025-03-02T08:00:01Z',
           vitrage_operational_severity='WARNING')
    assert ok(http.get('/v1/alarm/count')) == {
        'CRITICAL': 1, 'SEVERE': 0, 'WARNING': 1, 'OK': 0, 'N/A': 0}


def test_history_windows_and_ended_alarms(http, store):
    raise_(store, 'a1', '2025-03-02T08:00:00Z')
    clear(store, 'a1', '2025-03-02T08:30:00Z')
    raise_(store, 'a2', '2025-03-02T09:00:00Z')
    everything = ok(http.get('/v1/alarm/history/?all_tenants=False&'
                             'sort_by=start_timestamp&sort_dirs=asc'))
    assert ids(everything) == ['a1', 'a2']
    ended = everything[0]
    assert ended['end_timestamp'] == '2025-03-02 08:30:00+00:00'
    assert ended['state'] == 'Inactive'
    assert ended['vitrage_operational_severity'] == 'OK'
    after = ok(http.get('/v1/alarm/history/?start=2025-03-02T08:31:00'))
    assert ids(after) == ['a2']
    # Zones are honoured: 10:15+02:00 is 08:15 UTC.
    window = ok(http.get('/v1/alarm/history/?' + urllib.parse.urlencode(
        {'start': '2025-03-02T10:15:00+02:00',
         'end': '2025-03-02T08:20:00Z'})))
    assert ids(window) == ['a1']
    assert "'end' needs a 'start'" in error(
        http.get('/v1/alarm/history/?end=2025-03-02T08:00:00'), 400)
    assert "for 'start'" in error(
        http.get('/v1/alarm/history/?start=yesterday'), 400)


def test_database_failure_is_the_documented_error(app, http, store):
    with store.database.begin() as conn:
        conn.exec_driver_sql('DROP TABLE alarms')
    assert error(http.get('/v1/alarm/'), 404) == 'Failed to get alarms'
    assert error(http.get('/v1/alarm/count/'), 404) == \
        'Failed to get alarm count.'
    assert error(http.get('/v1/rca/?alarm_id=a'), 404) == 'Failed to get RCA'


# -- show ------------------------------------------------------------------

def test_show_reads_the_graph(app, http):
    graph = app.extensions['vitrage'].graph_client
    graph.answers['show_alarm'] = {'vitrage_id': 'a 1', 'name': 'x'}
    assert ok(http.get('/v1/alarm/a%201', headers=MEMBER_A)) == {
        'vitrage_id': 'a 1', 'name': 'x'}
    method, ctx, kwargs = graph.calls[-1]
    assert method == 'show_alarm'
    assert kwargs == {'vitrage_id': 'a 1'}
    assert ctx['project_id'] == 'pA' and ctx['is_admin'] is False
    graph.answers['show_alarm'] = rpcapi.GraphError(
        404, 'Failed to show alarm.', 'no such alarm')
    assert error(http.get('/v1/alarm/nope'), 404) == 'Failed to show alarm.'


# -- rca ---------------------------------------------------------------

def test_rca_by_query_and_by_path(http, store):
    raise_(store, 'host', '2025-03-02T08:00:00Z')
    raise_(store, 'vm', '2025-03-02T08:00:01Z')
    cause(store, 'host', 'vm', '2025-03-02T08:00:01Z')
    clear(store, 'vm', '2025-03-02T08:05:00Z')
    for path in ('/v1/rca/?alarm_id=vm&all_tenants=False', '/v1/rca/vm'):
        rca = ok(http.get(path))
        assert ids(rca['nodes']) == ['host', 'vm']
        assert rca['inspected_index'] == 1
        assert rca['nodes'][1]['state'] == 'Inactive'
        assert [(link['source'], link['target'], link['key'])
                for link in rca['links']] == [(0, 1, 'causes')]
    empty = ok(http.get('/v1/rca/?alarm_id=unknown'))
    assert (empty['nodes'], empty['links']) == ([], [])
    assert 'alarm_id' in error(http.get('/v1/rca/'), 400)


# -- tenancy -----------------------------------------------------------

@pytest.fixture
def two_projects(store):
    """Alarm ``a`` of project A causes ``b`` of project B."""
    raise_(store, 'a', '2025-03-02T08:00:00Z', project_id='pA')
    raise_(store, 'b', '2025-03-02T08:00:01Z',
           vitrage_resource_project_id='pB')
    raise_(store, 'n', '2025-03-02T08:00:02Z')
    cause(store, 'a', 'b', '2025-03-02T08:00:01Z')


@pytest.mark.parametrize('who, sees', [
    (MEMBER_A, {'a'}),
    (MEMBER_B, {'b'}),
    (ADMIN_A, {'a', 'n'}),
    ({}, {'a', 'b', 'n'}),     # no identity in noauth: unscoped admin
])
def test_tenant_isolation(http, two_projects, who, sees):
    assert set(ids(ok(http.get('/v1/alarm/', headers=who)))) == sees
    assert set(ids(ok(http.get('/v1/alarm/history/', headers=who)))) == \
        sees
    count = ok(http.get('/v1/alarm/count/', headers=who))
    assert count['CRITICAL'] == len(sees)
    for vid in ('a', 'b', 'n'):
        rca = ok(http.get('/v1/rca/?alarm_id=%s' % vid, headers=who))
        expected = [] if vid not in sees else sorted(
            ({'a', 'b'} if vid in ('a', 'b') else {vid}) & sees)
        assert sorted(ids(rca['nodes'])) == expected


@pytest.mark.parametrize('path', [
    '/v1/alarm/?all_tenants=True', '/v1/alarm/count/?all_tenants=True',
    '/v1/alarm/history/?all_tenants=true', '/v1/rca/?alarm_id=b&'
    'all_tenants=True'])
def test_all_tenants_needs_admin(http, two_projects, path):
    assert error(http.get(path, headers=MEMBER_A), 403) == \
        'Authorization Failed'
    answer = ok(http.get(path, headers=ADMIN_A))
    if isinstance(answer, list):
        assert set(ids(answer)) == {'a', 'b', 'n'}
    elif 'nodes' in answer:
        assert ids(answer['nodes']) == ['a', 'b']
    else:
        assert answer['CRITICAL'] == 3


# -- event -------------------------------------------------------------

def sent(app):
    return app.extensions[event_api._EXTENSION].sent


def test_event_down_and_up_become_doctor_notifications(app, http):
    details = {'hostname': 'cmp-7', 'status': 'down', 'source': 'ipmi'}
    response = http.post('/v1/event/', json={
        'time': '2025-03-02T08:14:59.120000', 'type': 'compute.host.down',
        'details': details})
    assert ok(response) is None
    http.post('/v1/event', json={'time': '2025-03-02T08:20:00',
                                 'type': 'compute.host.down',
                                 'details': dict(details, status='up')})
    http.post('/v1/event', json={'time': '2025-03-02T08:20:00',
                                 'type': 'my.event', 'details': {'x': 1}})
    assert sent(app) == [
        ('vitrage.custom.event.down',
         {'type': 'compute.host.down', 'time': '2025-03-02T08:14:59.120000',
          'details': details}),
        ('vitrage.custom.event.up',
         {'type': 'compute.host.down', 'time': '2025-03-02T08:20:00',
          'details': dict(details, status='up')}),
        ('my.event', {'type': 'my.event', 'time': '2025-03-02T08:20:00',
                      'details': {'x': 1}}),
    ]


def test_events_are_accepted_while_no_graph_is_active(app, http):
    """Intake never waits for a graph (HA contract, promise 2): during a
    takeover the event waits on the bus, the client gets no 5xx.
    """
    graph = app.extensions['vitrage'].graph_client
    graph.answers['get_status'] = rpcapi.GraphError(503, rpcapi.NOT_READY)
    # Other /v1 routes that do not ask the graph are gated...
    assert http.get('/v1/template/').status_code == 503
    # ...the event intake is not.
    response = http.post('/v1/event/', json={
        'type': 'compute.host.down',
        'details': {'hostname': 'cmp-7', 'status': 'down'}})
    assert response.status_code == 200
    assert [t for t, _payload in sent(app)] == ['vitrage.custom.event.down']


def test_event_time_defaults_to_utc_now(app, http):
    before = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, microsecond=0)
    ok(http.post('/v1/event/', json={'type': 't', 'details': {}}))
    [(_, payload)] = sent(app)
    posted = datetime.datetime.fromisoformat(payload['time'])
    assert posted.tzinfo is None
    assert posted >= before
    assert len(payload['time']) == len('2025-03-02T08:14:59.120000')


def test_alertmanager_body_is_a_prometheus_alarm(app, http):
    alert = {'receiver': 'vitrage', 'status': 'firing', 'version': '4',
             'alerts': [{'status': 'firing',
                         'labels': {'alertname': 'HighCPU'}}]}
    ok(http.post('/v1/event/', json=alert,
                 headers={'User-Agent': 'Alertmanager/0.27.0'}))
    [(event_type, payload)] = sent(app)
    assert event_type == 'prometheus.alarm'
    assert payload['type'] == 'prometheus.alarm'
    assert payload['details'] == alert


@pytest.mark.parametrize('data, problem', [
    ('[1, 2]', 'must be a JSON object'),
    ('{"type": ', 'not valid JSON'),
    ('{"details": {}}', 'Missing mandatory field: type'),
    ('{"type": 5}', "Invalid value 5 for 'type'"),
    ('{"type": "t", "time": "soon"}', "Invalid value 'soon' for 'time'"),
    ('{"type": "t", "details": "down"}', "'details'"),
])
def test_bad_events_are_400(app, http, data, problem):
    response = http.post('/v1/event/', data=data,
                         content_type='application/json')
    assert problem in error(response, 400)
    assert sent(app) == []


def test_event_not_handed_over_is_404(app, http):
    app.extensions[event_api._EXTENSION] = FakePublisher(
        oslo_messaging.MessageDeliveryFailure('broker gone'))
    response = http.post('/v1/event/', json={'type': 't', 'details': {}})
    assert error(response, 404) == 'Failed to post event'
    assert 'broker gone' in body(response)['detail']


def test_publisher_sends_on_the_notification_topics(conf):
    conf.set_override('notification_topics', ['topic_a', 'topic_b'],
                      'datasources')
    conf.set_override('notification_exchange', 'ex', 'datasources')

    class Transport:
        def __init__(self):
            self.sent = []

        def _send_notification(self, target, ctxt, message, version,
                               retry=None):
            self.sent.append((target, message))

    transport = Transport()
    event_api.EventPublisher(conf, transport).publish(
        'vitrage.custom.event.down', {'type': 't'})
    assert [(t.topic, t.exchange) for t, _ in transport.sent] == [
        ('topic_a.info', 'ex'), ('topic_b.info', 'ex')]
    message = transport.sent[0][1]
    assert message['event_type'] == 'vitrage.custom.event.down'
    assert message['payload'] == {'type': 't'}
    assert message['priority'] == 'INFO'
    assert message['publisher_id'].startswith('api_')


# -- without alarm history ---------------------------------------------

LIVE = [{'vitrage_id': 'l%d' % i, 'name': 'live %d' % i,
         'vitrage_category': 'ALARM',
         'vitrage_operational_severity': ('CRITICAL', 'WARNING')[i % 2]}
        for i in range(4)]


@pytest.fixture
def live(conf, app):
    conf.set_override('enable_persistency', False, 'persistency')
    graph = app.extensions['vitrage'].graph_client
    graph.answers['list_alarms'] = LIVE
    return graph


def test_without_history_lists_and_counts_come_from_the_graph(live, http):
    page = ok(http.get('/v1/alarm/?' + CLIENT_LIST + '&limit=2&marker=l0',
                       headers=ADMIN_A))
    assert ids(page) == ['l1', 'l2']
    method, ctx, kwargs = live.calls[-1]
    assert method == 'list_alarms'
    assert kwargs == {'vitrage_id': 'all', 'all_tenants': False}
    assert ctx['project_id'] == 'pA'
    assert ok(http.get('/v1/alarm/count/?all_tenants=True',
                       headers=ADMIN_A)) == {
        'CRITICAL': 2, 'SEVERE': 0, 'WARNING': 2, 'OK': 0, 'N/A': 0}
    assert live.calls[-1][2] == {'vitrage_id': None, 'all_tenants': True}
    assert "Invalid sort_by 'x'" in error(
        http.get('/v1/alarm/?sort_by=x'), 400)
    assert error(http.get('/v1/alarm/?all_tenants=True', headers=MEMBER_A),
                 403) == 'Authorization Failed'


def test_without_history_rca_comes_from_the_graph(live, http):
    live.answers['get_rca'] = {'nodes': [], 'links': [],
                               'inspected_index': 0}
    assert ok(http.get('/v1/rca/l1?all_tenants=True', headers=ADMIN_A))[
        'nodes'] == []
    assert live.calls[-1][0] == 'get_rca'
    assert live.calls[-1][2] == {'alarm_id': 'l1', 'all_tenants': True}


def test_without_history_there_is_no_history(live, http):
    response = http.get('/v1/alarm/history/')
    assert error(response, 404) == 'Failed to get alarm history'
    assert 'enable_persistency' in body(response)['detail']
