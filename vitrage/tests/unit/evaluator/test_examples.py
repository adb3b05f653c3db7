"""The worked examples of templates.md section 11 and the shipped samples."""
import os

import pytest

from vitrage import evaluator
from vitrage.evaluator import functions
from vitrage.evaluator import template_yaml

PING_LOSS_V2 = '''
metadata:
  version: 2
  type: standard
  name: ping_loss_on_compute
  description: a host that stops answering pings takes its VMs down with it
definitions:
  entities:
    - entity: {category: ALARM, type: nagios, name: PING_LOSS, template_id: ping_alarm}
    - entity: {category: RESOURCE, type: nova.host, template_id: compute}
    - entity: {category: RESOURCE, type: nova.instance, template_id: vm}
    - entity: {category: ALARM, type: vitrage, name: vm_unreachable, template_id: vm_alarm}
  relationships:
    - relationship: {source: ping_alarm, target: compute, relationship_type: on, template_id: ping_on_compute}
    - relationship: {source: compute, target: vm, relationship_type: contains, template_id: compute_has_vm}
    - relationship: {source: vm_alarm, target: vm, relationship_type: on, template_id: vm_alarm_on_vm}
scenarios:
  - scenario:
      condition: ping_on_compute
      actions:
        - action: {action_type: set_state, properties: {state: ERROR}, action_target: {target: compute}}
        - action: {action_type: mark_down, action_target: {target: compute}}
  - scenario:
      condition: ping_on_compute and compute_has_vm
      actions:
        - action:
            action_type: raise_alarm
            properties: {alarm_name: vm_unreachable, severity: CRITICAL}
            action_target: {target: vm}
  - scenario:
      condition: ping_on_compute and compute_has_vm and vm_alarm_on_vm
      actions:
        - action: {action_type: add_causal_relationship, action_target: {source: ping_alarm, target: vm_alarm}}
'''  # noqa: E501

UPLINK_V3 = '''
metadata:
  version: 3
  type: standard
  name: get_param(tpl_name)
parameters:
  tpl_name: {description: unique name of this instantiation}
  uplink_alarm: {description: name of the switch alarm to react to}
  host_state: {default: SUBOPTIMAL}
  deduced_severity: {default: WARNING}
entities:
  sw: {category: RESOURCE, type: switch}
  sw_alarm: {category: ALARM, name: get_param(uplink_alarm)}
  node: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: sw_alarm [on] sw AND sw [attached] node
    actions:
      - set_state: {target: node, state: get_param(host_state)}
      - raise_alarm:
          target: node
          alarm_name: degraded uplink
          severity: get_param(deduced_severity)
          causing_alarm: sw_alarm
'''

VM_WITHOUT_NIC_V3 = '''
metadata: {version: 3, type: standard, name: vm_without_nic}
entities:
  node: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
  nic: {category: RESOURCE, type: neutron.port}
scenarios:
  - condition: node [contains] vm AND NOT nic [attached] vm
    actions:
      - raise_alarm: {target: vm, alarm_name: vm has no network port, severity: WARNING}
'''  # noqa: E501

PING_ON = 'ping_alarm [on] compute'
HAS_VM = 'compute [contains] vm'
VM_ALARM_ON = 'vm_alarm [on] vm'


def test_ping_loss_v2_model():
    t = evaluator.load_text(PING_LOSS_V2)
    assert isinstance(t, evaluator.TemplateDef)
    assert (t.name, t.version, t.template_type) == (
        'ping_loss_on_compute', '2', 'standard')
    assert t.entities['ping_alarm'].properties == {
        'vitrage_category': 'ALARM', 'vitrage_type': 'nagios',
        'name': 'PING_LOSS'}
    assert t.entities['vm'].vitrage_type == 'nova.instance'
    assert set(t.relationships) == {PING_ON, HAS_VM, VM_ALARM_ON}
    assert t.relationships[PING_ON].label == 'on'
    assert [s.id for s in t.scenarios] == [
        'ping_loss_on_compute-scenario0', 'ping_loss_on_compute-scenario1',
        'ping_loss_on_compute-scenario2']

    first, second, third = t.scenarios
    assert first.clauses == (evaluator.Clause(
        ('ping_alarm', 'compute'), (PING_ON,)),)
    assert [(a.id, a.type, a.target, a.properties)
            for a in first.actions] == [
        ('ping_loss_on_compute-scenario0-action0', 'set_state', 'compute',
         {'state': 'ERROR'}),
        ('ping_loss_on_compute-scenario0-action1', 'mark_down', 'compute',
         {})]
    assert set(first.entities) == {'ping_alarm', 'compute'}

    assert second.condition == evaluator.And(
        (evaluator.Atom(PING_ON), evaluator.Atom(HAS_VM)))
    assert second.clauses[0].entities == ('ping_alarm', 'compute', 'vm')
    raise_alarm = second.actions[0]
    assert (raise_alarm.type, raise_alarm.target, raise_alarm.properties) \
        == ('raise_alarm', 'vm',
            {'alarm_name': 'vm_unreachable', 'severity': 'CRITICAL'})

    causal = third.actions[0]
    assert (causal.type, causal.source, causal.target) == (
        'add_causal_relationship', 'ping_alarm', 'vm_alarm')
    assert causal.targets == {'source': 'ping_alarm', 'target': 'vm_alarm'}
    assert third.clauses[0].relationships == (PING_ON, HAS_VM, VM_ALARM_ON)
    assert third.common_entities == ('ping_alarm', 'compute', 'vm',
                                     'vm_alarm')


