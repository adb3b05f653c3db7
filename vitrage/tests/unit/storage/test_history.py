"""Alarm and causal-edge history writes."""
import datetime

import pytest

from vitrage.common import exceptions
from vitrage.storage import history

T = datetime.datetime


def alarm(vid='a1', ts='2025-03-02T08:15:04Z', **extra):
    payload = {'vitrage_id': vid, 'name': 'vm_unreachable',
               'vitrage_type': 'vitrage', 'vitrage_category': 'ALARM',
               'vitrage_aggregated_severity': 'CRITICAL',
               'vitrage_operational_severity': 'CRITICAL',
               'project_id': 'p1', 'vitrage_resource_type': 'nova.instance',
               'vitrage_resource_id': 'r1',
               'vitrage_resource_project_id': 'p1',
               'vitrage_sample_timestamp': ts}
    payload.update(extra)
    return payload


def test_activation_then_deactivation(database):
    store = history.HistoryStore(database)
    store.record([history.parse(history.ALARM_ACTIVATE, alarm())])
    [row] = store.alarms('a1')
    assert row.start_timestamp == T(2025, 3, 2, 8, 15, 4)
    assert row.end_timestamp is None
    assert (row.name, row.vitrage_resource_id,
            row.vitrage_operational_severity) == ('vm_unreachable', 'r1',
                                                  'CRITICAL')
    store.record([history.parse(
        history.ALARM_DEACTIVATE,
        alarm(ts='2025-03-02 08:20:00.123456+00:00',
              vitrage_is_deleted=True))])
    [row] = store.alarms('a1')
    assert row.end_timestamp == T(2025, 3, 2, 8, 20, 0)


def test_redelivery_changes_nothing(database):
    store = history.HistoryStore(database)
    records = [history.parse(history.ALARM_ACTIVATE, alarm()),
               history.parse(history.ALARM_DEACTIVATE,
                             alarm(ts='2025-03-02T09:00:00Z'))]
    store.record(records)
    store.record(records)
    rows = store.alarms('a1')
    assert len(rows) == 1
    assert rows[0].end_timestamp == T(2025, 3, 2, 9, 0, 0)


def test_reactivation_opens_a_second_period(database):
    store = history.HistoryStore(database)
    store.record([
        history.parse(history.ALARM_ACTIVATE, alarm()),
        history.parse(history.ALARM_DEACTIVATE,
                      alarm(ts='2025-03-02T09:00:00Z')),
        history.parse(history.ALARM_ACTIVATE,
                      alarm(ts='2025-03-02T10:00:00Z')),
    ])
    rows = store.alarms('a1')
    assert [(r.start_timestamp.hour, r.end_timestamp and
             r.end_timestamp.hour) for r in rows] == [(8, 9), (10, None)]


def test_changes_are_recorded_and_update_the_live_alarm(database):
    store = history.HistoryStore(database)
    store.record([
        history.parse(history.ALARM_ACTIVATE, alarm()),
        history.parse(history.ALARM_CHANGE, alarm(
            ts='2025-03-02T08:30:00Z',
            vitrage_operational_severity='WARNING',
            vitrage_aggregated_severity='WARNING')),
        history.parse(history.ALARM_CHANGE_PROJECT_ID, alarm(
            ts='2025-03-02T08:31:00Z', vitrage_resource_project_id='p2')),
    ])
    changes = store.changes('a1')
    assert [(c.change_type, c.severity) for c in changes] == [
        ('severity', 'WARNING'), ('project_id', None)]
    [row] = store.alarms('a1')
    assert row.vitrage_operational_severity == 'WARNING'
    assert row.vitrage_resource_project_id == 'p2'


def test_causal_edges(database):
    store = history.HistoryStore(database)
    edge = {'source_id': 'a1', 'target_id': 'a2',
            'relationship_type': 'causes', 'vitrage_is_deleted': False,
            'update_timestamp': '2025-03-02T08:15:04Z'}
    store.record([history.parse(history.EDGE_ACTIVATE, edge)])
    store.record([history.parse(history.EDGE_ACTIVATE, edge)])
    store.record([history.parse(history.EDGE_DEACTIVATE, dict(
        edge, vitrage_is_deleted=True,
        update_timestamp='2025-03-02T08:16:00Z'))])
    [row] = store.edges()
    assert (row.source_id, row.target_id, row.label) == ('a1', 'a2',
                                                         'causes')
    assert row.end_timestamp == T(2025, 3, 2, 8, 16, 0)


def test_timestamp_falls_back_to_the_notification(database):
    payload = alarm()
    del payload['vitrage_sample_timestamp']
    record = history.parse(history.ALARM_ACTIVATE, payload,
                           '2025-03-02 08:15:04.999999')
    assert record.start == T(2025, 3, 2, 8, 15, 4)


@pytest.mark.parametrize('event_type, payload, match', [
    (history.ALARM_ACTIVATE, ['x'], 'must be an object'),
    (history.ALARM_ACTIVATE, {'name': 'x'}, 'vitrage_id'),
    (history.ALARM_ACTIVATE, {'vitrage_id': 'a'}, 'timestamp'),
    (history.ALARM_ACTIVATE, {'vitrage_id': 'a',
                              'update_timestamp': 'yesterday'}, 'ISO'),
    (history.EDGE_ACTIVATE, {'source_id': 'a',
                             'update_timestamp': '2025-03-02T08:15:04Z'},
     'target_id'),
    ('vitrage.alarm.explode', {}, 'unknown'),
])
def test_malformed_notifications(event_type, payload, match):
    with pytest.raises(exceptions.MalformedEvent, match=match):
        history.parse(event_type, payload)
