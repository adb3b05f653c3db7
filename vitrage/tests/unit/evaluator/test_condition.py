"""Condition parsing (v2/v3 grammar) and DNF."""
import pytest

from vitrage.evaluator import condition
from vitrage.evaluator.model import And
from vitrage.evaluator.model import Atom
from vitrage.evaluator.model import Not
from vitrage.evaluator.model import Or
from vitrage.evaluator.status import TemplateValidationError

KEYS = {'a', 'b', 'c', 'd', 'h'}


def v3(text):
    return condition.parse(text, '3', KEYS).expr


def dnf(text, version='3', known=KEYS):
    return condition.to_dnf(condition.parse(text, version, known).expr)


def test_precedence_not_and_or():
    assert v3('a OR b AND NOT c [on] d') == Or((
        Atom('a'), And((Atom('b'), Not(Atom('c [on] d'))))))
    assert v3('(a or b) and c') == And((Or((Atom('a'), Atom('b'))),
                                        Atom('c')))


def test_relationship_terms_and_spaces():
    parsed = condition.parse('a [ on ] h AND h [contains] b', '3', KEYS)
    assert parsed.expr == And((Atom('a [on] h'), Atom('h [contains] b')))
    rel = parsed.relationships['a [on] h']
    assert (rel.source, rel.label, rel.target) == ('a', 'on', 'h')


@pytest.mark.parametrize('text', [
    'a[on]h', 'a [on]h', 'a[on] h', 'a [on]', 'a AND', '(a', 'a)', 'a b',
    '', 'a [on] (h)', 'a & b', 'NOT',
])
def test_unparsable_conditions_are_85(text):
    with pytest.raises(TemplateValidationError) as info:
        condition.parse(text, '3', KEYS)
    assert info.value.code == 85


@pytest.mark.parametrize('text,word', [
    ('a And b', 'And'), ('a [on] x', 'x'), ('y', 'y'),
])
def test_v3_unknown_words_are_10200(text, word):
    with pytest.raises(TemplateValidationError) as info:
        condition.parse(text, '3', KEYS)
    assert info.value.code == 10200
    assert repr(word) in info.value.details


def test_v2_operators_are_lower_case_only():
    assert dnf('a and not b', '2') == [[('a', True), ('b', False)]]
    with pytest.raises(TemplateValidationError) as info:
        condition.parse('a AND b', '2', KEYS)
    assert info.value.code == 3


def test_v2_template_ids_may_hold_dashes():
    assert dnf('host-1 or b', '2', {'host-1', 'b'}) == [
        [('host-1', True)], [('b', True)]]


def test_de_morgan_and_distribution():
    assert dnf('a AND NOT (b OR c)') == [
        [('a', True), ('b', False), ('c', False)]]
    assert dnf('NOT (b AND c) AND a') == [
        [('b', False), ('a', True)], [('c', False), ('a', True)]]
    assert dnf('(a OR b) AND (c OR d)') == [
        [('a', True), ('c', True)], [('a', True), ('d', True)],
        [('b', True), ('c', True)], [('b', True), ('d', True)]]
    assert dnf('NOT (NOT a)') == [[('a', True)]]


def test_dnf_removes_duplicates():
    assert dnf('a AND a OR a') == [[('a', True)]]


def test_dnf_size_is_bounded():
    text = ' AND '.join('(a OR b)' for _ in range(9))
    with pytest.raises(TemplateValidationError) as info:
        dnf(text)
    assert info.value.code == 85


def test_build_clauses_and_common_entities():
    parsed = condition.parse(
        'a [on] h AND NOT c [on] h OR a [on] b', '3', KEYS)
    clauses = condition.build_clauses(condition.to_dnf(parsed.expr),
                                      parsed.relationships, 'x')
    assert [c.entities for c in clauses] == [('a', 'h'), ('a', 'b')]
    assert clauses[0].negative_relationships == ('c [on] h',)
    assert clauses[0].negative_only_entities == ('c',)
    assert condition.common_entities(clauses) == ['a']


def test_negated_group_with_an_entity_is_86():
    parsed = condition.parse('a AND NOT (a [on] h OR b)', '3', KEYS)
    with pytest.raises(TemplateValidationError) as info:
        condition.build_clauses(condition.to_dnf(parsed.expr),
                                parsed.relationships, 'x')
    assert info.value.code == 86


@pytest.mark.parametrize('text', ['NOT a [on] h',
                                  'NOT a [on] h AND NOT b [on] h'])
def test_condition_of_one_clause_without_positive_term_is_134(text):
    parsed = condition.parse(text, '3', KEYS)
    with pytest.raises(TemplateValidationError) as info:
        condition.build_clauses(condition.to_dnf(parsed.expr),
                                parsed.relationships, 'x')
    assert info.value.code == 134


def test_negative_clause_among_several_is_left_to_the_common_check():
    # The retired validator reported 135 (no common entity) for these.
    parsed = condition.parse('a OR NOT a [on] h', '3', KEYS)
    clauses = condition.build_clauses(condition.to_dnf(parsed.expr),
                                      parsed.relationships, 'x')
    assert [c.entities for c in clauses] == [('a',), ()]
    assert condition.common_entities(clauses) == []


def test_str_of_expressions():
    assert str(v3('a OR (b AND NOT c [on] d)')) == \
        'a OR (b AND NOT c [on] d)'
