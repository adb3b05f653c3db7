"""vitrage-graph: the entity graph, its processor and its timers.

This module is the composition root and the lifecycle of the graph
service; each role lives in a module of its own:

* :mod:`vitrage.graph.leadership`: the term, lease, broker lock and
  stall watchdog (one active graph);
* :mod:`vitrage.graph.recovery`: snapshots, replay of the log, the hot
  standby;
* :mod:`vitrage.graph.polling`: get_all / get_changes to the collectors;
* :mod:`vitrage.graph.handoff`: positions, the hand-off to the persistor
  and the wait until it is written;
* :mod:`vitrage.graph.scenarios`: the evaluator's actions after each
  batch, and the templates in force (:mod:`vitrage.graph.templates`).

Here: the events endpoint (intake from the bus), applying events on the
processing thread and handing them off, and the lifecycle
(style.md item 7): :meth:`GraphService.start` waits as a standby until
the graph holds a term, restores, and starts the events listener, the
coordinator, the RPC server for the API and the periodic tasks;
:meth:`GraphService.terminate` stops them. The parts are made by small
``construct_*`` methods that tests and the all-in-one can override.
"""
from collections.abc import Callable
import threading
import time

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
from vitrage.graph import handoff as handoff_mod
from vitrage.graph.handoff import Handoff
from vitrage.graph.handoff import HistoryRecorder
from vitrage.graph import leadership as leadership_mod
from vitrage.graph import polling as polling_mod
from vitrage.graph.processor import Processor
from vitrage.graph import recovery as recovery_mod
from vitrage.graph.recovery import freeze_graph_memory
from vitrage.graph.recovery import tune_gc
from vitrage.graph import rpcapi as graph_rpcapi
from vitrage.graph import scenarios as scenarios_mod
from vitrage.graph.states import StateNormalizer
from vitrage.graph.templates import TemplateSync

LOG = log.getLogger(__name__)


class NotHandedOff(messaging.MessagingException):
    """A batch was applied by a graph that can no longer log it."""


#: Tries of the hand-off of the graph's own events (no input to requeue).
OWN_HANDOFF_ATTEMPTS = 5
#: Seconds a stopping graph gives the hand-offs in flight to be written.
STOP_GRACE = 5.0
#: Seconds a graph that no longer holds its term waits before it gives a
#: message back (so it does not spin on it until its listener stops).
REQUEUE_PAUSE = 0.2


class EventsEndpoint:
    """Takes the entity-event batches collectors send and acknowledges a
    message only once its handled events are written (HA contract,
    promise 2): applied, handed off with a confirmed send, and seen in
    the events table (:class:`vitrage.graph.handoff.Durability`).
    Anything short of that gives the message back to the broker, which
    hands it to this graph again or to its successor.
    """

    def __init__(self, service: 'GraphService') -> None:
        self.service = service

    def info(self, ctxt: dict, publisher_id: str, event_type: str,
             payload: dict, metadata: dict):
        """Apply one batch.

        :param payload: ``{"request_id", "datasource", "index",
            "events": [...]}``.
        :returns: ``HANDLED`` once written (or for a malformed message,
            which is logged and dropped), else ``REQUEUE``.
        :raises: nothing.
        """
        if event_type != collector_rpcapi.EVENTS_TYPE or \
                not isinstance(payload, dict) or \
                not isinstance(payload.get('events'), list):
            LOG.error('dropping a malformed message on the events topic '
                      '(event type %r)', event_type)
            return messaging.NotificationResult.HANDLED
        service = self.service
        if not service.accepting():
            return self._give_back()
        work = Work(events=payload['events'],
                    request_id=payload.get('request_id'))
        service.coordinator.submit(work)
        work.done.wait()
        if work.error is not None:
            # Not applied, or not handed to the persistor: not
            # acknowledged either; the message comes back and is handled
            # again (full states, so a second application is harmless).
            return self._give_back()
        seqs = work.result
        if seqs is None or service.wait_written(seqs):
            return messaging.NotificationResult.HANDLED
        return self._give_back()

    def _give_back(self):
        if not self.service.accepting():
            time.sleep(REQUEUE_PAUSE)
        return messaging.NotificationResult.REQUEUE


