"""The same scenarios written in v1, v2 and v3 load into equal models."""
import pytest

from vitrage import evaluator

V3 = '''
metadata:
  version: 3
  type: standard
  name: host_alarm_spreads
entities:
  host_alarm: {category: ALARM, type: zabbix, name.regex: 'host .*down'}
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
  vm_alarm: {category: ALARM, type: vitrage, name: vm down}
  port: {category: RESOURCE, type: neutron.port}
scenarios:
  - condition: host_alarm [on] host AND host [contains] vm AND NOT port [attached] vm
    actions:
      - raise_alarm: {target: vm, alarm_name: vm down, severity: CRITICAL}
      - set_state: {target: vm, state: ERROR}
      - mark_down: {target: host}
  - condition: host_alarm [on] host AND host [contains] vm AND vm_alarm [on] vm
    actions:
      - add_causal_relationship: {source: host_alarm, target: vm_alarm}
      - execute_mistral:
          workflow: evacuate
          input: {host: 'get_attr(host, name)', force: 'yes'}
'''  # noqa: E501

_V2_BODY = '''
definitions:
  entities:
    - entity: {category: ALARM, type: zabbix, name.regex: 'host .*down', template_id: host_alarm}
    - entity: {category: RESOURCE, type: nova.host, template_id: host}
    - entity: {category: RESOURCE, type: nova.instance, template_id: vm}
    - entity: {category: ALARM, type: vitrage, name: vm down, template_id: vm_alarm}
    - entity: {category: RESOURCE, type: neutron.port, template_id: port}
  relationships:
    - relationship: {source: host_alarm, target: host, relationship_type: on, template_id: alarm_on_host}
    - relationship: {source: host, target: vm, relationship_type: contains, template_id: host_has_vm}
    - relationship: {source: port, target: vm, relationship_type: attached, template_id: port_on_vm}
    - relationship: {source: vm_alarm, target: vm, relationship_type: on, template_id: vm_alarm_on_vm}
scenarios:
  - scenario:
      condition: alarm_on_host and host_has_vm and not port_on_vm
      actions:
        - action:
            action_type: raise_alarm
            properties: {alarm_name: vm down, severity: CRITICAL}
            action_target: {target: vm}
        - action:
            action_type: set_state
            properties: {state: ERROR}
            action_target: {target: vm}
        - action:
            action_type: mark_down
            action_target: {target: host}
  - scenario:
      condition: alarm_on_host and host_has_vm and vm_alarm_on_vm
      actions:
        - action:
            action_type: add_causal_relationship
            action_target: {source: host_alarm, target: vm_alarm}
        - action:
            action_type: execute_mistral
            properties:
              %s
'''  # noqa: E501

V2 = ('metadata: {version: 2, type: standard, name: host_alarm_spreads}\n'
      + _V2_BODY % ("workflow: evacuate\n              input: "
                    "{host: 'get_attr(host, name)', force: 'yes'}"))
V1 = ('metadata: {name: host_alarm_spreads}\n'
      + _V2_BODY % ("{workflow: evacuate, host: 'get_attr(host, name)', "
                    "force: 'yes'}"))

V1_WITHOUT_FUNCTION = V1.replace("'get_attr(host, name)'", 'cmp-1')


def test_v1_with_function_is_refused():
    assert evaluator.validate_text(V1, template_type='standard') \
        .status_code == 137


@pytest.fixture
def models():
    v3 = evaluator.load_text(V3)
    v2 = evaluator.load_text(V2)
    v1 = evaluator.load_text(V1_WITHOUT_FUNCTION, template_type='standard')
    return v1, v2, v3


def test_versions_give_equal_scenarios(models):
    v1, v2, v3 = models
    assert (v1.version, v2.version, v3.version) == ('1', '2', '3')
    assert v2.scenarios == v3.scenarios
    assert v2.relationships == v3.relationships
    # v1 differs only in the execute_mistral input it cannot compute.
    assert v1.scenarios[0] == v3.scenarios[0]
    mistral_v1 = v1.scenarios[1].actions[1]
    mistral_v3 = v3.scenarios[1].actions[1]
    assert mistral_v1.properties == {
        'workflow': 'evacuate', 'input': {'host': 'cmp-1', 'force': 'yes'}}
    assert mistral_v3.properties == {
        'workflow': 'evacuate',
        'input': {'host': evaluator.GetAttr('host', 'name'),
                  'force': 'yes'}}


def test_model_details(models):
    _v1, _v2, v3 = models
    first, second = v3.scenarios
    assert first.clauses == (evaluator.Clause(
        entities=('host_alarm', 'host', 'vm'),
        relationships=('host_alarm [on] host', 'host [contains] vm'),
        negative_relationships=('port [attached] vm',),
        negative_only_entities=('port',)),)
    assert [a.type for a in first.actions] == [
        'raise_alarm', 'set_state', 'mark_down']
    mistral = second.actions[1]
    # execute_mistral has no target: a common entity is picked.
    assert mistral.target in second.common_entities
    assert mistral.target == 'host_alarm'
    assert v3.entities['host_alarm'].regexes == (('name', 'host .*down'),)


def test_models_round_trip_through_dicts(models):
    for model in models:
        data = model.to_dict()
        assert evaluator.TemplateDef.from_dict(data) == model
