"""Alarm list, history, count and RCA queries (SQLite)."""
import datetime

import pytest

from vitrage.common import exceptions
from vitrage.storage import alarms
from vitrage.storage import history

T = datetime.datetime
ADMIN_NO_PROJECT = alarms.Scope(None, True)
EVERYTHING = alarms.Scope('pA', False, all_tenants=True)


def payload(vid, ts, name='alarm', severity='WARNING', project=None,
            resource_project=None, resource='r1', **extra):
    body = {'vitrage_id': vid, 'name': name, 'vitrage_type': 'doctor',
            'vitrage_category': 'ALARM', 'state': 'Active',
            'severity': severity.lower(),
            'vitrage_aggregated_severity': severity,
            'vitrage_operational_severity': severity,
            'vitrage_resource_id': resource,
            'vitrage_resource_type': 'nova.host',
            'vitrage_sample_timestamp': ts,
            'update_timestamp': ts}
    if project is not None:
        body['project_id'] = project
    if resource_project is not None:
        body['vitrage_resource_project_id'] = resource_project
    body.update(extra)
    return body


class Store:
    def __init__(self, database):
        self.writer = history.HistoryStore(database)
        self.queries = alarms.AlarmQueries(database)

    def raise_(self, vid, ts, **kwargs):
        self.writer.record([history.parse(history.ALARM_ACTIVATE,
                                          payload(vid, ts, **kwargs))])

    def clear(self, vid, ts, **kwargs):
        self.writer.record([history.parse(
            history.ALARM_DEACTIVATE,
            payload(vid, ts, vitrage_is_deleted=True, **kwargs))])

    def cause(self, source, target, ts, end=None):
        edge = {'source_id': source, 'target_id': target,
                'relationship_type': 'causes', 'vitrage_is_deleted': False,
                'update_timestamp': ts}
        records = [history.parse(history.EDGE_ACTIVATE, edge)]
        if end is not None:
            records.append(history.parse(
                history.EDGE_DEACTIVATE,
                dict(edge, update_timestamp=end, vitrage_is_deleted=True)))
        self.writer.record(records)

    def list(self, scope=ADMIN_NO_PROJECT, resource_id=None, **page):
        return self.queries.list_alarms(scope, alarms.Page(**page),
                                        resource_id)

    def history(self, scope=ADMIN_NO_PROJECT, start=None, end=None,
                **page):
        return self.queries.history(scope, alarms.Page(**page), start, end)


@pytest.fixture
def store(database):
    return Store(database)


def ids(records):
    return [r['vitrage_id'] for r in records]


def test_list_has_active_alarms_as_records(store):
    store.raise_('a1', '2025-03-02T08:00:00Z', name='host down',
                 hostname='cmp-7')
    store.raise_('a2', '2025-03-02T09:00:00Z')
    store.clear('a2', '2025-03-02T09:30:00Z')
    [record] = store.list()
    assert record['vitrage_id'] == 'a1'
    assert record['name'] == 'host down'
    assert record['hostname'] == 'cmp-7'
    assert record['state'] == 'Active'
    assert record['vitrage_operational_severity'] == 'WARNING'
    assert record['start_timestamp'] == '2025-03-02 08:00:00+00:00'
    assert 'end_timestamp' not in record


def test_records_carry_the_current_severity(store):
    store.raise_('a1', '2025-03-02T08:00:00Z')
    store.writer.record([history.parse(history.ALARM_CHANGE, payload(
        'a1', '2025-03-02T08:10:00Z', severity='CRITICAL'))])
    [record] = store.list()
    assert record['vitrage_operational_severity'] == 'CRITICAL'
    assert record['vitrage_aggregated_severity'] == 'CRITICAL'
    assert store.queries.count(ADMIN_NO_PROJECT)['CRITICAL'] == 1


def test_history_shows_ended_alarms_as_inactive(store):
    store.raise_('a1', '2025-03-02T08:00:00Z', severity='CRITICAL')
    store.clear('a1', '2025-03-02T08:30:00Z')
    store.raise_('a2', '2025-03-02T09:00:00Z')
    ended, active = store.history()
    assert ended['vitrage_id'] == 'a1'
    assert ended['end_timestamp'] == '2025-03-02 08:30:00+00:00'
    assert ended['state'] == 'Inactive'
    assert ended['vitrage_operational_severity'] == 'OK'
    assert ended['severity'] == 'critical'
    assert active['vitrage_id'] == 'a2'
    assert 'end_timestamp' not in active
    assert active['state'] == 'Active'


