"""Parameters, definition templates (includes) and equivalences."""
import pytest

from vitrage import evaluator
from vitrage.evaluator import equivalence

PARAMETRISED = '''
metadata:
  version: 3
  name: get_param(name)
  type: standard
parameters:
  name:
  state: {description: deduced state, default: SUBOPTIMAL}
  alarm: {default: cpu high}
  condition: {default: 'alarm [on] host'}
entities:
  alarm: {category: ALARM, name: get_param(alarm)}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: get_param(condition)
    actions:
      - set_state: {target: host, state: get_param(state)}
'''


def test_defaults_and_values():
    result = evaluator.validate_text(PARAMETRISED, params={'name': 'p1'})
    assert result.status_code == 0, result.message
    assert result.template['metadata']['name'] == 'p1'
    assert result.template['entities']['alarm']['name'] == 'cpu high'
    assert 'parameters' not in result.template
    t = evaluator.load_text(PARAMETRISED,
                            params={'name': 'p2', 'state': 'ERROR',
                                    'alarm': ''})
    assert t.name == 'p2'
    assert t.scenarios[0].id == 'p2-scenario0'
    # An empty request value falls back to the default.
    assert t.entities['alarm'].properties['name'] == 'cpu high'
    assert t.scenarios[0].actions[0].properties == {'state': 'ERROR'}
    assert t.scenarios[0].relationships['alarm [on] host'].label == 'on'


def test_parameter_values_are_stringified():
    t = evaluator.load_text(PARAMETRISED, params={'name': 42})
    assert t.name == '42'


def test_missing_value_without_default_is_163():
    result = evaluator.validate_text(PARAMETRISED)
    assert (result.status_code, result.description) == (
        163, 'Template validation')
    assert result.message == ("Failed to resolve parameter - parameter "
                              "'name' has no value and no default")


def test_resolved_values_are_validated_again():
    result = evaluator.validate_text(
        PARAMETRISED, params={'name': 'p', 'condition': 'alarm [on] nope'})
    assert result.status_code == 10200


def test_get_param_without_parameters_section_is_161():
    text = PARAMETRISED.split('parameters:')[0] + 'entities:' + \
        PARAMETRISED.split('entities:')[1]
    assert 'parameters' not in text
    assert evaluator.validate_text(text).status_code == 161


def test_bad_parameter_definition_is_4():
    text = PARAMETRISED.replace('default: SUBOPTIMAL', 'value: SUBOPTIMAL')
    result = evaluator.validate_text(text, params={'name': 'x'})
    assert result.status_code == 4
    assert 'extra keys not allowed' in result.message


def test_v2_parameters():
    text = '''
metadata: {version: 2, name: v2p, type: standard}
parameters:
  sev: {default: WARNING}
definitions:
  entities:
    - entity: {category: RESOURCE, type: nova.host, template_id: host}
scenarios:
  - scenario:
      condition: host
      actions:
        - action:
            action_type: raise_alarm
            properties: {alarm_name: x, severity: get_param(sev)}
            action_target: {target: host}
'''
    t = evaluator.load_text(text, params={'sev': 'CRITICAL'})
    assert t.scenarios[0].actions[0].properties['severity'] == 'CRITICAL'


# -- includes ------------------------------------------------------------

DEFINITIONS = '''
metadata: {version: 2, name: compute_defs, type: definition}
definitions:
  entities:
    - entity: {category: RESOURCE, type: nova.host, template_id: host}
    - entity: {category: RESOURCE, type: nova.instance, template_id: vm}
  relationships:
    - relationship: {source: host, target: vm, relationship_type: contains, template_id: host_has_vm}
'''  # noqa: E501

