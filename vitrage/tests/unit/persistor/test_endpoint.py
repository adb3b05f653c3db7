"""The persistor's endpoint and writer, without a broker."""
from oslo_db import exception as db_exc
import oslo_messaging
import pytest
import sqlalchemy as sa

from vitrage.persistor import batch
from vitrage.persistor import endpoint as endpoint_mod
from vitrage.persistor import writer as writer_mod
from vitrage.storage import eventlog
from vitrage.storage import history
from vitrage.storage import terms

REQUEUE = oslo_messaging.NotificationResult.REQUEUE


def events_message(term, seqs, **overrides):
    payload = {'term': term, 'events': [
        {'seq': s, 'type': 'update_entity',
         'collector_timestamp': '2025-03-02T08:15:04Z',
         'event': {'id': 'e%d' % s}} for s in seqs]}
    payload.update(overrides)
    return {'ctxt': {}, 'publisher_id': 'vitrage.graph',
            'event_type': batch.EVENTS, 'payload': payload,
            'metadata': {'message_id': 'm-%s-%s' % (term, seqs[:1]),
                         'timestamp': '2025-03-02 08:15:05.000000'}}


def barrier_message(term, barrier_id):
    return {'event_type': batch.BARRIER, 'publisher_id': 'vitrage.graph',
            'payload': {'term': term, 'barrier_id': barrier_id},
            'metadata': {}}


@pytest.fixture
def writer(database):
    # A graph holds term 1: the persistor writes only a term it knows.
    terms.TermStore(database).begin_term('graph-1')
    return writer_mod.Writer(database, batch_size=7)


@pytest.fixture
def endpoint(writer):
    return endpoint_mod.PersistorEndpoint(writer, sleep=lambda s: None)


def positions(database):
    return [e.position for e in
            eventlog.SqlEventLog(database).read_after((0, -1))]


def test_events_are_written_in_chunks_and_acknowledged(endpoint, database):
    result = endpoint.info([events_message(1, list(range(10))),
                            events_message(1, list(range(10, 25)))])
    assert result is None
    assert positions(database) == [(1, s) for s in range(25)]
    assert endpoint.stats['events_written'] == 25


def test_duplicates_are_success(endpoint, database):
    endpoint.info([events_message(1, [0, 1, 2])])
    assert endpoint.info([events_message(1, [1, 2, 3]),
                          events_message(1, [3])]) is None
    assert positions(database) == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert endpoint.stats['duplicates'] == 3


def test_only_the_current_term_is_written(endpoint, database, caplog):
    # Term 1 is sealed by term 2; term 3 was taken by no graph (a forged
    # message): both are refused, logged and counted, the rest written.
    terms.TermStore(database).begin_term('graph-2')
    assert endpoint.info([events_message(1, [0, 1]),
                          events_message(2, [0, 1, 2]),
                          events_message(1000000, [1]),
                          events_message(3, [0])]) is None
    assert positions(database) == [(2, 0), (2, 1), (2, 2)]
    assert endpoint.stats['fenced'] == 2
    assert endpoint.stats['unknown_terms'] == 2
    assert 'no graph has taken' in caplog.text
    assert '[3, 1000000]' in caplog.text
    # Once a graph takes term 3, its events are written.
    terms.TermStore(database).begin_term('graph-3')
    endpoint.info([events_message(3, [0])])
    assert positions(database)[-1] == (3, 0)


def test_history_of_a_redelivered_message_is_not_applied_again(
        endpoint, database):
    """A persistor died after its commit, before its acknowledgement: the
    messages come again. Their events are duplicates; their history is
    idempotent (an activation is keyed by the alarm and its start), so
    the old activation does not reopen the alarm the next message closed.
    """
    def change(event_type, ts):
        return {'event_type': event_type, 'timestamp': None,
                'payload': {'vitrage_id': 'a1', 'name': 'n',
                            'vitrage_sample_timestamp': ts}}
    down = events_message(1, [1], history=[
        change(history.ALARM_ACTIVATE, '2025-03-02T08:15:04Z')])
    up = events_message(1, [2], history=[
        change(history.ALARM_DEACTIVATE, '2025-03-02T08:15:09Z')])
    endpoint.info([down, up])
    endpoint.info([down])   # redelivered
    [row] = history.HistoryStore(database).alarms()
    assert row.end_timestamp is not None, 'the alarm was reopened'
    assert endpoint.stats['duplicates'] == 1


def test_bundled_history_is_fenced_with_its_events(endpoint, database):
    alarm = {'vitrage_id': 'a1', 'name': 'n',
             'vitrage_sample_timestamp': '2025-03-02T08:15:04Z'}
    bundled = [{'event_type': history.ALARM_ACTIVATE, 'payload': alarm,
                'timestamp': None}]
    # Term 2 seals term 1: neither its events nor its history are
    # written; the history of the current term is.
    terms.TermStore(database).begin_term('graph-2')
    endpoint.info([events_message(1, [5], history=bundled)])
    assert positions(database) == []
    assert history.HistoryStore(database).alarms() == []
    endpoint.info([events_message(2, [1], history=bundled)])
    assert positions(database) == [(2, 1)]
    [row] = history.HistoryStore(database).alarms()
    assert row.vitrage_id == 'a1'