def test_history_windows(store):
    # a1 08:00-08:30, a2 09:00-10:00, a3 from 11:00, still active.
    store.raise_('a1', '2025-03-02T08:00:00Z')
    store.clear('a1', '2025-03-02T08:30:00Z')
    store.raise_('a2', '2025-03-02T09:00:00Z')
    store.clear('a2', '2025-03-02T10:00:00Z')
    store.raise_('a3', '2025-03-02T11:00:00Z')
    assert ids(store.history()) == ['a1', 'a2', 'a3']
    assert ids(store.history(start=T(2025, 3, 2, 8, 30))) == [
        'a1', 'a2', 'a3']
    assert ids(store.history(start=T(2025, 3, 2, 8, 31))) == ['a2', 'a3']
    assert ids(store.history(start=T(2025, 3, 2, 12))) == ['a3']
    # Started inside, ended inside, spanning.
    assert ids(store.history(start=T(2025, 3, 2, 8, 45),
                             end=T(2025, 3, 2, 9, 15))) == ['a2']
    assert ids(store.history(start=T(2025, 3, 2, 9, 30),
                             end=T(2025, 3, 2, 11))) == ['a2', 'a3']
    assert ids(store.history(start=T(2025, 3, 2, 7),
                             end=T(2025, 3, 2, 7, 59))) == []
    with pytest.raises(exceptions.BadRequest, match="'end' needs"):
        store.history(end=T(2025, 3, 2, 9))
    with pytest.raises(exceptions.BadRequest, match='before'):
        store.history(start=T(2025, 3, 2, 9), end=T(2025, 3, 2, 8))


def test_list_by_resource(store):
    store.raise_('a1', '2025-03-02T08:00:00Z', resource='host-1')
    store.raise_('a2', '2025-03-02T08:00:01Z', resource='host-2')
    assert ids(store.list(resource_id='host-2')) == ['a2']
    assert ids(store.list(resource_id='all')) == ['a1', 'a2']


def test_sorting(store):
    store.raise_('a1', '2025-03-02T08:00:00Z', name='b', severity='OK')
    store.raise_('a2', '2025-03-02T08:00:00Z', name='a',
                 severity='CRITICAL')
    store.raise_('a3', '2025-03-02T07:00:00Z', name='c')
    assert ids(store.list()) == ['a3', 'a1', 'a2']
    assert ids(store.list(sort_by=['name'])) == ['a2', 'a1', 'a3']
    assert ids(store.list(sort_by=['start_timestamp', 'vitrage_id'],
                          sort_dirs=['desc', 'desc'])) == ['a2', 'a1', 'a3']
    # Missing directions are ascending.
    assert ids(store.list(sort_by=['start_timestamp', 'vitrage_id'],
                          sort_dirs=['desc'])) == ['a1', 'a2', 'a3']
    # project_id is absent from every row: ties are broken by row id.
    assert ids(store.list(sort_by=['project_id'])) == ['a1', 'a2', 'a3']


@pytest.mark.parametrize('page, problem', [
    ({'sort_by': ['payload']}, "Invalid sort_by 'payload'"),
    ({'sort_dirs': ['up']}, "Invalid sort_dirs 'up'"),
    ({'sort_by': ['name'], 'sort_dirs': ['asc', 'asc']}, '2 sort_dirs'),
    ({'filter_by': ['name'], 'filter_vals': []}, 'same length'),
    ({'filter_by': ['start_timestamp'], 'filter_vals': ['2025']},
     "Invalid filter_by 'start_timestamp'"),
    ({'filter_by': ['name'], 'filter_vals': [3]}, 'Invalid filter value'),
    ({'limit': -1}, 'Invalid limit'),
    ({'marker': 'nope'}, "Invalid marker 'nope'"),
])
def test_bad_page_arguments(store, page, problem):
    store.raise_('a1', '2025-03-02T08:00:00Z')
    with pytest.raises(exceptions.BadRequest, match=problem):
        store.list(**page)


