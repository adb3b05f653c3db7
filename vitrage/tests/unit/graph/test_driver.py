"""The entity graph driver."""
from vitrage.common.constants import Prop
from vitrage.graph.driver import EntityGraph


def build():
    g = EntityGraph()
    for vid, vtype in (('c', 'cluster'), ('z', 'zone'), ('h1', 'host'),
                       ('h2', 'host'), ('i1', 'vm'), ('a1', 'alarm')):
        g.add_vertex(vid, {Prop.TYPE: vtype, 'name': vid})
    g.add_edge('c', 'z', 'contains')
    g.add_edge('z', 'h1', 'contains')
    g.add_edge('z', 'h2', 'contains')
    g.add_edge('h1', 'i1', 'contains')
    g.add_edge('a1', 'h1', 'on')
    return g


def test_vertices_and_edges():
    g = build()
    assert g.num_vertices() == 6 and g.num_edges() == 5
    assert g.get_vertex('h1')[Prop.VITRAGE_ID] == 'h1'
    assert g.get_edge('z', 'h1', 'contains')[Prop.RELATIONSHIP_TYPE] == \
        'contains'
    assert g.get_edge('z', 'h1', 'on') is None


def test_one_edge_per_triple_and_multiple_labels():
    g = build()
    g.add_edge('z', 'h1', 'contains', {'x': 1})
    g.add_edge('z', 'h1', 'managed_by')
    assert g.num_edges() == 6
    assert g.get_edge('z', 'h1', 'contains')['x'] == 1


def test_update_vertex_merges_and_none_removes():
    g = build()
    g.update_vertex('h1', {'state': 'up', 'name': None})
    v = g.get_vertex('h1')
    assert v['state'] == 'up' and 'name' not in v and v[Prop.TYPE] == 'host'


def test_neighbors_filters():
    g = build()
    names = {v['name'] for v in g.neighbors('h1')}
    assert names == {'z', 'i1', 'a1'}
    assert [v['name'] for v in g.neighbors('h1', direction='out')] == ['i1']
    assert [v['name'] for v in g.neighbors('h1', edge_label='on')] == ['a1']
    assert [v['name'] for v in g.neighbors(
        'h1', vertex_properties={Prop.TYPE: 'zone'})] == ['z']
    g.update_edge('h1', 'i1', 'contains', {Prop.IS_DELETED: True})
    assert 'i1' not in {v['name'] for v in g.neighbors('h1')}
    assert 'i1' in {v['name'] for v in g.neighbors(
        'h1', include_deleted_edges=True)}


def test_bfs_depth_and_filter():
    g = build()
    ids, edges = g.bfs('c', depth=2)
    assert ids == ['c', 'z', 'h1', 'h2']
    assert {(s, d) for s, d, _l, _p in edges} == {('c', 'z'), ('z', 'h1'),
                                                  ('z', 'h2')}
    ids, _ = g.bfs('c')
    assert set(ids) == {'c', 'z', 'h1', 'h2', 'i1', 'a1'}
    ids, _ = g.bfs('c', vertex_filter=lambda v: v[Prop.TYPE] != 'host')
    assert ids == ['c', 'z']
    assert g.bfs('missing') == ([], [])


def test_remove_vertex_removes_edges():
    g = build()
    g.remove_vertex('h1')
    assert g.num_vertices() == 5 and g.num_edges() == 2
    g.remove_vertex('h1')   # no error


def test_values_are_interned_to_save_memory():
    g = EntityGraph()
    a = ''.join(['ACT', 'IVE'])
    b = ''.join(['AC', 'TIVE'])
    assert a is not b
    g.add_vertex('x', {'state': a})
    g.add_vertex('y', {'state': b})
    assert g.get_vertex('x')['state'] is g.get_vertex('y')['state']