class GraphService:
    """The active graph's parts, runnable in a service process or in a
    thread of the all-in-one.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.lock = threading.RLock()
        self._ready = threading.Event()
        self.stopping = threading.Event()
        self.driver_classes: dict[str, type[DriverBase]] = \
            loader.enabled_classes(conf)
        self.graph = self.construct_graph()
        self.processor = self.construct_processor()
        self.evaluator = self.construct_evaluator()
        self.processor.add_listener(self.evaluator)
        self.coordinator = EventCoordinator(self.handle_batch, self.lock)
        self.handoff: Handoff | None = None
        self.durability: handoff_mod.Durability | None = None
        self.history = HistoryRecorder()
        self.database = None
        self.leadership: leadership_mod.Leadership | None = None
        self.holder = leadership_mod.holder_name(conf.host)
        self.term: int | None = None
        self.lost_term = threading.Event()
        self.restored = False
        self.recovery = recovery_mod.Recovery(conf, self)
        self.scenarios = scenarios_mod.Scenarios(conf, self)
        self.polling = polling_mod.CollectorPolling(conf, self)
        self.collector_client: collector_rpcapi.CollectorClient | None = None
        self._listener = None
        self._rpc_server = None
        self._periodic: periodics.PeriodicWorker | None = None
        self._threads: list[threading.Thread] = []

    @property
    def stats(self) -> dict[str, int]:
        """The counters of the roles: action events applied, get_all,
        get_changes, collector failures, partial answers.
        """
        return {**self.polling.stats, **self.scenarios.stats}

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
    def open_database(self):
        """The database of ``[database] connection``, opened once."""
        if self.database is None:
            from vitrage.storage import connection as db_connection
            self.database = db_connection.from_conf(self.conf)
        return self.database

    def acquire_term(self) -> int | None:
        """Wait as a standby until this graph holds a new term (a hot
        standby follows the log meanwhile).

        Without persistency there is no database to agree in: the graph
        is active at once (run one, or let Pacemaker choose it).

        :returns: the term, or None without persistency or when stopped.
        """
        if not self.conf.persistency.enable_persistency:
            return None
        self.leadership = leadership_mod.Leadership(
            self.conf, self.open_database(), self.stopping, self._lose_term,
            holder=self.holder)
        hot = self.conf.persistency.standby_mode == 'hot'
        return self.leadership.acquire(
            self.recovery.follow_log if hot else lambda: None)

    def accepting(self) -> bool:
        """Whether this graph may handle events: always without
        persistency; with it, only while it holds its term by its own
        clock (:meth:`vitrage.graph.leadership.Leadership.holds`).
        """
        if self.leadership is None:
            return not self.lost_term.is_set()
        return self.leadership.holds()

    def _lose_term(self, term: int) -> None:
        """Another graph took over (or ours expired, or the graph stalled):
        stop processing and handing off at once; the process then exits
        to start again as a standby. Inputs not yet acknowledged go back
        to the broker for the successor.
        """
        self.handoff = None
        self._ready.clear()
        self.lost_term.set()
        if self.durability is not None:
            self.durability.stop()
        for server in (self._listener, self._rpc_server):
            if server is not None:
                server.stop()

    # -- processing ---------------------------------------------------
    def apply_events(self, events: list[dict]) -> tuple[list, list]:
        """Apply a batch (on the processing thread, lock held).

        :returns: (positioned records of the events applied, history
            notifications); malformed events are logged and dropped.
        """
        if not self.accepting():
            raise NotHandedOff('graph %s does not hold term %s any more: '
                               'the events go back to the broker'
                               % (self.holder, self.term))
        records: list = []
        self.apply_records(events, records, 'entity')
        self.evaluate(records)
        return records, self.history.take()

    def handle_batch(self, events: list[dict]
                     ) -> handoff_mod.SeqRange | None:
        """The coordinator's handler of an input batch: apply it, then
        hand off what it did, on the processing thread, so that hand-offs
        reach the persistor in position order (the alarm history is
        applied in the order it is received).

        :returns: the seqs handed off, for :meth:`wait_written`.
        :raises NotHandedOff: this graph no longer holds its term.
        :raises oslo_messaging.MessagingException: the hand-off was not
            confirmed by the broker.
        """
        if not events:
            return None
        result = self.apply_events(events)
        try:
            return self.hand_off(result)
        except messaging.MessagingException as exc:
            LOG.warning('hand-off to the persistor failed (%s); the input '
                        'goes back to the broker', exc)
            raise

    def apply_records(self, events: list[dict], records: list, kind: str
                      ) -> int:
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
        """See :meth:`vitrage.graph.scenarios.Scenarios.evaluate`."""
        return self.scenarios.evaluate(records, events)

    def enable_evaluator(self) -> None:
        """See :meth:`vitrage.graph.scenarios.Scenarios.enable`."""
        self.scenarios.enable()

    def sync_templates(self) -> bool:
        """See :meth:`vitrage.graph.scenarios.Scenarios.sync`."""
        return self.scenarios.sync()

    def hand_off(self, result: tuple[list, list] | None
                 ) -> handoff_mod.SeqRange | None:
        """Publish what a batch did to the persistors (broker-confirmed).

        :returns: the seqs handed off, for :meth:`wait_written`; None
            when nothing was (no persistency, or no events).
        :raises oslo_messaging.MessagingException: when not confirmed.
        :raises NotHandedOff: persistency is on but this graph does not
            hold its term any more: what it applied is not logged, so the
            message must go back to the queue for the next active graph.
        """
        handoff = self.handoff
        if handoff is None or (self.leadership is not None and
                               not self.leadership.holds()):
            if self.conf.persistency.enable_persistency and \
                    result is not None and self.term is not None:
                raise NotHandedOff('graph %s lost term %s: nothing is '
                                   'handed off' % (self.holder, self.term))
            return None
        if result is None:
            return None
        return handoff.publish(*result)

    def wait_written(self, seqs: handoff_mod.SeqRange) -> bool:
        """Wait until the persistor has written the handed-off ``seqs``.

        :returns: True once written; False when they will not be (the
            term was lost) or not within ``[persistency]
            handoff_timeout`` (the persistor or database is down): the
            input then goes back to the broker.
        """
        durability = self.durability
        if durability is None:
            return not self.lost_term.is_set()
        try:
            if durability.wait(seqs, self.conf.persistency.handoff_timeout):
                return True
        except handoff_mod.TermLost as exc:
            LOG.error('%s', exc)
            if self.leadership is not None:
                self.leadership.lose(self.term)
            return False
        LOG.warning('events %d-%d of term %s are not written after %ss: '
                    'the input goes back to the broker', seqs[0], seqs[1],
                    self.term, self.conf.persistency.handoff_timeout)
        return False

    # -- lifecycle ----------------------------------------------------
    def swap_graph(self, graph: EntityGraph) -> None:
        """Put ``graph`` in place of the current one (a loaded snapshot)."""
        with self.lock:
            self.graph = graph
            self.processor.graph = graph
            self.evaluator.reset(graph)

    def is_ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def prepare(self) -> None:
        """Nothing to build before :meth:`start`: the graph is restored
        once it holds a term (a hot standby follows the log meanwhile).
        """

    def start(self) -> None:
        """Wait to become the active graph (standby until then), restore,
        then start listening, serving the API and the timers.
        """
        conf = self.conf
        self.stopping.clear()
        tune_gc()
        self.term = self.acquire_term()
        if self.stopping.is_set():
            return
        self.coordinator.start()
        rpc_transport = self.construct_rpc_transport()
        ntransport = self.construct_notification_transport()
        self.collector_client = collector_rpcapi.CollectorClient(
            conf, rpc_transport)
        if self.term is not None:
            self.handoff = self.construct_handoff(ntransport, self.term)
            self.durability = handoff_mod.Durability(self.database,
                                                     self.term)
            beat = threading.Thread(
                target=self.leadership.heartbeat_loop,
                args=(self.coordinator.busy_for,), name='graph-heartbeat',
                daemon=True)
            beat.start()
            self._threads.append(beat)
            self.restored = self.recovery.restore()
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
        """Stop: take no more messages, let the hand-offs in flight
        become durable for a few seconds (what is not is given back to
        the broker), then stop everything.
        """
        self.stopping.set()
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic.wait()
            self._periodic = None
        for server in (self._rpc_server, self._listener):
            if server is not None:
                server.stop()
        if self.durability is not None:
            self.durability.stop(grace=STOP_GRACE)
        for server in (self._rpc_server, self._listener):
            if server is not None:
                server.wait()
        self._rpc_server = self._listener = None
        self.coordinator.stop()
        if self.database is not None:
            self.database.dispose()
            self.database = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self.leadership is not None:
            # Last: a standby takes over as soon as it is gone.
            self.leadership.close()

    # -- loading ------------------------------------------------------
    def _initial_load(self) -> None:
        """Fresh start: get_all until a collector answers. Restored: the
        graph serves at once, then the pull datasources are reconciled
        with a get_all (what changed while no graph polled them).
        """
        names = sorted(self.driver_classes)
        delay = 1.0
        while not self.stopping.is_set() and not self.restored:
            if self.get_all(names, DatasourceAction.INIT_SNAPSHOT):
                break
            LOG.warning('initial get_all failed; retrying in %.0fs', delay)
            self.stopping.wait(delay)
            delay = min(delay * 2, 30)
        if self.stopping.is_set():
            return
        self.enable_evaluator()
        freeze_graph_memory()
        if self.lost_term.is_set():
            return
        self._ready.set()
        # (No edge count: networkx counts edges by walking every vertex's
        # adjacency, 0.1 s at 100k vertices, just when the first
        # requests come.)
        LOG.info('graph ready: %d vertices', self.graph.num_vertices())
        if self.restored:
            pull = sorted(name for name, cls in self.driver_classes.items()
                          if cls.update_method == UpdateMethod.PULL)
            if pull and not self.get_all(pull):
                LOG.warning('reconciling get_all after the restore failed; '
                            'the next get_changes re-seeds instead')
        self._start_periodics()

    def get_all(self, names: list[str],
                action: str = DatasourceAction.SNAPSHOT) -> bool:
        """See :meth:`vitrage.graph.polling.CollectorPolling.get_all`."""
        return self.polling.get_all(names, action)

    def get_changes(self, names: list[str]) -> bool:
        """See :meth:`vitrage.graph.polling.CollectorPolling.get_changes`."""
        return self.polling.get_changes(names)

    def apply_own_events(self, make_events: Callable[[], list[dict]]
                         ) -> int:
        """Apply events the graph makes itself (deletions of outdated
        entities, consistency) on the processing thread, through
        :meth:`apply_events`, and hand them off like any other: logged
        at their position, a restore (snapshot + replay) reproduces them.

        :param make_events: returns the events to apply (called on the
            processing thread, graph lock held).
        :returns: how many events were applied.
        """
        def run() -> int:
            if not self.accepting():
                return 0    # a graph without its term makes nothing
            events = make_events()
            self._hand_off_own(self.apply_events(events))
            return len(events)
        return self.coordinator.run_sync(run, high=False)

    def _hand_off_own(self, result: tuple[list, list]) -> None:
        """Hand off the result of :meth:`apply_own_events` (processing
        thread); no message comes back to requeue, so a failure is retried
        here a few times.
        """
        records, history = result
        if not records and not history:
            return
        delay = 0.1
        for attempt in range(1, OWN_HANDOFF_ATTEMPTS + 1):
            try:
                self.hand_off(result)
                return
            except NotHandedOff as exc:
                LOG.error('%s', exc)
                return
            except messaging.MessagingException as exc:
                LOG.warning('hand-off of %d events of the graph\'s own '
                            'making failed (attempt %d of %d): %s',
                            len(records), attempt, OWN_HANDOFF_ATTEMPTS, exc)
            if attempt == OWN_HANDOFF_ATTEMPTS or \
                    self.stopping.wait(delay):
                break
            delay = min(delay * 2, 1.0)
        LOG.error('%d events of the graph\'s own making (deletions) are '
                  'applied but not logged: a restore from the log will not '
                  'reproduce them until the next full get_all',
                  len(records))

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
                if self.recovery.snapshot_due():
                    self.recovery.take_snapshot()
            tasks.append((snapshot_policy, (), {}))

        sync = self.scenarios.template_sync
        if sync is not None and sync.store is not None:
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
        the removals are logged (:meth:`apply_own_events`).

        :returns: how many vertices were removed.
        """
        horizon = timeutils.format_sample(timeutils.utcnow()) if \
            self.conf.consistency.min_time_to_delete == 0 else \
            time.strftime(timeutils.SAMPLE_FORMAT, time.gmtime(
                time.time() - self.conf.consistency.min_time_to_delete))
        return self.apply_own_events(
            lambda: self.processor.removal_events(horizon))


