"""The graph's hand-off of handled events to vitrage-persistor.

Every event the active graph applies gets a position ``(term, seq)`` in
handling order and is published on ``[persistency] persistor_topic`` as
``vitrage.graph.events`` (the wire format of :mod:`vitrage.persistor.batch`).
The graph acknowledges its own input message only after the broker has
confirmed the hand-off (HA contract, promise 2); it never waits for the
database.

Durability needs the broker to keep the persistor's queue across
restarts: set ``[oslo_messaging_rabbit] amqp_durable_queues = true`` (or
``rabbit_quorum_queue = true``) on the graph and the persistors alike,
with a ``control_exchange`` that was durable from the start. The RabbitMQ
driver of oslo.messaging publishes with publisher confirms.

oslo.messaging's ``Notifier`` logs and swallows send failures, which
would lose events silently; :class:`ConfirmedSender` raises instead, so
the input message is requeued and handled again.
"""
import datetime
import uuid

from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging
from oslo_messaging.notify import messaging as notify_messaging

from vitrage.common.constants import AlarmState
from vitrage.common.constants import Category
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Envelope
from vitrage.common.constants import Prop
from vitrage.persistor import batch

LOG = log.getLogger(__name__)

PUBLISHER_ID = 'vitrage.graph'


class ConfirmedSender(notify_messaging.MessagingV2Driver):
    """Sends notifications and raises when the broker does not take them.

    :raises oslo_messaging.MessageDeliveryFailure: (and other transport
        errors) when a notification could not be sent.
    """

    def __init__(self, conf: cfg.ConfigOpts, topics: list[str],
                 transport: messaging.Transport,
                 publisher_id: str = PUBLISHER_ID,
                 exchange: str | None = None, retry: int = -1) -> None:
        """
        :param topics: the notification topics to send on.
        :param publisher_id: the notifications' publisher.
        :param exchange: the exchange (default: the control exchange).
        :param retry: connection attempts (-1: until it works).
        """
        super().__init__(conf, topics=topics, transport=transport)
        self.publisher_id = publisher_id
        self.exchange = exchange
        self.retry = retry

    def send(self, event_type: str, payload: dict) -> None:
        """Send one ``info`` notification, raising on failure.

        :param event_type: the notification's event type.
        :param payload: its payload.
        :raises oslo_messaging.MessagingException: when the broker did
            not confirm it.
        """
        message = {
            'message_id': str(uuid.uuid4()),
            'publisher_id': self.publisher_id,
            'event_type': event_type,
            'priority': 'INFO',
            'payload': payload,
            'timestamp': str(datetime.datetime.now(datetime.timezone.utc)),
        }
        for topic in self.topics:
            # The driver interface of oslo.messaging's notify drivers; the
            # base class would log and drop a failure here.
            self.transport._send_notification(
                messaging.Target(topic='%s.info' % topic,
                                 exchange=self.exchange), {}, message,
                version=self.version, retry=self.retry)


class Handoff:
    """Positions handled events and hands them to the persistors."""

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: messaging.Transport, term: int) -> None:
        self.term = term
        self.seq = 0
        self.sender = ConfirmedSender(
            conf, topics=[conf.persistency.persistor_topic],
            transport=transport)
        self.stats = {'events': 0, 'messages': 0}

    def position(self, event: dict) -> dict:
        """The record of one handled event at the next position (called
        on the processing thread, in handling order).
        """
        self.seq += 1
        return {'seq': self.seq,
                'type': str(event.get(Envelope.EVENT_TYPE)
                            or event.get(Envelope.DATASOURCE_ACTION)
                            or 'unknown'),
                'collector_timestamp': event.get(Envelope.SAMPLE_DATE),
                'event': event}

    def publish(self, records: list[dict], history: list[tuple]) -> None:
        """Hand positioned events and history changes over.

        :param records: from :meth:`position`.
        :param history: (event type, payload) pairs.
        :raises oslo_messaging.MessagingException: when the broker did
            not confirm; nothing is acknowledged then.
        """
        if records:
            self.sender.send(batch.EVENTS,
                             {'term': self.term, 'events': records})
            self.stats['events'] += len(records)
            self.stats['messages'] += 1
        for event_type, payload in history:
            self.sender.send(event_type, payload)

    def barrier(self) -> str:
        """Send a barrier; the persistor records it once everything sent
        before it is committed.

        :returns: the barrier id to look for in the ``barriers`` table.
        """
        barrier_id = str(uuid.uuid4())
        self.sender.send(batch.BARRIER,
                         {'term': self.term, 'barrier_id': barrier_id})
        return barrier_id


def _live(vertex: dict | None) -> bool:
    return vertex is not None and not vertex.get(Prop.IS_DELETED) and \
        not vertex.get(Prop.IS_PLACEHOLDER)


class HistoryRecorder:
    """A processor listener turning alarm and causal-edge changes into
    the history notifications of notifiers.md section 3.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[str, dict]] = []

    def take(self) -> list[tuple[str, dict]]:
        pending, self.pending = self.pending, []
        return pending

    def vertex_changed(self, vertex_id: str, before: dict | None,
                       after: dict | None) -> None:
        current = after if after is not None else before
        if current is None or current.get(Prop.CATEGORY) != Category.ALARM:
            return
        was, now = _live(before), _live(after)
        if now and not was:
            self.pending.append(('vitrage.alarm.activate', dict(after)))
        elif was and not now:
            payload = dict(after if after is not None else before)
            payload[Prop.STATE] = AlarmState.INACTIVE
            self.pending.append(('vitrage.alarm.deactivate', payload))
        elif now:
            if before.get(Prop.OPERATIONAL_SEVERITY) != \
                    after.get(Prop.OPERATIONAL_SEVERITY):
                self.pending.append(('vitrage.alarm.change', dict(after)))
            if before.get(Prop.RESOURCE_PROJECT_ID) != \
                    after.get(Prop.RESOURCE_PROJECT_ID):
                self.pending.append(('vitrage.alarm.change_project_id',
                                     dict(after)))

    def edge_changed(self, source_id: str, target_id: str, label: str,
                     before: dict | None, after: dict | None) -> None:
        if label != EdgeLabel.CAUSES:
            return
        was = before is not None and not before.get(Prop.IS_DELETED)
        now = after is not None and not after.get(Prop.IS_DELETED)
        if was == now:
            return
        payload = dict(after if after is not None else before)
        payload.update({'source_id': source_id, 'target_id': target_id})
        self.pending.append((
            'vitrage.causal_relationship.%s' % (
                'activate' if now else 'deactivate'), payload))
