"""Topology and resource views (rest-api-v1.md 1.5, 4.3-4.6, 5)."""
import json

import pytest

from vitrage.common.exceptions import BadRequest
from vitrage.common.exceptions import NotFound
from vitrage.graph.driver import EntityGraph
from vitrage.graph import views
from vitrage.tests.unit.graph import sample_graph
from vitrage.tests.unit.graph.sample_graph import admin
from vitrage.tests.unit.graph.sample_graph import member

RESOURCE_TREE_QUERY = json.dumps({'and': [
    {'==': {'vitrage_category': 'RESOURCE'}},
    {'==': {'vitrage_is_deleted': False}},
    {'==': {'vitrage_is_placeholder': False}}]})


@pytest.fixture
def graph() -> EntityGraph:
    return sample_graph.build()


def node_ids(result: dict) -> set[str]:
    return {n['vitrage_id'] for n in result['nodes']}


def link_ids(result: dict) -> set[tuple[str, str, str]]:
    ids = [n['vitrage_id'] for n in result['nodes']]
    return {(ids[link['source']], ids[link['target']], link['key'])
            for link in result['links']}


def tree_shape(node: dict) -> tuple:
    children = node.get('children')
    if children is None:
        return node['vitrage_id']
    return (node['vitrage_id'],
            tuple(sorted((tree_shape(c) for c in children), key=str)))


# -- graph format -----------------------------------------------------------

def test_all_tenants_graph_has_every_live_resource_and_alarm(graph):
    result = views.topology(graph, member(), all_tenants=True)
    assert node_ids(result) == set(sample_graph.RESOURCES +
                                   sample_graph.ALARMS)
    assert link_ids(result) == {
        ('cluster', 'zone', 'contains'), ('zone', 'host1', 'contains'),
        ('zone', 'host2', 'contains'), ('host1', 'inst1', 'contains'),
        ('host1', 'inst2', 'contains'), ('host2', 'inst3', 'contains'),
        ('alarm_host1', 'host1', 'on'), ('alarm_inst1', 'inst1', 'on'),
        ('alarm_inst2', 'inst2', 'on'),
        ('alarm_host1', 'alarm_inst1', 'causes')}


def test_node_link_format(graph):
    result = views.topology(graph, admin(None), graph_type='graph')
    assert result['directed'] is True
    assert result['multigraph'] is True
    assert result['graph'] == {}
    assert result['raw'] is True
    for i, node in enumerate(result['nodes']):
        assert node['graph_index'] == i
        assert node['vitrage_type']
    by_id = {n['vitrage_id']: n for n in result['nodes']}
    assert by_id['cluster']['id'] == 'OpenStack Cluster'
    assert by_id['host1']['name'] == 'compute-1'
    # An alarm without a datasource id carries its vitrage_id as id.
    assert by_id['alarm_host1']['id'] == 'alarm_host1'
    for link in result['links']:
        assert isinstance(link['source'], int)
        assert isinstance(link['target'], int)
        assert link['key'] == link['relationship_type']
        assert link['vitrage_is_deleted'] is False
    json.dumps(result)


def reference_node_link(graph: EntityGraph, vertex_ids: list[str]) -> dict:
    """Section 5.1 of these vertices, the plain way (networkx's public
    API, one dict per node and link), to check the JSON writer against.
    """
    nxg = graph.networkx
    position = {vid: i for i, vid in enumerate(vertex_ids)}
    nodes = []
    for i, vid in enumerate(vertex_ids):
        node = dict(nxg.nodes[vid])
        if node.get('id') is None:
            node['id'] = vid
        node['graph_index'] = i
        nodes.append(node)
    links = []
    for vid in vertex_ids:
        for _src, dst, label, data in nxg.out_edges(vid, keys=True,
                                                    data=True):
            if dst in position and not data.get('vitrage_is_deleted'):
                # An edge property never overrides the link's own keys.
                links.append({'source': position[vid],
                              'target': position[dst], 'key': label,
                              'relationship_type': label,
                              **{k: v for k, v in data.items()
                                 if k not in ('source', 'target', 'key')}})
    return json.loads(json.dumps(
        {'directed': True, 'multigraph': True, 'graph': {}, 'raw': True,
         'nodes': nodes, 'links': links}, default=str))


