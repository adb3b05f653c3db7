"""The collector's RPC API: a client class for vitrage-graph and the
server endpoint, sharing one version.

Results do not travel in the RPC reply: the collector streams entity
events to vitrage-graph as notifications of at most ``[collector]
batch_size`` events on ``[entity_graph] events_topic`` (event type
``vitrage.collector.events``), each tagged with the call's
``request_id``; the reply only says how many batches and events each
datasource sent, so a get_all of a million entities is never one giant
message, and the caller knows when it has everything.
"""
from typing import Any

from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from vitrage.collector.manager import CollectorManager
from vitrage.common.bus import ConfirmedSender
from vitrage.common.constants import DatasourceAction
from vitrage.common import exceptions

LOG = log.getLogger(__name__)

API_VERSION = '1.0'
EVENTS_TYPE = 'vitrage.collector.events'
PUBLISHER = 'vitrage.collector'


class CollectorClient:
    """What vitrage-graph calls on the collectors."""

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: messaging.Transport) -> None:
        self.conf = conf
        target = messaging.Target(topic=conf.collector.topic,
                                  version=API_VERSION)
        self._client = messaging.get_rpc_client(
            transport, target, timeout=conf.datasources.rpc_timeout)

    def _prepare(self, server: str | None, timeout: float | None):
        kwargs: dict[str, Any] = {}
        if server:
            kwargs['server'] = server
        if timeout:
            kwargs['timeout'] = timeout
        return self._client.prepare(**kwargs) if kwargs else self._client

    def ping(self, ctx: dict, server: str | None = None,
             timeout: float | None = None) -> dict:
        """Find a live collector (or check one).

        A call to a topic no collector has ever listened on is lost by the
        broker, so the graph pings with a short timeout before it sends
        the long get_all to the collector that answered.

        :param ctx: request context (a dict).
        :param server: the collector to check; any when None.
        :param timeout: seconds to wait for the reply.
        :returns: ``{"server": id, "datasources": [names]}``.
        :raises oslo_messaging.MessagingTimeout: no collector answered.
        """
        return self._prepare(server, timeout).call(ctx, 'ping')

    def get_all(self, ctx: dict, datasource_names: list[str],
                request_id: str, action: str = DatasourceAction.SNAPSHOT,
                server: str | None = None,
                timeout: float | None = None) -> dict:
        """Sample every entity of the named datasources.

        :param ctx: request context (a dict).
        :param datasource_names: datasources to sample.
        :param request_id: tags the batches this call sends.
        :param action: ``init_snapshot`` or ``snapshot``.
        :param server: a collector to ask; any collector when None.
        :param timeout: seconds to wait for the reply.
        :returns: ``{"server": id, "request_id": id, "datasources":
            {name: {"batches": n, "events": n, "sampled_at": ts,
            "token": t}}, "errors": {name: message}}``.
        :raises oslo_messaging.MessagingTimeout: no collector answered.
        """
        return self._prepare(server, timeout).call(
            ctx, 'get_all', datasource_names=datasource_names,
            request_id=request_id, action=action)

    def get_changes(self, ctx: dict, datasource_names: list[str],
                    request_id: str, tokens: dict[str, str | None],
                    server: str | None = None,
                    timeout: float | None = None) -> dict:
        """The changes of the named datasources since the report whose
        token the caller holds (a full re-seed when it is not this
        collector's latest).

        :param ctx: request context (a dict).
        :param datasource_names: datasources to poll.
        :param request_id: tags the batches this call sends.
        :param tokens: the token of the caller's last report per
            datasource.
        :param server: the collector that made those reports.
        :param timeout: seconds to wait for the reply.
        :returns: as :meth:`get_all`, plus ``"reseeded": bool`` per
            datasource.
        :raises oslo_messaging.MessagingTimeout: no collector answered.
        """
        return self._prepare(server, timeout).call(
            ctx, 'get_changes', datasource_names=datasource_names,
            request_id=request_id, tokens=tokens)


class CollectorEndpoint:
    """The server side of :class:`CollectorClient`."""

    target = messaging.Target(version=API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, manager: CollectorManager,
                 sender: ConfirmedSender) -> None:
        """
        :param sender: sends the batches to the graph; a failed send
            makes that datasource fail in the reply (the graph then
            deletes nothing and tries again).
        """
        self.conf = conf
        self.manager = manager
        self.sender = sender
        self.batch_size = conf.collector.batch_size

    def ping(self, ctx: dict) -> dict:
        """See :meth:`CollectorClient.ping`."""
        return {'server': self.manager.collector_id,
                'datasources': sorted(self.manager.runners)}

    def get_all(self, ctx: dict, datasource_names: list[str],
                request_id: str,
                action: str = DatasourceAction.SNAPSHOT) -> dict:
        """See :meth:`CollectorClient.get_all`.

        :raises oslo_messaging.ExpectedException: never; per-datasource
            failures are reported in ``errors``.
        """
        if action not in (DatasourceAction.INIT_SNAPSHOT,
                          DatasourceAction.SNAPSHOT):
            return self._reply(request_id, {}, {
                '*': 'get_all action must be init_snapshot or snapshot, '
                     'not %r' % (action,)})
        return self._run(datasource_names, request_id,
                         lambda runner: runner.full(action) + (True,))

    def get_changes(self, ctx: dict, datasource_names: list[str],
                    request_id: str,
                    tokens: dict[str, str | None] | None = None) -> dict:
        """See :meth:`CollectorClient.get_changes`."""
        tokens = tokens or {}
        return self._run(datasource_names, request_id,
                         lambda runner: runner.changes(tokens.get(
                             runner.name)))

    def _run(self, datasource_names, request_id, produce) -> dict:
        results: dict[str, dict] = {}
        errors: dict[str, str] = {}
        for name in datasource_names or []:
            try:
                runner = self.manager.runner(name)
                with runner.lock:
                    events, sampled_at, reseeded = produce(runner)
                    batches, count = self._send(request_id, name, events)
                    results[name] = {
                        'batches': batches, 'events': count,
                        'sampled_at': sampled_at, 'reseeded': reseeded,
                        'token': runner.baseline.token}
            except exceptions.VitrageError as exc:
                LOG.error('datasource %s: %s', name, exc)
                errors[name] = str(exc)
            except Exception as exc:
                # A driver talking to an external system can fail in any
                # way; that datasource is reported failed, the others go on.
                LOG.exception('datasource %s failed', name)
                errors[name] = '%s: %s' % (type(exc).__name__, exc)
        return self._reply(request_id, results, errors)

    def _reply(self, request_id: str, results: dict, errors: dict) -> dict:
        return {'server': self.manager.collector_id,
                'request_id': request_id,
                'datasources': results, 'errors': errors}

    def _send(self, request_id: str, name: str, events) -> tuple[int, int]:
        batch: list[dict] = []
        batches = 0
        count = 0
        for event in events:
            batch.append(event)
            if len(batch) >= self.batch_size:
                self._publish(request_id, name, batches, batch)
                batches += 1
                count += len(batch)
                batch = []
        if batch:
            self._publish(request_id, name, batches, batch)
            batches += 1
            count += len(batch)
        return batches, count

    def _publish(self, request_id: str, name: str, index: int,
                 events: list[dict]) -> None:
        self.sender.send(EVENTS_TYPE, {
            'request_id': request_id, 'datasource': name, 'index': index,
            'events': events})
