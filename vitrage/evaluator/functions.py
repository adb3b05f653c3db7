"""Template functions: ``get_param`` (add time) and ``get_attr`` (run time).

Only these two are functions. Any other text, even ``cpu (high)`` or
``f(x)``, is a literal (templates.md section 7 advises this over the
upstream habit of taking every ``something(...)`` for a call).
"""
from collections.abc import Callable
from collections.abc import Mapping
import dataclasses
import re
from typing import Any

GET_PARAM = 'get_param'
GET_ATTR = 'get_attr'

_ARG = r"""\s*['"]?([^\s(),'"]+)['"]?\s*"""
_GET_PARAM_RE = re.compile(r'get_param\(%s\)$' % _ARG)
_GET_ATTR_RE = re.compile(r'get_attr\(%s,%s\)$' % (_ARG, _ARG))
_GET_PARAM_START_RE = re.compile(r'get_param\s*\(')
_CALL_LIKE_RE = re.compile(r'\s*\w+\s*\(.*\)\s*$', re.DOTALL)


@dataclasses.dataclass(frozen=True, slots=True)
class GetAttr:
    """``get_attr(entity, property)``: a property of a bound vertex.

    ``entity`` is an entity key (v3) or template_id (v1/v2); ``prop`` a
    graph property name, used verbatim (``name``, ``vitrage_id``...).
    """

    entity: str
    prop: str

    def __str__(self) -> str:
        return '%s(%s, %s)' % (GET_ATTR, self.entity, self.prop)


def is_get_param_call(value: Any) -> bool:
    """Whether ``value`` is meant as a ``get_param`` call (maybe garbled).

    A call starts the value; ``prefix get_param(x)`` is literal text.
    """
    return (isinstance(value, str)
            and _GET_PARAM_START_RE.match(value.strip()) is not None)


def parse_get_param(value: str) -> str | None:
    """The parameter name of a well-formed ``get_param(name)``, else None."""
    match = _GET_PARAM_RE.match(value.strip())
    return match.group(1) if match else None


def parse_get_attr(value: Any) -> GetAttr | None:
    """``value`` as a :class:`GetAttr` if it is a well-formed call."""
    if not isinstance(value, str):
        return None
    match = _GET_ATTR_RE.match(value.strip())
    return GetAttr(match.group(1), match.group(2)) if match else None


def is_function_call(value: Any) -> bool:
    """Whether ``value`` is a well-formed ``get_attr``/``get_param`` call."""
    if not isinstance(value, str):
        return False
    return (parse_get_attr(value) is not None
            or _GET_PARAM_RE.match(value.strip()) is not None)


def looks_like_call(value: Any) -> bool:
    """Whether ``value`` has the shape ``name(...)`` (any name)."""
    return isinstance(value, str) and _CALL_LIKE_RE.match(value) is not None


def has_call_characters(value: Any) -> bool:
    """Whether ``value`` holds ``(``, ``)`` or ``,`` (code 138 check)."""
    return isinstance(value, str) and any(c in value for c in '(),')


def compile_value(value: Any) -> Any:
    """An action property value with ``get_attr`` calls made typed.

    Mappings and lists are handled recursively; other text is literal.
    """
    if isinstance(value, dict):
        return {k: compile_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compile_value(v) for v in value]
    attr = parse_get_attr(value)
    return attr if attr is not None else value


def evaluate(value: Any,
             lookup: Callable[[str, str], Any] | Mapping[str, Mapping]
             ) -> Any:
    """Replace every :class:`GetAttr` in ``value`` by its current value.

    :param value: a compiled property value (see :func:`compile_value`).
    :param lookup: either ``lookup(entity, prop)`` or a mapping from
        entity key to the bound vertex's properties. An unbound entity or
        an absent property gives None.
    """
    if isinstance(value, GetAttr):
        if callable(lookup):
            return lookup(value.entity, value.prop)
        vertex = lookup.get(value.entity)
        return None if vertex is None else vertex.get(value.prop)
    if isinstance(value, dict):
        return {k: evaluate(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, lookup) for v in value]
    return value


def to_plain(value: Any) -> Any:
    """A compiled value back in template (string) form, for storage."""
    if isinstance(value, GetAttr):
        return str(value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def attr_references(value: Any) -> list[GetAttr]:
    """Every :class:`GetAttr` inside a compiled value."""
    if isinstance(value, GetAttr):
        return [value]
    found = []
    if isinstance(value, dict):
        for v in value.values():
            found.extend(attr_references(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(attr_references(v))
    return found
