"""The scenario evaluator: graph changes in, action events out.

:class:`ScenarioEvaluator` is a processor listener. While the processor
applies events it only records which vertices changed; :meth:`evaluate`
then re-evaluates the scenarios around those vertices
(:mod:`vitrage.evaluator.matcher`) and returns action events
(:mod:`vitrage.evaluator.events`) for the processor to apply, whose
changes the evaluator sees in turn (chained scenarios). :func:`settle`
runs that loop until nothing more happens.

Overlap (templates.md section 8.2). Each *firing* is (scenario, action,
match). Firings that do the same thing to the same vertex are *similar*:
same action kind and target (+ source for causal edges, + alarm name
for deduced alarms). The registry keeps every active firing by similar
key; only the dominant one (highest severity / state priority, the
earliest on ties) is applied. When it goes, the next one is applied, and
the effect is undone only with the last one. Events are computed from
the net change of each similar key over one evaluation step, so
identical actions of one step are executed once.
"""
from collections.abc import Iterable
import dataclasses
import itertools
from typing import Any

from vitrage.common.constants import Category
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.datasources.base import make_key
from vitrage.datasources.base import vitrage_id
from vitrage.evaluator import events as ev
from vitrage.evaluator.functions import attr_references
from vitrage.evaluator.functions import evaluate as resolve
from vitrage.evaluator.matcher import Binding
from vitrage.evaluator.matcher import EdgeChange
from vitrage.evaluator.matcher import match_key
from vitrage.evaluator.matcher import MatchKey
from vitrage.evaluator.matcher import ScenarioMatcher
from vitrage.evaluator.matcher import type_index
from vitrage.evaluator.model import ActionSpec
from vitrage.evaluator.model import Scenario
from vitrage.evaluator.model import TemplateDef
from vitrage.graph import driver as graph_driver
from vitrage.graph.driver import EntityGraph
from vitrage.graph.states import StateNormalizer

# Registry kinds (template action types, add_causal for both
# add_causal_relationship and raise_alarm's causing_alarm).
RAISE = 'raise_alarm'
SET_STATE = 'set_state'
CAUSAL = 'add_causal'
MARK_DOWN = 'mark_down'
MISTRAL = 'execute_mistral'

# (kind, target vertex id, source vertex id or None, alarm name or None)
SimilarKey = tuple[str, str, str | None, str | None]

_DO = {RAISE: ev.RAISE_ALARM, SET_STATE: ev.SET_STATE,
       CAUSAL: ev.ADD_CAUSAL, MARK_DOWN: ev.MARK_DOWN}
_UNDO = {RAISE: ev.CLEAR_ALARM, SET_STATE: ev.UNSET_STATE,
         CAUSAL: ev.REMOVE_CAUSAL, MARK_DOWN: ev.UNMARK_DOWN}
_ORDER = {a: i for i, a in enumerate(ev.UNDO_ACTIONS + ev.DO_ACTIONS)}
# Changes of these properties alone never change a match.
_VOLATILE = frozenset((Prop.SAMPLE_TIMESTAMP, Prop.UPDATE_TIMESTAMP))
# Looked at by the evaluator whatever the templates say: liveness, the
# kind of a vertex, and what deduced alarms copy from their target.
_ALWAYS_WATCHED = frozenset((Prop.IS_DELETED, Prop.IS_PLACEHOLDER,
                             Prop.CATEGORY, Prop.TYPE, Prop.PROJECT_ID))


class EvaluationLoopError(exceptions.VitrageError):
    """Action events keep causing more action events (scenario cycle)."""


@dataclasses.dataclass(slots=True)
class Firing:
    """One active (scenario, action, match) and its resolved properties."""

    scenario_id: str
    action_id: str
    match: MatchKey
    properties: dict[str, Any]
    score: int
    seq: int

    @property
    def ident(self) -> tuple[str, str, MatchKey]:
        return self.scenario_id, self.action_id, self.match


def _live(vertex: dict | None) -> bool:
    return vertex is not None and not vertex.get(Prop.IS_DELETED) and \
        not vertex.get(Prop.IS_PLACEHOLDER)