INCLUDING = '''
metadata: {version: 2, name: uses_defs, type: standard}
includes:
  - name: compute_defs
definitions:
  entities:
    - entity: {category: ALARM, type: zabbix, template_id: alarm}
  relationships:
    - relationship: {source: alarm, target: host, relationship_type: on, template_id: alarm_on_host}
scenarios:
  - scenario:
      condition: alarm_on_host and host_has_vm
      actions:
        - action:
            action_type: raise_alarm
            properties: {alarm_name: vm at risk, severity: WARNING}
            action_target: {target: vm}
'''  # noqa: E501


def _definitions():
    return {'compute_defs': evaluator.parse_yaml(DEFINITIONS)}


def test_definition_template_is_valid_and_loads():
    result = evaluator.validate_text(DEFINITIONS)
    assert (result.status_code, result.template_type) == (0, 'definition')
    t = evaluator.load_text(DEFINITIONS)
    assert (t.template_type, t.scenarios) == ('definition', ())
    assert set(t.entities) == {'host', 'vm'}


def test_v1_definition_template_takes_its_type_from_the_request():
    text = DEFINITIONS.replace('{version: 2, name: compute_defs, '
                               'type: definition}', '{name: compute_defs}')
    assert evaluator.validate_text(text).status_code == 66
    assert evaluator.validate_text(
        text, template_type='definition').status_code == 0


def test_includes_merge_entities_after_own():
    t = evaluator.load_text(INCLUDING, definitions=_definitions())
    assert list(t.entities) == ['alarm', 'host', 'vm']
    assert set(t.relationships) == {'alarm [on] host', 'host [contains] vm'}
    scenario, = t.scenarios
    assert scenario.clauses[0].entities == ('alarm', 'host', 'vm')
    assert scenario.actions[0].target == 'vm'


def test_includes_with_a_lookup_function():
    seen = []

    def lookup(name):
        seen.append(name)
        return _definitions().get(name)

    assert evaluator.validate_text(INCLUDING,
                                   definitions=lookup).status_code == 0
    assert seen == ['compute_defs']


def test_include_without_definitions_section_in_template():
    text = INCLUDING.replace('''definitions:
  entities:
    - entity: {category: ALARM, type: zabbix, template_id: alarm}
  relationships:
    - relationship: {source: alarm, target: host, relationship_type: on, template_id: alarm_on_host}
''', '').replace('alarm_on_host and host_has_vm', 'host_has_vm')  # noqa
    assert 'definitions' not in text
    t = evaluator.load_text(text, definitions=_definitions())
    assert set(t.entities) == {'host', 'vm'}


def test_included_duplicate_entity_is_2():
    text = INCLUDING.replace('template_id: alarm}', 'template_id: alarm}\n'
                             '    - entity: {category: RESOURCE, '
                             'template_id: host}')
    result = evaluator.validate_text(text, definitions=_definitions())
    assert (result.status_code, result.message) == (
        2, "Duplicate template_id definition - 'host'")


def test_included_duplicate_relationship_is_ignored():
    text = INCLUDING.replace(
        'template_id: alarm_on_host}',
        'template_id: alarm_on_host}\n    - relationship: {source: host, '
        'target: vm, relationship_type: contains, template_id: '
        'host_has_vm}')
    assert evaluator.validate_text(
        text, definitions=_definitions()).status_code == 0


def test_invalid_included_template_is_142():
    broken = {'compute_defs': {'metadata': {'name': 'compute_defs'}}}
    result = evaluator.validate_text(INCLUDING, definitions=broken)
    assert result.status_code == 142
    assert "definition template 'compute_defs' is invalid" in result.message


# -- equivalences --------------------------------------------------------

EQUIVALENCE = '''
metadata: {version: 2, type: equivalence, name: disk_alarms}
equivalences:
  - equivalence:
      - entity: {category: ALARM, type: nagios, name: disk_full}
      - entity: {category: ALARM, type: zabbix, name: Disk is full}
      - entity: {category: ALARM, type: collectd, name: df}
'''

