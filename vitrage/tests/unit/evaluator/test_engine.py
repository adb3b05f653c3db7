"""The scenario evaluator on small graphs fed through the real processor
(templates.md sections 8 and 11).
"""
import pytest

from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Envelope
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage import evaluator
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.evaluator.engine import settle
from vitrage.evaluator import events as ev
from vitrage.evaluator.matcher import match_all
from vitrage.evaluator.matcher import match_around
from vitrage.evaluator.transformer import EvaluatorTransformer
from vitrage.graph.processor import Processor
from vitrage.tests.unit.evaluator.test_engine_world import HOST
from vitrage.tests.unit.evaluator.test_engine_world import NAGIOS
from vitrage.tests.unit.evaluator.test_engine_world import VM
from vitrage.tests.unit.evaluator.test_engine_world import World
from vitrage.tests.unit.evaluator.test_engine_world import world_event
from vitrage.tests.unit.evaluator import test_examples

# The spec's worked example 11.1 (v2), as the loader tests hold it.
PING_LOSS = test_examples.PING_LOSS_V2

VM_WITHOUT_NIC = '''
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


def state_template(name, alarm, state, extra=''):
    return '''
metadata: {version: 3, type: standard, name: %s}
entities:
  alarm: {category: ALARM, type: nagios, name: %s}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: alarm [on] host
    actions:
      - set_state: {target: host, state: %s}
%s''' % (name, alarm, state, extra)


def raise_template(name, alarm, severity):
    return '''
metadata: {version: 3, type: standard, name: %s}
entities:
  alarm: {category: ALARM, type: nagios, name: %s}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: alarm [on] host
    actions:
      - raise_alarm: {target: host, alarm_name: host degraded, severity: %s}
