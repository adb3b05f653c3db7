"""The active graph's calls to the collectors: get_all and get_changes.

The graph drives the timers (collector-on-demand seed): it calls a live
collector over RPC, the collector sends the entity events as batches on
the events topic, and the call's reply says how many batches to expect.
The graph waits until they have been applied, then settles the reply:
which collector and baseline token served each datasource, and, after
a *complete* full sample only, the deletion of entities the datasource
no longer reports. A partial answer (a batch that never arrived, a
datasource that failed, a collector that died) deletes nothing (HA
contract, promise 4).
"""
from collections.abc import Callable
import threading
import uuid

from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from vitrage.common.constants import DatasourceAction

LOG = log.getLogger(__name__)

#: Reply key set by :meth:`CollectorPolling.call_collectors` when some
#: batches of the answer were not applied.
INCOMPLETE = 'incomplete'


class CollectorPolling:
    """get_all and get_changes of one graph service.

    :param conf: the configuration (``[datasources]``).
    :param service: the :class:`vitrage.graph.service.GraphService` (its
        coordinator, collector client, drivers and own-event hand-off).
    """

    def __init__(self, conf: cfg.ConfigOpts, service) -> None:
        self.conf = conf
        self.service = service
        self.collector_server: dict[str, str | None] = {}
        self.tokens: dict[str, str | None] = {}
        self.stats = {'get_all': 0, 'get_changes': 0, 'rpc_failures': 0,
                      'incomplete': 0}

    def get_all(self, names: list[str],
                action: str = DatasourceAction.SNAPSHOT) -> bool:
        """Sample the named datasources and wait until their events have
        been applied; then delete what they no longer report, if the
        answer was complete, and take a snapshot.

        :param names: datasource names.
        :param action: ``init_snapshot`` (first load) or ``snapshot``.
        :returns: False when no collector answered in time.
        """
        if not names:
            return True
        self.stats['get_all'] += 1
        client = self.service.collector_client
        reply = self.call_collectors(
            lambda rid, server: client.get_all(
                {}, names, rid, action=action, server=server), None)
        if reply is None:
            return False
        self.settle(reply)
        if self.service.handoff is not None and not reply.get('errors') \
                and not reply.get(INCOMPLETE):
            self.service.recovery.take_snapshot()
        return True

    def get_changes(self, names: list[str]) -> bool:
        """Poll the named pull datasources for changes.

        :param names: datasource names.
        :returns: False when no collector answered in time.
        """
        if not names:
            return True
        self.stats['get_changes'] += 1
        client = self.service.collector_client
        server = self.collector_server.get(names[0])
        tokens = {name: self.tokens.get(name) for name in names}
        reply = self.call_collectors(
            lambda rid, srv: client.get_changes(
                {}, names, rid, tokens, server=srv), server)
        if reply is None:
            return False
        self.settle(reply)
        return True

    def live_collector(self, preferred: str | None) -> str | None:
        """A collector that answers a ping: the preferred one if alive."""
        timeout = self.conf.datasources.ping_timeout
        client = self.service.collector_client
        for server in ([preferred] if preferred else []) + [None]:
            try:
                return client.ping({}, server=server,
                                   timeout=timeout)['server']
            except messaging.MessagingException as exc:
                LOG.debug('no answer to a ping of collector %s: %s',
                          server or '(any)', exc)
                continue
        return None

    def watched_call(self, call: Callable[[str, str], dict],
                     request_id: str, server: str) -> dict | None:
        """Make ``call`` to one collector and, while its reply is awaited,
        ping that collector every ``[datasources] ping_timeout`` seconds,
        so that a collector that dies in the middle of a get_all is
        noticed within two ping timeouts, not at ``rpc_timeout``.

        The call runs on a thread of its own; when the collector is gone
        that thread is left to end at ``rpc_timeout`` and its reply, if
        any, is ignored.

        :param call: ``call(request_id, server)`` makes the RPC call.
        :param request_id: tags the batches of the call.
        :param server: the collector called.
        :returns: the reply; None when the service stops meanwhile.
        :raises oslo_messaging.MessagingTimeout: the collector stopped
            answering pings, or the call timed out.
        :raises oslo_messaging.MessagingException: the call failed.
        """
        outcome: dict = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome['reply'] = call(request_id, server)
            except Exception as exc:    # handed to the waiting thread
                outcome['error'] = exc
            finally:
                done.set()

        threading.Thread(target=run, name='collector-call-%s' % request_id,
                         daemon=True).start()
        interval = self.conf.datasources.ping_timeout
        client = self.service.collector_client
        while not done.wait(interval):
            if self.service.stopping.is_set():
                return None
            try:
                client.ping({}, server=server, timeout=interval)
            except messaging.MessagingException as exc:
                if done.is_set():
                    break
                raise messaging.MessagingTimeout(
                    'collector %s stopped answering pings during request %s '
                    '(%s)' % (server, request_id, exc)) from exc
        if 'error' in outcome:
            raise outcome['error']
        return outcome['reply']

    def call_collectors(self, call: Callable[[str, str], dict],
                        server: str | None) -> dict | None:
        """Call a live collector, the preferred ``server`` if it is alive,
        and wait until the batches of the reply have been applied; retry
        on another collector when the one called dies or times out
        (``[datasources] rpc_retries`` more times).

        :param call: ``call(request_id, server)`` makes the RPC call.
        :param server: the preferred collector, or None.
        :returns: the reply (with :data:`INCOMPLETE` true when some of
            its batches were not applied in time); None when no collector
            answered or the service stops.
        """
        retries = self.conf.datasources.rpc_retries
        coordinator = self.service.coordinator
        for attempt in range(retries + 1):
            if self.service.stopping.is_set():
                return None
            server = self.live_collector(server)
            if server is None:
                self.stats['rpc_failures'] += 1
                LOG.warning('no collector answers on topic %s (attempt %d '
                            'of %d)', self.conf.collector.topic,
                            attempt + 1, retries + 1)
                continue
            request_id = uuid.uuid4().hex
            LOG.info('request %s sent to collector %s', request_id, server)
            try:
                reply = self.watched_call(call, request_id, server)
            except messaging.MessagingException as exc:
                self.stats['rpc_failures'] += 1
                LOG.warning('collector %s did not answer request %s '
                            '(attempt %d of %d): %s', server, request_id,
                            attempt + 1, retries + 1, exc)
                coordinator.forget(request_id)
                server = None  # any live collector will do now
                continue
            if reply is None:
                coordinator.forget(request_id)
                return None
            expected = sum(r['batches']
                           for r in reply['datasources'].values())
            if not coordinator.wait_for_batches(
                    request_id, expected,
                    self.conf.datasources.rpc_timeout):
                self.stats['incomplete'] += 1
                reply[INCOMPLETE] = True
                LOG.error('request %s: only %d of %d batches arrived; '
                          'nothing is deleted on this answer', request_id,
                          coordinator.processed_batches(request_id),
                          expected)
            coordinator.forget(request_id)
            for name, error in reply.get('errors', {}).items():
                LOG.error('collector %s: datasource %s failed: %s',
                          reply.get('server'), name, error)
            return reply
        return None

    def settle(self, reply: dict) -> None:
        """Remember which collector and baseline token served each
        datasource, and delete what a complete full (re-seeded) sample no
        longer reports, logging the deletions.

        :param reply: a collector's reply, see
            :meth:`vitrage.collector.rpcapi.CollectorClient.get_all`.
        """
        server = reply.get('server')
        incomplete = bool(reply.get(INCOMPLETE))
        for name, result in reply['datasources'].items():
            self.collector_server[name] = server
            # A token is only good for what was applied in full: after a
            # partial answer the next poll re-seeds.
            self.tokens[name] = None if incomplete else result.get('token')
            cls = self.service.driver_classes.get(name)
            if incomplete or not result.get('reseeded') or cls is None \
                    or not cls.deletes_vanished:
                continue
            sampled_at = result['sampled_at']
            processor = self.service.processor
            deleted = self.service.apply_own_events(
                lambda n=name, t=sampled_at:
                    processor.outdated_events(n, t))
            if deleted:
                LOG.info('deleted %d entities of %s not reported since %s',
                         deleted, name, sampled_at)
