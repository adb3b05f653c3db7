"""The scenario evaluator in the graph service: templates in force and
the actions they deduce.

After every batch, :meth:`Scenarios.evaluate` re-evaluates the scenarios
around what changed and applies their actions (as high-priority action
events, positioned and handed off like datasource events, so a replay
reproduces them with the evaluator quiet), until nothing more follows.
:meth:`Scenarios.enable` puts the stored templates in force and evaluates
the whole graph once the graph is loaded or restored (HA contract,
4b/4c); :meth:`Scenarios.sync` follows template changes of the store.
"""
import time

from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from vitrage.graph.templates import Plan
from vitrage.graph.templates import TemplateSync

LOG = log.getLogger(__name__)


class Scenarios:
    """Evaluation and template sync of one graph service.

    :param conf: the configuration (``[evaluator]``).
    :param service: the :class:`vitrage.graph.service.GraphService` (its
        evaluator, processing, coordinator, history and hand-off).
    """

    def __init__(self, conf: cfg.ConfigOpts, service) -> None:
        self.conf = conf
        self.service = service
        self.template_sync: TemplateSync | None = None
        self.stats = {'actions': 0}

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
        evaluator = self.service.evaluator
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
            applied += self.service.apply_records(pending, records, 'action')
            pending = evaluator.evaluate()
        self.stats['actions'] += applied
        for action in evaluator.take_external_actions():
            # The notifier (Mistral) takes these once it exists.
            LOG.info('scenario %s asks for Mistral workflow %s on %s',
                     action.scenario_id, action.workflow, action.target_id)
        return applied

    def enable(self) -> None:
        """Put the stored templates in force and evaluate the whole graph
        (after the initial get_all or a restore, HA contract 4b/4c).
        """
        if not self.conf.evaluator.enabled:
            LOG.info('the scenario evaluator is disabled')
            return
        from oslo_db import exception as db_exc
        self.template_sync = sync = self.service.construct_template_sync()
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
            self.evaluate(records, sync.apply(plan, self.service.evaluator))
            self.evaluate(records, self.service.evaluator.evaluate_all())
            result = records, self.service.history.take()
            self._hand_off_actions(result)
            return result
        result = self.service.coordinator.run_sync(run, high=True)
        LOG.info('evaluator enabled: %d templates, %d scenarios, first '
                 'evaluation %.2fs, %d action events',
                 len(self.service.evaluator.template_names),
                 len(self.service.evaluator.scenarios),
                 time.monotonic() - started, len(result[0]))
        self._commit_templates(plan)

    def sync(self) -> bool:
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

        def run() -> None:
            records: list = []
            self.evaluate(records, sync.apply(plan, self.service.evaluator))
            self._hand_off_actions((records, self.service.history.take()))
        self.service.coordinator.run_sync(run, high=True)
        self._commit_templates(plan)
        return True

    def _commit_templates(self, plan: Plan) -> None:
        from oslo_db import exception as db_exc
        try:
            self.template_sync.commit(plan)
        except db_exc.DBError as exc:
            LOG.warning('cannot record template statuses: %s', exc)

    def _hand_off_actions(self, result: tuple[list, list]) -> None:
        """Hand off action events (processing thread): no input waits on
        them, so a failure is logged; the next snapshot holds their
        effect.
        """
        try:
            self.service.hand_off(result)
        except messaging.MessagingException as exc:
            LOG.error('hand-off of %d action events failed: %s',
                      len(result[0]), exc)
