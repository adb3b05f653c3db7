"""The graph's calls to collectors: a dead collector is noticed by ping.

A fake collector client stands for the RPC client: collector ``a``
takes a get_all and never answers (killed in the middle of it), ``b``
answers. The graph notices that ``a`` stopped answering pings and gets
its sample from ``b``, long before ``[datasources] rpc_timeout``. The
graph's own deletions (outdated entities, consistency) are handed off
at their positions like any other event.
"""
import threading

import oslo_messaging as messaging
import pytest

from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.graph import polling
from vitrage.graph.processor import CONSISTENCY_TYPE
from vitrage.graph.service import GraphService
from vitrage.tests import helpers

#: Seconds the test waits for a get_all that should end after a few
#: ping intervals (rpc_timeout is far longer).
CALL_DEADLINE = 60


class FakeCollectors:
    """Collectors by name; ``alive`` says which answer pings."""

    def __init__(self, names, hang=(), slow=None):
        self.alive = {name: True for name in names}
        self.hang = set(hang)
        self.slow = slow or {}
        self.calls = []
        self.called = threading.Event()
        self.release = threading.Event()

    def ping(self, ctx, server=None, timeout=None):
        for name, alive in self.alive.items():
            if alive and server in (None, name):
                return {'server': name, 'datasources': ['static']}
        raise messaging.MessagingTimeout('no reply from %s' % server)

    def get_all(self, ctx, names, request_id, action=None, server=None,
                timeout=None):
        self.calls.append(server)
        self.called.set()
        if server in self.hang:
            # Killed mid-call: no reply until the caller's rpc_timeout.
            self.release.wait(timeout or 300)
            raise messaging.MessagingTimeout('rpc_timeout')
        if server in self.slow:
            self.slow[server].wait(30)
        return {'server': server, 'request_id': request_id,
                'datasources': {name: {'batches': 0, 'events': 0,
                                       'sampled_at': '2026-01-01T00:00:00Z',
                                       'reseeded': False, 'token': 't'}
                                for name in names},
                'errors': {}}


@pytest.fixture
def service(conf):
    conf.set_override('ping_timeout', 1, 'datasources')
    conf.set_override('rpc_timeout', 300, 'datasources')
    conf.set_override('enable_persistency', False, 'persistency')
    graph = GraphService(conf)
    graph.coordinator.start()
    yield graph
    graph.stopping.set()
    graph.coordinator.stop()


def _get_all_in_thread(service):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        'ok', service.get_all(['static'], DatasourceAction.INIT_SNAPSHOT)),
        daemon=True)
    thread.start()
    return thread, result


def test_collector_dead_mid_get_all_is_replaced_by_a_live_one(service):
    collectors = FakeCollectors(['a', 'b'], hang={'a'})
    service.collector_client = collectors
    thread, result = _get_all_in_thread(service)
    try:
        assert collectors.called.wait(10)
        assert collectors.calls == ['a']
        collectors.alive['a'] = False           # kill -9
        thread.join(CALL_DEADLINE)
        assert not thread.is_alive(), 'the dead collector was not noticed'
        assert result['ok'] is True
        assert collectors.calls == ['a', 'b']
        assert service.polling.stats['rpc_failures'] == 1
        assert service.polling.collector_server['static'] == 'b'
    finally:
        collectors.release.set()


def test_a_slow_live_collector_is_waited_for(service):
    answer = threading.Event()
    collectors = FakeCollectors(['a', 'b'], slow={'a': answer})
    service.collector_client = collectors
    thread, result = _get_all_in_thread(service)
    try:
        assert collectors.called.wait(10)
        # Longer than two ping intervals: pings are answered, so the
        # graph keeps waiting for this collector.
        thread.join(2.5)
        assert thread.is_alive()
        answer.set()
        thread.join(CALL_DEADLINE)
        assert result['ok'] is True
        assert collectors.calls == ['a']
        assert service.polling.stats['rpc_failures'] == 0
    finally:
        answer.set()


def test_no_live_collector_fails_after_the_retries(service, conf):
    conf.set_override('rpc_retries', 1, 'datasources')
    collectors = FakeCollectors(['a'])
    collectors.alive['a'] = False
    service.collector_client = collectors
    assert service.get_all(['static']) is False
    assert collectors.calls == []
    assert service.polling.stats['rpc_failures'] == 2