@pytest.mark.parametrize('part_size', [1, 2, 3, 4096])
def test_node_link_json_equals_the_plain_output(graph, monkeypatch,
                                                part_size):
    # The writer encodes each vertex as it is and each shared edge dict
    # once; odd vertices and edges must still come out as the plain way.
    monkeypatch.setattr(views, 'PART_SIZE', part_size)
    graph.add_vertex('odd', {'vitrage_category': 'RESOURCE',
                             'vitrage_type': 'odd', 'id': None,
                             'tags': {'b'}, 'graph_index': 7,
                             'vitrage_is_deleted': False,
                             'vitrage_is_placeholder': False})
    graph.add_edge('host1', 'odd', 'contains')
    graph.add_edge('odd', 'host2', 'attached', {'key': 'mine',
                                                'source': 'ext'})
    graph.add_edge('odd', 'inst1', 'attached', {'weight': {1, 2}})
    graph.add_edge('inst2', 'odd', 'contains', {'note': 'a "quoted" é'})
    for ctx, kwargs in ((admin(None), {}), (member(), {'all_tenants': True}),
                        (member('p1'), {})):
        text = b''.join(views.topology_json(graph, ctx, **kwargs))
        result = json.loads(text)
        ids = [n['vitrage_id'] for n in result['nodes']]
        assert result == reference_node_link(graph, ids)
        assert result == views.topology(graph, ctx, **kwargs)
    everything = json.loads(b''.join(views.topology_json(graph, admin(None))))
    assert {n['vitrage_id'] for n in everything['nodes']} >= {'odd'}
    assert len(everything['links']) == 14
    walk = json.loads(b''.join(views.topology_json(
        graph, admin(None), root='odd', depth=1, graph_type='graph')))
    ids = [n['vitrage_id'] for n in walk['nodes']]
    assert sorted(ids) == ['host1', 'host2', 'inst1', 'inst2', 'odd']
    # Depth 1 walks the edges of 'odd' only, in the walk's order.
    expected = reference_node_link(graph, ids)
    assert walk['nodes'] == expected['nodes']
    odd = ids.index('odd')

    def key(link):
        return link['source'], link['target'], link['key']
    assert sorted(walk['links'], key=key) == sorted(
        (link for link in expected['links']
         if odd in (link['source'], link['target'])), key=key)


def test_output_is_a_copy_of_the_graph(graph):
    result = views.topology(graph, member(), all_tenants=True)
    for node in result['nodes']:
        node['name'] = 'changed'
    for link in result['links']:
        link['relationship_type'] = 'changed'
    assert graph.get_vertex('host1')['name'] == 'compute-1'
    assert 'graph_index' not in graph.get_vertex('host1')
    assert graph.get_edge('zone', 'host1', 'contains')[
        'relationship_type'] == 'contains'


def test_all_tenants_query_is_applied_as_is(graph):
    query = {'==': {'vitrage_type': 'nova.instance'}}
    result = views.topology(graph, member(), query=json.dumps(query),
                            all_tenants=True)
    # The deleted instance too: the caller did not exclude it.
    assert node_ids(result) == {'inst1', 'inst2', 'inst3', 'inst4'}
    assert result['links'] == []


def test_member_sees_own_project_and_paths_to_the_cluster(graph):
    result = views.topology(graph, member('p1'))
    assert node_ids(result) == {'inst1', 'inst3', 'alarm_inst1',
                                'cluster', 'zone', 'host1', 'host2'}
    assert link_ids(result) == {
        ('cluster', 'zone', 'contains'), ('zone', 'host1', 'contains'),
        ('zone', 'host2', 'contains'), ('host1', 'inst1', 'contains'),
        ('host2', 'inst3', 'contains'), ('alarm_inst1', 'inst1', 'on')}


def test_admin_also_sees_vertices_without_a_project(graph):
    result = views.topology(graph, admin('p1'))
    assert node_ids(result) == {'inst1', 'inst3', 'alarm_inst1',
                                'cluster', 'zone', 'host1', 'host2',
                                'alarm_host1'}
    # Another project's instance and its alarm are hidden.
    assert ('alarm_host1', 'alarm_inst1', 'causes') in link_ids(result)


def test_admin_of_no_project_sees_everything(graph):
    result = views.topology(graph, admin(None))
    expected = views.topology(graph, member(), all_tenants=True)
    assert node_ids(result) == node_ids(expected)
    assert link_ids(result) == link_ids(expected)


def test_shortest_path_vertices_are_added_for_matches_only(graph):
    query = {'==': {'name': 'vm-3'}}
    result = views.topology(graph, member('p1'), query=json.dumps(query))
    assert node_ids(result) == {'inst3', 'host2', 'zone', 'cluster'}
    assert link_ids(result) == {
        ('cluster', 'zone', 'contains'), ('zone', 'host2', 'contains'),
        ('host2', 'inst3', 'contains')}


