"""Equivalence templates (templates.md section 7).

An equivalence template lists groups of entities that are "the same
thing" (a Nagios and a Zabbix alarm for a full disk). A scenario entity
whose constraint set equals a group member is tried with every member:
the scenario is copied once per other member (cartesian over several
such entities).
"""
from collections.abc import Iterable
from collections.abc import Mapping
import dataclasses
import itertools
from typing import Any

from vitrage.common import exceptions
from vitrage.evaluator import model
from vitrage.evaluator import regex
from vitrage.evaluator.status import TemplateValidationError

EQUIVALENCES = 'equivalences'
EQUIVALENCE = 'equivalence'
ENTITY = 'entity'
SUFFIX = '_equivalence'


class EquivalenceConflict(exceptions.VitrageError):
    """An entity belongs to more than one equivalence group."""


def _bad(details: str) -> TemplateValidationError:
    return TemplateValidationError(4, details)


def load_equivalence(template: Mapping[str, Any]) -> model.EquivalenceDef:
    """Load an equivalence template (normalised: scalars are strings).

    Upstream does not validate these templates (the API answers "No
    Validation"); loading still refuses a shape it cannot use.

    :raises TemplateValidationError: code 4, with the offending path;
        47 for a regex that cannot be compiled.
    """
    metadata = template.get('metadata')
    name = metadata.get('name', '') if isinstance(metadata, dict) else ''
    groups = template.get(EQUIVALENCES)
    if not isinstance(groups, list):
        raise _bad("expected a list @ data['equivalences']")
    result = []
    seen: dict[frozenset, int] = {}
    for i, item in enumerate(groups):
        path = "data['equivalences'][%d]" % i
        if not isinstance(item, dict) or not isinstance(
                item.get(EQUIVALENCE), list):
            raise _bad("expected a list @ %s['equivalence']" % path)
        members = []
        for j, entry in enumerate(item[EQUIVALENCE]):
            epath = "%s['equivalence'][%d]" % (path, j)
            if not isinstance(entry, dict) or not isinstance(
                    entry.get(ENTITY), dict):
                raise _bad("expected a mapping @ %s['entity']" % epath)
            constraints = entry[ENTITY]
            if not all(isinstance(v, str) for v in constraints.values()):
                raise _bad('expected str values @ %s' % epath)
            constraints = {k: v for k, v in constraints.items()
                           if k != 'template_id'}
            try:
                signature = model.EntitySpec.from_template(
                    '', constraints).signature
            except regex.TemplateRegexError as e:
                raise TemplateValidationError(
                    47, '%s @ %s' % (e, epath)) from e
            if signature in seen and seen[signature] != i:
                raise _bad('%s is already in group %d' % (epath,
                                                          seen[signature]))
            seen[signature] = i
            if signature not in members:
                members.append(signature)
        result.append(tuple(members))
    return model.EquivalenceDef(name, tuple(result))


def merge(definitions: Iterable[model.EquivalenceDef]
          ) -> dict[frozenset, tuple[frozenset, ...]]:
    """Member signature -> its group, over several equivalence templates.

    :raises EquivalenceConflict: a member is in two different groups.
    """
    index: dict[frozenset, tuple[frozenset, ...]] = {}
    owner: dict[frozenset, str] = {}
    for definition in definitions:
        for group in definition.groups:
            for member in group:
                if member in index and index[member] != group:
                    raise EquivalenceConflict(
                        'entity %s is in equivalence groups of %r and %r'
                        % (dict(sorted(member)), owner[member],
                           definition.name))
                index[member] = group
                owner[member] = definition.name
    return index


def expand_scenario(scenario: model.Scenario,
                    index: Mapping[frozenset, tuple[frozenset, ...]]
                    ) -> list[model.Scenario]:
    """``scenario`` followed by its copies, one per equivalent entity set.

    Copies get the ids ``<id>_equivalence``, ``<id>_equivalence2``...
    (and their actions ids that follow from them).
    """
    keys = []
    options = []
    for key, spec in scenario.entities.items():
        group = index.get(spec.signature)
        if group is None:
            continue
        keys.append(key)
        others = [m for m in group if m != spec.signature]
        options.append([None] + others)
    if not keys:
        return [scenario]
    result = [scenario]
    combinations = itertools.product(*options)
    next(combinations)     # all None: the scenario itself
    for n, combination in enumerate(combinations, start=1):
        entities = dict(scenario.entities)
        for key, member in zip(keys, combination):
            if member is not None:
                entities[key] = model.entity_from_signature(key, member)
        new_id = scenario.id + SUFFIX + ('' if n == 1 else str(n))
        actions = tuple(
            dataclasses.replace(a, id='%s-action%d' % (new_id, i))
            for i, a in enumerate(scenario.actions))
        result.append(dataclasses.replace(
            scenario, id=new_id, entities=entities, actions=actions))
    return result


def apply(template: model.TemplateDef,
          index: Mapping[frozenset, tuple[frozenset, ...]]
          ) -> model.TemplateDef:
    """``template`` with every scenario expanded (see expand_scenario)."""
    if not index:
        return template
    scenarios = tuple(itertools.chain.from_iterable(
        expand_scenario(s, index) for s in template.scenarios))
    return dataclasses.replace(template, scenarios=scenarios)
