"""The vertex query language of the REST API (rest-api-v1.md section 6).

A query is a JSON document, sent as a string or already parsed::

    expr := {OP: {field: value, ...}}     OP in == != < <= > >=
          | {"and": [expr, ...]} | {"or": [expr, ...]} | {"not": expr}

:func:`compile_query` turns it into a plain predicate over a vertex's
property dict, built once per request from closures so that filtering a
100k-vertex graph costs one Python call per vertex.

Semantics:

* several ``field: value`` pairs under one comparison are AND-ed;
* a missing field compares as ``null``;
* values compare with their JSON types: ``false`` is neither ``0`` nor
  ``"false"``; integers and floats are both JSON numbers;
* ordering (``< <= > >=``) is defined between two numbers or two strings
  (and two booleans); any other pair is simply not matched, never an
  error; ``!=`` is the negation of ``==``;
* an empty ``and`` / ``or`` list matches nothing.
"""
from collections.abc import Callable
import json
import operator
from typing import Any

from vitrage.common.exceptions import BadRequest

Predicate = Callable[[dict], bool]

_ORDERING = {
    '<': operator.lt,
    '<=': operator.le,
    '>': operator.gt,
    '>=': operator.ge,
}
COMPARISONS = ('==', '!=') + tuple(_ORDERING)
LOGICAL = ('and', 'or', 'not')

_NUMBER = (int, float)


def compile_query(query: str | bytes | dict) -> Predicate:
    """Compile a query into a predicate over vertex property dicts.

    :param query: the query as a JSON string or an already parsed dict.
    :returns: a callable taking a property dict and returning a bool.
    :raises BadRequest: when the JSON is invalid or the structure is not
        the query language.
    """
    if isinstance(query, (str, bytes, bytearray)):
        try:
            parsed = json.loads(query)
        except ValueError as exc:
            raise BadRequest('Invalid query: not valid JSON (%s)' % exc)
        except RecursionError:
            raise BadRequest('Invalid query: nested too deeply')
    else:
        parsed = query
    try:
        return _compile(parsed, 'query')
    except RecursionError:
        raise BadRequest('Invalid query: nested too deeply')


def _compile(expr: Any, where: str) -> Predicate:
    if not isinstance(expr, dict):
        raise BadRequest('Invalid query: %s must be an object like '
                         '{"==": {"field": value}}, got %s'
                         % (where, _json_type(expr)))
    if len(expr) != 1:
        raise BadRequest('Invalid query: %s must have exactly one operator, '
                         'got %s' % (where, sorted(expr) or 'none'))
    (op, operand), = expr.items()
    if op in ('and', 'or'):
        if not isinstance(operand, list):
            raise BadRequest('Invalid query: the operand of "%s" in %s must '
                             'be a list, got %s'
                             % (op, where, _json_type(operand)))
        parts = [_compile(item, '%s.%s[%d]' % (where, op, i))
                 for i, item in enumerate(operand)]
        return _and(parts) if op == 'and' else _or(parts)
    if op == 'not':
        inner = _compile(operand, '%s.not' % where)
        return lambda v: not inner(v)
    if op in COMPARISONS:
        if not isinstance(operand, dict) or not operand:
            raise BadRequest('Invalid query: the operand of "%s" in %s must '
                             'be a non-empty object of field: value pairs'
                             % (op, where))
        tests = [_comparison(op, field, value)
                 for field, value in operand.items()]
        return tests[0] if len(tests) == 1 else _and(tests)
    raise BadRequest('Invalid query: unknown operator "%s" in %s (expected '
                     'one of %s)' % (op, where,
                                     ', '.join(COMPARISONS + LOGICAL)))


def _and(parts: list[Predicate]) -> Predicate:
    if not parts:
        return _nothing
    # Nested two-way closures: cheaper per call than all() over a
    # generator.
    while len(parts) > 1:
        a, b = parts[-2], parts[-1]
        parts = parts[:-2] + [lambda v, a=a, b=b: a(v) and b(v)]
    return parts[0]


def _or(parts: list[Predicate]) -> Predicate:
    if not parts:
        return _nothing
    while len(parts) > 1:
        a, b = parts[-2], parts[-1]
        parts = parts[:-2] + [lambda v, a=a, b=b: a(v) or b(v)]
    return parts[0]


def _nothing(_vertex: dict) -> bool:
    return False


def _comparison(op: str, field: str, value: Any) -> Predicate:
    if op == '==':
        return _equal(field, value)
    if op == '!=':
        eq = _equal(field, value)
        return lambda v: not eq(v)
    compare = _ORDERING[op]
    if value is None or isinstance(value, (list, dict)):
        return _nothing
    if value.__class__ is bool:
        return lambda v: (v.get(field).__class__ is bool and
                          compare(v.get(field), value))
    if isinstance(value, _NUMBER):
        def number(v: dict) -> bool:
            x = v.get(field)
            return (x.__class__ is not bool and isinstance(x, _NUMBER) and
                    compare(x, value))
        return number

    def string(v: dict) -> bool:
        x = v.get(field)
        return isinstance(x, str) and compare(x, value)
    return string


def _equal(field: str, value: Any) -> Predicate:
    if value is None or value.__class__ is bool:
        # None, True and False are singletons.
        return lambda v: v.get(field) is value
    if isinstance(value, str):
        # Only a str (or subclass) ever equals a str in Python.
        return lambda v: v.get(field) == value
    if isinstance(value, _NUMBER):
        def number(v: dict) -> bool:
            x = v.get(field)
            return (x.__class__ is not bool and isinstance(x, _NUMBER) and
                    x == value)
        return number
    return lambda v: json_equal(v.get(field), value)


def json_equal(a: Any, b: Any) -> bool:
    """Equality with JSON types: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(
            json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(
            json_equal(a[k], b[k]) for k in a)
    if type(a) is not type(b) and not (
            isinstance(a, str) and isinstance(b, str)):
        return False
    return a == b


def _json_type(value: Any) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, _NUMBER):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, list):
        return 'a list'
    return type(value).__name__
