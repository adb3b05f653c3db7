"""The event-log contract: one suite, run against every backend.

A backend's test module subclasses :class:`EventLogContract` and provides
an ``event_log`` fixture returning an empty :class:`EventLog`.
"""
import threading

import pytest

from vitrage.storage import eventlog


def records(seqs, prefix='e'):
    return [eventlog.EventRecord(seq=s, event_type='update_entity',
                                 event={'id': '%s%d' % (prefix, s),
                                        'n': s},
                                 collector_timestamp='2025-03-02T08:15:04Z')
            for s in seqs]


class EventLogContract:
    """Behaviour every :class:`EventLog` implementation must have."""

    def test_empty_log_has_no_position(self, event_log):
        assert event_log.last_position() is None
        assert event_log.read_after((0, -1)) == []

    def test_append_then_read_round_trips(self, event_log):
        event = {'id': 'h1', 'name': 'h\u00e9te', 'nested': {'a': [1, 2]},
                 'none': None, 'flag': True, 'ratio': 0.5,
                 'tricky': 'it\'s "q" \\ back %s %% \n\t \x00 \u2603 '
                           '\U0001f600 \' OR 1=1; --'}
        event_log.append(3, [eventlog.EventRecord(
            seq=7, event_type="it's \\ %s", event=event,
            collector_timestamp='2025-03-02T08:15:04Z')])
        [logged] = event_log.read_after((0, -1))
        assert logged == eventlog.LoggedEvent(
            3, 7, "it's \\ %s", event, '2025-03-02T08:15:04Z')
        assert logged.position == (3, 7)

    def test_null_collector_timestamp(self, event_log):
        event_log.append(1, [eventlog.EventRecord(0, 'delete_entity',
                                                  {'id': 'x'})])
        [logged] = event_log.read_after((0, -1))
        assert logged.collector_timestamp is None

    def test_append_returns_new_count_and_skips_duplicates(self,
                                                           event_log):
        assert event_log.append(1, records(range(5))) == 5
        assert event_log.append(1, records(range(3, 8), 'x')) == 3
        logged = event_log.read_after((0, -1))
        assert [e.seq for e in logged] == list(range(8))
        # The first event stored at a position stays.
        assert logged[3].event['id'] == 'e3'
        assert logged[7].event['id'] == 'x7'

    def test_same_seq_in_another_term_is_not_a_duplicate(self, event_log):
        assert event_log.append(1, records([0, 1])) == 2
        assert event_log.append(2, records([0, 1])) == 2
        assert [e.position for e in event_log.read_after((0, -1))] == [
            (1, 0), (1, 1), (2, 0), (2, 1)]

    def test_read_after_orders_by_term_then_seq(self, event_log):
        event_log.append(2, records([5, 1, 3]))
        event_log.append(1, records([100, 9]))
        event_log.append(10, records([0]))
        positions = [e.position for e in event_log.read_after((0, -1))]
        assert positions == [(1, 9), (1, 100), (2, 1), (2, 3), (2, 5),
                             (10, 0)]

    def test_read_after_excludes_the_position_and_honours_limit(
            self, event_log):
        event_log.append(1, records(range(10)))
        event_log.append(2, records(range(3)))
        assert [e.seq for e in event_log.read_after((1, 4))] == [
            5, 6, 7, 8, 9, 0, 1, 2]
        assert [e.position for e in event_log.read_after((1, 4), 3)] == [
            (1, 5), (1, 6), (1, 7)]
        assert [e.position for e in event_log.read_after((1, 9))] == [
            (2, 0), (2, 1), (2, 2)]
        assert event_log.read_after((2, 2)) == []
        assert event_log.read_after((3, -1)) == []

    def test_paging_reads_every_event_once(self, event_log):
        event_log.append(1, records(range(25)))
        event_log.append(2, records(range(17)))
        seen = []
        position = (0, -1)
        while True:
            page = event_log.read_after(position, limit=4)
            if not page:
                break
            seen.extend(e.position for e in page)
            position = page[-1].position
        assert seen == ([(1, s) for s in range(25)]
                        + [(2, s) for s in range(17)])

    def test_last_position(self, event_log):
        event_log.append(1, records([3, 8, 2]))
        assert event_log.last_position() == (1, 8)
        event_log.append(2, records([0]))
        assert event_log.last_position() == (2, 0)
        event_log.append(1, records([50]))
        assert event_log.last_position() == (2, 0)

    def test_empty_append(self, event_log):
        assert event_log.append(1, []) == 0
        assert event_log.last_position() is None

    def test_bad_term_and_limit_are_rejected(self, event_log):
        with pytest.raises(ValueError, match='term'):
            event_log.append(-1, records([0]))
        with pytest.raises(ValueError, match='term'):
            event_log.append('1', records([0]))
        with pytest.raises(ValueError, match='limit'):
            event_log.read_after((0, -1), limit=0)
        assert event_log.last_position() is None

    def test_concurrent_appends_of_overlapping_positions(self, event_log):
        errors = []

        def worker(offset):
            try:
                for start in range(0, 200, 20):
                    event_log.append(
                        1, records(range(start + offset,
                                         start + offset + 30)))
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i * 5,))
                   for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        seqs = [e.seq for e in event_log.read_after((0, -1))]
        assert seqs == list(range(0, 220))


class TestEventRecordValidation:

    @pytest.mark.parametrize('kwargs, match', [
        ({'seq': -1}, 'seq'),
        ({'seq': 1.5}, 'seq'),
        ({'seq': True}, 'seq'),
        ({'event_type': ''}, 'event type'),
        ({'event_type': 'x' * 65}, 'longer'),
        ({'event': ['not', 'a', 'dict']}, 'event must be a dict'),
        ({'collector_timestamp': '2025-03-02 08:15'}, 'collector_timestamp'),
        ({'collector_timestamp': 5}, 'collector_timestamp'),
    ])
    def test_rejects(self, kwargs, match):
        fields = {'seq': 1, 'event_type': 'update_entity', 'event': {}}
        fields.update(kwargs)
        with pytest.raises(ValueError, match=match):
            eventlog.EventRecord(**fields)
