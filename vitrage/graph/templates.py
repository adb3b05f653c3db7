"""The active graph puts stored templates in force.

:class:`TemplateSync` compares what the template store says with what
the evaluator runs, in three steps so that the graph lock is held only
for the evaluator's part:

1. :meth:`TemplateSync.plan` (no lock): read the store, load the new
   standard templates (definitions for ``includes`` and equivalences
   applied) and note failures;
2. :meth:`TemplateSync.apply` (graph lock, processing thread): remove
   and add templates in the evaluator, which gives the action events of
   their matches;
3. :meth:`TemplateSync.commit` (no lock): LOADING becomes ACTIVE (or
   ERROR with the reason), DELETING rows are removed.

A change of the equivalences in force reloads every standard template.
Without a database (persistency off) the templates are the files of
``[evaluator] templates_dir``, read once.
"""
import dataclasses
import logging

from vitrage.evaluator import catalog
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.evaluator import equivalence
from vitrage.evaluator import model
from vitrage.evaluator import status
from vitrage.evaluator.status import TemplateValidationError
from vitrage.evaluator import validation
from vitrage.storage import templates as store_mod

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Plan:
    """What one synchronisation changes.

    :ivar remove: uuids of loaded standard templates to unload.
    :ivar add: (uuid, loaded template) to load.
    :ivar activate: uuids to mark ACTIVE once applied.
    :ivar errors: uuid -> why it cannot be put in force.
    :ivar drop: uuids of DELETING rows to remove once applied.
    :ivar equivalences: the equivalence uuids in force after it.
    """

    remove: list[str] = dataclasses.field(default_factory=list)
    add: list[tuple[str, model.TemplateDef]] = dataclasses.field(
        default_factory=list)
    activate: list[str] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    drop: list[str] = dataclasses.field(default_factory=list)
    equivalences: frozenset[str] = frozenset()
    reload: bool = False

    @property
    def empty(self) -> bool:
        return not (self.remove or self.add or self.activate or
                    self.errors or self.drop or self.reload)


class TemplateSync:
    """Keeps the evaluator's templates equal to the store's.

    :param store: the template store, or None without a database.
    :param directory: ``[evaluator] templates_dir`` (seeds an empty store;
        the templates themselves without a store).
    """

    def __init__(self, store: store_mod.TemplateStore | None,
                 directory: str = '') -> None:
        self.store = store
        self.directory = directory
        #: uuid -> name of the standard templates in the evaluator.
        self.loaded: dict[str, str] = {}
        self._equivalences: frozenset[str] = frozenset()
        #: The store's states when a plan last found nothing to do.
        self._quiet: list | None = None

    def seed(self) -> None:
        """Fill an empty store from the directory (first start).

        :raises oslo_db.exception.DBError: when the database fails.
        """
        if self.store is not None and self.directory:
            catalog.TemplateCatalog(self.store).seed(self.directory)

    def _rows(self) -> list[store_mod.StoredTemplate]:
        if self.store is not None:
            return self.store.rows()
        rows = []
        for path, document in catalog.read_directory(self.directory):
            result = validation.validate(document)
            if not result.is_valid:
                LOG.error('template file %s is invalid: %s (code %d)',
                          path, result.message, result.status_code)
                continue
            rows.append(store_mod.StoredTemplate(
                path, result.name or catalog.template_name(document, path),
                result.template_type, store_mod.ACTIVE, result.message,
                result.template, None))
        return rows

    def plan(self) -> Plan:
        """Compare the store with what is loaded (no lock needed).

        :raises oslo_db.exception.DBError: when the database fails.
        """
        if self.store is None and self.loaded:
            return Plan(equivalences=self._equivalences)  # files: once
        states = None
        if self.store is not None:
            # Polled every second: the contents are read only when a
            # template came, went or changed status since the store was
            # last found in step with the evaluator.
            states = self.store.states()
            if states == self._quiet:
                return Plan(equivalences=self._equivalences)
        plan = self._plan(self._rows())
        self._quiet = states if plan.empty else None
        return plan

    def _plan(self, rows: list[store_mod.StoredTemplate]) -> Plan:
        plan = Plan()
        in_force = [r for r in rows if r.status in store_mod.IN_FORCE]
        plan.drop = [r.uuid for r in rows if r.status == store_mod.DELETING]
        definitions = {r.name: r.content for r in in_force
                       if r.template_type == status.TYPE_DEFINITION}
        index, good_eq = self._equivalence_index(
            [r for r in in_force
             if r.template_type == status.TYPE_EQUIVALENCE], plan)
        plan.equivalences = good_eq
        reload_all = plan.reload = good_eq != self._equivalences
        standard = {r.uuid: r for r in in_force
                    if r.template_type == status.TYPE_STANDARD}
        plan.remove = [u for u in self.loaded
                       if u not in standard or reload_all]
        for uuid, row in standard.items():
            if uuid in self.loaded and not reload_all:
                continue
            try:
                loaded = validation.load(row.content, row.template_type,
                                         definitions=definitions)
            except TemplateValidationError as exc:
                plan.errors[uuid] = exc.message
                continue
            plan.add.append((uuid, equivalence.apply(loaded, index)))
        plan.activate = [r.uuid for r in in_force
                         if r.status == store_mod.LOADING and
                         r.uuid not in plan.errors]
        return plan

    def _equivalence_index(self, rows: list[store_mod.StoredTemplate],
                           plan: Plan) -> tuple[dict, frozenset[str]]:
        """Merge equivalences in creation order; one that conflicts with
        those before it is not put in force.
        """
        good: list[model.EquivalenceDef] = []
        uuids = []
        for row in rows:
            try:
                definition = validation.load(row.content,
                                             status.TYPE_EQUIVALENCE)
                equivalence.merge(good + [definition])
            except (TemplateValidationError,
                    equivalence.EquivalenceConflict) as exc:
                plan.errors[row.uuid] = getattr(exc, 'message', str(exc))
                continue
            good.append(definition)
            uuids.append(row.uuid)
        return equivalence.merge(good), frozenset(uuids)

    def apply(self, plan: Plan, evaluator: ScenarioEvaluator) -> list[dict]:
        """Change the evaluator's templates (graph lock held).

        :returns: the action events of the change (undo first).
        """
        events = []
        names = [self.loaded.pop(u) for u in plan.remove
                 if u in self.loaded]
        if names:
            events.extend(evaluator.remove_templates(names))
        for uuid, template in plan.add:
            if template.name in evaluator.template_names:
                plan.errors[uuid] = catalog.DUPLICATE_NAME
                continue
            events.extend(evaluator.add_templates([template]))
            self.loaded[uuid] = template.name
        plan.activate = [u for u in plan.activate if u not in plan.errors]
        self._equivalences = plan.equivalences
        for uuid, template in plan.add:
            if uuid in self.loaded:
                LOG.info('template %s (%s) is in force: %d scenarios',
                         template.name, uuid, len(template.scenarios))
        return events

    def commit(self, plan: Plan) -> None:
        """Record the outcome in the store.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        if self.store is None:
            return
        for uuid, reason in plan.errors.items():
            LOG.error('template %s cannot be put in force: %s', uuid,
                      reason)
            self.store.set_status(uuid, store_mod.ERROR, reason,
                                  expected=store_mod.IN_FORCE)
        for uuid in plan.activate:
            self.store.set_status(uuid, store_mod.ACTIVE,
                                  expected=(store_mod.LOADING,))
        for uuid in plan.drop:
            self.store.remove(uuid)