def test_filters_are_substrings_and_lists_are_alternatives(store):
    store.raise_('a1', '2025-03-02T08:00:01Z', name='host down',
                 severity='CRITICAL')
    store.raise_('a2', '2025-03-02T08:00:02Z', name='disk 100% full',
                 severity='WARNING')
    store.raise_('a3', '2025-03-02T08:00:03Z', name='host_unreachable',
                 severity='CRITICAL')
    assert ids(store.list(filter_by=['name'],
                          filter_vals=['host'])) == ['a1', 'a3']
    assert ids(store.list(filter_by=['name', 'vitrage_operational_severity'],
                          filter_vals=['host', 'CRIT'])) == ['a1', 'a3']
    assert ids(store.list(filter_by=['name'],
                          filter_vals=[['down', 'full']])) == ['a1', 'a2']
    # Wildcards are literal characters.
    assert ids(store.list(filter_by=['name'], filter_vals=['0%'])) == ['a2']
    assert ids(store.list(filter_by=['name'], filter_vals=['t_u'])) == [
        'a3']


def test_paging_forward_and_back(store):
    for i in range(7):
        store.raise_('a%d' % i, '2025-03-02T08:00:%02dZ' % (i // 2))
    everything = ids(store.list())
    assert everything == ['a%d' % i for i in range(7)]
    assert ids(store.list(limit=0)) == everything
    pages, marker = [], None
    for _ in range(5):
        page = ids(store.list(limit=3, marker=marker))
        if not page:
            break
        pages.append(page)
        marker = page[-1]
    assert pages == [['a0', 'a1', 'a2'], ['a3', 'a4', 'a5'], ['a6']]
    assert ids(store.list(limit=3, marker='a3', next_page=False)) == [
        'a0', 'a1', 'a2']
    assert ids(store.list(limit=2, marker='a5', next_page=False)) == [
        'a3', 'a4']
    descending = ids(store.list(sort_dirs=['desc', 'desc'], limit=4))
    assert descending == ['a6', 'a5', 'a4', 'a3']
    assert ids(store.list(sort_dirs=['desc', 'desc'], limit=4,
                          marker='a3')) == ['a2', 'a1', 'a0']


def test_marker_of_an_alarm_that_ended_still_positions(store):
    for i in range(4):
        store.raise_('a%d' % i, '2025-03-02T08:00:0%dZ' % i)
    store.clear('a1', '2025-03-02T09:00:00Z')
    assert ids(store.list(marker='a1')) == ['a2', 'a3']


TENANCY = [
    ('own-A', {'project': 'pA'}),
    ('res-A', {'resource_project': 'pA'}),
    ('own-B', {'project': 'pB'}),
    ('res-B', {'resource_project': 'pB'}),
    ('none', {}),
]


@pytest.mark.parametrize('scope, visible', [
    (alarms.Scope('pA', False), {'own-A', 'res-A'}),
    (alarms.Scope('pA', True), {'own-A', 'res-A', 'none'}),
    (alarms.Scope('pB', False), {'own-B', 'res-B'}),
    (alarms.Scope(None, False), set()),
    (ADMIN_NO_PROJECT, {v for v, _ in TENANCY}),
    (alarms.Scope('pA', True, all_tenants=True), {v for v, _ in TENANCY}),
])
def test_tenancy(store, scope, visible):
    for i, (vid, projects) in enumerate(TENANCY):
        store.raise_(vid, '2025-03-02T08:00:0%dZ' % i, **projects)
    assert set(ids(store.list(scope))) == visible
    assert set(ids(store.history(scope))) == visible
    counts = store.queries.count(scope)
    assert counts == {'CRITICAL': 0, 'SEVERE': 0, 'WARNING': len(visible),
                      'OK': 0, 'N/A': 0}
    for vid, _ in TENANCY:
        rca = store.queries.rca(scope, vid)
        assert ids(rca['nodes']) == ([vid] if vid in visible else [])


def test_count_has_all_five_keys(store):
    store.raise_('a1', '2025-03-02T08:00:00Z', severity='CRITICAL')
    store.raise_('a2', '2025-03-02T08:00:01Z', severity='CRITICAL')
    store.raise_('a3', '2025-03-02T08:00:02Z', severity='N/A')
    store.raise_('a4', '2025-03-02T08:00:03Z', severity='STRANGE')
    store.raise_('a5', '2025-03-02T08:00:04Z', severity='SEVERE')
    store.clear('a5', '2025-03-02T09:00:00Z')
    assert store.queries.count(ADMIN_NO_PROJECT) == {
        'CRITICAL': 2, 'SEVERE': 0, 'WARNING': 0, 'OK': 0, 'N/A': 2}
    assert store.queries.count(alarms.Scope('pX', False)) == {
        'CRITICAL': 0, 'SEVERE': 0, 'WARNING': 0, 'OK': 0, 'N/A': 0}


def causal_chain(store):
    # host -> vm1 -> app, host -> vm2; vm2 has ended, as has its edge.
    store.raise_('host', '2025-03-02T08:00:00Z', name='host down')
    store.raise_('vm1', '2025-03-02T08:00:01Z', name='vm down')
    store.raise_('vm2', '2025-03-02T08:00:02Z', name='vm down')
    store.raise_('app', '2025-03-02T08:00:03Z', name='app down')
    store.raise_('other', '2025-03-02T08:00:04Z', name='unrelated')
    store.cause('host', 'vm1', '2025-03-02T08:00:01Z')
    store.cause('host', 'vm2', '2025-03-02T08:00:02Z',
                end='2025-03-02T08:10:00Z')
    store.cause('vm1', 'app', '2025-03-02T08:00:03Z')
    store.clear('vm2', '2025-03-02T08:10:00Z')


def links(rca):
    nodes = rca['nodes']
    return {(nodes[link['source']]['vitrage_id'],
             nodes[link['target']]['vitrage_id'],
             link['vitrage_is_deleted']) for link in rca['links']}


@pytest.mark.parametrize('start, related, followed', [
    ('host', ['host', 'vm1', 'vm2', 'app'],
     {('host', 'vm1', False), ('host', 'vm2', True), ('vm1', 'app', False)}),
    # vm2 only shares a cause with vm1: not related.
    ('vm1', ['host', 'vm1', 'app'],
     {('host', 'vm1', False), ('vm1', 'app', False)}),
    ('vm2', ['host', 'vm2'], {('host', 'vm2', True)}),
    ('app', ['host', 'vm1', 'app'],
     {('host', 'vm1', False), ('vm1', 'app', False)}),
])
def test_rca_follows_causes_upstream_and_effects_downstream(
        store, start, related, followed):
    causal_chain(store)
    rca = store.queries.rca(ADMIN_NO_PROJECT, start)
    assert ids(rca['nodes']) == related
    assert rca['nodes'][rca['inspected_index']]['vitrage_id'] == start
    assert [n['graph_index'] for n in rca['nodes']] == list(
        range(len(related)))
    assert links(rca) == followed
    for link in rca['links']:
        assert link['key'] == link['relationship_type'] == 'causes'
    if 'vm2' in related:
        vm2 = rca['nodes'][related.index('vm2')]
        assert vm2['state'] == 'Inactive'
        assert vm2['end_timestamp'] == '2025-03-02 08:10:00+00:00'
        assert vm2['id'] == 'vm2'
    assert rca['directed'] is True and rca['multigraph'] is True


def test_rca_leaves_out_an_alarm_that_only_shares_an_effect(store):
    causal_chain(store)
    # other also causes app: app's cause, not related to vm1 or host.
    store.cause('other', 'app', '2025-03-02T08:00:05Z')
    assert ids(store.queries.rca(ADMIN_NO_PROJECT, 'vm1')['nodes']) == [
        'host', 'vm1', 'app']
    assert ids(store.queries.rca(ADMIN_NO_PROJECT, 'app')['nodes']) == [
        'host', 'vm1', 'app', 'other']
    rca = store.queries.rca(ADMIN_NO_PROJECT, 'other')
    assert ids(rca['nodes']) == ['app', 'other']
    assert links(rca) == {('other', 'app', False)}


def test_rca_of_an_alarm_without_causes_or_unknown(store):
    causal_chain(store)
    rca = store.queries.rca(ADMIN_NO_PROJECT, 'other')
    assert ids(rca['nodes']) == ['other']
    assert rca['links'] == []
    assert store.queries.rca(ADMIN_NO_PROJECT, 'nope') == alarms.empty_rca()


def test_rca_does_not_cross_invisible_alarms(store):
    # a (pA) -> b (pB) -> c (pA): a member of pA sees a alone.
    store.raise_('a', '2025-03-02T08:00:00Z', project='pA')
    store.raise_('b', '2025-03-02T08:00:01Z', project='pB')
    store.raise_('c', '2025-03-02T08:00:02Z', project='pA')
    store.cause('a', 'b', '2025-03-02T08:00:01Z')
    store.cause('b', 'c', '2025-03-02T08:00:02Z')
    member = alarms.Scope('pA', False)
    rca = store.queries.rca(member, 'a')
    assert ids(rca['nodes']) == ['a']
    assert rca['links'] == []
    assert ids(store.queries.rca(member, 'b')['nodes']) == []
    everything = store.queries.rca(EVERYTHING, 'a')
    assert ids(everything['nodes']) == ['a', 'b', 'c']


def test_rca_keeps_one_link_per_edge_across_periods(store):
    store.raise_('a', '2025-03-02T08:00:00Z')
    store.raise_('b', '2025-03-02T08:00:01Z')
    store.cause('a', 'b', '2025-03-02T08:00:01Z', end='2025-03-02T08:05:00Z')
    store.cause('a', 'b', '2025-03-02T08:06:00Z')
    rca = store.queries.rca(ADMIN_NO_PROJECT, 'a')
    assert links(rca) == {('a', 'b', False)}
    assert len(rca['links']) == 1


def mixed_alarms(store):
    """Alarms with ties, absent values and mixed case, for comparisons
    (upper case sorts first, as in SQLite).
    """
    names = ['Host down', 'disk full', None, 'host DOWN', 'cpu', 'disk full',
             'Disk 50%', 'mem']
    for i, name in enumerate(names):
        extra = {'project': 'p%d' % (i % 3)} if i % 2 else {}
        store.raise_('a%d' % i, '2025-03-02T08:00:0%dZ' % (i // 3),
                     name=name,
                     severity=('CRITICAL', 'WARNING', 'OK')[i % 3],
                     resource='r%d' % (i % 4), **extra)


PAGES = [
    {},
    {'sort_by': ['name'], 'sort_dirs': ['desc']},
    {'sort_by': ['name', 'start_timestamp'], 'sort_dirs': ['asc', 'desc']},
    {'sort_by': ['project_id']},
    {'sort_by': ['vitrage_operational_severity', 'vitrage_id'],
     'sort_dirs': ['desc', 'asc']},
    {'filter_by': ['name'], 'filter_vals': ['DISK']},
    {'filter_by': ['name', 'vitrage_resource_id'],
     'filter_vals': [['host', 'cpu'], 'r0']},
    {'filter_by': ['name'], 'filter_vals': ['50%']},
    {'limit': 3},
    {'limit': 3, 'marker': 'a2'},
    {'limit': 2, 'marker': 'a5', 'next_page': False},
    {'limit': 0, 'marker': 'a4', 'next_page': False},
    {'sort_by': ['name'], 'sort_dirs': ['desc'], 'limit': 3,
     'marker': 'a3'},
    {'sort_by': ['name'], 'limit': 2, 'marker': 'a3', 'next_page': False},
]


@pytest.mark.parametrize('page', PAGES)
def test_paging_in_memory_matches_the_database(store, page):
    mixed_alarms(store)
    everything = store.list(limit=0)
    # Records held in memory get the same page as the SQL query.
    assert ids(alarms.page_records(everything, alarms.Page(**page))) == \
        ids(store.list(**page))


def test_in_memory_paging_refuses_what_sql_refuses(store):
    with pytest.raises(exceptions.BadRequest, match='Invalid marker'):
        alarms.page_records([{'vitrage_id': 'a'}],
                            alarms.Page(marker='b'))
    with pytest.raises(exceptions.BadRequest, match='Invalid sort_by'):
        alarms.page_records([], alarms.Page(sort_by=['x']))


def test_count_records():
    records = [{'vitrage_operational_severity': s}
               for s in ('CRITICAL', 'CRITICAL', 'OK', None, 'ODD')]
    assert alarms.count_records(records) == {
        'CRITICAL': 2, 'SEVERE': 0, 'WARNING': 0, 'OK': 1, 'N/A': 2}
