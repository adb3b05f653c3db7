"""The processor on small hand-made events (entities.md sections 1-5)."""
import pytest

from vitrage.common.constants import Category
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import resource_key
from vitrage.datasources.base import TransformerBase
from vitrage.datasources.base import vitrage_id
from vitrage.graph.driver import EntityGraph
from vitrage.graph.processor import consistency_event
from vitrage.graph.processor import CONSISTENCY_TYPE
from vitrage.graph.processor import Processor
from vitrage.graph.states import StateNormalizer

T0 = '2026-01-01T10:00:00Z'
T1 = '2026-01-01T10:00:01Z'
T2 = '2026-01-01T10:00:02Z'


class VMTransformer(TransformerBase):
    """Events: {"id", "host", "state", "project"} of type test.vm."""

    event_actions = {'vm.delete': GraphAction.DELETE_ENTITY}

    def transform(self, event):
        (vm_id,) = self.require(event, 'id')
        ts = event[Envelope.SAMPLE_DATE]
        props = {Prop.CATEGORY: Category.RESOURCE, Prop.TYPE: 'test.vm',
                 Prop.ID: vm_id, Prop.SAMPLE_TIMESTAMP: ts,
                 Prop.DATASOURCE_NAME: 'test'}
        for key, prop in (('name', Prop.NAME), ('state', Prop.STATE),
                          ('project', Prop.PROJECT_ID)):
            if key in event:
                props[prop] = event[key]
        neighbors = []
        if event.get('host'):
            neighbors.append(Neighbor(
                resource_key('test.host', event['host']), 'contains', False,
                {Prop.CATEGORY: Category.RESOURCE, Prop.TYPE: 'test.host',
                 Prop.ID: event['host'], Prop.SAMPLE_TIMESTAMP: ts}))
        return EntityUpdate(resource_key('test.vm', vm_id),
                            self.graph_action(event), props, neighbors)


def event(vm_id, ts=T0, action=DatasourceAction.SNAPSHOT, **kw):
    e = {'id': vm_id, Envelope.SAMPLE_DATE: ts,
         Envelope.DATASOURCE_ACTION: action,
         Envelope.DATASOURCE_NAME: 'test',
         Envelope.ENTITY_TYPE: 'test.vm'}
    e.update(kw)
    return e


@pytest.fixture
def processor(tmp_path):
    (tmp_path / 'default.yaml').write_text(
        'category: RESOURCE\nvalues:\n'
        '  - aggregated values:\n      priority: 30\n'
        '      original values:\n        - {name: ERROR, '
        'operational_value: ERROR}\n'
        '  - aggregated values:\n      priority: 10\n'
        '      original values:\n        - {name: ACTIVE, '
        'operational_value: OK}\n')
    graph = EntityGraph()
    return Processor(graph, {'test': VMTransformer(None, 'test.vm')},
                     StateNormalizer(str(tmp_path)))


def vm(processor, vm_id):
    return processor.graph.get_vertex(vitrage_id(
        resource_key('test.vm', vm_id)))


def host(processor, name):
    return processor.graph.get_vertex(vitrage_id(
        resource_key('test.host', name)))


def test_create_with_placeholder_neighbor(processor):
    processor.process_event(event('v1', host='h1', state='ACTIVE',
                                  project='p1'))
    v = vm(processor, 'v1')
    assert v[Prop.STATE] == 'ACTIVE'
    assert v[Prop.OPERATIONAL_STATE] == 'OK'
    assert v[Prop.AGGREGATED_STATE] == 'ACTIVE'
    assert v[Prop.IS_PLACEHOLDER] is False
    assert v[Prop.IS_DELETED] is False
    assert v[Prop.IS_REAL_VITRAGE_ID] is True
    assert v[Prop.VITRAGE_ID] == vitrage_id('RESOURCE:test.vm:v1')
    h = host(processor, 'h1')
    assert h[Prop.IS_PLACEHOLDER] is True
    edge = processor.graph.get_edge(h[Prop.VITRAGE_ID], v[Prop.VITRAGE_ID],
                                    'contains')
    assert edge == {Prop.RELATIONSHIP_TYPE: 'contains',
                    Prop.IS_DELETED: False, Prop.UPDATE_TIMESTAMP: T0}


