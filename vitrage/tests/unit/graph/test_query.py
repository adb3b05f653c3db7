"""The query language of rest-api-v1.md section 6."""
import json

import pytest

from vitrage.common.exceptions import BadRequest
from vitrage.graph.query import compile_query

HOST = {'vitrage_type': 'nova.host', 'vitrage_category': 'RESOURCE',
        'vitrage_is_deleted': False, 'cpus': 8, 'load': 0.5,
        'name': 'compute-1'}
INSTANCE = {'vitrage_type': 'nova.instance', 'vitrage_category': 'RESOURCE',
            'vitrage_is_deleted': True, 'cpus': 2, 'project_id': 'p1',
            'name': 'vm-1'}
ALARM = {'vitrage_type': 'zabbix', 'vitrage_category': 'ALARM',
         'vitrage_is_deleted': False, 'name': 'host down'}
ALL = (HOST, INSTANCE, ALARM)


def matching(query):
    predicate = compile_query(query)
    return [v['name'] for v in ALL if predicate(v)]


@pytest.mark.parametrize('op, value, expected', [
    ('==', 8, ['compute-1']),
    ('!=', 8, ['vm-1', 'host down']),
    ('<', 8, ['vm-1']),
    ('<=', 8, ['compute-1', 'vm-1']),
    ('>', 2, ['compute-1']),
    ('>=', 2, ['compute-1', 'vm-1']),
    ('>', 2.5, ['compute-1']),
])
def test_number_comparisons(op, value, expected):
    assert matching({op: {'cpus': value}}) == expected


@pytest.mark.parametrize('op, expected', [
    ('==', ['vm-1']),
    ('!=', ['compute-1', 'host down']),
    ('<', ['compute-1', 'host down']),
    ('<=', ['compute-1', 'vm-1', 'host down']),
    ('>', []),
    ('>=', ['vm-1']),
])
def test_string_comparisons(op, expected):
    assert matching({op: {'name': 'vm-1'}}) == expected


def test_query_as_json_string_and_bytes():
    query = {'==': {'vitrage_category': 'RESOURCE'}}
    assert matching(json.dumps(query)) == ['compute-1', 'vm-1']
    assert matching(json.dumps(query).encode()) == ['compute-1', 'vm-1']


def test_several_fields_are_anded():
    assert matching({'==': {'vitrage_category': 'RESOURCE',
                            'vitrage_is_deleted': False}}) == ['compute-1']


def test_missing_field_is_null():
    assert matching({'==': {'project_id': None}}) == [
        'compute-1', 'host down']
    assert matching({'!=': {'project_id': None}}) == ['vm-1']
    # An ordering against a missing field never matches.
    assert matching({'<': {'cpus': 100}}) == ['compute-1', 'vm-1']


def test_json_types_are_respected():
    v = {'flag': False, 'zero': 0, 'one': 1, 'text': 'false', 'f': 1.0}
    assert compile_query({'==': {'flag': False}})(v)
    assert not compile_query({'==': {'flag': 0}})(v)
    assert not compile_query({'==': {'flag': 'false'}})(v)
    assert not compile_query({'==': {'zero': False}})(v)
    assert not compile_query({'==': {'one': True}})(v)
    assert not compile_query({'==': {'text': False}})(v)
    assert compile_query({'==': {'f': 1}})(v)  # both JSON numbers
    assert compile_query({'!=': {'flag': 0}})(v)


def test_incompatible_orderings_are_false_not_errors():
    v = {'name': 'a', 'cpus': 3, 'flag': True, 'nothing': None}
    for query in ({'<': {'name': 5}}, {'>': {'cpus': 'z'}},
                  {'<': {'flag': 5}}, {'>': {'nothing': 1}},
                  {'<': {'cpus': None}}, {'<': {'cpus': [1]}},
                  {'>=': {'cpus': {'a': 1}}}):
        assert compile_query(query)(v) is False, query


def test_booleans_order_among_themselves():
    assert compile_query({'>': {'flag': False}})({'flag': True})
    assert not compile_query({'>': {'flag': False}})({'flag': 1})


def test_list_and_object_values_compare_by_json_equality():
    v = {'ips': ['10.0.0.1', 1], 'meta': {'a': True}}
    assert compile_query({'==': {'ips': ['10.0.0.1', 1]}})(v)
    assert not compile_query({'==': {'ips': ['10.0.0.1', True]}})(v)
    assert compile_query({'==': {'meta': {'a': True}}})(v)
    assert not compile_query({'==': {'meta': {'a': 1}}})(v)


def test_and_or_not():
    assert matching({'and': [{'==': {'vitrage_category': 'RESOURCE'}},
                             {'>': {'cpus': 4}}]}) == ['compute-1']
    assert matching({'or': [{'==': {'vitrage_type': 'zabbix'}},
                            {'==': {'project_id': 'p1'}}]}) == [
        'vm-1', 'host down']
    assert matching({'not': {'==': {'vitrage_category': 'ALARM'}}}) == [
        'compute-1', 'vm-1']
    many = {'or': [{'==': {'name': n}} for n in ('vm-1', 'x', 'host down')]}
    assert matching(many) == ['vm-1', 'host down']
    assert matching({'and': [{'!=': {'name': 'x'}}] * 3}) == [
        'compute-1', 'vm-1', 'host down']


def test_empty_and_or_match_nothing():
    assert matching({'and': []}) == []
    assert matching({'or': []}) == []
    assert matching({'not': {'or': []}}) == ['compute-1', 'vm-1',
                                             'host down']


def test_nested_tool_query():
    query = {'and': [
        {'==': {'vitrage_category': 'RESOURCE'}},
        {'==': {'vitrage_is_deleted': False}},
        {'or': [{'==': {'vitrage_type': 'openstack.cluster'}},
                {'==': {'vitrage_type': 'nova.host'}}]}]}
    assert matching(json.dumps(query)) == ['compute-1']


@pytest.mark.parametrize('query, words', [
    ('{"==": ', 'not valid JSON'),
    ('[]', 'must be an object'),
    ('"text"', 'must be an object'),
    ('null', 'got null'),
    ({}, 'exactly one operator'),
    ({'==': {'a': 1}, '!=': {'b': 2}}, 'exactly one operator'),
    ({'=~': {'a': 1}}, 'unknown operator "=~"'),
    ({'and': {'==': {'a': 1}}}, 'must be a list'),
    ({'or': [{'==': {'a': 1}}, 5]}, 'query.or[1]'),
    ({'==': []}, 'non-empty object'),
    ({'==': {}}, 'non-empty object'),
    ({'not': []}, 'query.not'),
])
def test_invalid_queries_name_the_problem(query, words):
    with pytest.raises(BadRequest) as info:
        compile_query(query)
    assert words in str(info.value)
    assert str(info.value).startswith('Invalid query')


def test_too_deep_nesting_is_a_bad_request():
    query: dict = {'==': {'a': 1}}
    for _ in range(5000):
        query = {'not': query}
    with pytest.raises(BadRequest):
        compile_query(query)
