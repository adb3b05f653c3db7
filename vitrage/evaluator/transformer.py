"""The transformer of the ``vitrage`` datasource: action events in.

Registered in the processor under the name ``vitrage``, it turns the
evaluator's action events (:mod:`vitrage.evaluator.events`) into
:class:`~vitrage.datasources.base.EntityUpdate`:

* ``raise_alarm``: upsert of the deduced alarm vertex (key
  ``ALARM:vitrage:<alarm_name>:<target vitrage_id>``; category ALARM,
  type ``vitrage``, ``name``, ``severity``, ``state: Active``,
  ``resource_id`` and ``vitrage_resource_id/type/project_id`` from the
  target) with an ``on`` edge to the target. ``clear_alarm``: its
  deletion.
* ``set_state`` / ``unset_state``, ``mark_down`` / ``unmark_down``: an
  update of the target addressed by vertex id that carries only the
  changed property (None removes it).
* ``add_causal`` / ``remove_causal``: a relationship update of one end
  that adds / retires the ``causes`` edge to the other end.

An edge needs the entity key of one of its ends (the processor addresses
neighbours by key). The evaluator sends the keys it can derive; when it
can derive neither, the event is refused with a clear error.
"""
from vitrage.common.constants import AlarmState
from vitrage.common.constants import Category
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import TransformerBase
from vitrage.evaluator import events as ev

# Whether the processor can address a neighbour by vertex id (a proposed
# ``Neighbor.vertex_id`` field); until then a key is required.
_NEIGHBOR_BY_ID = 'vertex_id' in getattr(Neighbor, '__dataclass_fields__',
                                         {})


def _neighbor(key: str | None, vertex_id: str, label: str,
              outgoing: bool) -> Neighbor | None:
    """A neighbour that exists already (so nothing about it changes)."""
    if key is not None:
        return Neighbor(key, label, outgoing, {}, True)
    if _NEIGHBOR_BY_ID:       # pragma: no cover - needs processor support
        return Neighbor(None, label, outgoing, {}, True,
                        vertex_id=vertex_id)
    return None


class EvaluatorTransformer(TransformerBase):
    """Action events of the evaluator -> entity updates."""

    category = Category.ALARM

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one action event into an update.

        :param event: an action event dict.
        :raises vitrage.common.exceptions.MalformedEvent: unknown action,
            missing field, or an edge whose ends both lack a key.
        """
        action = ev.ActionEvent.from_dict(event)
        handler = getattr(self, '_' + action.action)
        return handler(action)

    # -- alarms -------------------------------------------------------
    def _raise_alarm(self, a: ev.ActionEvent) -> EntityUpdate:
        props = {
            Prop.CATEGORY: Category.ALARM,
            Prop.TYPE: ev.VITRAGE_DATASOURCE,
            Prop.DATASOURCE_NAME: ev.VITRAGE_DATASOURCE,
            Prop.NAME: a.alarm_name,
            Prop.SEVERITY: a.severity,
            Prop.STATE: AlarmState.ACTIVE,
            'resource_id': a.target_id,
            Prop.RESOURCE_ID: a.target_id,
            Prop.RESOURCE_TYPE: a.target_type,
            Prop.RESOURCE_PROJECT_ID: a.target_project_id,
            Prop.SAMPLE_TIMESTAMP: a.sample_date,
            Prop.UPDATE_TIMESTAMP: a.sample_date,
        }
        neighbors = []
        target = _neighbor(a.target_key, a.target_id, EdgeLabel.ON, True)
        if target is not None:
            neighbors.append(target)
        else:
            raise exceptions.MalformedEvent(
                'raise_alarm %r: the entity key of target %s is unknown, '
                'so the "on" edge cannot be made' % (a.alarm_name,
                                                     a.target_id))
        return EntityUpdate(a.alarm_key, GraphAction.UPDATE_ENTITY, props,
                            neighbors)

    def _clear_alarm(self, a: ev.ActionEvent) -> EntityUpdate:
        return EntityUpdate(a.alarm_key, GraphAction.DELETE_ENTITY,
                            {Prop.SAMPLE_TIMESTAMP: a.sample_date})

    # -- target properties ---------------------------------------------
    @staticmethod
    def _set(a: ev.ActionEvent, prop: str, value) -> EntityUpdate:
        return EntityUpdate(None, GraphAction.UPDATE_ENTITY,
                            {prop: value, Prop.SAMPLE_TIMESTAMP:
                             a.sample_date}, vertex_id=a.target_id)

    def _set_state(self, a: ev.ActionEvent) -> EntityUpdate:
        return self._set(a, Prop.VITRAGE_STATE, a.state)

    def _unset_state(self, a: ev.ActionEvent) -> EntityUpdate:
        return self._set(a, Prop.VITRAGE_STATE, None)

    def _mark_down(self, a: ev.ActionEvent) -> EntityUpdate:
        return self._set(a, Prop.IS_MARKED_DOWN, True)

    def _unmark_down(self, a: ev.ActionEvent) -> EntityUpdate:
        return self._set(a, Prop.IS_MARKED_DOWN, False)

    # -- causal edges ----------------------------------------------------
    def _causal(self, a: ev.ActionEvent, action: str) -> EntityUpdate:
        props = {Prop.SAMPLE_TIMESTAMP: a.sample_date}
        to_target = _neighbor(a.target_key, a.target_id, EdgeLabel.CAUSES,
                              True)
        if to_target is not None:
            return EntityUpdate(None, action, props, [to_target],
                                vertex_id=a.source_id)
        to_source = _neighbor(a.source_key, a.source_id, EdgeLabel.CAUSES,
                              False)
        if to_source is not None:
            return EntityUpdate(None, action, props, [to_source],
                                vertex_id=a.target_id)
        raise exceptions.MalformedEvent(
            '%s %s -> %s: the entity key of neither end is known' % (
                a.action, a.source_id, a.target_id))

    def _add_causal(self, a: ev.ActionEvent) -> EntityUpdate:
        return self._causal(a, GraphAction.UPDATE_RELATIONSHIP)

    def _remove_causal(self, a: ev.ActionEvent) -> EntityUpdate:
        return self._causal(a, GraphAction.DELETE_RELATIONSHIP)