def test_merge_keeps_absent_and_removes_null(processor):
    processor.process_event(event('v1', state='ACTIVE', name='web',
                                  project='p1'))
    processor.process_event(event('v1', ts=T1, state='ERROR', project=None))
    v = vm(processor, 'v1')
    assert v[Prop.STATE] == 'ERROR'
    assert v[Prop.OPERATIONAL_STATE] == 'ERROR'
    assert Prop.PROJECT_ID not in v        # sent as null: removed
    assert v[Prop.NAME] == 'web'            # absent: kept


def test_older_event_changes_nothing(processor):
    processor.process_event(event('v1', ts=T1, state='ERROR'))
    processor.process_event(event('v1', ts=T0, state='ACTIVE'))
    assert vm(processor, 'v1')[Prop.STATE] == 'ERROR'
    assert processor.stats['ignored_old'] == 1


def test_migration_retires_old_edge_and_placeholder(processor):
    processor.process_event(event('v1', host='h1'))
    processor.process_event(event('v1', ts=T1, host='h2'))
    v = vm(processor, 'v1')
    assert host(processor, 'h1') is None     # orphan placeholder removed
    h2 = host(processor, 'h2')
    assert processor.graph.get_edge(h2[Prop.VITRAGE_ID], v[Prop.VITRAGE_ID],
                                    'contains')[Prop.IS_DELETED] is False


def test_real_host_keeps_retired_edge_marked_deleted(processor):
    processor.process_event(event('v1', host='h1'))
    h1 = host(processor, 'h1')
    processor.graph.update_vertex(h1[Prop.VITRAGE_ID],
                                  {Prop.IS_PLACEHOLDER: False})
    processor.process_event(event('v1', ts=T1, host='h2'))
    v = vm(processor, 'v1')
    edge = processor.graph.get_edge(h1[Prop.VITRAGE_ID], v[Prop.VITRAGE_ID],
                                    'contains')
    assert edge[Prop.IS_DELETED] is True
    assert edge[Prop.UPDATE_TIMESTAMP] == T1


def test_delete_marks_vertex_and_edges(processor):
    processor.process_event(event('v1', host='h1'))
    processor.process_event(event('v1', ts=T1, action='update',
                                  vitrage_event_type='vm.delete'))
    v = vm(processor, 'v1')
    assert v[Prop.IS_DELETED] is True
    assert v[Prop.SAMPLE_TIMESTAMP] == T1
    assert host(processor, 'h1') is None     # placeholder lost its edge


def test_stale_delete_ignored(processor):
    processor.process_event(event('v1', ts=T2))
    processor.process_event(event('v1', ts=T1,
                                  vitrage_event_type='delete_entity'))
    assert vm(processor, 'v1')[Prop.IS_DELETED] is False


def test_malformed_event_skipped_others_applied(processor):
    bad = processor.process_events([
        event('v1'), {'no': 'id', Envelope.DATASOURCE_NAME: 'test'},
        {'id': 'x', Envelope.DATASOURCE_NAME: 'unknown'}, 'not a dict',
        event('v2')])
    assert bad == 3
    assert vm(processor, 'v1') is not None
    assert vm(processor, 'v2') is not None


def test_malformed_error_names_problem(processor):
    with pytest.raises(exceptions.MalformedEvent, match="lacks 'id'"):
        processor.process_event({Envelope.DATASOURCE_NAME: 'test'})
    with pytest.raises(exceptions.MalformedEvent, match='unknown'):
        processor.process_event({Envelope.DATASOURCE_NAME: 'unknown'})


def test_delete_outdated_and_remove_deleted(processor):
    processor.process_event(event('v1', ts=T0))
    processor.process_event(event('v2', ts=T2))
    deleted = processor.delete_outdated('test', T1)
    v1_id = vm(processor, 'v1')[Prop.VITRAGE_ID]
    assert [(e[Envelope.EVENT_TYPE], e[Prop.VITRAGE_ID]) for e in deleted] \
        == [(GraphAction.DELETE_ENTITY, v1_id)]
    assert deleted[0][Envelope.ENTITY_TYPE] == CONSISTENCY_TYPE
    assert vm(processor, 'v1')[Prop.IS_DELETED] is True
    assert vm(processor, 'v2')[Prop.IS_DELETED] is False
    removed = processor.remove_deleted('9999-01-01T00:00:00Z')
    assert [(e[Envelope.EVENT_TYPE], e[Prop.VITRAGE_ID]) for e in removed] \
        == [(GraphAction.REMOVE_DELETED_ENTITY, v1_id)]
    assert vm(processor, 'v1') is None
    assert processor.delete_outdated('test', T1) == []
    assert processor.remove_deleted('9999-01-01T00:00:00Z') == []


