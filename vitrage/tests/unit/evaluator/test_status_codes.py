"""One minimal template per validation status code (templates.md 10).

Each case is a template that breaks exactly one rule; the test checks the
code, the whole message and the API description.
"""
import pytest

from vitrage import evaluator
from vitrage.evaluator import status

SYNTAX = status.DESCRIPTION_SYNTAX
CONTENT = status.DESCRIPTION_CONTENT
GENERAL = status.DESCRIPTION_VALIDATION

V3_META = 'metadata: {version: 3, name: t, type: standard}\n'
V3_ENTITIES = '''
entities:
  alarm: {category: ALARM, type: zabbix, name: cpu}
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
'''
V3_OK_SCENARIOS = '''
scenarios:
  - condition: alarm [on] host
    actions:
      - set_state: {target: host, state: ERROR}
'''
V3_OK = V3_META + V3_ENTITIES + V3_OK_SCENARIOS


def v3(scenarios: str, entities: str = V3_ENTITIES,
       meta: str = V3_META) -> str:
    return meta + entities + scenarios


def v3_action(action: str, condition: str = 'alarm [on] host') -> str:
    return v3('''
scenarios:
  - condition: %s
    actions:
      - %s
''' % (condition, action))


V2_META = 'metadata: {version: 2, name: t, type: standard}\n'
V2_ENTITY_ALARM = ('    - entity: {category: ALARM, type: zabbix, name: cpu, '
                   'template_id: alarm}\n')
V2_ENTITY_HOST = ('    - entity: {category: RESOURCE, type: nova.host, '
                  'template_id: host}\n')
V2_RELATIONSHIP = ('    - relationship: {source: alarm, target: host, '
                   'relationship_type: on, template_id: alarm_on_host}\n')
V2_DEFINITIONS = ('definitions:\n  entities:\n' + V2_ENTITY_ALARM
                  + V2_ENTITY_HOST + '  relationships:\n' + V2_RELATIONSHIP)
V2_SET_STATE = ('action: {action_type: set_state, properties: '
                '{state: ERROR}, action_target: {target: host}}')


def v2_scenario(action: str = V2_SET_STATE,
                condition: str = 'alarm_on_host') -> str:
    return '''
scenarios:
  - scenario:
      condition: %s
      actions:
        - %s
''' % (condition, action)


def v2(scenarios: str | None = None, definitions: str = V2_DEFINITIONS,
       meta: str = V2_META) -> str:
    return meta + definitions + (v2_scenario() if scenarios is None
                                 else scenarios)


def v2_action(action: str) -> str:
    return v2(v2_scenario(action))


def v2_entities(*entities: str) -> str:
    return v2(definitions='definitions:\n  entities:\n' + ''.join(
        '    - %s\n' % e for e in entities), scenarios=v2_scenario(
            condition='host'))


def v2_relationship(rel: str) -> str:
    return v2(definitions='definitions:\n  entities:\n' + V2_ENTITY_ALARM
              + V2_ENTITY_HOST + '  relationships:\n    - %s\n' % rel)


V1_HEAD = 'metadata: {name: t}\n'

DEFINITION_TEMPLATE = '''
metadata: {version: 2, name: common_defs, type: definition}
definitions:
  entities:
    - entity: {category: RESOURCE, type: nova.host, template_id: host}
  relationships: []
'''

