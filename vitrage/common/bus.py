"""Sending on the message bus so that a failure is never silent.

oslo.messaging's ``Notifier`` logs and swallows a failed send, which would
lose a message whose input the caller then acknowledges.
:class:`ConfirmedSender` raises instead: every hop that acknowledges an
input (the graph's hand-off, the API's event intake, the collectors' push
path and get_all batches) sends what it produced with it first, and
acknowledges only when the send was confirmed (the RabbitMQ driver of
oslo.messaging publishes with publisher confirms).
"""
import datetime
import uuid

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging.notify import messaging as notify_messaging

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
