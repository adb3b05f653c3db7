"""Action events: what the evaluator asks the processor to change.

The evaluator does not touch the graph. It emits *action events*, entity
events of the ``vitrage`` datasource that the processor applies like any
other (through :class:`~vitrage.evaluator.transformer.EvaluatorTransformer`),
so they go through the same path, listeners and event log.

On the wire an action event is a dict with the envelope keys
(``vitrage_datasource_name: vitrage``, ``vitrage_entity_type: vitrage``,
``vitrage_datasource_action: update``, ``vitrage_sample_date``) plus:

``action``
    ``raise_alarm`` / ``clear_alarm`` (a deduced alarm ``alarm_name`` on
    ``target_id``, with ``severity``), ``set_state`` / ``unset_state``
    (``vitrage_state`` of ``target_id``), ``add_causal`` /
    ``remove_causal`` (a ``causes`` edge ``source_id`` -> ``target_id``),
    ``mark_down`` / ``unmark_down`` (``is_marked_down`` of ``target_id``).
``target_id``, ``target_key``
    the vertex the action changes and its entity key when the evaluator
    knows it (None otherwise).
``source_id``, ``source_key``
    the cause of a causal edge.
``target_type``, ``target_project_id``
    copied onto a deduced alarm (``vitrage_resource_type`` /
    ``vitrage_resource_project_id``).
``alarm_name``, ``severity``, ``state``
    the action's resolved properties.
``scenario_id``, ``action_id``
    provenance: the firing that dominates (informative).

``execute_mistral`` is not a graph change: it gives an
:class:`ExternalAction` instead.
"""
import dataclasses
from typing import Any

from vitrage.common.constants import Category
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common import exceptions
from vitrage.datasources.base import make_key

#: The datasource name and entity type of action events and deduced
#: alarms.
VITRAGE_DATASOURCE = 'vitrage'

RAISE_ALARM = 'raise_alarm'
CLEAR_ALARM = 'clear_alarm'
SET_STATE = 'set_state'
UNSET_STATE = 'unset_state'
ADD_CAUSAL = 'add_causal'
REMOVE_CAUSAL = 'remove_causal'
MARK_DOWN = 'mark_down'
UNMARK_DOWN = 'unmark_down'

DO_ACTIONS = (RAISE_ALARM, SET_STATE, MARK_DOWN, ADD_CAUSAL)
UNDO_ACTIONS = (REMOVE_CAUSAL, CLEAR_ALARM, UNSET_STATE, UNMARK_DOWN)
ALL_ACTIONS = DO_ACTIONS + UNDO_ACTIONS

#: Fields each action needs (besides ``action`` and the sample date).
REQUIRED = {
    RAISE_ALARM: ('target_id', 'alarm_name', 'severity'),
    CLEAR_ALARM: ('target_id', 'alarm_name'),
    SET_STATE: ('target_id', 'state'),
    UNSET_STATE: ('target_id',),
    MARK_DOWN: ('target_id',),
    UNMARK_DOWN: ('target_id',),
    ADD_CAUSAL: ('source_id', 'target_id'),
    REMOVE_CAUSAL: ('source_id', 'target_id'),
}


def deduced_alarm_key(alarm_name: str, target_id: str) -> str:
    """``ALARM:vitrage:<alarm_name>:<target vitrage_id>``: one deduced
    alarm per name and target (templates.md section 8.1).
    """
    return make_key(Category.ALARM, VITRAGE_DATASOURCE, alarm_name,
                    target_id)


@dataclasses.dataclass(slots=True)
class ActionEvent:
    """One graph change the evaluator asks for (see the module doc)."""

    action: str
    sample_date: str
    target_id: str
    target_key: str | None = None
    source_id: str | None = None
    source_key: str | None = None
    target_type: str | None = None
    target_project_id: str | None = None
    alarm_name: str | None = None
    severity: str | None = None
    state: str | None = None
    scenario_id: str | None = None
    action_id: str | None = None

    @property
    def alarm_key(self) -> str:
        """The entity key of the deduced alarm (raise/clear only)."""
        return deduced_alarm_key(self.alarm_name, self.target_id)

    def to_dict(self) -> dict[str, Any]:
        event = {
            Envelope.DATASOURCE_NAME: VITRAGE_DATASOURCE,
            Envelope.ENTITY_TYPE: VITRAGE_DATASOURCE,
            Envelope.DATASOURCE_ACTION: DatasourceAction.UPDATE,
            Envelope.SAMPLE_DATE: self.sample_date,
        }
        for field in dataclasses.fields(self):
            if field.name == 'sample_date':
                continue
            value = getattr(self, field.name)
            if value is not None:
                event[field.name] = value
        return event

    @classmethod
    def from_dict(cls, event: dict[str, Any]) -> 'ActionEvent':
        """Read an action event.

        :param event: the wire dict.
        :raises vitrage.common.exceptions.MalformedEvent: unknown action
            or a required field missing.
        """
        action = event.get('action')
        if action not in REQUIRED:
            raise exceptions.MalformedEvent(
                'evaluator event has unknown action %r (expected one of '
                '%s)' % (action, ', '.join(ALL_ACTIONS)))
        sample_date = event.get(Envelope.SAMPLE_DATE)
        if not sample_date:
            raise exceptions.MalformedEvent(
                'evaluator event %s lacks %r' % (action,
                                                 Envelope.SAMPLE_DATE))
        for name in REQUIRED[action]:
            if event.get(name) in (None, ''):
                raise exceptions.MalformedEvent(
                    'evaluator event %s lacks %r' % (action, name))
        kwargs = {f.name: event.get(f.name)
                  for f in dataclasses.fields(cls)
                  if f.name not in ('action', 'sample_date')}
        return cls(action=action, sample_date=sample_date, **kwargs)


@dataclasses.dataclass(frozen=True, slots=True)
class ExternalAction:
    """An ``execute_mistral`` firing: run a workflow (not a graph change).

    :ivar workflow: the workflow name.
    :ivar input: its input, ``get_attr`` calls resolved.
    :ivar target_id: the vertex the action was bound to.
    """

    workflow: str
    input: dict
    target_id: str
    scenario_id: str
    action_id: str

    def to_dict(self) -> dict[str, Any]:
        return {'workflow': self.workflow, 'input': dict(self.input),
                'target_id': self.target_id,
                'scenario_id': self.scenario_id,
                'action_id': self.action_id}
