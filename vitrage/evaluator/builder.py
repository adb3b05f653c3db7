"""Turning checked template parts into :class:`~.model.Scenario` objects.

Shared by every version's loader: it is the "trial load" step of the
validation pipeline, where the clauses' common entities (code 135) and
the action targets are checked.
"""
from collections.abc import Callable
import dataclasses
from typing import Any

from oslo_log import log

from vitrage.common.constants import Category
from vitrage.common.constants import Prop
from vitrage.evaluator import condition
from vitrage.evaluator import functions
from vitrage.evaluator import model
from vitrage.evaluator import regex
from vitrage.evaluator import status
from vitrage.evaluator.status import TemplateValidationError

LOG = log.getLogger(__name__)

# target_error(role, key, detail) -> the error for an unusable target.
TargetError = Callable[[str, str, str], TemplateValidationError]


@dataclasses.dataclass(slots=True)
class RawAction:
    """An action after syntax checks, before the trial load.

    ``properties`` are strings (or an ``input`` mapping); ``causing_alarm``
    is still an entity key here.
    """

    type: str
    target: str | None
    source: str | None = None
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(slots=True)
class CheckedCondition:
    """A parsed condition whose NOT rules hold."""

    text: str
    expr: model.Expr
    relationships: dict[str, model.RelationshipSpec]
    clauses: tuple[model.Clause, ...]


def check_condition(text: str, parsed: condition.ParsedCondition,
                    relationships: dict[str, model.RelationshipSpec]
                    ) -> CheckedCondition:
    """DNF of a parsed condition, with the NOT rules applied (86, 134).

    :param relationships: every relationship the condition may use (v3:
        those of its own terms; v1/v2: the template's).
    """
    dnf = condition.to_dnf(parsed.expr)
    clauses = condition.build_clauses(dnf, relationships, text)
    return CheckedCondition(text, parsed.expr, relationships, clauses)


def compile_regex(key: str, constraints: dict[str, str]) -> model.EntitySpec:
    """The entity spec of template entity ``key``.

    :raises TemplateValidationError: 47, a ``.regex`` value that is not
        a valid regular expression or uses a construct that needs
        backtracking (named in the message; see
        :mod:`vitrage.evaluator.regex`).
    """
    for prop, pattern in constraints.items():
        if not model.is_regex_key(prop):
            continue
        try:
            regex.compile_pattern(pattern)
        except regex.TemplateRegexError as e:
            raise TemplateValidationError(
                47, '%s of entity %r: %s' % (prop, key, e)) from e
    return model.EntitySpec.from_template(key, constraints)


def build_scenario(template_name: str, index: int,
                   checked: CheckedCondition,
                   entities: dict[str, model.EntitySpec],
                   actions: list[RawAction],
                   target_error: TargetError) -> model.Scenario:
    """The scenario ``<template_name>-scenario<index>``.

    :raises TemplateValidationError: 135 (no common entity), or
        ``target_error(...)`` for a target/source the condition does not
        bind in every clause.
    """
    scenario_id = '%s-scenario%d' % (template_name, index)
    common = condition.common_entities(checked.clauses)
    if not common:
        raise TemplateValidationError(135, 'in condition %r' % checked.text)
    specs = []
    for i, raw in enumerate(actions):
        specs.append(_build_action('%s-action%d' % (scenario_id, i), raw,
                                   common, checked.clauses, entities,
                                   target_error))
    used: list[str] = []

    def use(key: str | None) -> None:
        if key is not None and key in entities and key not in used:
            used.append(key)

    for clause in checked.clauses:
        for key in clause.entities + clause.negative_only_entities:
            use(key)
    for spec in specs:
        use(spec.target)
        use(spec.source)
        for ref in functions.attr_references(spec.properties):
            use(ref.entity)
    rel_keys = []
    for clause in checked.clauses:
        for key in clause.relationships + clause.negative_relationships:
            if key not in rel_keys:
                rel_keys.append(key)
    return model.Scenario(
        id=scenario_id, template_name=template_name,
        entities={k: entities[k] for k in used},
        relationships={k: checked.relationships[k] for k in rel_keys},
        condition=checked.expr, clauses=checked.clauses,
        actions=tuple(specs))


def _build_action(action_id: str, raw: RawAction, common: list[str],
                  clauses: tuple[model.Clause, ...],
                  entities: dict[str, model.EntitySpec],
                  target_error: TargetError) -> model.ActionSpec:
    """One action of a scenario.

    A target or source must appear in the condition. As in the retired
    project, it need not be bound by every clause: the action runs for
    the matches of the clauses that bind it (an entity only in some
    clauses of an ``or``, or positive only through a double ``not``).
    One that no clause binds (it only occurs in negative terms) is
    accepted with a warning: the action never runs.
    """
    target = raw.target
    if target is None and raw.type == status.ACTION_EXECUTE_MISTRAL:
        target = common[0]
    bound = {key for clause in clauses for key in clause.entities}
    mentioned = bound | {key for clause in clauses
                         for key in clause.negative_only_entities}
    for role, key in (('target', target), ('source', raw.source)):
        if key is None:
            continue
        if key not in mentioned:
            raise target_error(
                role, key, '%r does not appear in the condition' % key)
        if key not in bound:
            LOG.warning('%s: the %s %r occurs only in negative terms of '
                        'the condition, so no match binds it and the '
                        'action never runs', action_id, role, key)
    properties = functions.compile_value(dict(raw.properties))
    causing = properties.get('causing_alarm')
    if isinstance(causing, str):
        properties['causing_alarm'] = functions.GetAttr(causing,
                                                        Prop.VITRAGE_ID)
    if raw.type == status.ACTION_ADD_CAUSAL_RELATIONSHIP:
        for key in (raw.source, target):
            category = entities[key].category
            if category is not None and category != Category.ALARM:
                LOG.warning('%s: add_causal_relationship links %r, which '
                            'is not an ALARM entity', action_id, key)
    return model.ActionSpec(action_id, raw.type, target, raw.source,
                            properties)