# (id, template text, validate() keyword arguments, code, message,
#  description)
CASES = [
    ('ok_v3', V3_OK, {}, 0, 'Template validation is OK', GENERAL),
    ('1_template_id_not_identifier',
     v2_entities('entity: {category: RESOURCE, type: nova.host, '
                 'template_id: host}',
                 'entity: {category: RESOURCE, template_id: 9lives}'),
     {}, 1, 'template_id field contains incorrect string value - '
     "'9lives' @ data['definitions']['entities'][1]", CONTENT),
    ('2_duplicate_template_id',
     v2_entities('entity: {category: RESOURCE, type: nova.host, '
                 'template_id: host}',
                 'entity: {category: ALARM, type: zabbix, '
                 'template_id: host}'),
     {}, 2, "Duplicate template_id definition - 'host'", CONTENT),
    ('3_unknown_template_id_in_condition',
     v2(v2_scenario(condition='alarm_on_host and nope')), {}, 3,
     'template_id does not appear in the definition block - '
     "'nope' in condition 'alarm_on_host and nope'", CONTENT),
    ('4_extra_top_level_key', V3_OK + 'includes: []\n', {}, 4,
     "Syntax error - extra keys not allowed @ data['includes']", SYNTAX),
    ('20_definitions_without_entities',
     v2(definitions='definitions: {relationships: []}\n'), {}, 20,
     'definitions section must contain entities field', SYNTAX),
    ('21_no_definitions', v2(definitions=''), {}, 21,
     'definitions is a mandatory section', SYNTAX),
    ('41_entity_without_template_id',
     v2_entities('entity: {category: RESOURCE, type: nova.host}'), {}, 41,
     'Entity definition must contain template_id field - '
     "data['definitions']['entities'][0]", SYNTAX),
    ('42_entity_without_category',
     v2_entities('entity: {type: nova.host, template_id: host}'), {}, 42,
     'Entity definition must contain category field - '
     "data['definitions']['entities'][0]", SYNTAX),
    ('43_no_entity',
     v2(definitions='definitions: {entities: []}\n',
        scenarios=v2_scenario(condition='host')), {}, 43,
     'At least one entity must be defined', CONTENT),
    ('45_bad_category',
     v2_entities('entity: {category: resource, template_id: host}'), {},
     45, 'Invalid entity category. Category must be one of: ALARM, '
     "RESOURCE - 'resource' @ data['definitions']['entities'][0]",
     CONTENT),
    ('46_entity_without_wrapper',
     v2_entities('{category: RESOURCE, template_id: host}'), {}, 46,
     "entity field is required - data['definitions']['entities'][0]",
     SYNTAX),
    ('47_bad_regex',
     v3(V3_OK_SCENARIOS, entities='''
entities:
  alarm: {category: ALARM, name.regex: 'cpu[0-'}
  host: {category: RESOURCE, type: nova.host}
'''), {}, 47,
     "Invalid regular expression - name.regex of entity 'alarm': "
     'unterminated character set at position 3', CONTENT),
    ('60_no_name',
     v3(V3_OK_SCENARIOS, meta='metadata: {version: 3, type: standard}\n'),
     {}, 60, "metadata section must contain id field - 'name' is missing",
     SYNTAX),
    ('62_no_metadata', V3_ENTITIES + V3_OK_SCENARIOS,
     {'template_type': 'standard'}, 62, 'metadata is a mandatory section',
     SYNTAX),
    ('63_bad_version',
     v3(V3_OK_SCENARIOS,
        meta='metadata: {version: 4, name: t, type: standard}\n'), {}, 63,
     "Unsupported version. Version must be one of: 1, 2, 3 - version '4'",
     SYNTAX),
    ('64_v2_no_type',
     v2(meta='metadata: {version: 2, name: t}\n'),
     {'template_type': 'standard'}, 64,
     'metadata section must contain a valid type field. Type must be one '
     "of: standard, definition, equivalence - 'type' is missing", SYNTAX),
    ('64_v3_bad_type',
     v3(V3_OK_SCENARIOS,
        meta='metadata: {version: 3, name: t, type: scenario}\n'), {}, 64,
     'metadata section must contain a valid type field. Type must be one '
     "of: standard, definition, equivalence - type is 'scenario'", SYNTAX),
    ('65_v2_bad_type',
     v2(meta='metadata: {version: 2, name: t, type: scenario}\n'), {}, 65,
     'Invalid template type. Type must be one of: standard, definition, '
     "equivalence - 'scenario'", CONTENT),
    ('66_conflicting_type', V3_OK, {'template_type': 'definition'}, 66,
     "Unknown template type - metadata type 'standard' differs from "
     "requested type 'definition'", GENERAL),
    ('66_no_type', V1_HEAD + V2_DEFINITIONS + v2_scenario(), {}, 66,
     'Unknown template type - no template type given', GENERAL),
    ('80_no_scenarios', V2_META + V2_DEFINITIONS, {}, 80,
     'scenarios is a mandatory section', SYNTAX),
    ('81_empty_scenarios', v2('scenarios: []\n'), {}, 81,
     'At least one scenario must be defined', SYNTAX),
    ('82_scenario_without_wrapper',
     v2('scenarios:\n  - condition: alarm_on_host\n'), {}, 82,
     "scenario field is required - data['scenarios'][0]", SYNTAX),
    ('83_no_condition',
     v3('scenarios:\n  - actions: [{mark_down: {target: host}}]\n'), {},
     83, "Scenario definition must contain condition field - "
     "data['scenarios'][0]", SYNTAX),
    ('84_no_actions', v3('scenarios:\n  - condition: host\n'), {}, 84,
     "Scenario definition must contain actions field - "
     "data['scenarios'][0]", SYNTAX),
    ('85_no_space_around_label',
     v3_action('mark_down: {target: host}', 'alarm[on]host'), {}, 85,
     "Failed to convert condition - spaces are required around [on] in "
     "'alarm[on]host'", CONTENT),
    ('86_not_on_entity',
     v3_action('mark_down: {target: host}',
               'alarm [on] host AND NOT vm'), {}, 86,
     "Not operator can be used only on relationships - 'vm' is not a "
     "relationship in condition 'alarm [on] host AND NOT vm'", CONTENT),
    ('100_no_relationship_type',
     v2_relationship('relationship: {source: alarm, target: host, '
                     'template_id: alarm_on_host}'), {}, 100,
     'Relationship definition must contain a valid relationship_type '
     "field - data['definitions']['relationships'][0]", SYNTAX),
    ('101_relationship_without_wrapper',
     v2_relationship('{source: alarm, target: host, relationship_type: on, '
                     'template_id: alarm_on_host}'), {}, 101,
     "relationship field is required - "
     "data['definitions']['relationships'][0]", SYNTAX),
    ('102_no_source',
     v2_relationship('relationship: {target: host, relationship_type: on, '
                     'template_id: alarm_on_host}'), {}, 102,
     'Relationship definition must contain source field - '
     "data['definitions']['relationships'][0]", SYNTAX),
    ('103_no_target',
     v2_relationship('relationship: {source: alarm, relationship_type: on,'
                     ' template_id: alarm_on_host}'), {}, 103,
     'Relationship definition must contain target field - '
     "data['definitions']['relationships'][0]", SYNTAX),
    ('104_no_relationship_template_id',
     v2_relationship('relationship: {source: alarm, target: host, '
                     'relationship_type: on}'), {}, 104,
     'Relationship definition must contain template_id field - '
     "data['definitions']['relationships'][0]", SYNTAX),
    ('120_unknown_action_type',
     v2_action('action: {action_type: reboot, action_target: '
               '{target: host}}'), {}, 120,
     'Invalid action type. Action type must be one of: raise_alarm, '
     'set_state, add_causal_relationship, mark_down, execute_mistral - '
     "'reboot'", CONTENT),
    ('121_no_action',
     v2('scenarios:\n  - scenario: {condition: alarm_on_host, '
        'actions: []}\n'), {}, 121,
     "At least one action must be defined - data['scenarios'][0]"
     "['scenario']", SYNTAX),
    ('122_action_without_wrapper',
     v2_action('{action_type: mark_down, action_target: {target: host}}'),
     {}, 122, "action field is required - data['scenarios'][0]"
     "['scenario']['actions'][0]", SYNTAX),
    ('123_no_action_type',
     v2_action('action: {action_target: {target: host}}'), {}, 123,
     "Action definition must contain action_type field - "
     "data['scenarios'][0]['scenario']['actions'][0]['action']", SYNTAX),
    ('124_no_action_target',
     v2_action('action: {action_type: mark_down}'), {}, 124,
     "Action definition must contain action_target field - "
     "data['scenarios'][0]['scenario']['actions'][0]['action']", SYNTAX),
    ('125_no_alarm_name',
     v2_action('action: {action_type: raise_alarm, properties: '
               '{severity: WARNING}, action_target: {target: host}}'), {},
     125, 'raise_alarm action must contain alarm_name field in '
     'properties block', CONTENT),
    ('126_no_severity',
     v3_action('raise_alarm: {target: host, alarm_name: x}'), {}, 126,
     "raise_alarm action must contain severity field - data['scenarios']"
     "[0]['actions'][0]['raise_alarm']", SYNTAX),
    ('127_raise_alarm_no_target',
     v2_action('action: {action_type: raise_alarm, properties: '
               '{alarm_name: x, severity: WARNING}, action_target: '
               '{source: alarm}}'), {}, 127,
     'raise_alarm action must contain target field in action_target '
     'block', CONTENT),
    ('128_no_state', v3_action('set_state: {target: host}'), {}, 128,
     "set_state action must contain state field - data['scenarios'][0]"
     "['actions'][0]['set_state']", SYNTAX),
    ('129_set_state_no_target',
     v2_action('action: {action_type: set_state, properties: '
               '{state: ERROR}, action_target: {source: host}}'), {}, 129,
     'set_state action must contain target field in action_target block',
     CONTENT),
    ('130_causal_no_source',
     v2_action('action: {action_type: add_causal_relationship, '
               'action_target: {target: alarm}}'), {}, 130,
     'add_causal_relationship action must contain source and target '
     'fields in action_target block', CONTENT),
    ('131_mark_down_no_target',
     v2_action('action: {action_type: mark_down, action_target: '
               '{source: host}}'), {}, 131,
     'mark_down action must contain target field in action_target block',
     CONTENT),
    ('132_causal_on_resource',
     v2_action('action: {action_type: add_causal_relationship, '
               'action_target: {source: alarm, target: host}}'), {}, 132,
     'add_causal_relationship action requires source and target to be '
     "ALARM entities - 'host'", CONTENT),
    ('133_no_workflow',
     v2_action('action: {action_type: execute_mistral, properties: '
               '{input: {a: b}}}'), {}, 133,
     'execute_mistral action must contain workflow field in properties '
     'block', CONTENT),
    ('134_only_not',
     v3_action('mark_down: {target: host}', 'NOT alarm [on] host'), {},
     134, "Condition can not contain only 'not' clauses - in condition "
     "'NOT alarm [on] host'", CONTENT),
    ('135_no_common_entity',
     v3_action('mark_down: {target: host}', 'alarm [on] host OR vm'), {},
     135, "Condition must contain a common entity for all 'or' clauses - "
     "in condition 'alarm [on] host OR vm'", CONTENT),
    ('136_mistral_input_not_in_input_block',
     v2_action('action: {action_type: execute_mistral, properties: '
               '{workflow: wf, host: h1}}'), {}, 136,
     'Input parameters of the Mistral workflow in an execute_mistral '
     "action must be placed under an 'input' block - 'host'", CONTENT),
    ('137_function_in_v1',
     V1_HEAD + V2_DEFINITIONS + v2_scenario(
         'action: {action_type: execute_mistral, properties: '
         '{workflow: wf, host: "get_attr(host, name)"}}'),
     {'template_type': 'standard'}, 137,
     'Functions are supported only from version 2 - host: '
     'get_attr(host, name)', CONTENT),
    ('138_mistral_input_with_comma',
     v3_action("execute_mistral: {workflow: wf, input: {hosts: 'a,b'}}"),
     {}, 138, 'Input parameters of the Mistral workflow in an '
     "execute_mistral action can not contain '(', ')' or ',' unless they "
     "are a function call - 'a,b' @ data['scenarios'][0]['actions'][0]"
     "['execute_mistral']", SYNTAX),
    ('140_empty_includes', v2() + 'includes: []\n', {}, 140,
     'At least one template must be included', SYNTAX),
    ('141_include_without_name', v2() + 'includes: [{id: x}]\n', {}, 141,
     "Name field is unspecified for include - data['includes'][0]",
     SYNTAX),
    ('142_include_unknown',
     v2() + 'includes: [{name: nope}]\n',
     {'definitions': {'common_defs': DEFINITION_TEMPLATE}}, 142,
     "Trying to include a template that does not exist - 'nope'", CONTENT),
    ('143_definition_with_scenarios',
     DEFINITION_TEMPLATE + v2_scenario(), {}, 143,
     "A definition template cannot contain 'includes' or 'scenarios' "
     'blocks', SYNTAX),
    ('160_get_param_in_v1',
     V1_HEAD + V2_DEFINITIONS + v2_scenario(
         'action: {action_type: set_state, properties: '
         '{state: "get_param(s)"}, action_target: {target: host}}'),
     {'template_type': 'standard'}, 160,
     'Parameters are supported only from version 2 - '
     "data['scenarios'][0]['scenario']['actions'][0]['action']"
     "['properties']['state']: get_param(s)", CONTENT),
    ('161_undeclared_parameter',
     v3_action('set_state: {target: host, state: "get_param(s)"}'), {},
     161, "get_param called for a parameter that is not defined in the "
     "'parameters' block - parameter 's'", CONTENT),
    ('162_malformed_get_param',
     v3_action('set_state: {target: host, state: "get_param()"}')
     + 'parameters: {s: {default: ERROR}}\n', {}, 162,
     'Failed to resolve parameter: malformed get_param call - '
     "data['scenarios'][0]['actions'][0]['set_state']['state']: "
     'get_param()', CONTENT),
    ('163_parameter_without_value',
     v3_action('set_state: {target: host, state: "get_param(s)"}')
     + 'parameters: {s: {description: the state}}\n', {}, 163,
     "Failed to resolve parameter - parameter 's' has no value and no "
     'default', GENERAL),
    ('10000_no_entities', V3_META + V3_OK_SCENARIOS, {}, 10000,
     'Template must contain an entities section', SYNTAX),
    ('10100_no_target', v3_action('mark_down: {}'), {}, 10100,
     "Action must contain a target field - data['scenarios'][0]"
     "['actions'][0]['mark_down']", SYNTAX),
    ('10101_target_not_entity', v3_action('mark_down: {target: nope}'),
     {}, 10101, "Action target is not an entity key - 'nope' @ "
     "data['scenarios'][0]['actions'][0]['mark_down']", SYNTAX),
    ('10102_no_source',
     v3_action('add_causal_relationship: {target: alarm}'), {}, 10102,
     "Action must contain a source field - data['scenarios'][0]"
     "['actions'][0]['add_causal_relationship']", SYNTAX),
    ('10103_source_not_entity',
     v3_action('add_causal_relationship: {source: nope, target: alarm}'),
     {}, 10103, "Action source is not an entity key - 'nope' @ "
     "data['scenarios'][0]['actions'][0]['add_causal_relationship']",
     SYNTAX),
    ('10104_no_alarm_name',
     v3_action('raise_alarm: {target: host, severity: WARNING}'), {},
     10104, "raise_alarm action must contain alarm_name field - "
     "data['scenarios'][0]['actions'][0]['raise_alarm']", SYNTAX),
    ('10105_no_workflow',
     v3_action('execute_mistral: {input: {a: b}}'), {}, 10105,
     "execute_mistral action must contain workflow field - "
     "data['scenarios'][0]['actions'][0]['execute_mistral']", SYNTAX),
    ('10107_causing_alarm_not_entity',
     v3_action('raise_alarm: {target: host, alarm_name: x, '
               'severity: WARNING, causing_alarm: nope}'), {}, 10107,
     "causing_alarm is not an entity key - 'nope' @ data['scenarios'][0]"
     "['actions'][0]['raise_alarm']", SYNTAX),
    ('10200_mixed_case_operator',
     v3_action('mark_down: {target: host}', 'alarm [on] host And vm'), {},
     10200, "Condition refers to an entity that is not defined - 'And' in "
     "condition 'alarm [on] host And vm'", CONTENT),
]

