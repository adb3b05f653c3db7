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
    seqs = h.publish(records, [('vitrage.alarm.activate', {'x': 1})])
    assert seqs == (1, 3)
    # One message: the history is written or refused with its events.
    [(event_type, payload)] = h.sender.sent
    assert event_type == 'vitrage.graph.events'
    assert payload['term'] == 7 and payload['events'] == records
    [change] = payload['history']
    assert change['event_type'] == 'vitrage.alarm.activate'
    assert change['payload'] == {'x': 1} and change['timestamp']
    assert h.publish([], []) is None


class FakeService:
    """What EventsEndpoint needs of the graph service."""

    def __init__(self, fail_handoff, written=True, holds=True):
        self.lock = threading.RLock()
        self.applied = []
        self.coordinator = EventCoordinator(self._apply, self.lock)
        self.handoff = make_handoff(fail_handoff)
        self.written = written
        self.holds = holds
        self.waited = []

    def _apply(self, events):
        # GraphService.handle_batch: apply, then hand off on the
        # processing thread.
        self.applied.extend(events)
        return self.handoff.publish(
            [self.handoff.position(e) for e in events], [])

    def accepting(self):
        return self.holds

    def wait_written(self, seqs):
        self.waited.append(seqs)
        return self.written


def _deliver(svc):
    svc.coordinator.start()
    try:
        return EventsEndpoint(svc).info(
            {}, 'vitrage.collector', collector_rpcapi.EVENTS_TYPE,
            {'request_id': None, 'events': [{'id': 1}, {'id': 2}]}, {})
    finally:
        svc.coordinator.stop()


@pytest.mark.parametrize('fail,written,expected', [
    (False, True, messaging.NotificationResult.HANDLED),
    # The broker did not confirm the hand-off.
    (True, True, messaging.NotificationResult.REQUEUE),
    # Handed off, but the persistor did not write it (term sealed,
    # persistor or database down).
    (False, False, messaging.NotificationResult.REQUEUE)])
def test_input_acked_only_once_its_handled_events_are_written(
        fail, written, expected):
    svc = FakeService(fail, written)
    assert _deliver(svc) == expected
    assert len(svc.applied) == 2
    assert bool(svc.handoff.sender.sent) is not fail
    assert svc.waited == ([] if fail else [(1, 2)])


def test_a_graph_without_its_term_handles_nothing(monkeypatch):
    monkeypatch.setattr('vitrage.graph.service.REQUEUE_PAUSE', 0)
    svc = FakeService(False, holds=False)
    assert _deliver(svc) == messaging.NotificationResult.REQUEUE
    assert svc.applied == [] and svc.handoff.sender.sent == []


def _log(database, term, seqs):
    from vitrage.storage import eventlog
    eventlog.SqlEventLog(database).append(term, [
        eventlog.EventRecord(seq=s, event_type='update', event={'id': s})
        for s in seqs])


def test_durability_waits_until_every_seq_is_written(database):
    from vitrage.storage import terms
    terms.TermStore(database).begin_term('g')
    durability = handoff_mod.Durability(database, 1, poll_interval=0.005)
    outcome = {}
    waiter = threading.Thread(target=lambda: outcome.setdefault(
        'written', durability.wait((1, 3), timeout=30)))
    waiter.start()
    try:
        # Written out of order, and not all at once.
        _log(database, 1, [3, 1])
        waiter.join(0.3)
        assert waiter.is_alive(), 'acknowledged before seq 2 was written'
        _log(database, 1, [2])
        waiter.join(30)
        assert outcome == {'written': True}
        # Nothing written for seq 4 within the time: not acknowledged.
        assert durability.wait((4, 4), timeout=0.2) is False
    finally:
        durability.stop()


def test_durability_raises_when_the_term_is_taken_over(database):
    from vitrage.storage import terms
    store = terms.TermStore(database)
    store.begin_term('g1')
    durability = handoff_mod.Durability(database, 1, poll_interval=0.005)
    try:
        store.begin_term('g2')
        with pytest.raises(handoff_mod.TermLost):
            durability.wait((1, 1), timeout=30)
    finally:
        durability.stop()


def test_malformed_message_is_dropped_not_requeued():
    svc = FakeService(False)
    result = EventsEndpoint(svc).info({}, 'p', 'other.type', {'x': 1}, {})
    assert result == messaging.NotificationResult.HANDLED
    assert svc.applied == []
