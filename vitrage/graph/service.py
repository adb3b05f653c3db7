"""vitrage-graph: the entity graph, its processor and its timers.

Lifecycle (style.md item 7): :meth:`GraphService.prepare` builds the
graph (later issues restore it from a snapshot and replay the log),
:meth:`GraphService.start` starts the events listener, the coordinator,
the RPC server for the API and the periodic tasks, and
:meth:`GraphService.terminate` stops them. The parts are made by small
``construct_*`` methods that tests and the all-in-one can override.
"""
from collections.abc import Callable
import ctypes
import ctypes.util
import gc
import os
import threading
import time
import uuid

import cotyledon
from futurist import periodics
from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from vitrage.collector import rpcapi as collector_rpcapi
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import UpdateMethod
from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.datasources.base import DriverBase
from vitrage.datasources.base import TransformerBase
from vitrage.datasources import loader
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.evaluator import events as action_events
from vitrage.evaluator.transformer import EvaluatorTransformer
from vitrage.graph.coordinator import EventCoordinator
from vitrage.graph.coordinator import Work
from vitrage.graph.driver import EntityGraph
from vitrage.graph.handoff import Handoff
from vitrage.graph.handoff import HistoryRecorder
from vitrage.graph import liveness
from vitrage.graph.processor import Processor
from vitrage.graph import rpcapi as graph_rpcapi
from vitrage.graph.states import StateNormalizer
from vitrage.graph.templates import Plan
from vitrage.graph.templates import TemplateSync

LOG = log.getLogger(__name__)

#: Young-generation threshold of the cyclic garbage collector. The
#: default (700) makes collections run every few events while a large
#: graph loads, which halves the processor's rate at 100k vertices.
GC_THRESHOLD = (50000, 20, 100)


def tune_gc() -> None:
    """Collect less often: the graph is millions of long-lived dicts."""
    gc.set_threshold(*GC_THRESHOLD)


def freeze_graph_memory() -> None:
    """Move what exists now (the loaded graph) out of the collector's
    sight, so later collections do not traverse it again and again, and
    give the C heap's free pages (decoded messages) back to the system.
    """
    gc.collect()
    gc.freeze()
    _malloc_trim()


def _malloc_trim() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass    # not glibc: nothing to give back this way


class NotHandedOff(messaging.MessagingException):
    """A batch was applied by a graph that can no longer log it."""


class EventsEndpoint:
    """Takes the entity-event batches collectors send and acknowledges a
    message only once its events have been applied.
    """

    def __init__(self, service: 'GraphService') -> None:
        self.service = service

    def info(self, ctxt: dict, publisher_id: str, event_type: str,
             payload: dict, metadata: dict):
        """Apply one batch.

        :param payload: ``{"request_id", "datasource", "index",
            "events": [...]}``.
        :raises: nothing; a malformed message is logged and dropped.
        """
        if event_type != collector_rpcapi.EVENTS_TYPE or \
                not isinstance(payload, dict) or \
                not isinstance(payload.get('events'), list):
            LOG.error('dropping a malformed message on the events topic '
                      '(event type %r)', event_type)
            return messaging.NotificationResult.HANDLED
        work = Work(events=payload['events'],
                    request_id=payload.get('request_id'))
        self.service.coordinator.submit(work)
        work.done.wait()
        if work.error is not None:
            return messaging.NotificationResult.REQUEUE
        try:
            self.service.hand_off(work.result)
        except messaging.MessagingException:
            # Not handed to the persistor: not acknowledged either; the
            # message comes back and is handled again (full states, so a
            # second application is harmless).
            LOG.exception('hand-off to the persistor failed; requeueing')
            return messaging.NotificationResult.REQUEUE
        return messaging.NotificationResult.HANDLED


