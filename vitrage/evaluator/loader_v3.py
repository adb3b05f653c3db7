"""Version 3 templates (templates.md section 4).

Pipeline (section 9): schema check -> regex check -> condition entity
ids -> NOT rules -> parameters -> trial load. With ``defer`` (the first
pass over a template that still holds ``get_param`` calls), values that
are calls are not checked and the pipeline stops after the parameters
step: the caller resolves them and runs it again.
"""
from collections.abc import Mapping
from typing import Any

from vitrage.evaluator import builder
from vitrage.evaluator import condition
from vitrage.evaluator import functions
from vitrage.evaluator import model
from vitrage.evaluator import parameters
from vitrage.evaluator import status
from vitrage.evaluator.status import TemplateValidationError

METADATA = 'metadata'
ENTITIES = 'entities'
SCENARIOS = 'scenarios'
CONDITION = 'condition'
ACTIONS = 'actions'

_TOP_KEYS = (METADATA, parameters.PARAMETERS, ENTITIES, SCENARIOS)
_METADATA_KEYS = ('version', 'name', 'type', 'description')
_SCENARIO_KEYS = (CONDITION, ACTIONS)
_ACTION_KEYS = {
    status.ACTION_RAISE_ALARM: ('target', 'alarm_name', 'severity',
                                'causing_alarm'),
    status.ACTION_SET_STATE: ('target', 'state'),
    status.ACTION_ADD_CAUSAL_RELATIONSHIP: ('source', 'target'),
    status.ACTION_MARK_DOWN: ('target',),
    status.ACTION_EXECUTE_MISTRAL: ('workflow', 'input'),
}


def _extra(path: str, key: Any) -> TemplateValidationError:
    return TemplateValidationError(
        4, 'extra keys not allowed @ %s[%r]' % (path, key))


def _expected(what: str, path: str) -> TemplateValidationError:
    return TemplateValidationError(4, 'expected %s @ %s' % (what, path))


