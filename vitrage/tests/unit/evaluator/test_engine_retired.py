"""Templates the retired project accepted, run by the evaluator on a small
graph (issue 16): each clause of a condition is evaluated with the
entities it binds, and ``get_attr`` calls inside longer text.
"""
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage import evaluator
from vitrage.evaluator import model
from vitrage.tests.unit.evaluator import test_engine
from vitrage.tests.unit.evaluator.test_engine_world import HOST
from vitrage.tests.unit.evaluator.test_engine_world import NAGIOS
from vitrage.tests.unit.evaluator.test_engine_world import PORT
from vitrage.tests.unit.evaluator.test_engine_world import VM
from vitrage.tests.unit.evaluator.test_engine_world import World
from vitrage.tests.unit.evaluator.test_engine_world import world_event

# vm is bound by the first clause of the OR only.
SOME_CLAUSES_V3 = '''
metadata: {version: 3, type: standard, name: ping_with_or_without_vms}
entities:
  ping: {category: ALARM, type: nagios, name: PING_LOSS}
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
scenarios:
  - condition: ping [on] host AND host [contains] vm OR ping [on] host
    actions:
      - set_state: {target: host, state: ERROR}
      - raise_alarm:
          target: vm
          alarm_name: vm_unreachable
          severity: CRITICAL
          causing_alarm: ping
'''

SOME_CLAUSES_V2 = '''
metadata: {version: 2, type: standard, name: ping_with_or_without_vms_v2}
definitions:
  entities:
    - entity: {category: ALARM, type: nagios, name: PING_LOSS, template_id: ping}
    - entity: {category: RESOURCE, type: nova.host, template_id: host}
    - entity: {category: RESOURCE, type: nova.instance, template_id: vm}
  relationships:
    - relationship: {source: ping, target: host, relationship_type: on, template_id: ping_on_host}
    - relationship: {source: host, target: vm, relationship_type: contains, template_id: host_contains_vm}
scenarios:
  - scenario:
      condition: ping_on_host and host_contains_vm or ping_on_host
      actions:
        - action:
            action_type: set_state
            properties: {state: ERROR}
            action_target: {target: host}
        - action:
            action_type: raise_alarm
            properties: {alarm_name: vm_unreachable, severity: CRITICAL}
            action_target: {target: vm}
'''  # noqa: E501

# vm is positive, though written under a NOT.
DOUBLE_NOT = '''
metadata: {version: 3, type: standard, name: ping_double_not}
entities:
  ping: {category: ALARM, type: nagios, name: PING_LOSS}
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
scenarios:
  - condition: ping [on] host AND NOT (NOT host [contains] vm)
    actions:
      - raise_alarm: {target: vm, alarm_name: vm_unreachable, severity: CRITICAL}
'''  # noqa: E501

# nic occurs only in a negative term: never bound.
NEGATIVE_ONLY_TARGET = test_engine.VM_WITHOUT_NIC + \
    '      - set_state: {target: nic, state: ERROR}\n'

GET_ATTR_IN_TEXT = '''
metadata: {version: 3, type: standard, name: ping_messages}
entities:
  ping: {category: ALARM, type: nagios, name: PING_LOSS}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: ping [on] host
    actions:
      - raise_alarm:
          target: host
          alarm_name: get_attr(host, name) unreachable
          severity: WARNING
      - execute_mistral:
          workflow: notify
          input:
            message: get_attr(host, name) is down (get_attr(ping, name))
            host: get_attr(host, name)
            missing: zone get_attr(host, no_such_property)!
'''


def hosts(world):
    """cmp-7 holds vm-a and vm-b; cmp-8 holds nothing."""
    world.feed(world_event('host', 'cmp-7'), world_event('host', 'cmp-8'),
               world_event('vm', 'vm-a', host='cmp-7'),
               world_event('vm', 'vm-b', host='cmp-7'))


def ping_loss(world, host, delete=False):
    world.feed(world_event('alarm', 'ping-' + host, name='PING_LOSS',
                           host=host, delete=delete))