# What the retired validator accepted or reported, where this project
# once differed (issue 16).
VALID = 'Template validation is OK'
V2_VM_DEFINITIONS = (
    'definitions:\n  entities:\n' + V2_ENTITY_ALARM + V2_ENTITY_HOST
    + '    - entity: {category: RESOURCE, type: nova.instance, '
    'template_id: vm}\n  relationships:\n' + V2_RELATIONSHIP
    + '    - relationship: {source: host, target: vm, '
    'relationship_type: contains, template_id: host_contains_vm}\n')
V2_RAISE_ON_VM = ('action: {action_type: raise_alarm, properties: '
                  '{alarm_name: vm at risk, severity: WARNING}, '
                  'action_target: {target: vm}}')
INCLUDED_DEFINITIONS = '''
metadata: {version: 2, name: host_defs, type: definition}
definitions:
  entities:
    - entity: {category: ALARM, type: zabbix, name: cpu, template_id: alarm}
    - entity: {category: RESOURCE, type: nova.host, template_id: host}
  relationships: []
'''
RETIRED_CASES = [
    ('retired_v3_target_in_some_or_clauses',
     v3_action('raise_alarm: {target: vm, alarm_name: vm at risk, '
               'severity: WARNING}',
               'alarm [on] host AND host [contains] vm OR alarm [on] host'),
     {}, 0, VALID, GENERAL),
    ('retired_v2_target_in_some_or_clauses',
     v2(v2_scenario(V2_RAISE_ON_VM, 'alarm_on_host and host_contains_vm '
                    'or alarm_on_host'), definitions=V2_VM_DEFINITIONS),
     {}, 0, VALID, GENERAL),
    ('retired_v3_target_positive_under_a_double_not',
     v3_action('raise_alarm: {target: vm, alarm_name: vm at risk, '
               'severity: WARNING}',
               'alarm [on] host AND NOT (NOT host [contains] vm)'),
     {}, 0, VALID, GENERAL),
    ('retired_v2_target_only_under_a_not',
     v2(v2_scenario(V2_RAISE_ON_VM, 'alarm_on_host and not '
                    'host_contains_vm'), definitions=V2_VM_DEFINITIONS),
     {}, 0, VALID, GENERAL),
    ('retired_v3_get_attr_followed_by_text',
     v3_action("execute_mistral: {workflow: wf, input: {message: "
               "'get_attr(host, name) is down, see get_attr(alarm, name)'}}"),
     {}, 0, VALID, GENERAL),
    ('retired_v3_parentheses_without_get_attr_still_138',
     v3_action("execute_mistral: {workflow: wf, input: {message: "
               "'host (name) is down'}}"),
     {}, 138, 'Input parameters of the Mistral workflow in an '
     "execute_mistral action can not contain '(', ')' or ',' unless they "
     "are a function call - 'host (name) is down' @ data['scenarios'][0]"
     "['actions'][0]['execute_mistral']", SYNTAX),
    ('retired_definitions_all_included',
     V2_META + 'includes: [{name: host_defs}]\ndefinitions:\n'
     '  relationships:\n' + V2_RELATIONSHIP + v2_scenario(),
     {'definitions': {'host_defs': INCLUDED_DEFINITIONS}}, 0, VALID,
     GENERAL),
    ('retired_definitions_section_empty_with_includes',
     V2_META + 'includes: [{name: host_defs}]\ndefinitions:\n'
     + v2_scenario(condition='host'),
     {'definitions': {'host_defs': INCLUDED_DEFINITIONS}}, 0, VALID,
     GENERAL),
    ('retired_no_definitions_section_with_includes',
     V2_META + 'includes: [{name: host_defs}]\n'
     + v2_scenario(condition='alarm and host'),
     {'definitions': {'host_defs': INCLUDED_DEFINITIONS}}, 0, VALID,
     GENERAL),
    ('retired_137_get_attr_in_text_in_v1',
     V1_HEAD + V2_DEFINITIONS + v2_scenario(
         'action: {action_type: execute_mistral, properties: '
         '{workflow: wf, host: "get_attr(host, name) is down"}}'),
     {'template_type': 'standard'}, 137,
     'Functions are supported only from version 2 - host: '
     'get_attr(host, name) is down', CONTENT),
    ('retired_4_includes_without_value', v2() + 'includes:\n', {}, 4,
     "Syntax error - expected a list @ data['includes']", SYNTAX),
    ('retired_135_or_of_negated_clauses',
     v3_action('mark_down: {target: host}',
               'NOT alarm [on] host OR NOT host [contains] vm'), {}, 135,
     "Condition must contain a common entity for all 'or' clauses - "
     "in condition 'NOT alarm [on] host OR NOT host [contains] vm'",
     CONTENT),
    ('retired_135_or_of_negated_clauses_v2',
     v2(v2_scenario(condition='not alarm_on_host or not host_contains_vm'),
        definitions=V2_VM_DEFINITIONS), {}, 135,
     "Condition must contain a common entity for all 'or' clauses - "
     "in condition 'not alarm_on_host or not host_contains_vm'", CONTENT),
    ('retired_134_and_of_negated_terms',
     v3_action('mark_down: {target: host}',
               'NOT alarm [on] host AND NOT host [contains] vm'), {}, 134,
     "Condition can not contain only 'not' clauses - in condition "
     "'NOT alarm [on] host AND NOT host [contains] vm'", CONTENT),
]
CASES += RETIRED_CASES


