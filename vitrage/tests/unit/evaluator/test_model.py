"""Entity matching, functions and serialisation of the model."""
import pickle

import pytest

from vitrage import evaluator
from vitrage.evaluator import functions
from vitrage.evaluator.model import EntitySpec
from vitrage.evaluator.model import RelationshipSpec

HOST = {'vitrage_category': 'RESOURCE', 'vitrage_type': 'nova.host',
        'name': 'cmp-7', 'state': 'available', 'vitrage_is_deleted': False,
        'vitrage_is_placeholder': False}


def test_aliases_become_graph_properties():
    spec = EntitySpec.from_template('h', {
        'category': 'RESOURCE', 'type': 'nova.host', 'state': 'available',
        'is_deleted': 'false',
        'aggregated_state': 'OK', 'vitrage_custom': 'x'})
    assert spec.properties == {
        'vitrage_category': 'RESOURCE', 'vitrage_type': 'nova.host',
        'state': 'available', 'vitrage_is_deleted': 'false',
        'vitrage_aggregated_state': 'OK', 'vitrage_custom': 'x'}
    assert (spec.category, spec.vitrage_type) == ('RESOURCE', 'nova.host')


def test_exact_match_is_case_sensitive():
    spec = EntitySpec.from_template('h', {'type': 'nova.host',
                                          'state': 'available'})
    assert spec.matches(HOST)
    assert not spec.matches(dict(HOST, state='AVAILABLE'))
    assert not spec.matches({k: v for k, v in HOST.items()
                             if k != 'state'})


def test_deleted_and_placeholder_vertices_never_match():
    spec = EntitySpec.from_template('h', {'type': 'nova.host'})
    assert not spec.matches(dict(HOST, vitrage_is_deleted=True))
    assert not spec.matches(dict(HOST, vitrage_is_placeholder=True))
    assert EntitySpec('any').matches(HOST)


def test_boolean_and_number_properties_compare_as_text():
    spec = EntitySpec.from_template('h', {'is_marked_down': 'true',
                                          'cores': '8'})
    assert spec.matches(dict(HOST, is_marked_down=True, cores=8))
    assert not spec.matches(dict(HOST, is_marked_down=False, cores=8))


def test_regex_is_a_prefix_match_without_aliases():
    spec = EntitySpec.from_template('a', {'name.regex': 'cmp-[0-9]',
                                          'Type.REGEX': 'nova'})
    assert spec.regexes == (('Type', 'nova'), ('name', 'cmp-[0-9]'))
    assert spec.matches(dict(HOST, Type='nova.host'))
    assert not spec.matches(HOST)      # no 'Type' property: no match
    anchored = EntitySpec.from_template('a', {'name.regex': 'cmp-7$'})
    assert anchored.matches(HOST)
    assert not anchored.matches(dict(HOST, name='cmp-77'))
    assert EntitySpec.from_template(
        'a', {'name.regex': 'cmp'}).matches(dict(HOST, name='cmp-77'))


def test_relationship_matches_live_edges_with_its_label():
    rel = RelationshipSpec('a [on] h', 'a', 'h', 'on')
    assert rel.matches_edge({'relationship_type': 'on',
                             'vitrage_is_deleted': False})
    assert not rel.matches_edge({'relationship_type': 'on',
                                 'vitrage_is_deleted': True})
    assert not rel.matches_edge({'relationship_type': 'contains'})


def test_specs_are_hashable_and_picklable():
    spec = EntitySpec.from_template('a', {'name.regex': 'x.*'})
    assert {spec: 1}[EntitySpec.from_template('a', {'name.regex': 'x.*'})]
    clone = pickle.loads(pickle.dumps(spec))
    assert clone == spec and clone.matches({'name': 'xy'})


def test_get_attr_is_the_only_run_time_function():
    value = functions.compile_value({
        'host': 'get_attr(h, name)', 'quoted': "get_attr('h', 'id')",
        'literal': 'cpu (high)', 'other': 'f(x)',
        'nested': ['get_attr(h,state)']})
    assert value['host'] == evaluator.GetAttr('h', 'name')
    assert value['quoted'] == evaluator.GetAttr('h', 'id')
    assert value['literal'] == 'cpu (high)'
    assert value['other'] == 'f(x)'
    assert evaluator.evaluate(value, {'h': HOST}) == {
        'host': 'cmp-7', 'quoted': None, 'literal': 'cpu (high)',
        'other': 'f(x)', 'nested': ['available']}
    assert evaluator.evaluate(value['host'], {}) is None
    assert evaluator.evaluate(value['host'],
                              lambda entity, prop: entity + prop) == 'hname'
    assert functions.to_plain(value)['host'] == 'get_attr(h, name)'


@pytest.mark.parametrize('value,call', [
    ('get_param(x)', True), (' get_param( x ) ', True),
    ('get_param()', True), ('get_param(x) tail', True),
    ('prefix get_param(x)', False), ('get_param', False), (5, False),
])
def test_get_param_call_detection(value, call):
    assert functions.is_get_param_call(value) is call


def test_scenario_and_action_round_trip():
    t = evaluator.load_text('''
metadata: {version: 3, name: t, type: standard}
entities:
  a: {category: ALARM, name.regex: 'x'}
  h: {category: RESOURCE}
scenarios:
  - condition: a [on] h AND NOT a [causes] h
    actions:
      - raise_alarm: {target: h, alarm_name: n, severity: WARNING,
                      causing_alarm: a}
''')
    scenario, = t.scenarios
    assert evaluator.Scenario.from_dict(scenario.to_dict()) == scenario
    data = scenario.actions[0].to_dict()
    assert data['properties']['causing_alarm'] == 'get_attr(a, vitrage_id)'
    assert evaluator.ActionSpec.from_dict(data) == scenario.actions[0]
