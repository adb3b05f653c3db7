"""The typed, version-independent template model the evaluator runs.

Templates of versions 1, 2 and 3 all load into these classes
(:func:`vitrage.evaluator.load`):

* :class:`TemplateDef` - one standard template: its entities,
  relationships and :class:`Scenario` objects.
* :class:`Scenario` - the entities and relationships its condition uses,
  the condition (an :class:`And` / :class:`Or` / :class:`Not` /
  :class:`Atom` tree), the same condition in disjunctive normal form (a
  tuple of :class:`Clause`) and its :class:`ActionSpec` list.
* :class:`EntitySpec` / :class:`RelationshipSpec` - what a vertex / an
  edge must look like to match (templates.md sections 2 and 3).
* :class:`EquivalenceDef` - groups of interchangeable entities.

Everything is immutable; ``to_dict`` / ``from_dict`` give plain,
JSON-friendly dicts for storage and the wire.
"""
from collections.abc import Mapping
import dataclasses
from typing import Any
from typing import Union

from vitrage.common.constants import Prop
from vitrage.evaluator import functions
from vitrage.evaluator import regex

REGEX_SUFFIX = '.regex'

# Template keys that name a graph property under another name (section 2).
KEY_ALIASES: Mapping[str, str] = {
    'category': Prop.CATEGORY,
    'type': Prop.TYPE,
    'resource_id': Prop.RESOURCE_ID,
    'sample_timestamp': Prop.SAMPLE_TIMESTAMP,
    'is_deleted': Prop.IS_DELETED,
    'aggregated_state': Prop.AGGREGATED_STATE,
    'operational_state': Prop.OPERATIONAL_STATE,
    'aggregated_severity': Prop.AGGREGATED_SEVERITY,
    'operational_severity': Prop.OPERATIONAL_SEVERITY,
    'is_placeholder': Prop.IS_PLACEHOLDER,
}

Pairs = tuple[tuple[str, str], ...]


def is_regex_key(key: str) -> bool:
    return key.lower().endswith(REGEX_SUFFIX) and len(key) > len(REGEX_SUFFIX)


def graph_constraints(raw: Mapping[str, str]) -> tuple[Pairs, Pairs]:
    """Split template constraints into graph-named equality and regex pairs.

    Aliases apply to plain keys only; ``<prop>.regex`` keys give
    ``(prop, pattern)`` with ``prop`` verbatim. Both results are sorted.
    """
    plain = {}
    regexes = {}
    for key, value in raw.items():
        if is_regex_key(key):
            regexes[key[:-len(REGEX_SUFFIX)]] = value
        else:
            plain[KEY_ALIASES.get(key, key)] = value
    return tuple(sorted(plain.items())), tuple(sorted(regexes.items()))


def value_matches(actual: Any, expected: str) -> bool:
    """Whether a stored vertex/edge value equals a template string.

    Strings compare exactly (case-sensitive). Booleans and numbers, which
    templates can only spell as text, compare by their text (booleans
    case-insensitively: ``false`` and ``False`` both match False).
    """
    if isinstance(actual, str):
        return actual == expected
    if isinstance(actual, bool):
        return expected.lower() == ('true' if actual else 'false')
    if actual is None:
        return False
    return str(actual) == expected


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str)
                             and value.lower() == 'true')


def _compile_all(regexes: Pairs) -> tuple:
    return tuple((prop, regex.compile_pattern(pattern))
                 for prop, pattern in regexes)


