"""The doctor datasource: posted host events to alarms on hosts."""
import logging

import oslo_messaging
import pytest

from vitrage.collector.manager import CollectorManager
from vitrage.collector.service import PushEndpoint
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common import exceptions
from vitrage.datasources.base import vitrage_id
from vitrage.datasources.doctor.driver import DoctorDriver
from vitrage.datasources.doctor.driver import EVENT_DOWN
from vitrage.datasources.doctor.driver import event_time
from vitrage.datasources.doctor.driver import EVENT_UP
from vitrage.datasources.doctor.transformer import DoctorTransformer
from vitrage.datasources import loader
from vitrage.datasources.nova.transformers import HostTransformer
from vitrage.graph.driver import EntityGraph
from vitrage.graph.handoff import HistoryRecorder
from vitrage.graph.processor import Processor
from vitrage.graph.states import StateNormalizer
from vitrage.tests import helpers
from vitrage.tests.unit.datasources.helpers import envelope
from vitrage.tests.unit.datasources.helpers import make_conf

HOST_KEY = 'RESOURCE:nova.host:cmp-7'
ALARM_KEY = 'ALARM:doctor:compute.host.down:cmp-7'


def posted(status='down', time='2025-03-02T08:14:59.120000', **details):
    body = {'hostname': 'cmp-7', 'status': status}
    body.update(details)
    return {'type': 'compute.host.down', 'time': time, 'details': body}


def test_registered_as_a_push_datasource():
    cls = loader.driver_class('doctor')
    assert cls is DoctorDriver
    assert cls.update_method == 'push'
    assert set(cls.push_event_types) == {EVENT_DOWN, EVENT_UP}
    assert cls.deletes_vanished is False
    assert list(DoctorDriver(None, 'doctor').get_all()) == []


@pytest.mark.parametrize('text, expected', [
    ('2025-03-02T08:14:59.120000', '2025-03-02T08:14:59Z'),
    ('2025-03-02T08:14:59', '2025-03-02T08:14:59Z'),
    ('2025-03-02 08:14:59', '2025-03-02T08:14:59Z'),
    ('2025-03-02T08:14:59Z', '2025-03-02T08:14:59Z'),
    ('2025-03-02T10:14:59.5+02:00', '2025-03-02T08:14:59Z'),
])
def test_event_time_is_reformatted(text, expected):
    assert event_time(text) == expected


@pytest.mark.parametrize('payload, problem', [
    ('not a mapping', 'payload must be a mapping'),
    ({'time': '2025-03-02T08:14:59', 'details': {}}, 'lacks type'),
    (dict(posted(), time=None), 'lacks time'),
    (dict(posted(), time='yesterday'), "'yesterday' is not an ISO-8601"),
    (dict(posted(), details='cmp-7 down'), 'details must be a mapping'),
    (dict(posted(), details={'status': 'down'}), 'lacks details.hostname'),
    (posted(status='sideways'), "got 'sideways'"),
    (dict(posted(), details={'hostname': 'cmp-7'}), 'got None'),
])
def test_invalid_events_are_refused_by_name(payload, problem):
    driver = DoctorDriver(None, 'doctor')
    with pytest.raises(exceptions.MalformedEvent, match=problem):
        driver.enrich_event(EVENT_DOWN, payload)


def test_update_timestamp_is_the_first_down_until_up():
    driver = DoctorDriver(None, 'doctor')
    first = driver.enrich_event(EVENT_DOWN, posted())[0]
    assert first['update_timestamp'] == '2025-03-02T08:14:59Z'
    again = driver.enrich_event(
        EVENT_DOWN, posted(time='2025-03-02T08:20:00.000001'))[0]
    assert again['time'] == '2025-03-02T08:20:00Z'
    assert again['update_timestamp'] == '2025-03-02T08:14:59Z'
    up = driver.enrich_event(
        EVENT_UP, posted('up', time='2025-03-02T08:30:00.0'))[0]
    assert up['update_timestamp'] == '2025-03-02T08:30:00Z'
    later = driver.enrich_event(
        EVENT_DOWN, posted(time='2025-03-02T09:00:00.0'))[0]
    assert later['update_timestamp'] == '2025-03-02T09:00:00Z'
    assert DoctorDriver.entity_key(later) == 'compute.host.down:cmp-7'


