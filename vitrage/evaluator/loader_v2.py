"""Version 1 and 2 templates, standard and definition (sections 5, 6).

Pipeline (section 9): syntax (sections, wrappers, required keys) ->
content (metadata type, parameters, definitions, includes,
relationships, conditions, actions) -> trial load. With ``defer`` the
pipeline stops after the parameters step (see :mod:`.loader_v3`).
"""
from collections.abc import Callable
from collections.abc import Mapping
import re
from typing import Any

from oslo_log import log

from vitrage.common.constants import Category
from vitrage.evaluator import builder
from vitrage.evaluator import condition
from vitrage.evaluator import functions
from vitrage.evaluator import model
from vitrage.evaluator import parameters
from vitrage.evaluator import status
from vitrage.evaluator.status import TemplateValidationError

LOG = log.getLogger(__name__)

METADATA = 'metadata'
DEFINITIONS = 'definitions'
ENTITIES = 'entities'
ENTITY = 'entity'
RELATIONSHIPS = 'relationships'
RELATIONSHIP = 'relationship'
SCENARIOS = 'scenarios'
SCENARIO = 'scenario'
INCLUDES = 'includes'
CONDITION = 'condition'
ACTIONS = 'actions'
ACTION = 'action'
ACTION_TYPE = 'action_type'
ACTION_TARGET = 'action_target'
PROPERTIES = 'properties'
TEMPLATE_ID = 'template_id'
CATEGORY = 'category'
SOURCE = 'source'
TARGET = 'target'
RELATIONSHIP_TYPE = 'relationship_type'

_IDENTIFIER = re.compile(r'_*[a-zA-Z]+\w*')
_RELATIONSHIP_FIELDS = (SOURCE, TARGET, TEMPLATE_ID, RELATIONSHIP_TYPE)

# name -> definition template (a dict), or None when there is none.
DefinitionLookup = Callable[[str], Mapping[str, Any] | None]


def _expected(what: str, path: str) -> TemplateValidationError:
    return TemplateValidationError(4, 'expected %s @ %s' % (what, path))


def _mapping(value: Any, path: str) -> dict:
    if value == '':
        return {}
    if not isinstance(value, dict):
        raise _expected('a mapping', path)
    return value