@dataclasses.dataclass(frozen=True, slots=True)
class EntitySpec:
    """A template entity: constraints a graph vertex must satisfy.

    :ivar key: the v3 entity key or v1/v2 template_id.
    :ivar constraints: sorted ``(graph property, value)`` equality pairs,
        aliases applied (``category`` -> ``vitrage_category``...).
    :ivar regexes: sorted ``(graph property, pattern)`` pairs from
        ``<prop>.regex`` keys; matched at the start of the value, in
        linear time (:func:`vitrage.evaluator.regex.compile_pattern`).
    :raises vitrage.evaluator.regex.TemplateRegexError: a pattern that
        cannot be compiled.
    """

    key: str
    constraints: Pairs = ()
    regexes: Pairs = ()
    _compiled: tuple = dataclasses.field(default=(), init=False,
                                         repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, '_compiled', _compile_all(self.regexes))

    @classmethod
    def from_template(cls, key: str, raw: Mapping[str, str]) -> 'EntitySpec':
        """Build from template constraints (``{'type': 'nova.host'}``).

        :raises vitrage.evaluator.regex.TemplateRegexError: a ``.regex``
            value is not a valid pattern, or needs backtracking.
        """
        constraints, regexes = graph_constraints(raw)
        return cls(key, constraints, regexes)

    @property
    def properties(self) -> dict[str, str]:
        """The equality constraints as a dict (graph property names)."""
        return dict(self.constraints)

    @property
    def category(self) -> str | None:
        return self.properties.get(Prop.CATEGORY)

    @property
    def vitrage_type(self) -> str | None:
        return self.properties.get(Prop.TYPE)

    @property
    def signature(self) -> frozenset:
        """The constraint set, compared by equivalences (section 7)."""
        return frozenset(self.constraints) | frozenset(
            (prop + REGEX_SUFFIX, p) for prop, p in self.regexes)

    def matches(self, vertex: Mapping[str, Any]) -> bool:
        """Whether a graph vertex (its properties) matches this entity.

        Deleted vertices and placeholders never match.
        """
        if _is_true(vertex.get(Prop.IS_DELETED)) or _is_true(
                vertex.get(Prop.IS_PLACEHOLDER)):
            return False
        for prop, expected in self.constraints:
            if not value_matches(vertex.get(prop), expected):
                return False
        for prop, pattern in self._compiled:
            actual = vertex.get(prop)
            if actual is None:
                return False
            if not isinstance(actual, str):
                actual = str(actual)
            if not pattern.match(actual):
                return False
        return True

    def with_key(self, key: str) -> 'EntitySpec':
        return EntitySpec(key, self.constraints, self.regexes)

    def to_dict(self) -> dict[str, Any]:
        return {'key': self.key, 'properties': dict(self.constraints),
                'regex': dict(self.regexes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'EntitySpec':
        return cls(data['key'],
                   tuple(sorted(data.get('properties', {}).items())),
                   tuple(sorted(data.get('regex', {}).items())))


@dataclasses.dataclass(frozen=True, slots=True)
class RelationshipSpec:
    """A template relationship: edge ``source -[label]-> target``.

    :ivar key: ``"<source> [<label>] <target>"`` in every version (v1/v2
        add ``" {prop=value, ...}"`` for extra edge constraints), so the
        same relationship has the same key whatever the version.
    :ivar constraints: extra edge property constraints (v1/v2 only).
    """

    key: str
    source: str
    target: str
    label: str
    constraints: Pairs = ()

    def matches_edge(self, edge: Mapping[str, Any]) -> bool:
        """Whether an edge (its properties) is a live edge of this kind."""
        if _is_true(edge.get(Prop.IS_DELETED)):
            return False
        if edge.get(Prop.RELATIONSHIP_TYPE) != self.label:
            return False
        return all(value_matches(edge.get(prop), expected)
                   for prop, expected in self.constraints)

    def to_dict(self) -> dict[str, Any]:
        return {'key': self.key, 'source': self.source,
                'target': self.target, 'label': self.label,
                'properties': dict(self.constraints)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'RelationshipSpec':
        return cls(data['key'], data['source'], data['target'],
                   data['label'],
                   tuple(sorted(data.get('properties', {}).items())))


def relationship_key(source: str, label: str, target: str,
                     constraints: Pairs = ()) -> str:
    """The canonical key of a relationship (see RelationshipSpec)."""
    key = '%s [%s] %s' % (source, label, target)
    if constraints:
        key += ' {%s}' % ', '.join('%s=%s' % kv for kv in constraints)
    return key


# -- condition AST ---------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Atom:
    """A condition term: an entity key or a relationship key."""

    ref: str

    def __str__(self) -> str:
        return self.ref


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    operand: 'Expr'

    def __str__(self) -> str:
        return 'NOT %s' % _wrap(self.operand)


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    operands: tuple['Expr', ...]

    def __str__(self) -> str:
        return ' AND '.join(_wrap(o) for o in self.operands)


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    operands: tuple['Expr', ...]

    def __str__(self) -> str:
        return ' OR '.join(_wrap(o) for o in self.operands)


Expr = Union[Atom, Not, And, Or]


def _wrap(expr: Expr) -> str:
    return str(expr) if isinstance(expr, (Atom, Not)) else '(%s)' % expr


def expr_to_dict(expr: Expr) -> Any:
    if isinstance(expr, Atom):
        return {'atom': expr.ref}
    if isinstance(expr, Not):
        return {'not': expr_to_dict(expr.operand)}
    kind = 'and' if isinstance(expr, And) else 'or'
    return {kind: [expr_to_dict(o) for o in expr.operands]}


def expr_from_dict(data: Mapping[str, Any]) -> Expr:
    if 'atom' in data:
        return Atom(data['atom'])
    if 'not' in data:
        return Not(expr_from_dict(data['not']))
    if 'and' in data:
        return And(tuple(expr_from_dict(o) for o in data['and']))
    return Or(tuple(expr_from_dict(o) for o in data['or']))


@dataclasses.dataclass(frozen=True, slots=True)
class Clause:
    """One AND-clause of a condition in disjunctive normal form.

    :ivar entities: entity keys bound by the clause: positive entity terms
        and both ends of positive relationships (first appearance order).
    :ivar relationships: keys of the positive relationship terms.
    :ivar negative_relationships: keys of the ``NOT`` relationship terms.
    :ivar negative_only_entities: ends of negative relationships that are
        not in ``entities``: existential, never bound (section 8.3).
    """

    entities: tuple[str, ...]
    relationships: tuple[str, ...] = ()
    negative_relationships: tuple[str, ...] = ()
    negative_only_entities: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {'entities': list(self.entities),
                'relationships': list(self.relationships),
                'negative_relationships': list(self.negative_relationships),
                'negative_only_entities': list(self.negative_only_entities)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'Clause':
        return cls(tuple(data['entities']),
                   tuple(data.get('relationships', ())),
                   tuple(data.get('negative_relationships', ())),
                   tuple(data.get('negative_only_entities', ())))


# -- actions -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action of a scenario.

    :ivar id: ``<scenario id>-action<index>``.
    :ivar type: ``raise_alarm``, ``set_state``, ``add_causal_relationship``,
        ``mark_down`` or ``execute_mistral``.
    :ivar target: entity key the action applies to. For
        ``execute_mistral`` without a target, one common entity of the
        condition (bookkeeping only).
    :ivar source: entity key of the cause (``add_causal_relationship``).
    :ivar properties: ``alarm_name``/``severity``/``causing_alarm``
        (raise_alarm), ``state`` (set_state), ``workflow``/``input``
        (execute_mistral). Values are strings, dicts of them,
        :class:`~vitrage.evaluator.functions.GetAttr` or
        :class:`~vitrage.evaluator.functions.Interpolation` (text with
        ``get_attr`` calls inside; evaluate both per match with
        :func:`vitrage.evaluator.functions.evaluate`);
        ``causing_alarm`` is ``GetAttr(<alarm key>, 'vitrage_id')``.
    """

    id: str
    type: str
    target: str | None
    source: str | None = None
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def targets(self) -> dict[str, str]:
        """``{'target': key}`` plus ``'source'`` when there is one."""
        found = {}
        if self.target is not None:
            found['target'] = self.target
        if self.source is not None:
            found['source'] = self.source
        return found

    @property
    def causing_alarm(self) -> str | None:
        """Entity key of a raise_alarm's ``causing_alarm``, if any."""
        value = self.properties.get('causing_alarm')
        return value.entity if isinstance(value, functions.GetAttr) else None

    def to_dict(self) -> dict[str, Any]:
        return {'id': self.id, 'type': self.type, 'target': self.target,
                'source': self.source,
                'properties': functions.to_plain(self.properties)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'ActionSpec':
        return cls(data['id'], data['type'], data.get('target'),
                   data.get('source'),
                   functions.compile_value(dict(data.get('properties', {}))))


# -- scenarios and templates -------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Scenario:
    """A condition and the actions taken for each of its matches.

    :ivar id: ``<template name>-scenario<index>`` (``_equivalence``
        suffixes for copies made by equivalences).
    :ivar entities: entity key -> spec, for every entity the condition or
        the actions mention.
    :ivar relationships: relationship key -> spec, for the condition's
        relationship terms.
    :ivar condition: the condition as written, parsed.
    :ivar clauses: ``condition`` in disjunctive normal form.
    """

    id: str
    template_name: str
    entities: dict[str, EntitySpec]
    relationships: dict[str, RelationshipSpec]
    condition: Expr
    clauses: tuple[Clause, ...]
    actions: tuple[ActionSpec, ...]

    @property
    def common_entities(self) -> tuple[str, ...]:
        """Entities bound by every clause: the legal action targets."""
        if not self.clauses:
            return ()
        rest = [set(c.entities) for c in self.clauses[1:]]
        return tuple(e for e in self.clauses[0].entities
                     if all(e in r for r in rest))

    def to_dict(self) -> dict[str, Any]:
        return {
            'id': self.id, 'template_name': self.template_name,
            'entities': [e.to_dict() for e in self.entities.values()],
            'relationships': [r.to_dict()
                              for r in self.relationships.values()],
            'condition': expr_to_dict(self.condition),
            'clauses': [c.to_dict() for c in self.clauses],
            'actions': [a.to_dict() for a in self.actions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'Scenario':
        entities = [EntitySpec.from_dict(e) for e in data['entities']]
        rels = [RelationshipSpec.from_dict(r) for r in data['relationships']]
        return cls(data['id'], data['template_name'],
                   {e.key: e for e in entities}, {r.key: r for r in rels},
                   expr_from_dict(data['condition']),
                   tuple(Clause.from_dict(c) for c in data['clauses']),
                   tuple(ActionSpec.from_dict(a) for a in data['actions']))


@dataclasses.dataclass(frozen=True, slots=True)
class TemplateDef:
    """A loaded standard (or definition) template.

    ``entities`` / ``relationships`` hold every definition (v1/v2 after
    includes; v3 entities and the relationships its conditions use);
    definition templates have no scenarios.
    """

    name: str
    version: str
    template_type: str
    description: str
    entities: dict[str, EntitySpec]
    relationships: dict[str, RelationshipSpec]
    scenarios: tuple[Scenario, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            'name': self.name, 'version': self.version,
            'template_type': self.template_type,
            'description': self.description,
            'entities': [e.to_dict() for e in self.entities.values()],
            'relationships': [r.to_dict()
                              for r in self.relationships.values()],
            'scenarios': [s.to_dict() for s in self.scenarios],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'TemplateDef':
        entities = [EntitySpec.from_dict(e) for e in data['entities']]
        rels = [RelationshipSpec.from_dict(r) for r in data['relationships']]
        return cls(data['name'], data['version'], data['template_type'],
                   data.get('description', ''),
                   {e.key: e for e in entities}, {r.key: r for r in rels},
                   tuple(Scenario.from_dict(s) for s in data['scenarios']))


@dataclasses.dataclass(frozen=True, slots=True)
class EquivalenceDef:
    """An equivalence template: groups of interchangeable entities.

    Each member is an entity signature (see :attr:`EntitySpec.signature`):
    a frozenset of ``(graph property, value)`` pairs, regex keys keeping
    their ``.regex`` suffix.
    """

    name: str
    groups: tuple[tuple[frozenset, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {'name': self.name,
                'groups': [[dict(sorted(m)) for m in g]
                           for g in self.groups]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'EquivalenceDef':
        return cls(data['name'],
                   tuple(tuple(frozenset(m.items()) for m in g)
                         for g in data['groups']))


def entity_from_signature(key: str, signature: frozenset) -> EntitySpec:
    """The entity ``key`` constrained as an equivalence member says."""
    plain = []
    regexes = []
    for prop, value in signature:
        if is_regex_key(prop):
            regexes.append((prop[:-len(REGEX_SUFFIX)], value))
        else:
            plain.append((prop, value))
    return EntitySpec(key, tuple(sorted(plain)), tuple(sorted(regexes)))