''' % (name, alarm, severity)


def compute_with_vms(world):
    world.feed(world_event('host', 'cmp-7'),
               world_event('vm', 'vm-a', host='cmp-7'),
               world_event('vm', 'vm-b', host='cmp-7'))


def ping_loss(world, host='cmp-7', delete=False):
    world.feed(world_event('alarm', 'ping-' + host, name='PING_LOSS',
                           host=host, delete=delete))


# -- 11.1 ---------------------------------------------------------------

def test_ping_loss_example_does_everything():
    world = World(PING_LOSS)
    compute_with_vms(world)
    assert world.summary() == (set(), {}, set(), set())
    ping_loss(world)
    host = world.vertex(HOST, 'cmp-7')
    assert host[Prop.VITRAGE_STATE] == 'ERROR'
    assert host[Prop.AGGREGATED_STATE] == 'ERROR'
    assert host[Prop.STATE] == 'available'
    assert host[Prop.IS_MARKED_DOWN] is True
    ping = world.vid(NAGIOS, 'ping-cmp-7')
    for vm_id in ('vm-a', 'vm-b'):
        alarm = world.deduced('vm_unreachable', VM, vm_id)
        target = world.vid(VM, vm_id)
        assert alarm[Prop.SEVERITY] == 'CRITICAL'
        assert alarm[Prop.AGGREGATED_SEVERITY] == 'CRITICAL'
        assert alarm[Prop.STATE] == 'Active'
        assert alarm[Prop.CATEGORY] == 'ALARM'
        assert alarm[Prop.TYPE] == 'vitrage'
        assert alarm['resource_id'] == target
        assert alarm[Prop.RESOURCE_ID] == target
        assert alarm[Prop.RESOURCE_TYPE] == VM
        assert alarm[Prop.RESOURCE_PROJECT_ID] == 'p1'
        assert world.live_edge(alarm[Prop.VITRAGE_ID], target, EdgeLabel.ON)
        assert world.live_edge(ping, alarm[Prop.VITRAGE_ID],
                               EdgeLabel.CAUSES)
    alarms, states, down, causes = world.summary()
    assert len(alarms) == 2 and len(causes) == 2
    assert states == {host[Prop.VITRAGE_ID]: 'ERROR'}


def test_clearing_the_host_alarm_undoes_everything():
    world = World(PING_LOSS)
    compute_with_vms(world)
    ping_loss(world)
    ping_loss(world, delete=True)
    host = world.vertex(HOST, 'cmp-7')
    assert Prop.VITRAGE_STATE not in host
    assert host[Prop.AGGREGATED_STATE] == 'AVAILABLE'
    assert host[Prop.IS_MARKED_DOWN] is False
    assert world.deduced('vm_unreachable', VM, 'vm-a') is None
    assert world.deduced('vm_unreachable', VM, 'vm-b') is None
    assert world.summary() == (set(), {}, set(), set())
    # and it all comes back when the alarm is raised again
    ping_loss(world)
    assert world.deduced('vm_unreachable', VM, 'vm-a') is not None
    assert len(world.summary()[3]) == 2


def test_new_vm_on_a_failed_host_gets_the_alarm_and_moving_clears_it():
    world = World(PING_LOSS)
    compute_with_vms(world)
    ping_loss(world)
    world.feed(world_event('host', 'cmp-8'),
               world_event('vm', 'vm-c', host='cmp-7'))
    assert world.deduced('vm_unreachable', VM, 'vm-c') is not None
    world.feed(world_event('vm', 'vm-c', host='cmp-8'))
    assert world.deduced('vm_unreachable', VM, 'vm-c') is None
    assert world.deduced('vm_unreachable', VM, 'vm-a') is not None


def test_deleting_a_vm_clears_its_deduced_alarm_only():
    world = World(PING_LOSS)
    compute_with_vms(world)
    ping_loss(world)
    world.feed(world_event('vm', 'vm-a', delete=True))
    alarms = world.summary()[0]
    assert {a[1] for a in alarms} == {world.vid(VM, 'vm-b')}


def test_evaluate_all_on_an_existing_graph():
    world = World(PING_LOSS, start=False)
    compute_with_vms(world)
    ping_loss(world)
    assert world.summary() == (set(), {}, set(), set())   # not started
    world.start()
    alarms, states, down, causes = world.summary()
    assert len(alarms) == 2 and len(causes) == 2 and len(down) == 1


def test_changes_are_evaluated_locally_without_scanning_the_graph():
    world = World(PING_LOSS)
    compute_with_vms(world)

    def no_scan(*args, **kwargs):
        raise AssertionError('the whole graph was scanned')
    world.graph.vertices = no_scan
    world.graph.get_vertices = no_scan
    ping_loss(world)
    ping_loss(world, delete=True)
    ping_loss(world)
    del world.graph.vertices
    del world.graph.get_vertices
    assert len(world.summary()[0]) == 2


# -- overlap (8.2) ----------------------------------------------------------

def test_strongest_state_wins_and_undo_falls_back():
    world = World(state_template('t_sub', 'LINK_FLAP', 'SUBOPTIMAL'),
                  state_template('t_err', 'PING_LOSS', 'ERROR'))
    world.feed(world_event('host', 'h1'))
    world.feed(world_event('alarm', 'flap', name='LINK_FLAP', host='h1'))
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'SUBOPTIMAL'
    ping_loss(world, host='h1')
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'ERROR'
    ping_loss(world, host='h1', delete=True)
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'SUBOPTIMAL'
    assert world.vertex(HOST, 'h1')[Prop.AGGREGATED_STATE] == 'SUBOPTIMAL'
    world.feed(world_event('alarm', 'flap', name='LINK_FLAP', host='h1',
                           delete=True))
    assert Prop.VITRAGE_STATE not in world.vertex(HOST, 'h1')


def test_weaker_state_does_not_override_and_last_undo_removes():
    world = World(state_template('t_sub', 'LINK_FLAP', 'SUBOPTIMAL'),
                  state_template('t_err', 'PING_LOSS', 'ERROR'))
    world.feed(world_event('host', 'h1'))
    ping_loss(world, host='h1')
    world.applied.clear()
    world.feed(world_event('alarm', 'flap', name='LINK_FLAP', host='h1'))
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'ERROR'
    assert world.applied == []          # nothing to change
    world.feed(world_event('alarm', 'flap', name='LINK_FLAP', host='h1',
                           delete=True))
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'ERROR'
    assert world.applied == []
    ping_loss(world, host='h1', delete=True)
    assert Prop.VITRAGE_STATE not in world.vertex(HOST, 'h1')
    assert [e['action'] for e in world.applied] == [ev.UNSET_STATE]


def test_same_deduced_alarm_from_two_scenarios_is_one_vertex():
    world = World(raise_template('r_warn', 'LINK_FLAP', 'WARNING'),
                  raise_template('r_crit', 'PING_LOSS', 'CRITICAL'))
    world.feed(world_event('host', 'h1'))
    ping_loss(world, host='h1')
    world.feed(world_event('alarm', 'flap', name='LINK_FLAP', host='h1'))
    assert world.deduced('host degraded', HOST, 'h1')[Prop.SEVERITY] == \
        'CRITICAL'
    assert len(world.summary()[0]) == 1
    held = world.evaluator.active_actions()
    assert [len(firings) for firings in held.values()] == [2]
    ping_loss(world, host='h1', delete=True)
    assert world.deduced('host degraded', HOST, 'h1')[Prop.SEVERITY] == \
        'WARNING'
    world.feed(world_event('alarm', 'flap', name='LINK_FLAP', host='h1',
                           delete=True))
    assert world.deduced('host degraded', HOST, 'h1') is None
    assert world.evaluator.active_actions() == {}


def test_removing_a_template_undoes_its_actions_only():
    world = World(state_template('t_sub', 'PING_LOSS', 'SUBOPTIMAL'),
                  state_template('t_err', 'PING_LOSS', 'ERROR'))
    world.feed(world_event('host', 'h1'))
    ping_loss(world, host='h1')
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'ERROR'
    world.feed()
    events = world.evaluator.remove_templates(['t_err'])
    world.processor.process_events(events)
    assert world.vertex(HOST, 'h1')[Prop.VITRAGE_STATE] == 'SUBOPTIMAL'
    events = world.evaluator.remove_templates(['t_sub'])
    world.processor.process_events(events)
    assert Prop.VITRAGE_STATE not in world.vertex(HOST, 'h1')


def test_adding_a_template_evaluates_it_at_once():
    world = World()
    world.feed(world_event('host', 'h1'))
    ping_loss(world, host='h1')
    events = world.evaluator.add_templates(
        [evaluator.load_text(state_template('t', 'PING_LOSS', 'ERROR'))])
    assert [e['action'] for e in events] == [ev.SET_STATE]
    with pytest.raises(exceptions.BadRequest):
        world.evaluator.add_templates(
            [evaluator.load_text(state_template('t', 'X', 'ERROR'))])


# -- NOT (8.3, 11.3) --------------------------------------------------------

def test_not_condition_follows_the_ports():
    world = World(VM_WITHOUT_NIC)
    world.feed(world_event('host', 'h1'),
               world_event('vm', 'vm-a', host='h1'),
               world_event('vm', 'vm-b', host='h1'),
               world_event('port', 'port-b', vm='vm-b'))
    name = 'vm has no network port'
    assert world.deduced(name, VM, 'vm-a')[Prop.SEVERITY] == 'WARNING'
    assert world.deduced(name, VM, 'vm-b') is None
    world.feed(world_event('port', 'port-a', vm='vm-a'))
    assert world.deduced(name, VM, 'vm-a') is None
    world.feed(world_event('port', 'port-a', delete=True))
    assert world.deduced(name, VM, 'vm-a') is not None
    world.feed(world_event('port', 'port-b', delete=True))
    assert world.deduced(name, VM, 'vm-b') is not None


# -- actions with get_attr, causing_alarm and mistral ------------------------

CAUSING = '''
metadata: {version: 3, type: standard, name: causing}
entities:
  ping: {category: ALARM, type: nagios, name: PING_LOSS}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: ping [on] host
    actions:
      - raise_alarm:
          target: host
          alarm_name: get_attr(ping, name)
          severity: MAJOR
          causing_alarm: ping
      - execute_mistral:
          workflow: restart
          input:
            host: get_attr(host, name)
