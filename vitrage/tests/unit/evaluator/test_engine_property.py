"""Property: incremental evaluation ends where a full one does.

Random small topologies (hosts, VMs moving between them, ports attached
and detached) and random sequences of host alarm raises and clears are
fed one event at a time through the processor with the evaluator
listening. The deduced alarms, states, mark-downs and causal edges must
then equal those that a fresh evaluator computes with ``evaluate_all``
on the final graph stripped of every deduced effect, whatever the order
of the events.
"""
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.evaluator.engine import settle
from vitrage.graph.processor import Processor
from vitrage.tests.unit.evaluator import test_engine as t
from vitrage.tests.unit.evaluator.test_engine_world import World
from vitrage.tests.unit.evaluator.test_engine_world import world_event

TEMPLATES = (
    t.PING_LOSS,
    t.VM_WITHOUT_NIC,
    t.CAUSING,
    t.state_template('t_sub', 'LINK_FLAP', 'SUBOPTIMAL'),
    t.state_template('t_err', 'PING_LOSS', 'ERROR'),
    t.raise_template('r_warn', 'LINK_FLAP', 'WARNING'),
    t.raise_template('r_crit', 'PING_LOSS', 'CRITICAL'),
)
HOSTS = ('h0', 'h1', 'h2')
VMS = ('v0', 'v1', 'v2', 'v3')
PORTS = ('p0', 'p1', 'p2')
ALARMS = ('PING_LOSS', 'LINK_FLAP')

alarm_ops = st.tuples(st.just('alarm'), st.sampled_from(ALARMS),
                      st.sampled_from(HOSTS), st.booleans())
vm_ops = st.tuples(st.just('vm'), st.sampled_from(VMS),
                   st.sampled_from(HOSTS + (None,)), st.booleans())
port_ops = st.tuples(st.just('port'), st.sampled_from(PORTS),
                     st.sampled_from(VMS + (None,)), st.booleans())
operations = st.lists(st.one_of(alarm_ops, vm_ops, port_ops), max_size=25)


def to_event(op):
    """``op`` -> (entity identity, its event)."""
    kind, name, where, alive = op
    if kind == 'alarm':
        ident = ('alarm', '%s@%s' % (name, where))
        return ident, world_event('alarm', ident[1], name=name,
                                  host=where, delete=not alive)
    if kind == 'vm':
        if where is None:       # deleted
            return ('vm', name), world_event('vm', name, delete=True)
        return ('vm', name), world_event('vm', name, host=where)
    if where is None or not alive:
        return ('port', name), world_event('port', name, delete=True)
    return ('port', name), world_event('port', name, vm=where)


def topology():
    return [world_event('host', h) for h in HOSTS]


@settings(max_examples=50, deadline=None)
@given(initial=operations, later=operations)
def test_incremental_equals_full_evaluation(initial, later):
    incremental = World(*TEMPLATES, start=False)
    incremental.processor.process_events(topology())
    for op in initial:
        _ident, event = to_event(op)
        incremental.processor.process_event(event)
    incremental.start()       # the first full pass after "snapshots"
    for op in later:
        _ident, event = to_event(op)
        incremental.feed(event)
    result = incremental.summary()

    # The same graph with every deduced effect taken away, evaluated
    # from scratch.
    bare = incremental.graph.copy()
    for vertex in list(bare.vertices()):
        vid = vertex[Prop.VITRAGE_ID]
        if vertex.get(Prop.TYPE) == 'vitrage':
            bare.remove_vertex(vid)
            continue
        bare.update_vertex(vid, {Prop.VITRAGE_STATE: None,
                                 Prop.IS_MARKED_DOWN: None})
        incremental.states.apply(vertex)
    assert not list(bare.edges(label=EdgeLabel.CAUSES))
    fresh = World(*TEMPLATES, graph=bare)
    assert result == fresh.summary()

    # A fresh evaluator over the final graph, deduced effects included,
    # changes nothing.
    again = ScenarioEvaluator(incremental.graph, incremental.templates,
                              incremental.states)
    processor = Processor(incremental.graph,
                          incremental.processor.transformers,
                          incremental.states)
    processor.add_listener(again)
    settle(processor, again, again.evaluate_all())
    assert incremental.summary() == result