class GraphService:
    """The active graph's parts, runnable in a service process or in a
    thread of the all-in-one.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.lock = threading.RLock()
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self.driver_classes: dict[str, type[DriverBase]] = \
            loader.enabled_classes(conf)
        self.graph = self.construct_graph()
        self.processor = self.construct_processor()
        self.evaluator = self.construct_evaluator()
        self.processor.add_listener(self.evaluator)
        self.template_sync: TemplateSync | None = None
        self.coordinator = EventCoordinator(self.apply_events, self.lock)
        self.handoff: Handoff | None = None
        self.history = HistoryRecorder()
        self.database = None
        self.terms = None
        self.holder = '%s:%d' % (conf.host, os.getpid())
        self.term: int | None = None
        self.lost_term = threading.Event()
        self.broker_lock: liveness.BrokerLock | None = None
        self.restored = False
        #: Hot standby: the log position the graph has followed to.
        self._followed: tuple[int, int] | None = None
        self._snapshot_mark = (0, time.monotonic())
        self.collector_client: collector_rpcapi.CollectorClient | None = None
        self._collector_server: dict[str, str | None] = {}
        self._tokens: dict[str, str | None] = {}
        self._listener = None
        self._rpc_server = None
        self._periodic: periodics.PeriodicWorker | None = None
        self._threads: list[threading.Thread] = []
        self.stats = {'get_all': 0, 'get_changes': 0, 'rpc_failures': 0,
                      'actions': 0}

    # -- composition root ---------------------------------------------
    def construct_graph(self) -> EntityGraph:
        return EntityGraph()

    def construct_transformers(self) -> dict[str, TransformerBase]:
        transformers = {}
        for name, cls in self.driver_classes.items():
            vitrage_type = cls.entity_types[0] if cls.entity_types else name
            transformers[name] = cls.transformer_class(self.conf,
                                                       vitrage_type)
        transformers[action_events.VITRAGE_DATASOURCE] = \
            EvaluatorTransformer(self.conf, action_events.VITRAGE_DATASOURCE)
        return transformers

    def construct_states(self) -> StateNormalizer:
        types = frozenset(t for name, cls in self.driver_classes.items()
                          if name != 'static' for t in cls.entity_types)
        types |= {action_events.VITRAGE_DATASOURCE}
        return StateNormalizer(
            self.conf.entity_graph.datasources_values_dir, types)

    def construct_processor(self) -> Processor:
        return Processor(self.graph, self.construct_transformers(),
                         self.construct_states())

    def construct_evaluator(self) -> ScenarioEvaluator:
        """The scenario evaluator; templates come from the store once the
        graph is active (:meth:`enable_evaluator`).
        """
        return ScenarioEvaluator(self.graph, [], self.processor.states)

    def construct_template_sync(self) -> TemplateSync:
        store = None
        if self.conf.persistency.enable_persistency:
            from vitrage.storage import connection as db_connection
            from vitrage.storage import templates
            if self.database is None:
                self.database = db_connection.from_conf(self.conf)
            store = templates.TemplateStore(self.database)
        return TemplateSync(store, self.conf.evaluator.templates_dir)

    def construct_rpc_transport(self) -> messaging.Transport:
        return messaging.get_rpc_transport(self.conf)

    def construct_notification_transport(self) -> messaging.Transport:
        return messaging.get_notification_transport(self.conf)

    def construct_handoff(self, transport: messaging.Transport,
                          term: int) -> Handoff:
        """The hand-off of the handled events of ``term``."""
        self.processor.add_listener(self.history)
        return Handoff(self.conf, transport, term)

    # -- one active graph ---------------------------------------------
    def construct_broker_lock(self) -> liveness.BrokerLock | None:
        """The active graph's lock queue on RabbitMQ, or None (disabled,
        or not RabbitMQ).
        """
        if not self.conf.entity_graph.broker_lock:
            return None
        url = liveness.broker_urls(self.conf)
        if url is None:
            return None
        return liveness.BrokerLock(
            url, self.conf.entity_graph.topic + '.active_graph')

    def _watch_holder(self, seen: tuple[int, str] | None
                      ) -> tuple[int | None, tuple[int, str] | None]:
        """One look of a standby at the broker lock.

        :param seen: the (term, holder) last seen holding the lock.
        :returns: (a term taken over, or None; the new ``seen``).
        """
        current, holder, _beat = self.terms.holder()
        state = self.broker_lock.probe()
        if state == liveness.UNKNOWN:
            # The broker restarted, or cannot be reached: what was seen
            # held says nothing about the holder any more.
            return None, None
        if state == liveness.HELD:
            return None, (current, holder) if holder else seen
        if state == liveness.FREE and holder and seen == (current, holder):
            term = self.terms.take_over(self.holder, current, holder)
            if term is not None:
                LOG.info('graph %s takes over term %d: the broker lock of '
                         '%s (term %d) is gone', self.holder, term, holder,
                         current)
            return term, seen
        return None, seen

    def acquire_term(self) -> int | None:
        """Wait as a standby until this graph holds a new term.

        Without persistency there is no database to agree in: the graph
        is active at once (run one, or let Pacemaker choose it).

        :returns: the term, or None without persistency or when stopped.
        """
        if not self.conf.persistency.enable_persistency:
            return None
        from oslo_db import exception as db_exc

        from vitrage.storage import connection as db_connection
        from vitrage.storage import terms
        if self.database is None:
            self.database = db_connection.from_conf(self.conf)
        self.terms = terms.TermStore(self.database)
        options = self.conf.entity_graph
        announced = False
        if self.broker_lock is None:
            self.broker_lock = self.construct_broker_lock()
        interval = options.heartbeat_interval
        if self.broker_lock is not None:
            interval = min(interval, options.takeover_check_interval)
        seen = None
        while not self._stopping.is_set():
            try:
                term = self.terms.acquire(self.holder, options.lease_time)
                if term is None and self.broker_lock is not None:
                    term, seen = self._watch_holder(seen)
            except db_exc.DBError as exc:
                LOG.warning('cannot reach the database to take a term: %s',
                            exc)
                term = None
            if term is not None:
                LOG.info('graph %s is active in term %d', self.holder, term)
                if self.broker_lock is not None:
                    self.broker_lock.hold()
                return term
            if not announced:
                current, holder, _beat = self.terms.holder()
                LOG.info('graph %s is a %s standby: term %d is held by %s',
                         self.holder, self.conf.persistency.standby_mode,
                         current, holder)
                announced = True
            if self.conf.persistency.standby_mode == 'hot':
                self.follow_log()
            self._stopping.wait(interval)
        return None

    def _heartbeat_loop(self, term: int) -> None:
        from oslo_db import exception as db_exc
        options = self.conf.entity_graph
        last_ok = time.monotonic()
        while not self._stopping.wait(options.heartbeat_interval):
            try:
                held = self.terms.heartbeat(term, self.holder)
            except db_exc.DBError as exc:
                LOG.warning('heartbeat of term %d failed: %s', term, exc)
                held = None
            if held:
                last_ok = time.monotonic()
                if self.broker_lock is not None:
                    # Not held yet when the broker was down at takeover,
                    # or a graph that lost its term still held it.
                    self.broker_lock.hold()
                continue
            if held is False or \
                    time.monotonic() - last_ok > options.lease_time:
                self._lose_term(term)
                return

    def _lose_term(self, term: int) -> None:
        """Another graph took over (or ours expired): stop processing and
        handing off at once; the process then exits to start again as a
        standby.
        """
        LOG.error('graph %s lost term %d: it stops processing events',
                  self.holder, term)
        self.handoff = None
        if self.broker_lock is not None:
            self.broker_lock.release()
        self._ready.clear()
        self.lost_term.set()
        for server in (self._listener, self._rpc_server):
            if server is not None:
                server.stop()

    # -- processing ---------------------------------------------------
    def apply_events(self, events: list[dict]) -> tuple[list, list]:
        """Apply a batch (on the processing thread, lock held).

        :returns: (positioned records of the events applied, history
            notifications); malformed events are logged and dropped.
        """
        records: list = []
        self._apply(events, records, 'entity')
        self.evaluate(records)
        return records, self.history.take()

    def _apply(self, events: list[dict], records: list, kind: str) -> int:
        """Process ``events``, appending the positioned record of each
        applied one to ``records``; a malformed event is logged and
        dropped.

        :param kind: what the events are, for the log.
        :returns: how many were applied.
        """
        handoff = self.handoff
        process = self.processor.process_event
        applied = 0
        for event in events:
            try:
                process(event)
            except exceptions.MalformedEvent as exc:
                self.processor.stats['malformed'] += 1
                LOG.error('dropping a malformed %s event: %s', kind, exc)
                continue
            applied += 1
            if handoff is not None:
                records.append(handoff.position(event))
        return applied

    def evaluate(self, records: list, events: list[dict] | None = None
                 ) -> int:
        """Apply ``events`` (action events), then re-evaluate the
        scenarios around what changed and apply their actions, until
        nothing more follows (processing thread, lock held).

        Action events are handled before any other event, and are handed
        off like datasource events, so a replay reproduces them (with
        the evaluator quiet).

        :param records: positioned records are appended here.
        :param events: action events to apply first.
        :returns: how many action events were applied.
        """
        evaluator = self.evaluator
        if not evaluator.active and not events:
            return 0
        pending = events if events else evaluator.evaluate()
        applied = rounds = 0
        while pending:
            rounds += 1
            if rounds > self.conf.evaluator.max_rounds:
                LOG.error('scenario actions still change the graph after '
                          '%d rounds: scenarios feed each other forever; '
                          'dropped %d action events (first: %s)',
                          rounds - 1, len(pending), pending[0])
                evaluator.evaluate()   # forget what they touched
                break
            applied += self._apply(pending, records, 'action')
            pending = evaluator.evaluate()
        self.stats['actions'] += applied
        for action in evaluator.take_external_actions():
            # The notifier (Mistral) takes these once it exists.
            LOG.info('scenario %s asks for Mistral workflow %s on %s',
                     action.scenario_id, action.workflow, action.target_id)
        return applied

    # -- templates -------------------------------------------------------
    def enable_evaluator(self) -> None:
        """Put the stored templates in force and evaluate the whole graph
        (after the initial get_all or a restore, HA contract 4b/4c).
        """
        if not self.conf.evaluator.enabled:
            LOG.info('the scenario evaluator is disabled')
            return
        from oslo_db import exception as db_exc
        self.template_sync = sync = self.construct_template_sync()
        try:
            sync.seed()
            plan = sync.plan()
        except db_exc.DBError as exc:
            LOG.error('cannot read the templates: %s; the evaluator starts '
                      'without them and tries again', exc)
            plan = Plan()
        started = time.monotonic()

        def run() -> tuple[list, list]:
            records: list = []
            self.evaluate(records, sync.apply(plan, self.evaluator))
            self.evaluate(records, self.evaluator.evaluate_all())
            return records, self.history.take()
        result = self.coordinator.run_sync(run, high=True)
        LOG.info('evaluator enabled: %d templates, %d scenarios, first '
                 'evaluation %.2fs, %d action events',
                 len(self.evaluator.template_names),
                 len(self.evaluator.scenarios),
                 time.monotonic() - started, len(result[0]))
        self._hand_off_actions(result)
        self._commit_templates(plan)

    def sync_templates(self) -> bool:
        """Put template changes of the store in force (periodic).

        :returns: whether anything changed.
        """
        from oslo_db import exception as db_exc
        sync = self.template_sync
        if sync is None:
            return False
        try:
            plan = sync.plan()
        except db_exc.DBError as exc:
            LOG.warning('cannot read the templates: %s', exc)
            return False
        if plan.empty:
            return False

        def run() -> tuple[list, list]:
            records: list = []
            self.evaluate(records, sync.apply(plan, self.evaluator))
            return records, self.history.take()
        self._hand_off_actions(self.coordinator.run_sync(run, high=True))
        self._commit_templates(plan)
        return True

    def _commit_templates(self, plan: Plan) -> None:
        from oslo_db import exception as db_exc
        try:
            self.template_sync.commit(plan)
        except db_exc.DBError as exc:
            LOG.warning('cannot record template statuses: %s', exc)

    def _hand_off_actions(self, result: tuple[list, list]) -> None:
        try:
            self.hand_off(result)
        except messaging.MessagingException:
            # Applied already; the next snapshot holds their effect.
            LOG.exception('hand-off of %d action events failed',
                          len(result[0]))

    def hand_off(self, result: tuple[list, list] | None) -> None:
        """Publish what a batch did to the persistors (broker-confirmed).

        :raises oslo_messaging.MessagingException: when not confirmed.
        :raises NotHandedOff: persistency is on but this graph has no
            hand-off (it lost its term): what it applied is not logged,
            so the message must go back to the queue for the next active
            graph.
        """
        handoff = self.handoff
        if handoff is None:
            if self.conf.persistency.enable_persistency and \
                    result is not None and self.term is not None:
                raise NotHandedOff('graph %s lost term %s: nothing is '
                                   'handed off' % (self.holder, self.term))
            return
        if result is not None:
            handoff.publish(*result)

    # -- lifecycle ----------------------------------------------------
    def is_ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def prepare(self) -> None:
        """Build the graph before serving (a fresh start for now)."""

    def start(self) -> None:
        """Wait to become the active graph (standby until then), then
        start listening, serving the API and the timers.
        """
        conf = self.conf
        self._stopping.clear()
        tune_gc()
        self.term = self.acquire_term()
        if self._stopping.is_set():
            return
        self.coordinator.start()
        rpc_transport = self.construct_rpc_transport()
        ntransport = self.construct_notification_transport()
        self.collector_client = collector_rpcapi.CollectorClient(
            conf, rpc_transport)
        if self.term is not None:
            self.handoff = self.construct_handoff(ntransport, self.term)
            beat = threading.Thread(target=self._heartbeat_loop,
                                    args=(self.term,), name='graph-heartbeat',
                                    daemon=True)
            beat.start()
            self._threads.append(beat)
            self.restored = self.restore()
        self._listener = messaging.get_notification_listener(
            ntransport,
            [messaging.Target(topic=conf.entity_graph.events_topic)],
            [EventsEndpoint(self)], executor='threading',
            allow_requeue=True)
        self._listener.start()
        self._rpc_server = graph_rpcapi.get_server(conf, rpc_transport,
                                                   self, conf.host)
        self._rpc_server.start()
        thread = threading.Thread(target=self._initial_load,
                                  name='graph-initial-load', daemon=True)
        thread.start()
        self._threads.append(thread)

    def terminate(self) -> None:
        self._stopping.set()
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic.wait()
            self._periodic = None
        for server in (self._rpc_server, self._listener):
            if server is not None:
                server.stop()
                server.wait()
        self._rpc_server = self._listener = None
        self.coordinator.stop()
        if self.database is not None:
            self.database.dispose()
            self.database = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self.broker_lock is not None:
            # Last: a standby takes over as soon as it is gone.
            self.broker_lock.close()
            self.broker_lock = None

    # -- loading ------------------------------------------------------
    def _initial_load(self) -> None:
        names = sorted(self.driver_classes)
        delay = 1.0
        while not self._stopping.is_set() and not self.restored:
            if self.get_all(names, DatasourceAction.INIT_SNAPSHOT):
                break
            LOG.warning('initial get_all failed; retrying in %.0fs', delay)
            self._stopping.wait(delay)
            delay = min(delay * 2, 30)
        if self._stopping.is_set():
            return
        self.enable_evaluator()
        freeze_graph_memory()
        self._ready.set()
        # (No edge count: networkx counts edges by walking every vertex's
        # adjacency, 0.1 s at 100k vertices, just when the first
        # requests come.)
        LOG.info('graph ready: %d vertices', self.graph.num_vertices())
        self._start_periodics()

    def get_all(self, names: list[str],
                action: str = DatasourceAction.SNAPSHOT) -> bool:
        """Sample the named datasources and wait until their events have
        been applied; then delete what they no longer report.

        :returns: False when no collector answered in time.
        """
        if not names:
            return True
        self.stats['get_all'] += 1
        reply = self._call_collectors(
            lambda rid, server: self.collector_client.get_all(
                {}, names, rid, action=action, server=server), None)
        if reply is None:
            return False
        self._settle(reply)
        if self.handoff is not None and not reply.get('errors'):
            self.take_snapshot()
        return True

    def get_changes(self, names: list[str]) -> bool:
        """Poll the named pull datasources for changes.

        :returns: False when no collector answered in time.
        """
        if not names:
            return True
        self.stats['get_changes'] += 1
        server = self._collector_server.get(names[0])
        tokens = {name: self._tokens.get(name) for name in names}
        reply = self._call_collectors(
            lambda rid, srv: self.collector_client.get_changes(
                {}, names, rid, tokens, server=srv), server)
        if reply is None:
            return False
        self._settle(reply)
        return True

    def _live_collector(self, preferred: str | None) -> str | None:
        """A collector that answers a ping: the preferred one if alive."""
        timeout = self.conf.datasources.ping_timeout
        for server in ([preferred] if preferred else []) + [None]:
            try:
                return self.collector_client.ping(
                    {}, server=server, timeout=timeout)['server']
            except messaging.MessagingException as exc:
                LOG.debug('no answer to a ping of collector %s: %s',
                          server or '(any)', exc)
                continue
        return None

    def _watched_call(self, call: Callable[[str, str], dict],
                      request_id: str, server: str) -> dict | None:
        """Make ``call`` to one collector and, while its reply is awaited,
        ping that collector every ``[datasources] ping_timeout`` seconds,
        so that a collector that dies in the middle of a get_all is noticed
        within two ping timeouts, not at ``[datasources] rpc_timeout``.

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
        while not done.wait(interval):
            if self._stopping.is_set():
                return None
            try:
                self.collector_client.ping({}, server=server,
                                           timeout=interval)
            except messaging.MessagingException as exc:
                if done.is_set():
                    break
                raise messaging.MessagingTimeout(
                    'collector %s stopped answering pings during request %s '
                    '(%s)' % (server, request_id, exc)) from exc
        if 'error' in outcome:
            raise outcome['error']
        return outcome['reply']

    def _call_collectors(self, call: Callable[[str, str], dict],
                         server: str | None) -> dict | None:
        """Call a live collector, the preferred ``server`` if it is alive,
        and wait until the batches of the reply have been applied; retry
        on another collector when the one called dies or times out
        (``[datasources] rpc_retries`` more times).

        :param call: ``call(request_id, server)`` makes the RPC call.
        :param server: the preferred collector, or None.
        :returns: the reply; None when no collector answered or the
            service stops.
        """
        retries = self.conf.datasources.rpc_retries
        for attempt in range(retries + 1):
            if self._stopping.is_set():
                return None
            server = self._live_collector(server)
            if server is None:
                self.stats['rpc_failures'] += 1
                LOG.warning('no collector answers on topic %s (attempt %d '
                            'of %d)', self.conf.collector.topic,
                            attempt + 1, retries + 1)
                continue
            request_id = uuid.uuid4().hex
            LOG.info('request %s sent to collector %s', request_id, server)
            try:
                reply = self._watched_call(call, request_id, server)
            except messaging.MessagingException as exc:
                self.stats['rpc_failures'] += 1
                LOG.warning('collector %s did not answer request %s '
                            '(attempt %d of %d): %s', server, request_id,
                            attempt + 1, retries + 1, exc)
                self.coordinator.forget(request_id)
                server = None  # any live collector will do now
                continue
            if reply is None:
                self.coordinator.forget(request_id)
                return None
            expected = sum(r['batches']
                           for r in reply['datasources'].values())
            if not self.coordinator.wait_for_batches(
                    request_id, expected,
                    self.conf.datasources.rpc_timeout):
                LOG.error('request %s: only %d of %d batches arrived',
                          request_id,
                          self.coordinator.processed_batches(request_id),
                          expected)
            self.coordinator.forget(request_id)
            for name, error in reply.get('errors', {}).items():
                LOG.error('collector %s: datasource %s failed: %s',
                          reply.get('server'), name, error)
            return reply
        return None

    def _settle(self, reply: dict) -> None:
        """Remember which collector and baseline token served each
        datasource, and delete what a full (re-seeded) sample no longer
        reports, logging the deletions (:meth:`_apply_own_events`).
        """
        server = reply.get('server')
        for name, result in reply['datasources'].items():
            self._collector_server[name] = server
            self._tokens[name] = result.get('token')
            cls = self.driver_classes.get(name)
            if result.get('reseeded') and cls is not None \
                    and cls.deletes_vanished:
                sampled_at = result['sampled_at']
                deleted = self._apply_own_events(
                    lambda n=name, t=sampled_at:
                        self.processor.outdated_events(n, t))
                if deleted:
                    LOG.info('deleted %d entities of %s not reported since '
                             '%s', deleted, name, sampled_at)

    def _apply_own_events(self, make_events: Callable[[], list[dict]]
                          ) -> int:
        """Apply events the graph makes itself (deletions of outdated
        entities, consistency) on the processing thread, through
        :meth:`apply_events`, and hand them off like any other: logged
        at their position, a restore (snapshot + replay) reproduces them.

        :param make_events: returns the events to apply (called on the
            processing thread, graph lock held).
        :returns: how many events were applied.
        """
        def run() -> tuple[int, tuple[list, list]]:
            events = make_events()
            return len(events), self.apply_events(events)
        count, result = self.coordinator.run_sync(run, high=False)
        self._hand_off_own(result)
        return count

    def _hand_off_own(self, result: tuple[list, list]) -> None:
        """Hand off the result of :meth:`_apply_own_events`; no message
        comes back to requeue, so a failure is retried here a few times.
        """
        records, history = result
        if not records and not history:
            return
        attempts = 5
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                self.hand_off(result)
                return
            except messaging.MessagingException as exc:
                LOG.warning('hand-off of %d events of the graph\'s own '
                            'making failed (attempt %d of %d): %s',
                            len(records), attempt, attempts, exc)
            if attempt == attempts or \
                    self._stopping.wait(delay):
                break
            delay = min(delay * 2, 10)
        LOG.error('%d events of the graph\'s own making (deletions) are '
                  'applied but not logged: a restore from the log will not '
                  'reproduce them until the next full get_all',
                  len(records))

    # -- snapshots and recovery ---------------------------------------
    def take_snapshot(self) -> str | None:
        """Store a snapshot of the graph and the position it includes.

        The graph lock is held only while the snapshot is forked off
        (:func:`vitrage.graph.snapshot.capture`), so processing goes on.

        :returns: the snapshot id; None when it could not be stored.
        """
        from oslo_db import exception as db_exc

        from vitrage.graph import snapshot
        from vitrage.storage import snapshots
        handoff = self.handoff
        if handoff is None:
            return None
        service = self

        class PositionLock:
            """The graph lock, noting the position the capture includes."""

            position = (handoff.term, 0)

            def __enter__(self):
                service.lock.acquire()
                PositionLock.position = (handoff.term, handoff.seq)

            def __exit__(self, *exc_info):
                service.lock.release()

        try:
            data = snapshot.capture(self.graph, PositionLock())
            store = snapshots.SnapshotStore(self.database)
            term, seq = PositionLock.position
            snapshot_id = store.save(term, seq, data)
            store.prune(self.conf.persistency.snapshots_to_keep)
        except (snapshot.SnapshotError, db_exc.DBError) as exc:
            LOG.error('graph snapshot failed: %s', exc)
            return None
        self._snapshot_mark = (self.processor.stats['events'],
                               time.monotonic())
        LOG.info('snapshot %s at (%d, %d): %d vertices, %d bytes',
                 snapshot_id, term, seq, self.graph.num_vertices(),
                 len(data))
        return snapshot_id

    def _snapshot_due(self) -> bool:
        """The policy between get_alls: enough events or enough time."""
        events, since = self._snapshot_mark
        new_events = self.processor.stats['events'] - events
        options = self.conf.persistency
        return new_events > 0 and (
            new_events >= options.snapshot_events or
            time.monotonic() - since >= options.snapshot_interval / 2)

    def _usable_snapshot(self):
        """The latest complete snapshot if younger than
        ``[persistency] snapshot_interval``, else None.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        from vitrage.storage import snapshots
        options = self.conf.persistency
        info = snapshots.SnapshotStore(self.database).latest()
        if info is None:
            LOG.info('no graph snapshot yet')
            return None
        age = (snapshots._now() - info.taken_at).total_seconds()
        if age > options.snapshot_interval:
            LOG.info('latest snapshot is %.0fs old (more than %ds): not '
                     'used', age, options.snapshot_interval)
            return None
        return info

    def _load_latest_snapshot(self) -> tuple[int, int] | None:
        """Swap in the latest snapshot if it is younger than
        ``[persistency] snapshot_interval``.

        :returns: the position it includes, or None (no usable snapshot).
        :raises vitrage.graph.snapshot.SnapshotError: on unreadable data.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        from vitrage.graph import snapshot
        from vitrage.storage import snapshots
        info = self._usable_snapshot()
        if info is None:
            return None
        store = snapshots.SnapshotStore(self.database)
        graph = snapshot.load(store.read(info.snapshot_id))
        with self.lock:
            self.graph = graph
            self.processor.graph = graph
            self.evaluator.reset(graph)
        # The loaded graph lives as long as the process: out of the
        # collector's sight at once (a full collection of 100k vertices
        # costs 0.3 s, at takeover or whenever it comes).
        gc.freeze()
        LOG.info('loaded snapshot %s at %s: %d vertices', info.snapshot_id,
                 info.position, graph.num_vertices())
        return info.position

    def _replay_after(self, position: tuple[int, int]
                      ) -> tuple[tuple[int, int], int]:
        """Apply the logged events after ``position``, in (term, seq)
        order, with no hand-off (they are logged already).

        :returns: the last position applied and how many events.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        from vitrage.storage import eventlog
        log = eventlog.SqlEventLog(self.database)
        replayed = 0
        while True:
            batch = log.read_after(position, 10000)
            if not batch:
                return position, replayed
            with self.lock:
                for logged in batch:
                    try:
                        self.processor.process_event(logged.event)
                    except exceptions.MalformedEvent as exc:
                        LOG.error('skipping logged event %s: %s',
                                  logged.position, exc)
                    replayed += 1
                # Replayed changes are history already recorded.
                self.history.take()
            position = batch[-1].position

    def follow_log(self) -> None:
        """Hot standby: keep the graph current from the events table.

        The first call loads the latest snapshot; each call then applies
        what was logged since, so taking over costs only the tail.
        """
        from oslo_db import exception as db_exc

        from vitrage.graph import snapshot
        try:
            if self._followed is None:
                self._followed = self._load_latest_snapshot()
                if self._followed is None:
                    return
            self._followed, count = self._replay_after(self._followed)
            if count:
                LOG.debug('hot standby applied %d logged events, now at %s',
                          count, self._followed)
                # What the tail added is collected now, not at takeover.
                freeze_graph_memory()
        except (snapshot.SnapshotError, db_exc.DBError) as exc:
            LOG.warning('hot standby cannot follow the log: %s', exc)

    def restore(self) -> bool:
        """Start from the latest snapshot and the events logged after it
        (HA contract, promise 4b), if it is younger than
        ``[persistency] snapshot_interval``; a hot standby only applies
        the tail it has not followed yet.

        First a barrier through the persistor topic makes sure everything
        of earlier terms is in the events table.

        :returns: True when the graph was restored (no get_all needed).
        """
        from oslo_db import exception as db_exc

        from vitrage.graph import snapshot
        from vitrage.storage import snapshots
        try:
            if self._followed is None and self._usable_snapshot() is None:
                LOG.info('a fresh start: get_all on every datasource')
                return False
            if not self._wait_for_barrier():
                return False
            position = self._followed
            if position is None:
                position = self._load_latest_snapshot()
                if position is None:
                    LOG.info('a fresh start: get_all on every datasource')
                    return False
            start = position
            position, replayed = self._replay_after(position)
        except (snapshot.SnapshotError, snapshots.SnapshotNotFound,
                db_exc.DBError) as exc:
            LOG.error('cannot restore from the snapshot: %s; a fresh start',
                      exc)
            return False
        LOG.info('restored snapshot from %s and replayed %d events (%s): '
                 '%d vertices', start, replayed,
                 'hot standby' if self._followed else 'cold',
                 self.graph.num_vertices())
        self._snapshot_mark = (self.processor.stats['events'],
                               time.monotonic())
        return True

    def _wait_for_barrier(self) -> bool:
        """Send a barrier and wait until the persistor has written it."""
        import sqlalchemy as sa

        from vitrage.storage import models
        barriers = models.Barrier.__table__
        barrier_id = self.handoff.barrier()
        deadline = time.monotonic() + self.conf.persistency.barrier_timeout
        # The persistor usually writes it within tens of milliseconds:
        # look often at first, then less.
        pause = 0.01
        while not self._stopping.is_set():
            with self.database.connect() as connection:
                found = connection.execute(sa.select(
                    barriers.c.barrier_id).where(
                    barriers.c.barrier_id == barrier_id)).first()
            if found is not None:
                return True
            if time.monotonic() > deadline:
                LOG.error('the persistor did not write barrier %s within '
                          '%ds: the log may be incomplete; a fresh start',
                          barrier_id, self.conf.persistency.barrier_timeout)
                return False
            self._stopping.wait(pause)
            pause = min(pause * 2, 0.2)
        return False

    # -- periodic tasks -----------------------------------------------
    def _changes_interval(self, name: str) -> int:
        try:
            return int(self.conf[name].changes_interval)
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError,
                AttributeError):
            return self.conf.datasources.changes_interval

    def _start_periodics(self) -> None:
        conf = self.conf
        tasks = []
        names = sorted(self.driver_classes)

        @periodics.periodic(spacing=conf.datasources.snapshots_interval)
        def snapshot_all():
            self.get_all(names)
        tasks.append((snapshot_all, (), {}))

        by_interval: dict[int, list[str]] = {}
        for name, cls in self.driver_classes.items():
            if cls.update_method == UpdateMethod.PULL:
                by_interval.setdefault(self._changes_interval(name),
                                       []).append(name)
        for interval, group in sorted(by_interval.items()):
            def poll(group=sorted(group)):
                self.get_changes(group)
            tasks.append((periodics.periodic(spacing=interval)(poll),
                          (), {}))

        if self.handoff is not None:
            @periodics.periodic(spacing=min(
                30, max(1, conf.persistency.snapshot_interval // 4)))
            def snapshot_policy():
                if self._snapshot_due():
                    self.take_snapshot()
            tasks.append((snapshot_policy, (), {}))

        if self.template_sync is not None and \
                self.template_sync.store is not None:
            @periodics.periodic(
                spacing=conf.evaluator.templates_poll_interval,
                run_immediately=True)
            def templates():
                self.sync_templates()
            tasks.append((templates, (), {}))

        @periodics.periodic(spacing=conf.consistency.consistency_interval)
        def consistency():
            self.run_consistency()
        tasks.append((consistency, (), {}))

        self._periodic = periodics.PeriodicWorker(tasks)
        thread = threading.Thread(target=self._periodic.start,
                                  name='graph-periodics', daemon=True)
        thread.start()
        self._threads.append(thread)

    def run_consistency(self) -> int:
        """Remove vertices deleted longer than ``min_time_to_delete``;
        the removals are logged (:meth:`_apply_own_events`).

        :returns: how many vertices were removed.
        """
        horizon = timeutils.format_sample(timeutils.utcnow()) if \
            self.conf.consistency.min_time_to_delete == 0 else \
            time.strftime(timeutils.SAMPLE_FORMAT, time.gmtime(
                time.time() - self.conf.consistency.min_time_to_delete))
        return self._apply_own_events(
            lambda: self.processor.removal_events(horizon))


class GraphWorker(cotyledon.Service):
    """The vitrage-graph service process."""

    name = 'GraphService'

    def __init__(self, worker_id: int, conf: cfg.ConfigOpts) -> None:
        super().__init__(worker_id)
        self.conf = conf
        self.service: GraphService | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        self.service = GraphService(self.conf)
        self.service.prepare()
        self.service.start()
        while not self._stopped.wait(1):
            if self.service.lost_term.is_set():
                self.service.terminate()
                # cotyledon starts a new worker, which waits as a standby.
                raise SystemExit(3)

    def terminate(self) -> None:
        if self.service is not None:
            self.service.terminate()
        self._stopped.set()