class GraphWorker(cotyledon.Service):
    """The vitrage-graph service process.

    :param worker_id: the cotyledon worker number.
    :param conf: the configuration.
    :param watchdog: the master's watch over this worker (see
        :class:`vitrage.graph.leadership.StallWatchdog`), or None.
    """

    name = 'GraphService'

    def __init__(self, worker_id: int, conf: cfg.ConfigOpts,
                 watchdog: leadership_mod.StallWatchdog | None = None
                 ) -> None:
        super().__init__(worker_id)
        self.conf = conf
        self.watchdog = watchdog
        self.service: GraphService | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        self.service = service = GraphService(self.conf)
        if self.watchdog is not None:
            self.watchdog.rest()
            threading.Thread(
                target=self.watchdog.run_beats,
                args=(lambda: service.term is not None and
                      not service.lost_term.is_set(),
                      service.coordinator.busy_for, self._stopped),
                name='graph-watchdog-beats', daemon=True).start()
        service.prepare()
        service.start()
        while not self._stopped.wait(1):
            if service.lost_term.is_set():
                if self.watchdog is not None:
                    self.watchdog.rest()
                service.terminate()
                # cotyledon starts a new worker, which waits as a standby.
                raise SystemExit(3)

    def terminate(self) -> None:
        if self.watchdog is not None:
            self.watchdog.rest()
        if self.service is not None:
            self.service.terminate()
        self._stopped.set()
