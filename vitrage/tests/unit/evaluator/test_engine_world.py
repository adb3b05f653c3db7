"""A small world for evaluator tests (helpers, no tests): hosts, instances,
ports and host alarms fed through the real processor, evaluator listening.
"""
import os

from vitrage.common.constants import Category
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import make_key
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import resource_key
from vitrage.datasources.base import TransformerBase
from vitrage.datasources.base import vitrage_id
from vitrage import evaluator
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.evaluator.engine import settle
from vitrage.evaluator.events import deduced_alarm_key
from vitrage.evaluator.transformer import EvaluatorTransformer
from vitrage.graph.driver import EntityGraph
from vitrage.graph.processor import Processor
from vitrage.graph.states import StateNormalizer

T0 = '2026-01-01T10:00:00Z'
VALUES_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                          'etc', 'vitrage', 'datasources_values')

HOST = 'nova.host'
VM = 'nova.instance'
PORT = 'neutron.port'
NAGIOS = 'nagios'


class WorldTransformer(TransformerBase):
    """Events ``{"kind": host|vm|port|alarm, "id", ...}``.

    vm: ``host``; port: ``vm``; alarm: ``host``, ``name``, ``severity``.
    ``vitrage_event_type: delete_entity`` deletes.
    """

    def transform(self, event):
        kind, entity_id = self.require(event, 'kind', 'id')
        ts = event[Envelope.SAMPLE_DATE]
        vtype = {'host': HOST, 'vm': VM, 'port': PORT,
                 'alarm': NAGIOS}[kind]
        category = Category.ALARM if kind == 'alarm' else Category.RESOURCE
        props = {Prop.CATEGORY: category, Prop.TYPE: vtype,
                 Prop.ID: entity_id, Prop.NAME: event.get('name', entity_id),
                 Prop.SAMPLE_TIMESTAMP: ts, Prop.DATASOURCE_NAME: 'world'}
        neighbors = []
        if kind == 'host':
            props[Prop.STATE] = event.get('state', 'available')
        elif kind == 'vm':
            props[Prop.STATE] = 'ACTIVE'
            props[Prop.PROJECT_ID] = 'p1'
            if event.get('host'):
                neighbors.append(self._ref(HOST, event['host'], 'contains',
                                           False, ts))
        elif kind == 'port':
            if event.get('vm'):
                neighbors.append(self._ref(VM, event['vm'], 'attached',
                                           True, ts))
        else:
            props[Prop.SEVERITY] = event.get('severity', 'CRITICAL')
            props[Prop.STATE] = 'Active'
            if event.get('host'):
                neighbors.append(self._ref(HOST, event['host'], 'on', True,
                                           ts))
        key = make_key(category, vtype, entity_id)
        return EntityUpdate(key, self.graph_action(event), props, neighbors)

    @staticmethod
    def _ref(vtype, entity_id, label, outgoing, ts):
        return Neighbor(resource_key(vtype, entity_id), label, outgoing,
                        {Prop.CATEGORY: Category.RESOURCE, Prop.TYPE: vtype,
                         Prop.ID: entity_id, Prop.SAMPLE_TIMESTAMP: ts})


def world_event(kind, entity_id, delete=False, **kw):
    event = {'kind': kind, 'id': entity_id, Envelope.SAMPLE_DATE: T0,
             Envelope.DATASOURCE_ACTION: DatasourceAction.UPDATE,
             Envelope.DATASOURCE_NAME: 'world',
             Envelope.ENTITY_TYPE: 'world'}
    if delete:
        event[Envelope.EVENT_TYPE] = GraphAction.DELETE_ENTITY
    event.update(kw)
    return event


class World:
    """Graph + processor + evaluator wired as the graph service does."""

    def __init__(self, *template_texts, start=True, graph=None):
        self.graph = graph if graph is not None else EntityGraph()
        self.states = StateNormalizer(VALUES_DIR)
        self.processor = Processor(
            self.graph,
            {'world': WorldTransformer(None, 'world'),
             'vitrage': EvaluatorTransformer(None, 'vitrage')},
            self.states)
        self.templates = [evaluator.load_text(t) for t in template_texts]
        self.evaluator = ScenarioEvaluator(self.graph, self.templates,
                                           self.states)
        self.processor.add_listener(self.evaluator)
        self.applied = []
        if start:
            self.start()

    def start(self):
        self.applied.extend(settle(self.processor, self.evaluator,
                                   self.evaluator.evaluate_all()))

    def feed(self, *events):
        for event in events:
            self.processor.process_event(event)
        self.applied.extend(settle(self.processor, self.evaluator))

    # -- looking at the graph -------------------------------------------
    def vertex(self, vtype, entity_id):
        category = Category.ALARM if vtype == NAGIOS else Category.RESOURCE
        return self.graph.get_vertex(vitrage_id(make_key(category, vtype,
                                                         entity_id)))

    def vid(self, vtype, entity_id):
        return self.vertex(vtype, entity_id)[Prop.VITRAGE_ID]

    def deduced(self, name, vtype, entity_id):
        """The live deduced alarm ``name`` on an entity, or None."""
        vertex = self.graph.get_vertex(vitrage_id(deduced_alarm_key(
            name, self.vid(vtype, entity_id))))
        if vertex is None or vertex[Prop.IS_DELETED]:
            return None
        return vertex

    def live_edge(self, src, dst, label):
        data = self.graph.get_edge(src, dst, label)
        return data is not None and not data[Prop.IS_DELETED]

    def summary(self):
        """Every deduced effect: live vitrage alarms (name, target,
        severity), vitrage_state / is_marked_down per vertex and live
        causes edges.
        """
        alarms = set()
        states = {}
        down = set()
        for v in self.graph.vertices():
            if v.get(Prop.IS_DELETED):
                continue
            if v.get(Prop.TYPE) == 'vitrage':
                alarms.add((v[Prop.NAME], v['resource_id'], v[Prop.SEVERITY],
                            self.live_edge(v[Prop.VITRAGE_ID],
                                           v['resource_id'], EdgeLabel.ON)))
            if v.get(Prop.VITRAGE_STATE) is not None:
                states[v[Prop.VITRAGE_ID]] = v[Prop.VITRAGE_STATE]
            if v.get(Prop.IS_MARKED_DOWN):
                down.add(v[Prop.VITRAGE_ID])
        causes = {(s, d) for s, d, _l, data in self.graph.edges(
            label=EdgeLabel.CAUSES) if not data[Prop.IS_DELETED]}
        return alarms, states, down, causes