def _parse_definitions(kwargs: dict) -> dict:
    kwargs = dict(kwargs)
    if 'definitions' in kwargs:
        kwargs['definitions'] = {
            name: evaluator.parse_yaml(text)
            for name, text in kwargs['definitions'].items()}
    return kwargs


@pytest.mark.parametrize('text,kwargs,code,message,description',
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_status_code(text, kwargs, code, message, description):
    result = evaluator.validate_text(text, **_parse_definitions(kwargs))
    assert (result.status_code, result.message) == (code, message)
    assert result.description == description
    assert result.is_valid == (code == 0)


def test_invalid_yaml_is_code_5():
    result = evaluator.validate_text('metadata: {version: 3\nentities: [')
    assert result.status_code == 5
    assert result.message.startswith('Invalid YAML file - ')
    assert 'line' in result.message
    assert result.description == SYNTAX


def test_every_code_has_a_case():
    covered = {c[3] for c in CASES} | {5}
    assert covered == set(status.MESSAGES)


@pytest.mark.parametrize('text,kwargs,code,message,description',
                         [c[1:] for c in CASES if c[3] != 0],
                         ids=[c[0] for c in CASES if c[3] != 0])
def test_load_raises_the_same_error(text, kwargs, code, message,
                                    description):
    with pytest.raises(evaluator.TemplateValidationError) as info:
        evaluator.load_text(text, **_parse_definitions(kwargs))
    assert (info.value.code, str(info.value)) == (code, message)


def test_api_result_dicts():
    ok = evaluator.validate_text(V3_OK).to_api_dict('/tmp/t.yaml')
    assert ok == {'file path': '/tmp/t.yaml', 'status': 'validation OK',
                  'description': 'Template validation',
                  'message': 'Template validation is OK', 'status code': 0}
    bad = evaluator.validate_text(v3_action('mark_down: {}'))
    assert bad.to_api_dict(None) == {
        'file path': None, 'status': 'validation failed',
        'description': 'Template syntax validation',
        'message': bad.message, 'status code': 10100}


def test_138_is_only_a_warning_in_v2():
    text = v2_action('action: {action_type: execute_mistral, properties: '
                     '{workflow: wf, input: {hosts: "a,b"}}}')
    result = evaluator.validate_text(text)
    assert result.status_code == 0
    action = evaluator.load_text(text).scenarios[0].actions[0]
    assert action.properties == {'workflow': 'wf',
                                 'input': {'hosts': 'a,b'}}


def test_v3_target_must_appear_in_the_condition():
    text = v3_action('mark_down: {target: vm}', 'alarm [on] host')
    result = evaluator.validate_text(text)
    assert result.status_code == 10101
    assert result.message == ("Action target is not an entity key - 'vm' "
                              'does not appear in the condition')


def test_v2_target_must_appear_in_the_condition():
    text = v2(v2_scenario(condition='host'), definitions=(
        'definitions:\n  entities:\n' + V2_ENTITY_ALARM + V2_ENTITY_HOST
        + '  relationships:\n' + V2_RELATIONSHIP)).replace(
            '{target: host}', '{target: alarm}')
    result = evaluator.validate_text(text)
    assert result.status_code == 3
    assert result.message.endswith("'alarm' does not appear in the "
                                   'condition')


def test_v3_definition_type_is_rejected():
    text = V3_OK.replace('type: standard', 'type: definition')
    result = evaluator.validate_text(text)
    assert result.status_code == 64


def test_requested_type_must_be_known():
    result = evaluator.validate_text(V1_HEAD + V2_DEFINITIONS
                                     + v2_scenario(),
                                     template_type='scenario')
    assert (result.status_code, result.message) == (
        66, "Unknown template type - 'scenario'")


def test_first_failure_in_pipeline_order_is_reported():
    # A bad regex (step 2) and an unknown condition key (step 3): 47.
    text = v3_action('mark_down: {target: host}', 'alarm [on] nope')
    text = text.replace("name: cpu}", "name.regex: '('}")
    assert evaluator.validate_text(text).status_code == 47
    # An unknown condition key (step 3) before a NOT rule (step 4).
    text = v3_action('mark_down: {target: host}',
                     'alarm [on] host AND NOT vm AND nope')
    assert evaluator.validate_text(text).status_code == 10200
    # v2: syntax (missing action_type) before content (bad category).
    text = v2_action('action: {action_target: {target: host}}').replace(
        'category: RESOURCE', 'category: resource')
    assert evaluator.validate_text(text).status_code == 123


def test_template_must_be_a_mapping():
    result = evaluator.validate(['metadata'])
    assert (result.status_code, result.message) == (
        4, 'Syntax error - a template must be a mapping')