'''


def test_causing_alarm_and_get_attr():
    world = World(CAUSING)
    world.feed(world_event('host', 'h1'))
    ping_loss(world, host='h1')
    alarm = world.deduced('PING_LOSS', HOST, 'h1')
    assert alarm[Prop.SEVERITY] == 'MAJOR'
    assert alarm[Prop.OPERATIONAL_SEVERITY] == 'SEVERE'
    assert world.live_edge(world.vid(NAGIOS, 'ping-h1'),
                           alarm[Prop.VITRAGE_ID], EdgeLabel.CAUSES)
    [run] = world.evaluator.take_external_actions()
    assert (run.workflow, run.input) == ('restart', {'host': 'h1'})
    assert world.evaluator.take_external_actions() == []
    ping_loss(world, host='h1', delete=True)
    assert world.deduced('PING_LOSS', HOST, 'h1') is None
    assert world.summary() == (set(), {}, set(), set())
    assert world.evaluator.take_external_actions() == []


# -- the transformer --------------------------------------------------------

def test_action_event_round_trip():
    event = ev.ActionEvent(ev.SET_STATE, '2026-01-01T10:00:00Z', 'v1',
                           state='ERROR', scenario_id='s')
    wire = event.to_dict()
    assert wire[Envelope.DATASOURCE_NAME] == 'vitrage'
    assert wire[Envelope.ENTITY_TYPE] == 'vitrage'
    assert wire[Envelope.DATASOURCE_ACTION] == 'update'
    assert 'source_id' not in wire
    assert ev.ActionEvent.from_dict(wire) == event


@pytest.mark.parametrize('change,message', [
    ({'action': 'explode'}, 'unknown action'),
    ({'action': ev.SET_STATE, 'state': None}, "'state'"),
    ({Envelope.SAMPLE_DATE: None}, 'vitrage_sample_date'),
])
def test_transformer_rejects_bad_events(change, message):
    wire = ev.ActionEvent(ev.SET_STATE, '2026-01-01T10:00:00Z', 'v1',
                          state='ERROR').to_dict()
    wire.update(change)
    with pytest.raises(exceptions.MalformedEvent, match=message):
        EvaluatorTransformer(None, 'vitrage').transform(wire)


@pytest.mark.parametrize('change', [
    {'action': ev.ADD_CAUSAL, 'source_id': 'v2'},
    {'action': ev.RAISE_ALARM, 'alarm_name': 'a', 'severity': 'W'},
])
def test_actions_on_vertices_that_do_not_exist_are_refused(change):
    """Targets are addressed by vertex id.

    The processor refuses an action whose ends are not in the graph, and
    changes nothing.
    """
    world = World(PING_LOSS)
    wire = ev.ActionEvent(ev.SET_STATE, '2026-01-01T10:00:00Z', 'v1',
                          state='ERROR').to_dict()
    wire.update(change)
    before = world.graph.num_vertices()
    with pytest.raises(exceptions.MalformedEvent, match='does not exist'):
        world.processor.process_event(wire)
    assert world.graph.num_vertices() == before


# -- restored graphs and the matcher ------------------------------------------

def test_evaluate_all_clears_effects_nothing_holds():
    world = World(PING_LOSS)
    compute_with_vms(world)
    ping_loss(world)
    # e.g. a graph restored from a snapshot after the template was removed
    restarted = ScenarioEvaluator(world.graph, [], world.states)
    processor = Processor(world.graph, world.processor.transformers,
                          world.states)
    processor.add_listener(restarted)
    events = restarted.evaluate_all()
    assert sorted(e['action'] for e in events) == [
        ev.CLEAR_ALARM, ev.CLEAR_ALARM, ev.UNMARK_DOWN, ev.UNSET_STATE]
    settle(processor, restarted, events)
    assert world.summary() == (set(), {}, set(), set())


def test_matcher_binds_injectively_and_honours_not():
    world = World()
    world.feed(world_event('host', 'h1'),
               world_event('vm', 'vm-a', host='h1'),
               world_event('vm', 'vm-b', host='h1'),
               world_event('port', 'p1', vm='vm-b'))
    scenario = evaluator.load_text(VM_WITHOUT_NIC).scenarios[0]
    found = match_all(world.graph, scenario)
    assert [dict(k) for k in found] == [
        {'node': world.vid(HOST, 'h1'), 'vm': world.vid(VM, 'vm-a')}]
    around = match_around(world.graph, scenario, {world.vid(VM, 'vm-a')})
    assert list(around) == list(found)
    assert match_around(world.graph, scenario,
                        {world.vid(VM, 'vm-b')}) == {}
    two_vms = evaluator.load_text('''