def test_term_moving_during_a_write_refuses_the_old_term(database):
    # The term changes between the persistor's first read and its
    # commit: the locked re-read inside the transaction catches it.
    store = terms.TermStore(database)
    store.begin_term('a')
    writer = writer_mod.Writer(database, batch_size=100)
    # Term 2 begins right after the writer read term 1.
    real = writer.terms.current_term

    def stale_read():
        value = real()
        store.begin_term('b')
        return value

    writer.terms.current_term = stale_read
    parsed = batch.parse(events_message(1, [0, 1]))
    parsed.extend(batch.parse(events_message(2, [0])))
    result = writer.write(parsed)
    assert (result.written, result.fenced) == (1, 2)
    assert positions(database) == [(2, 0)]


@pytest.mark.parametrize('message, reason', [
    ({'event_type': batch.EVENTS, 'payload': 'x'}, 'not an object'),
    (events_message(-1, [0]), 'term'),
    (events_message('1', [0]), 'term'),
    (events_message(1, [0], events={'seq': 1}), 'events must be a list'),
    (events_message(1, [0], events=[{'seq': 1, 'type': 'x'}]),
     "lacks 'event'"),
    (events_message(1, [0], events=[{'seq': 'a', 'type': 'x',
                                     'event': {}}]), 'seq'),
    (events_message(1, [0], events=[{'seq': 1, 'type': 'x', 'event': {},
                                     'collector_timestamp': 'now'}]),
     'collector_timestamp'),
    ({'event_type': batch.BARRIER, 'payload': {'term': 1}}, 'barrier_id'),
    ({'event_type': 'vitrage.unknown', 'payload': {}}, 'unknown'),
    ({'event_type': history.ALARM_ACTIVATE, 'payload': {}}, 'vitrage_id'),
    (events_message(1, [0], history={}), 'history must be a list'),
    (events_message(1, [0], history=[{'event_type': 'x'}]),
     'history[0]'),
    ('not even a dict', 'not a notification'),
])
def test_malformed_message_is_rejected_and_others_written(
        endpoint, database, caplog, message, reason):
    result = endpoint.info([events_message(1, [0]), message,
                            events_message(1, [1])])
    assert result is None  # everything acknowledged
    assert positions(database) == [(1, 0), (1, 1)]
    assert endpoint.stats['malformed'] == 1
    assert reason in caplog.text


def test_other_priorities_are_rejected(endpoint):
    endpoint.warn([events_message(1, [0])])
    assert endpoint.stats['malformed'] == 1


def test_barrier_is_written_after_the_events_before_it(endpoint, database,
                                                       writer):
    endpoint.info([events_message(1, [0]), barrier_message(1, 'b-1'),
                   events_message(1, [1])])
    assert writer.barrier_written('b-1')
    assert not writer.barrier_written('b-2')
    assert positions(database) == [(1, 0), (1, 1)]
    endpoint.info([barrier_message(1, 'b-1')])  # redelivered
    assert endpoint.stats['barriers'] == 2


def test_history_goes_to_the_history_tables(endpoint, database):
    endpoint.info([{
        'event_type': history.ALARM_ACTIVATE,
        'payload': {'vitrage_id': 'a1', 'name': 'n',
                    'vitrage_sample_timestamp': '2025-03-02T08:15:04Z'},
        'metadata': {}}])
    [row] = history.HistoryStore(database).alarms()
    assert row.vitrage_id == 'a1'


class FlakyWriter:
    """A writer failing as told, then writing for real."""

    def __init__(self, real, failures):
        self.real = real
        self.failures = list(failures)
        self.calls = 0

    def write(self, parsed):
        self.calls += 1
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure
        return self.real.write(parsed)


def test_unreachable_database_requeues_with_growing_pause(writer, database):
    sleeps = []
    flaky = FlakyWriter(writer, [db_exc.DBConnectionError('gone'),
                                 db_exc.DBConnectionError('gone')])
    endpoint = endpoint_mod.PersistorEndpoint(flaky, sleep=sleeps.append)
    message = events_message(1, [0])
    assert endpoint.info([message]) == REQUEUE
    assert endpoint.info([message]) == REQUEUE
    assert positions(database) == []
    assert endpoint.info([message]) is None
    assert positions(database) == [(1, 0)]
    assert sleeps[1] > sleeps[0] > 0
    assert endpoint.stats['requeued_batches'] == 2


def test_row_the_database_refuses_is_isolated(database, writer):
    class PoisonWriter:
        def write(self, parsed):
            if any(r.event.get('poison') for records in
                   parsed.events.values() for r in records):
                raise db_exc.DBDataError(sa.exc.DataError(
                    'INSERT', {}, Exception('Data too long')))
            return writer.write(parsed)

    endpoint = endpoint_mod.PersistorEndpoint(PoisonWriter(),
                                              sleep=lambda s: None)
    poison = events_message(1, [1])
    poison['payload']['events'][0]['event']['poison'] = True
    assert endpoint.info([events_message(1, [0]), poison,
                          events_message(1, [2])]) is None
    assert positions(database) == [(1, 0), (1, 2)]
    assert endpoint.stats['rejected_by_database'] == 1
