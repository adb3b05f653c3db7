"""``show_alarm`` of the graph RPC API (rest-api-v1.md 4.8)."""
import threading

import pytest

from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.graph import rpcapi
from vitrage.tests.unit.graph import sample_graph


class Holder:
    def __init__(self) -> None:
        self.graph = sample_graph.build()
        self.lock = threading.Lock()

    def is_ready(self) -> bool:
        return True


@pytest.fixture
def endpoint():
    return rpcapi.GraphEndpoint(Holder())


def ctx(base):
    return dict(base, require_ready=True)


def test_alarm_is_shown_with_its_properties(endpoint):
    answer = endpoint.show_alarm(ctx(sample_graph.admin()), 'alarm_host1')
    alarm = answer['result']
    assert alarm['name'] == 'host down'
    assert alarm['vitrage_type'] == 'zabbix'
    assert alarm['vitrage_resource_id'] == 'host1'


@pytest.mark.parametrize('caller, visible', [
    (sample_graph.member('p1'), {'alarm_inst1'}),
    (sample_graph.member('p2'), {'alarm_inst2'}),
    (sample_graph.admin('p1'), {'alarm_host1', 'alarm_inst1',
                                'alarm_inst2'}),
    (sample_graph.admin(None), {'alarm_host1', 'alarm_inst1',
                                'alarm_inst2'}),
])
def test_other_projects_alarms_are_not_found(endpoint, caller, visible):
    for alarm in sample_graph.ALARMS:
        answer = endpoint.show_alarm(ctx(caller), alarm)
        if alarm in visible:
            assert answer['result']['vitrage_id'] == alarm
        else:
            assert answer['error']['code'] == 404
            assert answer['error']['description'] == 'Failed to show alarm.'


def test_resources_unknown_and_deleted_alarms_are_not_found(endpoint):
    holder = endpoint._holder
    holder.graph.update_vertex('alarm_inst2', {Prop.IS_DELETED: True})
    for vid in ('host1', 'nope', 'alarm_inst2'):
        answer = endpoint.show_alarm(ctx(sample_graph.admin(None)), vid)
        assert answer['error'] == {
            'code': 404, 'description': 'Failed to show alarm.',
            'detail': "No alarm with vitrage_id '%s'" % vid}


@pytest.mark.parametrize('caller, all_tenants, expected', [
    (sample_graph.member('p1'), False, {'alarm_inst1'}),
    (sample_graph.member('p2'), False, {'alarm_inst2'}),
    (sample_graph.admin('p1'), False, {'alarm_host1', 'alarm_inst1'}),
    (sample_graph.admin('p1'), True, set(sample_graph.ALARMS)),
    (sample_graph.admin(None), False, set(sample_graph.ALARMS)),
])
def test_list_alarms_is_scoped(endpoint, caller, all_tenants, expected):
    answer = endpoint.list_alarms(ctx(caller), None, all_tenants)
    assert {a['vitrage_id'] for a in answer['result']} == expected
    assert all(a['vitrage_category'] == 'ALARM' for a in answer['result'])


def test_list_alarms_of_one_resource_and_not_deleted(endpoint):
    admin = ctx(sample_graph.admin(None))
    answer = endpoint.list_alarms(admin, 'inst1', False)
    assert [a['vitrage_id'] for a in answer['result']] == ['alarm_inst1']
    endpoint._holder.graph.update_vertex('alarm_inst1',
                                         {Prop.IS_DELETED: True})
    assert endpoint.list_alarms(admin, 'inst1', False) == {'result': []}
    assert {a['vitrage_id'] for a in endpoint.list_alarms(
        admin, 'all', False)['result']} == {'alarm_host1', 'alarm_inst2'}


@pytest.mark.parametrize('start', ['alarm_host1', 'alarm_inst1'])
def test_live_rca_both_ways(endpoint, start):
    rca = endpoint.get_rca(ctx(sample_graph.admin(None)), start,
                           False)['result']
    nodes = [n['vitrage_id'] for n in rca['nodes']]
    assert nodes[0] == start and rca['inspected_index'] == 0
    assert set(nodes) == {'alarm_host1', 'alarm_inst1'}
    [link] = rca['links']
    assert (nodes[link['source']], nodes[link['target']]) == (
        'alarm_host1', 'alarm_inst1')
    assert link['key'] == link['relationship_type'] == 'causes'
    assert [n['graph_index'] for n in rca['nodes']] == [0, 1]