def test_paths_do_not_cross_other_projects_vertices(graph):
    # inst1 reachable only through a p2 vertex: no path is added for it.
    g = EntityGraph('cut')
    for vid, project in (('cluster', None), ('p2net', 'p2'),
                         ('vm', 'p1')):
        props = {'vitrage_category': 'RESOURCE', 'vitrage_type': 't',
                 'vitrage_is_deleted': False,
                 'vitrage_is_placeholder': False}
        if vid == 'cluster':
            props['vitrage_type'] = 'openstack.cluster'
        if project:
            props['project_id'] = project
        g.add_vertex(vid, props)
    g.add_edge('cluster', 'p2net', 'contains')
    g.add_edge('p2net', 'vm', 'contains')
    result = views.topology(g, member('p1'))
    assert node_ids(result) == {'vm'}


def test_paths_start_at_a_given_root(graph):
    query = json.dumps({'==': {'name': 'vm-3'}})
    result = views.topology(graph, member('p1'), query=query, root='host1')
    assert node_ids(result) == {'inst3', 'host2', 'zone', 'host1'}
    # Another project's vertex is no path start: nothing leaks.
    result = views.topology(graph, member('p1'), query=query, root='inst2')
    assert node_ids(result) == {'inst3'}


def test_graph_with_depth_needs_a_root(graph):
    with pytest.raises(views.Forbidden) as info:
        views.topology(graph, admin(), graph_type='graph', depth=2)
    assert str(info.value) == \
        "Graph-type 'graph' requires a 'root' with 'depth'"


def test_graph_walk_from_root_with_depth(graph):
    result = views.topology(graph, admin(), root='host1', depth=1,
                            all_tenants=True)
    assert node_ids(result) == {'host1', 'zone', 'inst1', 'inst2',
                                'alarm_host1'}
    assert result['nodes'][0]['vitrage_id'] == 'host1'
    assert link_ids(result) == {
        ('zone', 'host1', 'contains'), ('host1', 'inst1', 'contains'),
        ('host1', 'inst2', 'contains'), ('alarm_host1', 'host1', 'on')}


def test_walk_is_scoped_for_a_member(graph):
    result = views.topology(graph, member('p1'), root='host1', depth=1)
    assert node_ids(result) == {'host1', 'zone', 'inst1'}


def test_walk_does_not_cross_deleted_edges(graph):
    result = views.topology(graph, admin(), root='host2', depth=1,
                            all_tenants=True)
    assert node_ids(result) == {'host2', 'zone', 'inst3'}


def test_unknown_root(graph):
    with pytest.raises(NotFound):
        views.topology(graph, admin(), root='nope', depth=1)
    with pytest.raises(NotFound):
        views.topology(graph, admin(), graph_type='tree', root='nope')


def test_empty_graph():
    empty = EntityGraph()
    result = views.topology(empty, admin(None))
    assert result['nodes'] == [] and result['links'] == []
    assert views.topology(empty, admin(None), graph_type='tree') == {}


@pytest.mark.parametrize('kwargs', [
    {'graph_type': 'forest'},
    {'depth': -1, 'root': 'host1'},
    {'depth': 'two', 'root': 'host1'},
    {'query': '{"==": '},
    {'query': '{"like": {"name": "x"}}'},
])
def test_bad_topology_parameters(graph, kwargs):
    with pytest.raises(BadRequest):
        views.topology(graph, admin(), **kwargs)


# -- tree format ------------------------------------------------------------

def test_tree_of_resources(graph):
    result = views.topology(graph, admin(), graph_type='tree',
                            query=RESOURCE_TREE_QUERY, all_tenants=True)
    assert tree_shape(result) == (
        'cluster', (('zone', (('host1', ('inst1', 'inst2')),
                              ('host2', ('inst3',)))),))
    assert result['graph_index'] == 0
    assert result['id'] == 'OpenStack Cluster'
    assert 'links' not in result
    indexes = []

    def collect(node):
        indexes.append(node['graph_index'])
        for child in node.get('children', []):
            collect(child)
    collect(result)
    assert sorted(indexes) == list(range(7))


def test_tree_with_depth_and_root(graph):
    result = views.topology(graph, admin(), graph_type='tree', depth=2,
                            query=RESOURCE_TREE_QUERY, all_tenants=True)
    assert tree_shape(result) == ('cluster', (('zone', ('host1',
                                                        'host2')),))
    result = views.topology(graph, admin(), graph_type='tree', depth=1,
                            root='host2', query=RESOURCE_TREE_QUERY,
                            all_tenants=True)
    assert tree_shape(result) == ('host2', ('inst3', 'zone'))