def transformed(payload, event_type=EVENT_DOWN):
    driver = DoctorDriver(None, 'doctor')
    [event] = driver.enrich_event(event_type, payload)
    event = envelope(event, action='update', name='doctor',
                     event_type=event_type)
    return DoctorTransformer(None, 'doctor').transform(event)


def test_down_raises_an_alarm_on_the_host():
    update = transformed(posted(severity=None, source='ipmi',
                                cause='power loss', monitor_id='mon-3',
                                vitrage_id='forged'))
    assert update.key == ALARM_KEY
    assert update.action == GraphAction.UPDATE_ENTITY
    props = update.properties
    assert props['vitrage_category'] == 'ALARM'
    assert props['vitrage_type'] == 'doctor'
    assert props['name'] == 'compute.host.down'
    assert props['state'] == 'Active'
    assert props['severity'] == 'critical'
    assert props['time'] == props['update_timestamp'] == \
        '2025-03-02T08:14:59Z'
    assert (props['hostname'], props['status'], props['source'],
            props['cause'], props['monitor_id']) == (
                'cmp-7', 'down', 'ipmi', 'power loss', 'mon-3')
    # A detail may not overwrite the graph's own properties.
    assert 'vitrage_id' not in props
    assert props['vitrage_resource_id'] == vitrage_id(HOST_KEY)
    assert props['vitrage_resource_type'] == 'nova.host'
    assert props['vitrage_datasource_name'] == 'doctor'
    [host] = update.neighbors
    assert (host.key, host.label, host.outgoing, host.placeholder) == (
        HOST_KEY, 'on', True, True)
    assert host.properties['id'] == 'cmp-7'
    assert host.properties['vitrage_type'] == 'nova.host'


def test_given_severity_is_kept():
    update = transformed(posted(severity='OK'))
    assert update.properties['severity'] == 'OK'


def test_up_deletes():
    update = transformed(posted('up'), EVENT_UP)
    assert update.key == ALARM_KEY
    assert update.action == GraphAction.DELETE_ENTITY


def test_transformer_refuses_malformed_events():
    transformer = DoctorTransformer(None, 'doctor')
    good = envelope({'type': 'compute.host.down',
                     'time': '2025-03-02T08:14:59Z',
                     'details': {'hostname': 'h', 'status': 'down'}},
                    action='update')
    transformer.transform(good)
    for broken, problem in (
            (dict(good, details={'status': 'down'}), 'hostname'),
            (dict(good, details={'hostname': 'h', 'status': 'x'}), 'status'),
            (dict(good, details=['h']), 'mapping'),
            ({k: v for k, v in good.items() if k != 'time'}, "'time'")):
        with pytest.raises(exceptions.MalformedEvent, match=problem):
            transformer.transform(broken)


class Graph:
    """A processor with the doctor and nova.host transformers."""

    def __init__(self):
        self.graph = EntityGraph()
        self.history = HistoryRecorder()
        self.processor = Processor(
            self.graph,
            {'doctor': DoctorTransformer(None, 'doctor'),
             'nova.host': HostTransformer(None, 'nova.host')},
            StateNormalizer(helpers.repo_path('etc', 'vitrage',
                                              'datasources_values'),
                            frozenset(('doctor', 'nova.host'))))
        self.processor.add_listener(self.history)
        self.driver = DoctorDriver(None, 'doctor')

    def post(self, payload, sample):
        event_type = (EVENT_UP if payload['details'].get('status') == 'up'
                      else EVENT_DOWN)
        for event in self.driver.enrich_event(event_type, payload):
            event = envelope(event, action='update', name='doctor',
                             event_type=event_type)
            event[Envelope.SAMPLE_DATE] = sample
            self.processor.process_event(event)