metadata: {version: 3, type: standard, name: pair}
entities:
  node: {category: RESOURCE, type: nova.host}
  a: {category: RESOURCE, type: nova.instance}
  b: {category: RESOURCE, type: nova.instance}
scenarios:
  - condition: node [contains] a AND node [contains] b
    actions:
      - mark_down: {target: node}
''').scenarios[0]
    pairs = [dict(k) for k in match_all(world.graph, two_vms)]
    assert len(pairs) == 2
    assert all(p['a'] != p['b'] for p in pairs)


# -- restores: nothing redone, nothing left behind ---------------------------

CAUSAL_ONLY = '''
metadata: {version: 3, type: standard, name: causal_only}
entities:
  ping: {category: ALARM, type: nagios, name: PING_LOSS}
  disk: {category: ALARM, type: nagios, name: DISK}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: ping [on] host AND disk [on] host
    actions:
      - add_causal_relationship: {source: disk, target: ping}
'''


def test_a_restored_graph_is_not_deduced_again():
    world = World(PING_LOSS)
    compute_with_vms(world)
    ping_loss(world)
    before = world.summary()
    restarted = ScenarioEvaluator(world.graph, world.templates,
                                  world.states)
    # Every firing holds its effect already: no event, all registered.
    assert restarted.evaluate_all() == []
    assert len(restarted.active_actions()) == \
        len(world.evaluator.active_actions())
    assert world.summary() == before


def test_reset_follows_a_swapped_graph():
    reference = World(PING_LOSS)
    compute_with_vms(reference)
    ping_loss(reference)
    world = World(PING_LOSS)
    compute_with_vms(world)
    swapped = World(PING_LOSS, start=False)
    compute_with_vms(swapped)
    ping_loss(swapped)      # evaluator not started: nothing deduced
    assert swapped.summary() == (set(), {}, set(), set())
    world.evaluator.reset(swapped.graph)
    assert world.evaluator.graph is swapped.graph
    assert not world.evaluator.active
    assert world.evaluator.active_actions() == {}
    swapped.processor.add_listener(world.evaluator)
    settle(swapped.processor, world.evaluator,
           world.evaluator.evaluate_all())
    assert swapped.summary() == reference.summary()
    assert swapped.summary() != (set(), {}, set(), set())


def test_evaluate_all_removes_causal_edges_nothing_holds():
    world = World(CAUSAL_ONLY)
    world.feed(world_event('host', 'h1'))
    ping_loss(world, host='h1')
    world.feed(world_event('alarm', 'disk-h1', name='DISK', host='h1'))
    causes = world.summary()[3]
    assert len(causes) == 1
    restarted = ScenarioEvaluator(world.graph, [], world.states)
    processor = Processor(world.graph, world.processor.transformers,
                          world.states)
    processor.add_listener(restarted)
    events = restarted.evaluate_all()
    assert [e['action'] for e in events] == [ev.REMOVE_CAUSAL]
    settle(processor, restarted, events)
    assert world.summary()[3] == set()