def test_tree_without_query_matches_everything(graph):
    result = views.topology(graph, admin(), graph_type='tree',
                            root='inst2', depth=2, all_tenants=True)
    assert tree_shape(result) == (
        'inst2', (('host1', ('alarm_host1', 'inst1', 'zone')),
                  'alarm_inst2'))
    # The placeholder too: nothing excludes it.
    result = views.topology(graph, admin(), graph_type='tree',
                            root='zone', depth=1, all_tenants=True)
    assert tree_shape(result) == ('zone', ('cluster', 'host1', 'host2',
                                           'host3'))


def test_tree_scoped_for_a_member(graph):
    result = views.topology(graph, member('p1'), graph_type='tree',
                            query=RESOURCE_TREE_QUERY)
    assert tree_shape(result) == (
        'cluster', (('zone', (('host1', ('inst1',)),
                              ('host2', ('inst3',)))),))


def test_tree_whose_root_does_not_match_is_empty(graph):
    query = json.dumps({'==': {'vitrage_type': 'nova.host'}})
    assert views.topology(graph, admin(), graph_type='tree', query=query,
                          all_tenants=True) == {}


def test_walk_that_is_not_a_tree_is_an_error(graph):
    # alarm_inst1 is reachable from host1 twice: via inst1 and via
    # alarm_host1.
    with pytest.raises(NotFound) as info:
        views.topology(graph, admin(), graph_type='tree', all_tenants=True)
    assert 'not a tree' in str(info.value)


# -- resources --------------------------------------------------------------

def ids(vertices: list[dict]) -> set[str]:
    return {v['vitrage_id'] for v in vertices}


def test_list_resources_scoping(graph):
    everything = set(sample_graph.RESOURCES)
    assert ids(views.list_resources(graph, member(), all_tenants=True)) == \
        everything
    assert ids(views.list_resources(graph, admin(None))) == everything
    assert ids(views.list_resources(graph, member('p1'))) == {'inst1',
                                                              'inst3'}
    assert ids(views.list_resources(graph, member('p2'))) == {'inst2'}
    assert ids(views.list_resources(graph, admin('p1'))) == {
        'cluster', 'zone', 'host1', 'host2', 'inst1', 'inst3'}
    assert views.list_resources(graph, member(None)) == []


def test_list_resources_filters(graph):
    hosts = views.list_resources(graph, admin(), resource_type='nova.host',
                                 all_tenants=True)
    assert ids(hosts) == {'host1', 'host2'}
    query = json.dumps({'==': {'state': 'ERROR'}})
    assert ids(views.list_resources(graph, admin(), query=query,
                                    all_tenants=True)) == {'inst3'}
    assert views.list_resources(graph, admin(), resource_type='nova.host',
                                query=query, all_tenants=True) == []
    with pytest.raises(BadRequest):
        views.list_resources(graph, admin(), query='nope')


def test_list_resources_returns_copies(graph):
    for v in views.list_resources(graph, admin(None)):
        v['state'] = 'changed'
    assert graph.get_vertex('host1')['state'] == 'available'


def test_show_resource(graph):
    assert views.show_resource(graph, member('p1'), 'inst1')['name'] == \
        'vm-1'
    assert views.show_resource(graph, admin('p1'), 'inst2')['name'] == \
        'vm-2'
    assert views.show_resource(graph, admin('p1'), 'host1')['id'] == \
        'compute-1'
    shown = views.show_resource(graph, admin(), 'host1')
    shown['id'] = 'changed'
    assert graph.get_vertex('host1')['id'] == 'compute-1'


@pytest.mark.parametrize('ctx, vitrage_id', [
    (member('p1'), 'inst2'),        # another project's
    (member('p1'), 'host1'),        # no project: admins only
    (admin(), 'alarm_host1'),       # not a resource
    (admin(), 'missing'),
])
def test_show_resource_not_found(graph, ctx, vitrage_id):
    with pytest.raises(NotFound):
        views.show_resource(graph, ctx, vitrage_id)


def test_count_resources(graph):
    assert views.count_resources(graph, admin(), all_tenants=True) == {
        'openstack.cluster': 1, 'nova.zone': 1, 'nova.host': 2,
        'nova.instance': 3}
    assert views.count_resources(graph, member('p1')) == {
        'nova.instance': 2}
    assert views.count_resources(graph, admin(), all_tenants=True,
                                 group_by='project_id') == {
        '': 4, 'p1': 2, 'p2': 1}
    assert views.count_resources(graph, admin(), all_tenants=True,
                                 group_by='vitrage_is_deleted') == {
        'false': 7}
    assert views.count_resources(graph, admin(), all_tenants=True,
                                 resource_type='nova.host',
                                 group_by='state') == {'available': 2}
    query = json.dumps({'==': {'name': 'nothing'}})
    assert views.count_resources(graph, admin(), all_tenants=True,
                                 query=query) == {}