def _state(graph):
    return ({v[Prop.VITRAGE_ID]: dict(v) for v in graph.vertices()},
            {(s, d, label): dict(data) for s, d, label, data in graph.edges()})


def test_own_deletions_replayed_give_the_same_graph(processor):
    inputs = [event('v1', ts=T0, host='h1'), event('v2', ts=T0, host='h1'),
              event('v3', ts=T2, host='h2')]
    processor.process_events(inputs)
    logged = list(inputs)
    logged += processor.delete_outdated('test', T1)        # v1, v2
    assert vm(processor, 'v1')[Prop.IS_DELETED] is True
    assert host(processor, 'h1') is None     # its placeholder went too
    logged += processor.remove_deleted('9999-01-01T00:00:00Z')
    assert vm(processor, 'v1') is None and vm(processor, 'v2') is None
    assert len(logged) == 3 + 2 + 2

    replayed = Processor(EntityGraph(), processor.transformers,
                         processor.states)
    assert replayed.process_events(logged) == 0
    assert _state(replayed.graph) == _state(processor.graph)
    assert vm(replayed, 'v3')[Prop.IS_DELETED] is False


def test_outdated_deletion_never_older_than_the_sample(processor):
    # A collector whose clock is ahead: the deletion carries the sample
    # start, so it is not taken for an event older than the vertex.
    later = '9998-01-01T00:00:00Z'
    processor.process_event(event('v1', ts='9997-01-01T00:00:00Z'))
    (deleted,) = processor.delete_outdated('test', later)
    assert deleted[Envelope.SAMPLE_DATE] == later
    assert vm(processor, 'v1')[Prop.IS_DELETED] is True
    assert vm(processor, 'v1')[Prop.SAMPLE_TIMESTAMP] == later


def test_consistency_event_keeps_the_cluster_and_misses_nothing(processor):
    processor.process_event(event('v1'))
    vid = vm(processor, 'v1')[Prop.VITRAGE_ID]
    # Removing a vertex that is gone, or deleting one, changes nothing.
    processor.process_event(consistency_event(
        GraphAction.REMOVE_DELETED_ENTITY, 'no-such-vertex', T1))
    processor.process_event(consistency_event(
        GraphAction.DELETE_ENTITY, 'no-such-vertex', T1))
    assert vm(processor, 'v1')[Prop.IS_DELETED] is False
    processor.process_event(consistency_event(
        GraphAction.DELETE_ENTITY, vid, T1))
    assert vm(processor, 'v1')[Prop.IS_DELETED] is True


def test_malformed_consistency_events_are_refused(processor):
    with pytest.raises(exceptions.MalformedEvent, match="lacks 'vitrage_id'"):
        processor.process_event({Envelope.ENTITY_TYPE: CONSISTENCY_TYPE,
                                 Envelope.EVENT_TYPE: 'delete_entity',
                                 Envelope.SAMPLE_DATE: T0})
    bad = consistency_event(GraphAction.DELETE_ENTITY, 'x', T0)
    bad[Envelope.EVENT_TYPE] = 'update_entity'
    with pytest.raises(exceptions.MalformedEvent,
                       match="'update_entity', expected one of"):
        processor.process_event(bad)
    with pytest.raises(ValueError, match='not .create_entity.'):
        consistency_event(GraphAction.CREATE_ENTITY, 'x', T0)


def test_listener_sees_before_and_after(processor):
    seen = []

    class Listener:
        def vertex_changed(self, vid, before, after):
            seen.append(('v', before and before.get(Prop.STATE),
                         after and after.get(Prop.STATE)))

        def edge_changed(self, src, dst, label, before, after):
            seen.append(('e', label, before is None,
                         after[Prop.IS_DELETED]))
    processor.add_listener(Listener())
    processor.process_event(event('v1', state='ACTIVE', host='h1'))
    processor.process_event(event('v1', ts=T1, state='ERROR', host='h1'))
    assert ('v', None, 'ACTIVE') in seen
    assert ('e', 'contains', True, False) in seen
    assert ('v', 'ACTIVE', 'ERROR') in seen


def test_ids_are_deterministic():
    assert vitrage_id('RESOURCE:nova.host:h1') == \
        vitrage_id('RESOURCE:nova.host:h1')
    assert vitrage_id('RESOURCE:nova.host:h1') != \
        vitrage_id('RESOURCE:nova.host:h2')