def _list(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise _expected('a list', path)
    return value


def _unwrap(item: Any, wrapper: str, code: int, path: str) -> dict:
    if not isinstance(item, dict) or wrapper not in item:
        raise TemplateValidationError(code, path)
    return _mapping(item[wrapper], '%s[%r]' % (path, wrapper))


def _strings(mapping: Mapping, path: str) -> None:
    for key, value in mapping.items():
        if not isinstance(value, str):
            raise _expected('str', '%s[%r]' % (path, key))


# -- syntax ------------------------------------------------------------

def check_syntax(template: Mapping[str, Any], version: str,
                 definition: bool) -> None:
    """Sections, wrappers and required keys (codes 4, 20, 21, 41, 42, 46,
    60, 62, 64, 80-84, 100-104, 121-124, 140, 141, 143).
    """
    if METADATA not in template:
        raise TemplateValidationError(62)
    includes_present = INCLUDES in template
    if definition:
        if includes_present or SCENARIOS in template:
            raise TemplateValidationError(143)
    if DEFINITIONS not in template and (definition or not includes_present):
        raise TemplateValidationError(21)
    if not definition and SCENARIOS not in template:
        raise TemplateValidationError(80)
    metadata = _mapping(template[METADATA], "data['metadata']")
    _strings(metadata, "data['metadata']")
    if not metadata.get('name'):
        raise TemplateValidationError(60, "'name' is missing")
    if version == '2' and not metadata.get('type'):
        raise TemplateValidationError(64, "'type' is missing")
    if version == '2':
        parameters.check_section(template)
    if includes_present:
        # The shape first: an empty ``includes:`` (no value) is not a
        # list (4), as the retired validator reported; ``[]`` is 140.
        includes = _list(template[INCLUDES], "data['includes']")
        if not includes:
            raise TemplateValidationError(140)
        for i, item in enumerate(includes):
            path = "data['includes'][%d]" % i
            item = _mapping(item, path)
            if not item.get('name'):
                raise TemplateValidationError(141, path)
            _strings(item, path)
    if DEFINITIONS in template:
        # With includes, the entities may all come from the included
        # definition templates.
        _check_definitions(template[DEFINITIONS],
                           entities_required=not includes_present)
    if not definition:
        _check_scenarios(template[SCENARIOS])


def _check_definitions(definitions: Any,
                       entities_required: bool = True) -> None:
    definitions = _mapping(definitions, "data['definitions']")
    if ENTITIES not in definitions and entities_required:
        raise TemplateValidationError(20)
    entities = definitions.get(ENTITIES, [])
    entities = [] if entities == '' else _list(
        entities, "data['definitions']['entities']")
    for i, item in enumerate(entities):
        path = "data['definitions']['entities'][%d]" % i
        entity = _unwrap(item, ENTITY, 46, path)
        if not entity.get(TEMPLATE_ID):
            raise TemplateValidationError(41, path)
        if not entity.get(CATEGORY):
            raise TemplateValidationError(42, path)
        _strings(entity, path + "['entity']")
    relationships = definitions.get(RELATIONSHIPS, [])
    relationships = [] if relationships == '' else _list(
        relationships, "data['definitions']['relationships']")
    for i, item in enumerate(relationships):
        path = "data['definitions']['relationships'][%d]" % i
        rel = _unwrap(item, RELATIONSHIP, 101, path)
        if not rel.get(SOURCE):
            raise TemplateValidationError(102, path)
        if not rel.get(TARGET):
            raise TemplateValidationError(103, path)
        if not rel.get(RELATIONSHIP_TYPE) or not isinstance(
                rel[RELATIONSHIP_TYPE], str):
            raise TemplateValidationError(100, path)
        if not rel.get(TEMPLATE_ID):
            raise TemplateValidationError(104, path)
        _strings(rel, path + "['relationship']")


def _check_scenarios(scenarios: Any) -> None:
    scenarios = [] if scenarios == '' else _list(scenarios,
                                                 "data['scenarios']")
    if not scenarios:
        raise TemplateValidationError(81)
    for i, item in enumerate(scenarios):
        path = "data['scenarios'][%d]" % i
        scenario = _unwrap(item, SCENARIO, 82, path)
        path += "['scenario']"
        if CONDITION not in scenario:
            raise TemplateValidationError(83, path)
        if not isinstance(scenario[CONDITION], str):
            raise _expected('str', path + "['condition']")
        if ACTIONS not in scenario:
            raise TemplateValidationError(84, path)
        actions = scenario[ACTIONS]
        actions = [] if actions == '' else _list(actions,
                                                 path + "['actions']")
        if not actions:
            raise TemplateValidationError(121, path)
        for j, entry in enumerate(actions):
            apath = "%s['actions'][%d]" % (path, j)
            action = _unwrap(entry, ACTION, 122, apath)
            apath += "['action']"
            if not action.get(ACTION_TYPE):
                raise TemplateValidationError(123, apath)
            if not isinstance(action[ACTION_TYPE], str):
                raise _expected('str', apath + "['action_type']")
            if (ACTION_TARGET not in action and action[ACTION_TYPE]
                    != status.ACTION_EXECUTE_MISTRAL):
                raise TemplateValidationError(124, apath)
            target = _mapping(action.get(ACTION_TARGET, {}),
                              apath + "['action_target']")
            _strings(target, apath + "['action_target']")
            properties = _mapping(action.get(PROPERTIES, {}),
                                  apath + "['properties']")
            for key, value in properties.items():
                if key == 'input' and isinstance(value, dict):
                    _strings(value, apath + "['properties']['input']")
                elif not isinstance(value, str):
                    raise _expected('str', "%s['properties'][%r]"
                                    % (apath, key))


# -- content -----------------------------------------------------------

def _check_identifier(template_id: str, path: str) -> None:
    if _IDENTIFIER.match(template_id) is None:
        raise TemplateValidationError(1, '%r @ %s' % (template_id, path))


def _entities(definitions: Mapping[str, Any],
              known: dict[str, model.EntitySpec],
              entity_categories: dict[str, str]) -> None:
    entities = definitions.get(ENTITIES) or []
    for i, item in enumerate(entities):
        path = "data['definitions']['entities'][%d]" % i
        entity = item[ENTITY]
        template_id = entity[TEMPLATE_ID]
        _check_identifier(template_id, path)
        if template_id in known:
            raise TemplateValidationError(2, repr(template_id))
        if entity[CATEGORY] not in (Category.ALARM, Category.RESOURCE):
            raise TemplateValidationError(
                45, '%r @ %s' % (entity[CATEGORY], path))
        # template_id is an identifier, never a constraint.
        constraints = {k: v for k, v in entity.items() if k != TEMPLATE_ID}
        known[template_id] = builder.compile_regex(template_id, constraints)
        entity_categories[template_id] = entity[CATEGORY]


def _relationships(definitions: Mapping[str, Any],
                   entities: Mapping[str, model.EntitySpec],
                   known: dict[str, model.RelationshipSpec],
                   included: bool) -> None:
    rels = definitions.get(RELATIONSHIPS) or []
    for i, item in enumerate(rels):
        path = "data['definitions']['relationships'][%d]" % i
        rel = item[RELATIONSHIP]
        template_id = rel[TEMPLATE_ID]
        if template_id in known or template_id in entities:
            if included:
                continue
            raise TemplateValidationError(2, repr(template_id))
        _check_identifier(template_id, path)
        for end in (rel[SOURCE], rel[TARGET]):
            if end not in entities:
                raise TemplateValidationError(
                    3, '%r (relationship %r)' % (end, template_id))
        extra = tuple(sorted(
            (model.KEY_ALIASES.get(k, k), v) for k, v in rel.items()
            if k not in _RELATIONSHIP_FIELDS))
        key = model.relationship_key(rel[SOURCE], rel[RELATIONSHIP_TYPE],
                                     rel[TARGET], extra)
        known[template_id] = model.RelationshipSpec(
            key, rel[SOURCE], rel[TARGET], rel[RELATIONSHIP_TYPE], extra)


def _included_definitions(name: str,
                          definitions: DefinitionLookup | Mapping | None
                          ) -> Mapping[str, Any]:
    found = None
    if callable(definitions):
        found = definitions(name)
    elif definitions is not None:
        found = definitions.get(name)
    if found is None:
        raise TemplateValidationError(142, repr(name))
    try:
        _check_definitions(found.get(DEFINITIONS))
    except TemplateValidationError as e:
        raise TemplateValidationError(
            142, 'definition template %r is invalid: %s' % (name, e))
    return found[DEFINITIONS]


def _check_type(template: Mapping[str, Any], version: str) -> None:
    if version == '2':
        template_type = template[METADATA].get('type')
        if template_type not in status.TEMPLATE_TYPES:
            raise TemplateValidationError(65, repr(template_type))


def load(template: Mapping[str, Any], version: str, template_type: str,
         params: Mapping[str, Any] | None,
         definitions: DefinitionLookup | Mapping | None,
         defer: bool) -> model.TemplateDef | None:
    """Validate a normalised v1/v2 template and load it.

    :param version: ``'1'`` or ``'2'``.
    :param template_type: the effective type (standard or definition).
    :param params: request parameter values.
    :param definitions: definition templates by name, for ``includes``.
    :param defer: stop after the parameters step and return None.
    :raises TemplateValidationError: the first failure of the pipeline.
    """
    definition = template_type == status.TYPE_DEFINITION
    with status.syntax_stage():
        check_syntax(template, version, definition)
    _check_type(template, version)
    parameters.check(template, version, params)
    if defer:
        return None
    own = _mapping(template.get(DEFINITIONS, {}), "data['definitions']")
    entities: dict[str, model.EntitySpec] = {}
    categories: dict[str, str] = {}
    _entities(own, entities, categories)
    includes = template.get(INCLUDES) or []
    if not entities and not includes:
        raise TemplateValidationError(43)
    included = [_included_definitions(item['name'], definitions)
                for item in includes]
    for defs in included:
        _entities(defs, entities, categories)
    relationships: dict[str, model.RelationshipSpec] = {}
    _relationships(own, entities, relationships, included=False)
    for defs in included:
        _relationships(defs, entities, relationships, included=True)
    name = template[METADATA]['name']
    description = template[METADATA].get('description', '')
    by_key = {r.key: r for r in relationships.values()}
    if definition:
        return model.TemplateDef(name, version, template_type, description,
                                 entities, by_key, ())
    known = set(entities) | set(relationships)
    keys = {template_id: r.key for template_id, r in relationships.items()}
    checked = []
    for raw in template[SCENARIOS]:
        text = raw[SCENARIO][CONDITION]
        parsed = condition.parse(text, version, known)
        parsed = condition.ParsedCondition(
            condition.rename(parsed.expr, keys), {})
        cond = builder.check_condition(text, parsed, by_key)
        if not condition.common_entities(cond.clauses):
            raise TemplateValidationError(135, 'in condition %r' % text)
        checked.append(cond)
    all_actions = [[_raw_action(entry[ACTION], version, entities, categories)
                    for entry in raw[SCENARIO][ACTIONS]]
                   for raw in template[SCENARIOS]]
    scenarios = tuple(
        builder.build_scenario(name, index, cond, entities,
                               actions, _target_error)
        for index, (cond, actions) in enumerate(zip(checked, all_actions)))
    return model.TemplateDef(name, version, template_type, description,
                             entities, by_key, scenarios)


def _target_error(role: str, key: str,
                  detail: str) -> TemplateValidationError:
    return TemplateValidationError(3, detail)


def _raw_action(action: Mapping[str, Any], version: str,
                entities: Mapping[str, model.EntitySpec],
                categories: Mapping[str, str]) -> builder.RawAction:
    action_type = action[ACTION_TYPE]
    if action_type not in status.ACTION_TYPES:
        raise TemplateValidationError(120, repr(action_type))
    properties = dict(action.get(PROPERTIES) or {})
    target_block = action.get(ACTION_TARGET) or {}
    target = target_block.get(TARGET) or None
    source = target_block.get(SOURCE) or None

    def need(key: str, code: int) -> None:
        if not properties.get(key):
            raise TemplateValidationError(code)

    def need_target(code: int) -> None:
        if target is None:
            raise TemplateValidationError(code)

    if action_type == status.ACTION_RAISE_ALARM:
        need('alarm_name', 125)
        need('severity', 126)
        need_target(127)
    elif action_type == status.ACTION_SET_STATE:
        need('state', 128)
        need_target(129)
    elif action_type == status.ACTION_ADD_CAUSAL_RELATIONSHIP:
        if target is None or source is None:
            raise TemplateValidationError(130)
    elif action_type == status.ACTION_MARK_DOWN:
        need_target(131)
    else:
        need('workflow', 133)
        properties = _mistral_properties(properties, version)
    for key in (source, target):
        if key is not None and key not in entities:
            raise TemplateValidationError(
                3, '%r (%s action target)' % (key, action_type))
    if action_type == status.ACTION_ADD_CAUSAL_RELATIONSHIP:
        for key in (source, target):
            if categories[key] != Category.ALARM:
                raise TemplateValidationError(132, repr(key))
    if action_type != status.ACTION_ADD_CAUSAL_RELATIONSHIP:
        source = None
    return builder.RawAction(action_type, target, source, properties)


def _mistral_properties(properties: dict[str, Any],
                        version: str) -> dict[str, Any]:
    workflow = properties.pop('workflow')
    if version == '1':
        for key, value in properties.items():
            if functions.looks_like_call(value) or \
                    functions.parse_interpolation(value) is not None:
                raise TemplateValidationError(137, '%s: %s' % (key, value))
        return {'workflow': workflow, 'input': properties}
    extra = [k for k in properties if k != 'input']
    if extra:
        raise TemplateValidationError(136, ', '.join(map(repr, extra)))
    inputs = properties.get('input') or {}
    if not isinstance(inputs, dict):
        raise TemplateValidationError(
            4, "expected a mapping for execute_mistral 'input'")
    for key, value in inputs.items():
        if (functions.has_call_characters(value)
                and not functions.holds_function_call(value)):
            LOG.warning('execute_mistral input %r=%r holds "(", ")" or ","'
                        ' but is not a function call; it is taken as text',
                        key, value)
    return {'workflow': workflow, 'input': dict(inputs)}