def _check_keys(mapping: Mapping, allowed: tuple, path: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise _extra(path, key)


def _check_str(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _expected('str', path)


def check_schema(template: Mapping[str, Any], defer: bool) -> None:
    """Structure, required keys and action references (codes 4, 60, 64,
    80, 81, 83, 84, 121, 138, 10000, 10100-10107).
    """
    _check_keys(template, _TOP_KEYS, 'data')
    metadata = template.get(METADATA)
    if not isinstance(metadata, dict):
        raise _expected('a mapping', "data['metadata']")
    _check_keys(metadata, _METADATA_KEYS, "data['metadata']")
    for key, value in metadata.items():
        _check_str(value, "data['metadata'][%r]" % key)
    if not metadata.get('name'):
        raise TemplateValidationError(60, "'name' is missing")
    template_type = metadata.get('type')
    if template_type != status.TYPE_STANDARD:
        if template_type in status.TEMPLATE_TYPES:
            raise TemplateValidationError(
                64, '%r templates are not written in version 3'
                % template_type)
        raise TemplateValidationError(
            64, 'type is %r' % template_type if template_type else
            "'type' is missing")
    parameters.check_section(template)
    if ENTITIES not in template:
        raise TemplateValidationError(10000)
    entities = template[ENTITIES]
    if not isinstance(entities, dict):
        raise _expected('a mapping', "data['entities']")
    for key, constraints in entities.items():
        path = "data['entities'][%r]" % key
        if constraints == '':
            continue
        if not isinstance(constraints, dict):
            raise _expected('a mapping', path)
        for prop, value in constraints.items():
            _check_str(value, '%s[%r]' % (path, prop))
    if SCENARIOS not in template:
        raise TemplateValidationError(80)
    scenarios = template[SCENARIOS]
    if not isinstance(scenarios, list):
        raise _expected('a list', "data['scenarios']")
    if not scenarios:
        raise TemplateValidationError(81)
    for i, scenario in enumerate(scenarios):
        _check_scenario(scenario, "data['scenarios'][%d]" % i, entities,
                        defer)


def _check_scenario(scenario: Any, path: str, entities: Mapping,
                    defer: bool) -> None:
    if not isinstance(scenario, dict):
        raise _expected('a mapping', path)
    _check_keys(scenario, _SCENARIO_KEYS, path)
    if CONDITION not in scenario:
        raise TemplateValidationError(83, path)
    _check_str(scenario[CONDITION], '%s[%r]' % (path, CONDITION))
    if ACTIONS not in scenario:
        raise TemplateValidationError(84, path)
    actions = scenario[ACTIONS]
    if not isinstance(actions, list):
        raise _expected('a list', '%s[%r]' % (path, ACTIONS))
    if not actions:
        raise TemplateValidationError(121, path)
    for i, action in enumerate(actions):
        _check_action(action, '%s[%r][%d]' % (path, ACTIONS, i), entities,
                      defer)


def _check_action(action: Any, path: str, entities: Mapping,
                  defer: bool) -> None:
    if not isinstance(action, dict) or len(action) != 1:
        raise _expected('a mapping with one action', path)
    action_type, body = next(iter(action.items()))
    if action_type not in _ACTION_KEYS:
        raise TemplateValidationError(
            4, 'unknown action %r @ %s' % (action_type, path))
    path = '%s[%r]' % (path, action_type)
    if not isinstance(body, dict):
        raise _expected('a mapping', path)
    _check_keys(body, _ACTION_KEYS[action_type], path)
    for key, value in body.items():
        if key == 'input':
            if not isinstance(value, dict):
                raise _expected('a mapping', '%s[%r]' % (path, key))
            for name, item in value.items():
                _check_str(item, '%s[%r][%r]' % (path, key, name))
        else:
            _check_str(value, '%s[%r]' % (path, key))

    def ref(key: str, missing: int | None, unknown: int) -> None:
        value = body.get(key)
        if not value:
            if missing is not None:
                raise TemplateValidationError(missing, path)
            return
        if defer and functions.is_get_param_call(value):
            return
        if value not in entities:
            raise TemplateValidationError(unknown, '%r @ %s' % (value, path))

    def required(key: str, code: int) -> None:
        if not body.get(key):
            raise TemplateValidationError(code, path)

    if action_type == status.ACTION_EXECUTE_MISTRAL:
        required('workflow', 10105)
        for name, item in body.get('input', {}).items():
            if (functions.has_call_characters(item)
                    and not functions.holds_function_call(item)):
                raise TemplateValidationError(
                    138, '%r @ %s' % (item, path))
        return
    if action_type == status.ACTION_ADD_CAUSAL_RELATIONSHIP:
        ref('source', 10102, 10103)
    ref('target', 10100, 10101)
    if action_type == status.ACTION_RAISE_ALARM:
        required('alarm_name', 10104)
        required('severity', 126)
        ref('causing_alarm', None, 10107)
    elif action_type == status.ACTION_SET_STATE:
        required('state', 128)


def build_entities(template: Mapping[str, Any],
                   defer: bool) -> dict[str, model.EntitySpec]:
    """Entity specs; invalid regular expressions give code 47."""
    result = {}
    for key, constraints in template[ENTITIES].items():
        constraints = dict(constraints or {})
        if defer:
            constraints = {k: v for k, v in constraints.items()
                           if not functions.is_get_param_call(v)}
        result[key] = builder.compile_regex(key, constraints)
    return result


def check_conditions(template: Mapping[str, Any],
                     entities: Mapping[str, model.EntitySpec],
                     defer: bool) -> list[builder.CheckedCondition | None]:
    """Parse every condition (85, 10200), then apply NOT rules (86, 134).

    Deferred (``get_param``) conditions give None.
    """
    parsed = []
    for scenario in template[SCENARIOS]:
        text = scenario[CONDITION]
        if defer and functions.is_get_param_call(text):
            parsed.append(None)
        else:
            parsed.append((text, condition.parse(text, '3', entities)))
    return [None if p is None else
            builder.check_condition(p[0], p[1], p[1].relationships)
            for p in parsed]


def load(template: Mapping[str, Any], params: Mapping[str, Any] | None,
         defer: bool) -> model.TemplateDef | None:
    """Validate a normalised v3 template and load it.

    :param params: request parameter values (first pass only).
    :param defer: first pass over a template with parameters: stop after
        the parameters step and return None.
    :raises TemplateValidationError: the first failure of the pipeline.
    """
    with status.syntax_stage():
        check_schema(template, defer)
    entities = build_entities(template, defer)
    checked = check_conditions(template, entities, defer)
    parameters.check(template, '3', params)
    if defer:
        return None
    metadata = template[METADATA]
    name = metadata['name']
    scenarios = []
    relationships: dict[str, model.RelationshipSpec] = {}
    for index, (raw, cond) in enumerate(zip(template[SCENARIOS], checked)):
        actions = [_raw_action(a) for a in raw[ACTIONS]]
        scenarios.append(builder.build_scenario(
            name, index, cond, entities, actions, _target_error))
        relationships.update(cond.relationships)
    return model.TemplateDef(
        name=name, version='3', template_type=status.TYPE_STANDARD,
        description=metadata.get('description', ''), entities=entities,
        relationships=relationships, scenarios=tuple(scenarios))


def _target_error(role: str, key: str,
                  detail: str) -> TemplateValidationError:
    return TemplateValidationError(10103 if role == 'source' else 10101,
                                   detail)


def _raw_action(action: Mapping[str, Any]) -> builder.RawAction:
    action_type, body = next(iter(action.items()))
    properties = {k: v for k, v in body.items()
                  if k not in ('target', 'source')}
    if action_type == status.ACTION_EXECUTE_MISTRAL:
        properties.setdefault('input', {})
    if not properties.get('causing_alarm'):
        properties.pop('causing_alarm', None)
    return builder.RawAction(action_type, body.get('target'),
                             body.get('source'), properties)