DISK_SCENARIO = '''
metadata: {version: 3, type: standard, name: disk}
entities:
  disk_alarm: {category: ALARM, type: nagios, name: disk_full}
  other_disk_alarm: {category: ALARM, type: nagios, name: disk_full}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: disk_alarm [on] host
    actions:
      - set_state: {target: host, state: SUBOPTIMAL}
  - condition: host
    actions:
      - mark_down: {target: host}
'''


def test_equivalence_templates_are_not_validated():
    result = evaluator.validate_text(EQUIVALENCE)
    assert (result.status_code, result.message, result.template_type) == (
        0, 'No Validation', 'equivalence')
    # The API answers an empty status code, as the retired project did.
    assert result.to_api_dict('/e.yaml') == {
        'file path': '/e.yaml', 'status': 'validation OK',
        'description': 'Template validation', 'message': 'No Validation',
        'status code': ''}
    assert evaluator.validate_text(
        'metadata: {name: x}\nwhatever: 1\n',
        template_type='equivalence').message == 'No Validation'


def test_load_equivalence():
    eq = evaluator.load_text(EQUIVALENCE)
    assert isinstance(eq, evaluator.EquivalenceDef)
    assert eq.name == 'disk_alarms'
    group, = eq.groups
    assert frozenset({('vitrage_category', 'ALARM'),
                      ('vitrage_type', 'zabbix'),
                      ('name', 'Disk is full')}) in group
    assert evaluator.EquivalenceDef.from_dict(eq.to_dict()) == eq


def test_bad_equivalence_shape_fails_to_load():
    with pytest.raises(evaluator.TemplateValidationError) as info:
        evaluator.load_text('metadata: {name: x, type: equivalence}\n'
                            'equivalences: [{equivalence: {a: b}}]\n')
    assert info.value.code == 4


def test_scenarios_are_copied_per_equivalent_entity():
    index = equivalence.merge([evaluator.load_text(EQUIVALENCE)])
    t = equivalence.apply(evaluator.load_text(DISK_SCENARIO), index)
    ids = [s.id for s in t.scenarios]
    assert ids == ['disk-scenario0', 'disk-scenario0_equivalence',
                   'disk-scenario0_equivalence2', 'disk-scenario1']
    types = [s.entities['disk_alarm'].vitrage_type for s in t.scenarios[:3]]
    assert types == ['nagios', 'zabbix', 'collectd']
    assert t.scenarios[1].actions[0].id == \
        'disk-scenario0_equivalence-action0'
    assert t.scenarios[1].actions[0].properties == {'state': 'SUBOPTIMAL'}


def test_cartesian_copies_for_two_entities():
    index = equivalence.merge([evaluator.load_text(EQUIVALENCE)])
    text = DISK_SCENARIO.replace(
        'disk_alarm [on] host', 'disk_alarm [on] host AND '
        'other_disk_alarm [on] host')
    t = equivalence.apply(evaluator.load_text(text), index)
    assert len(t.scenarios) == 3 * 3 + 1
    pairs = {(s.entities['disk_alarm'].vitrage_type,
              s.entities['other_disk_alarm'].vitrage_type)
             for s in t.scenarios[:9]}
    assert len(pairs) == 9
    assert len({s.id for s in t.scenarios}) == 10


def test_member_in_two_groups_conflicts():
    other = EQUIVALENCE.replace('name: disk_alarms', 'name: other').replace(
        'type: zabbix, name: Disk is full', 'type: aodh, name: disk')
    with pytest.raises(evaluator.EquivalenceConflict):
        equivalence.merge([evaluator.load_text(EQUIVALENCE),
                           evaluator.load_text(other)])
    twice = EQUIVALENCE + '''  - equivalence:
      - entity: {category: ALARM, type: nagios, name: disk_full}
      - entity: {category: ALARM, type: aodh, name: disk}
'''
    with pytest.raises(evaluator.TemplateValidationError):
        evaluator.load_text(twice)