def _differs(before: dict | None, after: dict | None) -> bool:
    if before is None or after is None:
        return True
    keys = (before.keys() | after.keys()) - _VOLATILE
    return any(before.get(k) != after.get(k) for k in keys)


class ScenarioEvaluator:
    """Evaluates the scenarios of standard templates on the graph.

    Call :meth:`evaluate_all` once the initial snapshots are in (before
    that, changes are not even recorded, templates.md section 8.2), then
    :meth:`evaluate` after each batch of processed events.
    """

    def __init__(self, graph: EntityGraph, templates: list[TemplateDef],
                 states: StateNormalizer) -> None:
        """
        :param graph: the entity graph (read only: changes are returned
            as action events).
        :param templates: loaded standard templates.
        :param states: ranks severities and states of similar actions.
        """
        self.graph = graph
        self.states = states
        self.active = False
        self.external_actions: list[ev.ExternalAction] = []
        self._templates: dict[str, TemplateDef] = {}
        self._matchers: dict[str, ScenarioMatcher] = {}
        self._negative_labels: frozenset[str] = frozenset()
        self._entity_index: dict[tuple, list] = {}
        self._watched: frozenset[str] = frozenset()
        self._relationship_index: dict[str, list] = {}
        self._touched: set[str] = set()
        self._edges: set[EdgeChange] = set()
        self._affected: set[str] = set()
        # scenario id -> match key -> [(similar key, firing)]
        self._matches: dict[str, dict[MatchKey, list]] = {}
        self._by_vertex: dict[str, set[tuple[str, MatchKey]]] = {}
        self._holders: dict[SimilarKey, list[Firing]] = {}
        self._applied: dict[SimilarKey, Firing] = {}
        self._dirty: set[SimilarKey] = set()
        self._alarm_keys: dict[str, str] = {}
        self._seq = itertools.count()
        for template in templates:
            self._register(template)

    def reset(self, graph: EntityGraph) -> None:
        """Forget every match and look at ``graph`` from now on (a graph
        swapped in from a snapshot); inactive until :meth:`evaluate_all`.
        """
        self.graph = graph
        self.active = False
        self._touched = set()
        self._edges = set()
        self._affected = set()
        self._matches = {sid: {} for sid in self._matchers}
        self._matchers = {sid: ScenarioMatcher(graph, m.scenario)
                          for sid, m in self._matchers.items()}
        self._update_labels()
        self._by_vertex = {}
        self._holders = {}
        self._applied = {}
        self._dirty = set()
        self._alarm_keys = {}

    @property
    def template_names(self) -> list[str]:
        """The templates evaluated, in the order they were added."""
        return list(self._templates)

    # -- templates ----------------------------------------------------
    @property
    def scenarios(self) -> list[Scenario]:
        return [m.scenario for m in self._matchers.values()]

    def _register(self, template: TemplateDef) -> list[str]:
        if template.name in self._templates:
            raise exceptions.BadRequest(
                'template %r is already evaluated' % template.name)
        self._templates[template.name] = template
        added = []
        for scenario in template.scenarios:
            self._matchers[scenario.id] = ScenarioMatcher(self.graph,
                                                          scenario)
            self._matches[scenario.id] = {}
            added.append(scenario.id)
        self._update_labels()
        return added

    def _update_labels(self) -> None:
        """Index the scenarios: which labels are negated, which clause
        entities a vertex of a (category, type) may bind, which
        relationships an edge of a label may bind.
        """
        self._negative_labels = frozenset().union(
            *(m.negative_labels for m in self._matchers.values()))
        by_kind: dict[tuple, list] = {}
        by_label: dict[str, list] = {}
        for sid, matcher in self._matchers.items():
            for clause in matcher.clauses:
                for key, spec in clause.entities.items():
                    by_kind.setdefault(
                        (spec.category, spec.vitrage_type), []).append(
                        (sid, clause, key, spec))
                for rel in clause.positive:
                    by_label.setdefault(rel.label, []).append(
                        (sid, clause, rel))
        self._entity_index = by_kind
        self._relationship_index = by_label
        watched = set(_ALWAYS_WATCHED)
        for matcher in self._matchers.values():
            scenario = matcher.scenario
            for spec in scenario.entities.values():
                watched.update(prop for prop, _v in spec.constraints)
                watched.update(prop for prop, _v in spec.regexes)
            for action in scenario.actions:
                watched.update(ref.prop for ref in
                               attr_references(action.properties))
        self._watched = frozenset(watched)

    def _seeds(self, touched: set[str], edges: set[EdgeChange]
               ) -> dict[str, list]:
        """scenario id -> [(clause matcher, seed binding)] for the
        changed vertices and edges.
        """
        seeds: dict[str, list] = {}
        index = self._entity_index
        for vid in sorted(touched):
            vertex = self.graph.get_vertex(vid)
            if vertex is None:
                continue
            cat, typ = vertex.get(Prop.CATEGORY), vertex.get(Prop.TYPE)
            for kind in ((cat, typ), (cat, None), (None, typ),
                         (None, None)):
                for sid, clause, key, spec in index.get(kind, ()):
                    if spec.matches(vertex):
                        seeds.setdefault(sid, []).append(
                            (clause, {key: vid}))
        for edge in sorted(edges):
            src, dst, label = edge
            source = self.graph.get_vertex(src)
            target = self.graph.get_vertex(dst)
            if source is None or target is None:
                continue
            for sid, clause, rel in self._relationship_index.get(label, ()):
                if rel.source != rel.target:
                    seed = {rel.source: src, rel.target: dst}
                elif src == dst:
                    seed = {rel.source: src}
                else:
                    continue
                if clause.entities[rel.source].matches(source) and \
                        clause.entities[rel.target].matches(target):
                    seeds.setdefault(sid, []).append((clause, seed))
        return seeds

    def add_templates(self, templates: Iterable[TemplateDef]
                      ) -> list[dict]:
        """Start evaluating templates; returns the events of their
        matches (none before :meth:`evaluate_all`).

        :raises vitrage.common.exceptions.BadRequest: a template of that
            name is already evaluated.
        """
        added = []
        for template in templates:
            added.extend(self._register(template))
        if not self.active:
            return []
        index = type_index(self.graph)
        for sid in added:
            self._reconcile(sid, self._matchers[sid].match_all(index), None)
        return self._flush(set())

    def remove_templates(self, names: Iterable[str]) -> list[dict]:
        """Stop evaluating templates and undo their actions.

        :param names: template names; unknown ones are ignored.
        """
        for name in names:
            template = self._templates.pop(name, None)
            if template is None:
                continue
            for scenario in template.scenarios:
                for key in list(self._matches.get(scenario.id, ())):
                    self._unfire(scenario.id, key)
                self._matches.pop(scenario.id, None)
                self._matchers.pop(scenario.id, None)
        self._update_labels()
        return self._flush(set())

    # -- listener -----------------------------------------------------
    def vertex_changed(self, vertex_id: str, before: dict | None,
                       after: dict | None) -> None:
        """Record a vertex change (processor listener).

        A live vertex whose change touches no property a scenario looks
        at (e.g. a state the evaluator set) changes no match.
        """
        if not self.active or not _differs(before, after):
            return
        if _live(before) and _live(after) and all(
                before.get(k) == after.get(k) for k in self._watched):
            return
        self._touched.add(vertex_id)
        if self._negative_labels:
            # A vertex matching a negative-only entity affects the
            # matches of the vertices it is linked to.
            for src, dst, label, _data in self.graph.edges(vertex_id):
                if label in self._negative_labels:
                    self._touched.add(dst if src == vertex_id else src)

    def edge_changed(self, source_id: str, target_id: str, label: str,
                     before: dict | None, after: dict | None) -> None:
        """Record an edge change (processor listener).

        The edge seeds the relationships of its label; matches binding
        its ends are checked again. An edge of a label that some
        scenario negates seeds its ends as vertices (a removed edge can
        make a negative condition true around them).
        """
        if not self.active:
            return
        if not _differs(before, after):
            return
        if label in self._negative_labels:
            self._touched.add(source_id)
            self._touched.add(target_id)
            return
        self._edges.add((source_id, target_id, label))
        self._affected.add(source_id)
        self._affected.add(target_id)

    # -- evaluation -----------------------------------------------------
    def evaluate_all(self) -> list[dict]:
        """Evaluate every scenario on the whole graph (the first "do"
        pass); also undoes registered firings that no longer match and
        clears deduced leftovers nothing holds (a restored graph).
        """
        self.active = True
        self._touched = set()
        self._edges = set()
        self._affected = set()
        if self._matchers:
            index = type_index(self.graph)
            for sid, matcher in self._matchers.items():
                self._reconcile(sid, matcher.match_all(index), None)
        return self._flush(None, leftover_alarms=True)

    def evaluate(self) -> list[dict]:
        """Re-evaluate the scenarios around the recorded changes.

        :returns: action event dicts, undo events first.
        """
        touched, self._touched = self._touched, set()
        edges, self._edges = self._edges, set()
        affected, self._affected = self._affected, set()
        if not touched and not edges:
            return []
        found: dict[str, dict[MatchKey, Binding]] = {}
        for sid, seeds in self._seeds(touched, edges).items():
            matches = found[sid] = {}
            for clause, seed in seeds:
                for binding in clause.matches(seed):
                    matches.setdefault(match_key(binding), binding)
        stale: dict[str, set[MatchKey]] = {}
        for vid in touched | affected:
            for sid, key in self._by_vertex.get(vid, ()):
                stale.setdefault(sid, set()).add(key)
        for sid in self._matchers:
            if sid in found or sid in stale:
                self._reconcile(sid, found.get(sid, {}),
                                stale.get(sid, set()))
        return self._flush(touched)

    def take_external_actions(self) -> list[ev.ExternalAction]:
        """The ``execute_mistral`` firings to run since the last call."""
        found, self.external_actions = self.external_actions, []
        return found

    def active_actions(self) -> dict[SimilarKey, list[Firing]]:
        """A copy of the registry: similar key -> firings, dominant
        first.
        """
        return {key: sorted(firings, key=self._rank)
                for key, firings in self._holders.items()}

    # -- registry -------------------------------------------------------
    def _reconcile(self, sid: str, found: dict[MatchKey, Binding],
                   candidates: set[MatchKey] | None) -> None:
        """Fire the new matches of ``found``, refresh the others, and
        unfire the stale ones: every active match not found (a full
        evaluation, ``candidates`` None), or the ``candidates`` (active
        matches binding a changed vertex or an end of a changed edge)
        not found that no longer hold.
        """
        active = self._matches[sid]
        matcher = self._matchers[sid]
        if candidates is None:
            stale = [k for k in active if k not in found]
        else:
            # Found around a changed vertex it binds, a match would have
            # been found again; one that binds only the ends of a changed
            # edge may still hold.
            stale = [k for k in sorted(candidates)
                     if k not in found and k in active and
                     not matcher.holds(dict(k))]
        for key in stale:
            self._unfire(sid, key)
        scenario = matcher.scenario
        for key in sorted(found):
            if key in active:
                self._refresh(scenario, key, found[key])
            else:
                self._fire(scenario, key, found[key])

    def _fire(self, scenario: Scenario, key: MatchKey,
              binding: Binding) -> None:
        records = []
        for action in scenario.actions:
            for similar, props, score in self._resolve(action, binding):
                firing = Firing(scenario.id, action.id, key, props, score,
                                next(self._seq))
                self._holders.setdefault(similar, []).append(firing)
                self._dirty.add(similar)
                records.append((similar, firing))
        self._matches[scenario.id][key] = records
        for vid in binding.values():
            self._by_vertex.setdefault(vid, set()).add((scenario.id, key))

    def _refresh(self, scenario: Scenario, key: MatchKey,
                 binding: Binding) -> None:
        """A match that still holds: its get_attr values may have
        changed.
        """
        records = self._matches[scenario.id][key]
        fresh = [r for action in scenario.actions
                 for r in self._resolve(action, binding)]
        if [(s, p) for s, p, _score in fresh] == \
                [(s, f.properties) for s, f in records]:
            return
        self._unfire(scenario.id, key)
        self._fire(scenario, key, binding)

    def _unfire(self, sid: str, key: MatchKey) -> None:
        records = self._matches[sid].pop(key, [])
        for similar, firing in records:
            holders = self._holders.get(similar, [])
            holders[:] = [f for f in holders if f.ident != firing.ident]
            if not holders:
                self._holders.pop(similar, None)
            self._dirty.add(similar)
        for _entity, vid in key:
            refs = self._by_vertex.get(vid)
            if refs is not None:
                refs.discard((sid, key))
                if not refs:
                    del self._by_vertex[vid]

    def _resolve(self, action: ActionSpec, binding: Binding
                 ) -> list[tuple[SimilarKey, dict, int]]:
        """The similar keys, resolved properties and scores of one
        action for one match.
        """
        vertices = {e: self.graph.get_vertex(v) for e, v in binding.items()}
        props = resolve(action.properties, vertices)
        target = binding.get(action.target)
        if target is None:
            return []
        if action.type == RAISE:
            name = str(props.get('alarm_name'))
            severity = str(props.get('severity'))
            result = [((RAISE, target, None, name),
                       {'alarm_name': name, 'severity': severity},
                       self.states.value_priority(ev.VITRAGE_DATASOURCE,
                                                  severity))]
            causing = props.get('causing_alarm')
            if causing is not None:
                key = ev.deduced_alarm_key(name, target)
                alarm_id = vitrage_id(key)
                self._alarm_keys[alarm_id] = key
                result.append(((CAUSAL, alarm_id, str(causing), None),
                               {}, 0))
            return result
        if action.type == SET_STATE:
            state = str(props.get('state'))
            vtype = vertices[action.target].get(Prop.TYPE)
            return [((SET_STATE, target, None, None), {'state': state},
                     self.states.value_priority(vtype, state))]
        if action.type == 'add_causal_relationship':
            source = binding.get(action.source)
            if source is None:
                return []
            return [((CAUSAL, target, source, None), {}, 0)]
        if action.type == MARK_DOWN:
            return [((MARK_DOWN, target, None, None), {}, 0)]
        if action.type == MISTRAL:
            return [((MISTRAL, target, None, None),
                     {'workflow': props.get('workflow'),
                      'input': props.get('input') or {}}, 0)]
        raise exceptions.VitrageError(
            'scenario action %s has unknown type %r' % (action.id,
                                                        action.type))

    @staticmethod
    def _rank(firing: Firing) -> tuple[int, int]:
        return -firing.score, firing.seq

    # -- events -------------------------------------------------------
    def _flush(self, touched: set[str] | None,
               leftover_alarms: bool = False) -> list[dict]:
        """The action events that bring the graph to what the firings
        hold, and undo leftovers on ``touched`` (None: every vertex).
        """
        dirty, self._dirty = self._dirty, set()
        found = []
        for similar in dirty:
            holders = self._holders.get(similar)
            applied = self._applied.get(similar)
            if not holders:
                if applied is not None:
                    del self._applied[similar]
                    if similar[0] != MISTRAL:     # nothing to undo
                        found.append(self._undo(similar))
                continue
            dominant = min(holders, key=self._rank)
            if similar[0] == MISTRAL:
                if applied is None or applied.ident != dominant.ident:
                    self._applied[similar] = dominant
                    self._external(similar, dominant)
                continue
            if (applied is None or applied.properties !=
                    dominant.properties) and \
                    not self._in_effect(similar, dominant):
                found.append(self._do(similar, dominant))
            self._applied[similar] = dominant
        found.extend(self._leftovers(touched, leftover_alarms))
        unique = {}
        for event in found:
            if event is not None:
                unique.setdefault((event.action, event.target_id,
                                   event.source_id, event.alarm_name), event)
        found = list(unique.values())
        found.sort(key=lambda e: (_ORDER[e.action], e.target_id,
                                  e.source_id or '', e.alarm_name or ''))
        return [e.to_dict() for e in found]

    def _leftovers(self, touched: set[str] | None, alarms: bool
                   ) -> list[ev.ActionEvent]:
        """Deduced effects on touched live vertices (None: every vertex)
        that no firing holds (a vertex deleted while deduced, then
        re-created; a restored graph).
        """
        found = []
        get = self.graph.get_vertex
        if touched is None:
            vertices = ((v[Prop.VITRAGE_ID], v)
                        for v in self.graph.vertices())
        else:
            vertices = ((vid, get(vid)) for vid in touched)
        candidates = []
        for vid, vertex in vertices:
            # Only these can carry a deduced effect (causal edges join
            # alarms).
            if vertex is not None and (
                    vertex.get(Prop.VITRAGE_STATE) is not None or
                    vertex.get(Prop.IS_MARKED_DOWN) or
                    vertex.get(Prop.CATEGORY) == Category.ALARM):
                candidates.append(vid)
        for vid in sorted(candidates):
            vertex = get(vid)
            if not _live(vertex):
                continue
            if vertex.get(Prop.VITRAGE_STATE) is not None and \
                    (SET_STATE, vid, None, None) not in self._applied:
                found.append(self._event(ev.UNSET_STATE, vid))
            if vertex.get(Prop.IS_MARKED_DOWN) and \
                    (MARK_DOWN, vid, None, None) not in self._applied:
                found.append(self._event(ev.UNMARK_DOWN, vid))
            if alarms and vertex.get(Prop.CATEGORY) == Category.ALARM \
                    and vertex.get(Prop.TYPE) == ev.VITRAGE_DATASOURCE:
                name = vertex.get(Prop.NAME)
                target = vertex.get('resource_id')
                if (RAISE, target, None, name) not in self._applied:
                    event = self._event(ev.CLEAR_ALARM, target)
                    event.alarm_name = name
                    found.append(event)
            if alarms and self._kept(vertex):
                for _src, dst, _label, data in self.graph.edges(
                        vid, graph_driver.OUT, EdgeLabel.CAUSES):
                    if data.get(Prop.IS_DELETED) or \
                            (CAUSAL, dst, vid, None) in self._applied:
                        continue
                    if self._kept(self.graph.get_vertex(dst)):
                        event = self._event(ev.REMOVE_CAUSAL, dst)
                        event.source_id = vid
                        event.source_key = self.key_of(vid)
                        event.target_key = self.key_of(dst)
                        found.append(event)
        return found

    def _in_effect(self, similar: SimilarKey, firing: Firing) -> bool:
        """Whether the graph shows the firing's effect already (a graph
        restored with its deduced alarms, states and edges): then there
        is nothing to do.
        """
        kind, target_id, source_id, name = similar
        if kind == RAISE:
            alarm = self.graph.get_vertex(vitrage_id(
                ev.deduced_alarm_key(name, target_id)))
            return _live(alarm) and \
                alarm.get(Prop.SEVERITY) == firing.properties['severity']
        if kind == CAUSAL:
            edge = self.graph.get_edge(source_id, target_id,
                                       EdgeLabel.CAUSES)
            return edge is not None and not edge.get(Prop.IS_DELETED)
        target = self.graph.get_vertex(target_id)
        if not _live(target):
            return False
        if kind == SET_STATE:
            return target.get(Prop.VITRAGE_STATE) == \
                firing.properties['state']
        if kind == MARK_DOWN:
            return bool(target.get(Prop.IS_MARKED_DOWN))
        return False

    def _kept(self, vertex: dict | None) -> bool:
        """Live, and not a deduced alarm nothing holds (which is cleared
        with its edges).
        """
        if not _live(vertex):
            return False
        if vertex.get(Prop.CATEGORY) == Category.ALARM and \
                vertex.get(Prop.TYPE) == ev.VITRAGE_DATASOURCE:
            return (RAISE, vertex.get('resource_id'), None,
                    vertex.get(Prop.NAME)) in self._applied
        return True

    def _event(self, action: str, target_id: str,
               sample_date: str | None = None) -> ev.ActionEvent:
        return ev.ActionEvent(action, sample_date or timeutils.sample_now(),
                              target_id)

    def _do(self, similar: SimilarKey, firing: Firing
            ) -> ev.ActionEvent | None:
        kind, target_id, source_id, _name = similar
        target = self.graph.get_vertex(target_id)
        event = self._event(_DO[kind], target_id)
        event.scenario_id = firing.scenario_id
        event.action_id = firing.action_id
        if kind == RAISE:
            if not _live(target):
                return None
            event.alarm_name = firing.properties['alarm_name']
            event.severity = firing.properties['severity']
            event.target_key = self.key_of(target_id)
            event.target_type = target.get(Prop.TYPE)
            event.target_project_id = target.get(Prop.PROJECT_ID)
            self._alarm_keys[vitrage_id(event.alarm_key)] = event.alarm_key
        elif kind == CAUSAL:
            event.source_id = source_id
            event.source_key = self.key_of(source_id)
            event.target_key = self.key_of(target_id)
        else:
            if not _live(target):
                return None
            # The target's own timestamp: never stale, and it does not
            # make later datasource events look old.
            event.sample_date = target.get(Prop.SAMPLE_TIMESTAMP) or \
                event.sample_date
            if kind == SET_STATE:
                event.state = firing.properties['state']
        return event

    def _undo(self, similar: SimilarKey) -> ev.ActionEvent | None:
        kind, target_id, source_id, name = similar
        target = self.graph.get_vertex(target_id)
        event = self._event(_UNDO[kind], target_id)
        if kind == RAISE:
            event.alarm_name = name
            if not _live(self.graph.get_vertex(vitrage_id(
                    event.alarm_key))):
                return None
            return event
        if not _live(target):
            return None   # deleted with its vertex (edges included)
        if kind == CAUSAL:
            edge = self.graph.get_edge(source_id, target_id,
                                       EdgeLabel.CAUSES)
            if edge is None or edge.get(Prop.IS_DELETED):
                return None
            event.source_id = source_id
            event.source_key = self.key_of(source_id)
            event.target_key = self.key_of(target_id)
            return event
        event.sample_date = target.get(Prop.SAMPLE_TIMESTAMP) or \
            event.sample_date
        return event

    def _external(self, similar: SimilarKey, firing: Firing) -> None:
        self.external_actions.append(ev.ExternalAction(
            firing.properties['workflow'], firing.properties['input'],
            similar[1], firing.scenario_id, firing.action_id))

    def key_of(self, vertex_id: str) -> str | None:
        """The entity key of a vertex when it can be derived (deduced
        alarms, ``CATEGORY:type:id`` keys), checked against its id.
        """
        key = self._alarm_keys.get(vertex_id)
        if key is not None:
            return key
        vertex = self.graph.get_vertex(vertex_id)
        if vertex is None:
            return None
        candidates = []
        if vertex.get(Prop.TYPE) == ev.VITRAGE_DATASOURCE and \
                vertex.get(Prop.CATEGORY) == Category.ALARM:
            candidates.append(ev.deduced_alarm_key(
                vertex.get(Prop.NAME), vertex.get('resource_id')))
        if vertex.get(Prop.ID) is not None:
            candidates.append(make_key(vertex.get(Prop.CATEGORY),
                                       vertex.get(Prop.TYPE),
                                       vertex.get(Prop.ID)))
        for key in candidates:
            if vitrage_id(key) == vertex_id:
                return key
        return None


def settle(processor: Any, evaluator: ScenarioEvaluator,
           events: list[dict] | None = None, max_rounds: int = 32
           ) -> list[dict]:
    """Apply action events until the evaluator has nothing more to do.

    :param processor: a :class:`vitrage.graph.processor.Processor` the
        evaluator listens to.
    :param evaluator: the evaluator.
    :param events: action events to apply first (e.g. the result of
        :meth:`ScenarioEvaluator.evaluate_all`); when None, starts with
        :meth:`ScenarioEvaluator.evaluate`.
    :param max_rounds: how many rounds before giving up.
    :returns: every action event applied, in order.
    :raises EvaluationLoopError: still producing events after
        ``max_rounds`` rounds (scenarios that feed each other forever).
    """
    applied = []
    pending = evaluator.evaluate() if events is None else events
    for _round in range(max_rounds):
        if not pending:
            return applied
        # A malformed action event is logged and skipped by the
        # processor; the others still apply.
        processor.process_events(pending)
        applied.extend(pending)
        pending = evaluator.evaluate()
    if pending:
        raise EvaluationLoopError(
            'scenario actions still change the graph after %d rounds'
            % max_rounds)
    return applied