class FakeHandoff:
    """Positions records like :class:`vitrage.graph.handoff.Handoff` and
    keeps what is published.
    """

    term = 1

    def __init__(self, failures=0):
        self.seq = 0
        self.published = []
        self.failures = failures

    def position(self, event):
        self.seq += 1
        return {'seq': self.seq, 'type': event.get(Envelope.EVENT_TYPE),
                'event': event}

    def publish(self, records, history):
        if self.failures:
            self.failures -= 1
            raise messaging.MessageDeliveryFailure('broker away')
        self.published.append((list(records), list(history)))


def _vertex(service, entity_id):
    for vertex in service.graph.vertices():
        if vertex.get(Prop.ID) == entity_id:
            return vertex
    return None


def _static_event(entity_id, ts):
    return {'static_id': entity_id, 'type': 'switch', 'id': entity_id,
            'name': entity_id, 'state': 'available',
            Envelope.DATASOURCE_NAME: 'static',
            Envelope.ENTITY_TYPE: 'static',
            Envelope.DATASOURCE_ACTION: DatasourceAction.SNAPSHOT,
            Envelope.SAMPLE_DATE: ts}


@pytest.mark.parametrize('failures', [0, 2])
def test_own_deletions_are_handed_off_at_their_positions(service, conf,
                                                         failures):
    conf.set_override('min_time_to_delete', 0, 'consistency')
    handoff = service.handoff = FakeHandoff(failures)
    records, _history = service.coordinator.run_sync(
        lambda: service.apply_events([
            _static_event('sw-1', '2026-01-01T00:00:00Z'),
            _static_event('sw-2', '2026-01-01T00:00:05Z')]))
    assert [r['seq'] for r in records] == [1, 2]
    # A full sample started at :03 did not report sw-1: it is outdated.
    service.polling.settle({'server': 'a', 'datasources': {'static': {
        'reseeded': True, 'sampled_at': '2026-01-01T00:00:03Z',
        'token': 't'}}})
    sw1 = _vertex(service, 'sw-1')
    assert sw1[Prop.IS_DELETED] is True
    assert _vertex(service, 'sw-2')[Prop.IS_DELETED] is False
    vid = sw1[Prop.VITRAGE_ID]
    # Deleted "now": removed once a second has passed (to the second).
    helpers.wait_for(lambda: service.run_consistency() == 1, 10,
                     'consistency removes sw-1', interval=0.2)
    assert _vertex(service, 'sw-1') is None
    logged = [(r['seq'], r['type'], r['event'][Envelope.ENTITY_TYPE],
               r['event'][Prop.VITRAGE_ID])
              for batch, _history in handoff.published for r in batch]
    assert logged == [
        (3, GraphAction.DELETE_ENTITY, CONSISTENCY_TYPE, vid),
        (4, GraphAction.REMOVE_DELETED_ENTITY, CONSISTENCY_TYPE, vid)]


def test_a_partial_answer_deletes_nothing(service, conf):
    """A full sample whose batches did not all arrive (a lost batch, a
    collector that died) never deletes an entity (HA contract 4), and
    the next poll re-seeds instead of trusting the token.
    """
    service.handoff = FakeHandoff()
    service.coordinator.run_sync(lambda: service.apply_events([
        _static_event('sw-1', '2026-01-01T00:00:00Z'),
        _static_event('sw-2', '2026-01-01T00:00:05Z')]))
    reply = {'server': 'a', 'datasources': {'static': {
        'reseeded': True, 'sampled_at': '2026-01-01T00:00:03Z',
        'token': 't'}}, polling.INCOMPLETE: True}
    service.polling.settle(reply)
    assert _vertex(service, 'sw-1')[Prop.IS_DELETED] is False
    assert service.polling.tokens['static'] is None
    # The same answer complete deletes sw-1.
    del reply[polling.INCOMPLETE]
    service.polling.settle(reply)
    assert _vertex(service, 'sw-1')[Prop.IS_DELETED] is True
    assert service.polling.tokens['static'] == 't'


def test_missing_batches_mark_the_reply_incomplete(service, conf):
    conf.set_override('rpc_timeout', 1, 'datasources')
    collectors = FakeCollectors(['a'])
    service.collector_client = collectors
    reply = service.polling.call_collectors(
        lambda rid, server: {'server': server, 'errors': {},
                             'datasources': {'static': {'batches': 2}}},
        None)
    assert reply[polling.INCOMPLETE] is True
    assert service.polling.stats['incomplete'] == 1