def _causal_web(graph):
    """cause -> root -> effect -> far; root -> effect2; cause -> sibling;
    other -> effect (shares an effect with root); far -> gone (deleted
    edge).
    """
    for vid in ('cause', 'root', 'effect', 'effect2', 'far', 'sibling',
                'other', 'gone'):
        graph.add_vertex(vid, {Prop.VITRAGE_ID: vid,
                               Prop.CATEGORY: 'ALARM',
                               Prop.TYPE: 'vitrage', Prop.NAME: vid,
                               Prop.IS_DELETED: False,
                               Prop.IS_PLACEHOLDER: False})
    for src, dst in (('cause', 'root'), ('root', 'effect'),
                     ('effect', 'far'), ('root', 'effect2'),
                     ('cause', 'sibling'), ('other', 'effect'),
                     ('far', 'gone')):
        graph.add_edge(src, dst, EdgeLabel.CAUSES)
    graph.update_edge('far', 'gone', EdgeLabel.CAUSES,
                      {Prop.IS_DELETED: True})


@pytest.mark.parametrize('start, related', [
    ('root', {'cause', 'root', 'effect', 'effect2', 'far'}),
    ('effect', {'cause', 'root', 'other', 'effect', 'far'}),
    ('sibling', {'cause', 'sibling'}),
    ('far', {'cause', 'root', 'other', 'effect', 'far'}),
])
def test_live_rca_follows_causes_upstream_and_effects_downstream(
        endpoint, start, related):
    # An alarm that only shares an effect (other, for root) or a cause
    # (sibling, for root) with the inspected one is not related.
    _causal_web(endpoint._holder.graph)
    rca = endpoint.get_rca(ctx(sample_graph.admin(None)), start,
                           False)['result']
    nodes = [n['vitrage_id'] for n in rca['nodes']]
    assert nodes[0] == start and rca['inspected_index'] == 0
    assert set(nodes) == related and len(nodes) == len(related)
    links = {(nodes[link['source']], nodes[link['target']])
             for link in rca['links']}
    assert len(links) == len(rca['links'])
    expected = {('cause', 'root'), ('root', 'effect'), ('effect', 'far'),
                ('root', 'effect2'), ('cause', 'sibling'),
                ('other', 'effect')}
    if start == 'root':
        expected -= {('cause', 'sibling'), ('other', 'effect')}
    elif start == 'sibling':
        expected = {('cause', 'sibling')}
    else:
        expected -= {('root', 'effect2'), ('cause', 'sibling')}
    assert links == expected


def test_live_rca_of_a_causal_cycle(endpoint):
    graph = endpoint._holder.graph
    _causal_web(graph)
    graph.add_edge('far', 'root', EdgeLabel.CAUSES)
    rca = endpoint.get_rca(ctx(sample_graph.admin(None)), 'root',
                           False)['result']
    nodes = [n['vitrage_id'] for n in rca['nodes']]
    assert set(nodes) == {'cause', 'root', 'effect', 'effect2', 'far',
                          'other'}
    links = [(nodes[link['source']], nodes[link['target']])
             for link in rca['links']]
    assert sorted(links) == sorted(set(links))
    assert ('far', 'root') in links and ('other', 'effect') in links


def test_live_rca_scoping_and_unknown(endpoint):
    # A member of p1 cannot see the host alarm (no project): not crossed.
    rca = endpoint.get_rca(ctx(sample_graph.member('p1')), 'alarm_inst1',
                           False)['result']
    assert [n['vitrage_id'] for n in rca['nodes']] == ['alarm_inst1']
    assert rca['links'] == []
    for vid, caller in (('alarm_host1', sample_graph.member('p1')),
                        ('nope', sample_graph.admin(None)),
                        ('host1', sample_graph.admin(None))):
        rca = endpoint.get_rca(ctx(caller), vid, False)['result']
        assert (rca['nodes'], rca['links']) == ([], [])
    # all_tenants crosses everything.
    rca = endpoint.get_rca(ctx(sample_graph.member('p1')), 'alarm_inst1',
                           True)['result']
    assert len(rca['nodes']) == 2
