"""The graph's hand-off: positions, history, acknowledgement."""
import threading

import oslo_messaging as messaging
import pytest

from vitrage.collector import rpcapi as collector_rpcapi
from vitrage.common.constants import Prop
from vitrage.graph.coordinator import EventCoordinator
from vitrage.graph import handoff as handoff_mod
from vitrage.graph.service import EventsEndpoint

ALARM = {Prop.CATEGORY: 'ALARM', Prop.TYPE: 'doctor',
         Prop.IS_DELETED: False, Prop.IS_PLACEHOLDER: False,
         Prop.OPERATIONAL_SEVERITY: 'CRITICAL', Prop.VITRAGE_ID: 'a1',
         Prop.SAMPLE_TIMESTAMP: '2026-01-01T00:00:00Z'}


def test_history_of_alarm_life():
    rec = handoff_mod.HistoryRecorder()
    rec.vertex_changed('a1', None, dict(ALARM))
    rec.vertex_changed('a1', dict(ALARM),
                       dict(ALARM, **{Prop.OPERATIONAL_SEVERITY: 'WARNING'}))
    rec.vertex_changed('a1', dict(ALARM),
                       dict(ALARM, **{Prop.RESOURCE_PROJECT_ID: 'p2'}))
    rec.vertex_changed('a1', dict(ALARM), dict(ALARM, **{
        Prop.IS_DELETED: True}))
    rec.vertex_changed('h1', None, {Prop.CATEGORY: 'RESOURCE'})
    types = [t for t, _p in rec.take()]
    assert types == ['vitrage.alarm.activate', 'vitrage.alarm.change',
                     'vitrage.alarm.change_project_id',
                     'vitrage.alarm.deactivate']
    assert rec.take() == []


def test_history_of_causal_edges_only():
    rec = handoff_mod.HistoryRecorder()
    live = {Prop.RELATIONSHIP_TYPE: 'causes', Prop.IS_DELETED: False}
    rec.edge_changed('a', 'b', 'causes', None, live)
    rec.edge_changed('a', 'b', 'causes', live, dict(live, **{
        Prop.IS_DELETED: True}))
    rec.edge_changed('a', 'h', 'on', None, {Prop.IS_DELETED: False})
    out = rec.take()
    assert [t for t, _p in out] == ['vitrage.causal_relationship.activate',
                                    'vitrage.causal_relationship.deactivate']
    assert out[0][1]['source_id'] == 'a' and out[0][1]['target_id'] == 'b'


class FakeSender:
    def __init__(self, fail=False):
        self.fail = fail
        self.sent = []

    def send(self, event_type, payload):
        if self.fail:
            raise messaging.MessageDeliveryFailure('broker said no')
        self.sent.append((event_type, payload))


def make_handoff(fail=False):
    h = handoff_mod.Handoff.__new__(handoff_mod.Handoff)
    h.term, h.seq, h.stats = 7, 0, {'events': 0, 'messages': 0}
    h.sender = FakeSender(fail)
    return h


def test_positions_follow_handling_order():
    h = make_handoff()
    records = [h.position({'vitrage_datasource_action': 'snapshot',
                           'vitrage_sample_date': 't%d' % i})
               for i in range(3)]
    assert [r['seq'] for r in records] == [1, 2, 3]
    assert records[0]['type'] == 'snapshot'
    assert records[2]['collector_timestamp'] == 't2'
    h.publish(records, [('vitrage.alarm.activate', {'x': 1})])
    assert h.sender.sent[0] == ('vitrage.graph.events',
                                {'term': 7, 'events': records})
    assert h.sender.sent[1][0] == 'vitrage.alarm.activate'


class FakeService:
    """What EventsEndpoint needs of the graph service."""

    def __init__(self, fail_handoff):
        self.lock = threading.RLock()
        self.applied = []
        self.coordinator = EventCoordinator(self._apply, self.lock)
        self.handoff = make_handoff(fail_handoff)

    def _apply(self, events):
        self.applied.extend(events)
        return [self.handoff.position(e) for e in events], []

    def hand_off(self, result):
        self.handoff.publish(*result)


@pytest.mark.parametrize('fail,expected', [
    (False, messaging.NotificationResult.HANDLED),
    (True, messaging.NotificationResult.REQUEUE)])
def test_input_acked_only_after_confirmed_handoff(fail, expected):
    svc = FakeService(fail)
    svc.coordinator.start()
    try:
        result = EventsEndpoint(svc).info(
            {}, 'vitrage.collector', collector_rpcapi.EVENTS_TYPE,
            {'request_id': None, 'events': [{'id': 1}, {'id': 2}]}, {})
    finally:
        svc.coordinator.stop()
    assert result == expected
    assert len(svc.applied) == 2
    assert bool(svc.handoff.sender.sent) is not fail


def test_malformed_message_is_dropped_not_requeued():
    svc = FakeService(False)
    result = EventsEndpoint(svc).info({}, 'p', 'other.type', {'x': 1}, {})
    assert result == messaging.NotificationResult.HANDLED
    assert svc.applied == []