def test_alarm_lifecycle_in_the_graph():
    g = Graph()
    host_id, alarm_id = vitrage_id(HOST_KEY), vitrage_id(ALARM_KEY)
    # Unknown host: the alarm is on a placeholder.
    g.post(posted(), '2025-03-02T08:15:00Z')
    alarm = g.graph.get_vertex(alarm_id)
    assert alarm['vitrage_operational_severity'] == 'CRITICAL'
    assert alarm['vitrage_aggregated_severity'] == 'CRITICAL'
    assert g.graph.get_vertex(host_id)['vitrage_is_placeholder'] is True
    assert g.graph.get_edge(alarm_id, host_id, 'on')[
        'vitrage_is_deleted'] is False
    [(kind, payload)] = g.history.take()
    assert kind == 'vitrage.alarm.activate'
    assert payload['vitrage_resource_id'] == host_id
    # The real host arrives: same vertex.
    g.processor.process_event(envelope(
        {'host': 'cmp-7', 'zone': 'az1'}, name='nova.host'))
    assert g.graph.get_vertex(host_id)['vitrage_is_placeholder'] is False
    # A refresh keeps the first time.
    g.post(posted(time='2025-03-02T08:16:00.0'), '2025-03-02T08:16:01Z')
    alarm = g.graph.get_vertex(alarm_id)
    assert alarm['time'] == '2025-03-02T08:16:00Z'
    assert alarm['update_timestamp'] == '2025-03-02T08:14:59Z'
    assert g.history.take() == []
    # Up clears it; the edge goes too.
    g.post(posted('up', time='2025-03-02T08:20:00.0'),
           '2025-03-02T08:20:01Z')
    assert g.graph.get_vertex(alarm_id)['vitrage_is_deleted'] is True
    assert g.graph.get_edge(alarm_id, host_id, 'on')['vitrage_is_deleted']
    [(kind, payload)] = g.history.take()
    assert kind == 'vitrage.alarm.deactivate'
    assert payload['vitrage_id'] == alarm_id


def test_up_for_an_unknown_alarm_is_ignored():
    g = Graph()
    g.post(posted('up'), '2025-03-02T08:15:00Z')
    assert g.graph.get_vertex(vitrage_id(ALARM_KEY)) is None
    assert g.graph.get_vertex(vitrage_id(HOST_KEY)) is None
    assert g.history.take() == []


class FakeSender:
    """A ConfirmedSender that records, or raises like a broker that did
    not confirm.
    """

    def __init__(self, fail: bool = False):
        self.sent = []
        self.fail = fail

    def send(self, event_type, payload):
        if self.fail:
            raise oslo_messaging.MessageDeliveryFailure('broker gone')
        self.sent.append((event_type, payload))


def test_collector_gives_a_notification_back_when_the_send_fails():
    conf = make_conf(['doctor'])
    sender = FakeSender(fail=True)
    push = PushEndpoint(CollectorManager(conf, 'c1'), sender)
    result = push.info({}, 'api_x', EVENT_DOWN, posted(), {})
    assert result == oslo_messaging.NotificationResult.REQUEUE
    assert push.stats['requeued'] == 1
    assert push.stats['forwarded'] == 0
    sender.fail = False
    result = push.info({}, 'api_x', EVENT_DOWN, posted(), {})
    assert result == oslo_messaging.NotificationResult.HANDLED
    assert len(sender.sent) == 1


def test_collector_drops_invalid_events_with_a_log_line(caplog):
    conf = make_conf(['doctor'])
    notifier = FakeSender()
    push = PushEndpoint(CollectorManager(conf, 'c1'), notifier)
    with caplog.at_level(logging.ERROR):
        push.info({}, 'api_x', EVENT_DOWN, posted(status=None), {})
    assert notifier.sent == []
    assert push.stats['malformed'] == 1
    assert any("details.status must be" in r.getMessage()
               for r in caplog.records)
    push.info({}, 'api_x', EVENT_DOWN, posted(), {})
    [(_type, batch)] = notifier.sent
    [event] = batch['events']
    assert event['vitrage_datasource_name'] == 'doctor'
    assert event['vitrage_entity_type'] == 'doctor'
    assert event['vitrage_event_type'] == EVENT_DOWN
    assert event['vitrage_datasource_action'] == 'update'