def test_uplink_v3_with_parameters():
    params = {'tpl_name': 'uplink_lacp', 'uplink_alarm': 'LACP down'}
    result = evaluator.validate_text(UPLINK_V3, params=params)
    assert result.status_code == 0
    assert result.name == 'uplink_lacp'
    assert 'parameters' not in result.template
    actions = result.template['scenarios'][0]['actions']
    assert actions[0] == {'set_state': {'target': 'node',
                                        'state': 'SUBOPTIMAL'}}
    assert actions[1]['raise_alarm']['severity'] == 'WARNING'

    t = evaluator.load_text(UPLINK_V3, params=params)
    scenario, = t.scenarios
    assert scenario.id == 'uplink_lacp-scenario0'
    assert scenario.entities['sw_alarm'].properties == {
        'vitrage_category': 'ALARM', 'name': 'LACP down'}
    set_state, raise_alarm = scenario.actions
    assert set_state.properties == {'state': 'SUBOPTIMAL'}
    assert raise_alarm.properties == {
        'alarm_name': 'degraded uplink', 'severity': 'WARNING',
        'causing_alarm': evaluator.GetAttr('sw_alarm', 'vitrage_id')}
    assert raise_alarm.causing_alarm == 'sw_alarm'
    assert raise_alarm.id == 'uplink_lacp-scenario0-action1'


def test_uplink_v3_parameter_errors():
    missing = evaluator.validate_text(UPLINK_V3,
                                      params={'tpl_name': 'uplink_lacp'})
    assert missing.status_code == 163
    assert missing.message.startswith('Failed to resolve parameter')
    undeclared = evaluator.validate_text(
        UPLINK_V3.replace('get_param(uplink_alarm)', 'get_param(uplink)'),
        params={'tpl_name': 'x', 'uplink_alarm': 'y'})
    assert undeclared.status_code == 161


def test_vm_without_nic_not_semantics():
    scenario, = evaluator.load_text(VM_WITHOUT_NIC_V3).scenarios
    clause, = scenario.clauses
    assert clause.entities == ('node', 'vm')
    assert clause.relationships == ('node [contains] vm',)
    assert clause.negative_relationships == ('nic [attached] vm',)
    assert clause.negative_only_entities == ('nic',)
    assert scenario.common_entities == ('node', 'vm')
    nic = scenario.relationships['nic [attached] vm']
    assert (nic.source, nic.label, nic.target) == ('nic', 'attached', 'vm')


@pytest.mark.parametrize('condition,code', [
    ('NOT nic', 86),
    ('NOT nic [attached] vm', 134),
])
def test_vm_without_nic_variants(condition, code):
    text = VM_WITHOUT_NIC_V3.replace(
        'node [contains] vm AND NOT nic [attached] vm', condition)
    assert evaluator.validate_text(text).status_code == code


def test_nic_is_never_bound_so_an_action_on_it_never_runs(caplog):
    # The retired validator accepted such a target; nothing binds it.
    text = VM_WITHOUT_NIC_V3.replace('{target: vm,', '{target: nic,')
    assert evaluator.validate_text(text).status_code == 0
    assert 'never runs' in caplog.text


SAMPLES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                       'etc', 'vitrage', 'templates')
SAMPLE_FILES = sorted(f for f in os.listdir(SAMPLES) if f.endswith('.yaml'))


def test_samples_exist():
    assert {'host_down.yaml', 'instance_down.yaml', 'port_down.yaml',
            'high_cpu.yaml'} <= set(SAMPLE_FILES)


@pytest.mark.parametrize('name', SAMPLE_FILES)
def test_sample_templates_are_valid_v3(name):
    template = template_yaml.load_file(os.path.join(SAMPLES, name))
    result = evaluator.validate(template)
    assert (result.status_code, result.message) == (
        0, 'Template validation is OK')
    assert template['metadata']['version'] == '3'
    assert result.name == name[:-len('.yaml')]


def test_host_down_sample_reacts_to_doctor_alarm():
    t = evaluator.load(template_yaml.load_file(
        os.path.join(SAMPLES, 'host_down.yaml')))
    doctor_alarm = {'vitrage_category': 'ALARM', 'vitrage_type': 'doctor',
                    'name': 'compute.host.down', 'vitrage_is_deleted': False,
                    'vitrage_is_placeholder': False}
    assert t.entities['host_alarm'].matches(doctor_alarm)
    down, instances = t.scenarios
    assert {a.type for a in down.actions} == {'set_state', 'mark_down'}
    raise_alarm = instances.actions[0]
    assert raise_alarm.target == 'instance'
    assert functions.evaluate(raise_alarm.properties['causing_alarm'],
                              {'host_alarm': {'vitrage_id': 'a1'}}) == 'a1'


def test_high_cpu_sample_regex():
    t = evaluator.load(template_yaml.load_file(
        os.path.join(SAMPLES, 'high_cpu.yaml')))
    alarm = t.entities['cpu_alarm']
    base = {'vitrage_category': 'ALARM', 'vitrage_type': 'zabbix'}
    assert alarm.matches(dict(base, rawtext='High CPU load on compute-3'))
    assert not alarm.matches(dict(base, rawtext='Disk full on compute-3'))