def _each_clause_with_its_entities(text, causes):
    world = World(text)
    hosts(world)
    ping_loss(world, 'cmp-8')
    # Only the second clause matches on cmp-8: the host action runs, the
    # vm action has no vm.
    alarms, states, down, edges = world.summary()
    assert states == {world.vid(HOST, 'cmp-8'): 'ERROR'}
    assert alarms == set() and edges == set()
    ping_loss(world, 'cmp-7')
    alarms, states, down, edges = world.summary()
    assert states == {world.vid(HOST, 'cmp-8'): 'ERROR',
                      world.vid(HOST, 'cmp-7'): 'ERROR'}
    assert alarms == {('vm_unreachable', world.vid(VM, vm), 'CRITICAL', True)
                      for vm in ('vm-a', 'vm-b')}
    ping = world.vid(NAGIOS, 'ping-cmp-7')
    expected = {(ping, world.deduced('vm_unreachable', VM, vm)[
        Prop.VITRAGE_ID]) for vm in ('vm-a', 'vm-b')} if causes else set()
    assert edges == expected
    # A vm leaving the host ends its clause-1 match only.
    world.feed(world_event('vm', 'vm-b', delete=True))
    assert world.deduced('vm_unreachable', VM, 'vm-a') is not None
    ping_loss(world, 'cmp-7', delete=True)
    alarms, states, down, edges = world.summary()
    assert states == {world.vid(HOST, 'cmp-8'): 'ERROR'}
    assert alarms == set() and edges == set()


def test_v3_entity_bound_in_some_or_clauses():
    _each_clause_with_its_entities(SOME_CLAUSES_V3, causes=True)


def test_v2_entity_bound_in_some_or_clauses():
    _each_clause_with_its_entities(SOME_CLAUSES_V2, causes=False)


def test_entity_positive_under_a_double_not():
    world = World(DOUBLE_NOT)
    hosts(world)
    ping_loss(world, 'cmp-7')
    assert {a[1] for a in world.summary()[0]} == {
        world.vid(VM, 'vm-a'), world.vid(VM, 'vm-b')}


def test_target_only_in_a_negative_term_never_runs():
    world = World(NEGATIVE_ONLY_TARGET)
    hosts(world)
    world.feed(world_event('port', 'port-1', vm='vm-a'))
    alarms, states, down, edges = world.summary()
    # The other action of the scenario runs; the one on nic never does.
    assert alarms == {('vm has no network port', world.vid(VM, 'vm-b'),
                       'WARNING', True)}
    assert states == {}
    assert world.vertex(PORT, 'port-1').get(Prop.VITRAGE_STATE) is None


def test_get_attr_followed_by_more_text():
    world = World(GET_ATTR_IN_TEXT)
    hosts(world)
    ping_loss(world, 'cmp-7')
    alarm = world.deduced('cmp-7 unreachable', HOST, 'cmp-7')
    assert alarm is not None and alarm[Prop.SEVERITY] == 'WARNING'
    assert world.live_edge(alarm[Prop.VITRAGE_ID], world.vid(HOST, 'cmp-7'),
                           EdgeLabel.ON)
    [run] = world.evaluator.take_external_actions()
    assert (run.workflow, run.input) == ('notify', {
        'message': 'cmp-7 is down (PING_LOSS)', 'host': 'cmp-7',
        'missing': 'zone !'})


def test_get_attr_in_text_survives_the_model_round_trip():
    template = evaluator.load_text(GET_ATTR_IN_TEXT)
    again = model.TemplateDef.from_dict(template.to_dict())
    assert again == template
    [raise_alarm, mistral] = again.scenarios[0].actions
    assert raise_alarm.to_dict()['properties']['alarm_name'] == \
        'get_attr(host, name) unreachable'
    assert mistral.to_dict()['properties']['input']['message'] == \
        'get_attr(host, name) is down (get_attr(ping, name))'
