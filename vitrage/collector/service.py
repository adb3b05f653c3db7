"""The vitrage-collector service: RPC server plus push listeners.

Collectors are active-active: every collector serves the same RPC topic
(and its own server name, so a caller can come back to the collector
whose baseline it shares), and the push listeners of all collectors
consume the same queue per notification topic (``<topic>.info``, the
queue a publisher such as ``POST /v1/event`` declares when it sends), so
a pushed notification is taken by one of them and waits in the broker
while none runs. No other queue is declared for them: none fills up
unread.

A pushed notification is acknowledged only once the entity events made
of it were sent to the graph with a confirmed send
(:class:`vitrage.common.bus.ConfirmedSender`); a send that fails gives
the notification back to the broker.
"""
import socket
import threading
import uuid

import cotyledon
from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from vitrage.collector.manager import CollectorManager
from vitrage.collector import rpcapi
from vitrage.common.bus import ConfirmedSender
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common import exceptions
from vitrage.common import timeutils

LOG = log.getLogger(__name__)


def graph_events_sender(conf: cfg.ConfigOpts,
                        transport: messaging.Transport) -> ConfirmedSender:
    """What sends entity events to vitrage-graph, raising on failure."""
    return ConfirmedSender(conf, [conf.entity_graph.events_topic],
                           transport, publisher_id=rpcapi.PUBLISHER)


class PushEndpoint:
    """Takes pushed notifications and forwards the entity events the
    matching drivers make of them.
    """

    def __init__(self, manager: CollectorManager,
                 sender: ConfirmedSender) -> None:
        self.by_type = manager.push_drivers()
        self.sender = sender
        self.stats = {'forwarded': 0, 'malformed': 0, 'requeued': 0}

    def info(self, ctxt: dict, publisher_id: str, event_type: str,
             payload: dict, metadata: dict):
        """Enrich one notification.

        :param event_type: looked up exactly in each push driver's list.
        :param payload: the notification payload.
        :returns: ``HANDLED`` once the entity events were sent (or there
            were none); ``REQUEUE`` when the send failed.
        :raises: nothing; a payload a driver cannot read is logged,
            counted and dropped.
        """
        runners = self.by_type.get(event_type)
        if not runners:
            return messaging.NotificationResult.HANDLED
        sample_date = timeutils.sample_now()
        events = []
        for runner in runners:
            try:
                produced = runner.driver.enrich_event(event_type, payload)
            except exceptions.VitrageError as exc:
                self.stats['malformed'] += 1
                LOG.error('%s could not read a %s notification: %s',
                          runner.name, event_type, exc)
                continue
            for event in produced:
                event.setdefault(Envelope.EVENT_TYPE, event_type)
            events.extend(runner.stamp(iter(produced),
                                       DatasourceAction.UPDATE, sample_date))
        if events:
            try:
                self.sender.send(rpcapi.EVENTS_TYPE, {
                    'request_id': None, 'datasource': None, 'index': 0,
                    'events': events})
            except messaging.MessagingException as exc:
                self.stats['requeued'] += 1
                LOG.warning('could not send the events of a %s notification '
                            'to the graph (%s); it goes back to the broker',
                            event_type, exc)
                return messaging.NotificationResult.REQUEUE
            self.stats['forwarded'] += len(events)
        return messaging.NotificationResult.HANDLED

    warn = info
    error = info
    critical = info
    audit = info
    debug = info
    sample = info


class Collector:
    """The collector's parts, runnable in a service process or a thread
    of the all-in-one.
    """

    def __init__(self, conf: cfg.ConfigOpts, collector_id: str | None = None
                 ) -> None:
        self.conf = conf
        self.collector_id = collector_id or '%s-%s' % (
            socket.gethostname(), uuid.uuid4().hex[:8])
        self.manager: CollectorManager | None = None
        self.rpc_server = None
        self.push_listener = None

    def start(self) -> None:
        """Load the drivers and start serving.

        :raises vitrage.common.exceptions.DatasourceLoadError: when an
            enabled datasource cannot be loaded.
        """
        conf = self.conf
        self.manager = CollectorManager(conf, self.collector_id)
        transport = messaging.get_rpc_transport(conf)
        ntransport = messaging.get_notification_transport(conf)
        sender = graph_events_sender(conf, ntransport)
        endpoint = rpcapi.CollectorEndpoint(conf, self.manager, sender)
        self.rpc_server = messaging.get_rpc_server(
            transport, messaging.Target(topic=conf.collector.topic,
                                        server=self.collector_id),
            [endpoint], executor='threading')
        self.rpc_server.start()
        push = PushEndpoint(self.manager, sender)
        if push.by_type:
            targets = [messaging.Target(
                topic=topic, exchange=conf.datasources.notification_exchange)
                for topic in conf.datasources.notification_topics]
            self.push_listener = messaging.get_notification_listener(
                ntransport, targets, [push], executor='threading',
                allow_requeue=True)
            self.push_listener.start()
        LOG.info('collector %s serving %s', self.collector_id,
                 ', '.join(sorted(self.manager.runners)))

    def stop(self) -> None:
        for server in (self.push_listener, self.rpc_server):
            if server is not None:
                server.stop()
                server.wait()
        self.push_listener = self.rpc_server = None


class CollectorService(cotyledon.Service):
    """A vitrage-collector worker process."""

    name = 'CollectorService'

    def __init__(self, worker_id: int, conf: cfg.ConfigOpts) -> None:
        super().__init__(worker_id)
        self.conf = conf
        self.collector: Collector | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        self.collector = Collector(self.conf)
        self.collector.start()
        self._stopped.wait()

    def terminate(self) -> None:
        if self.collector is not None:
            self.collector.stop()
        self._stopped.set()
