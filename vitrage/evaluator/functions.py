"""Template functions: ``get_param`` (add time) and ``get_attr`` (run time).

Only these two are functions. Any other text, even ``cpu (high)`` or
``f(x)``, is a literal (templates.md section 7 advises this over the
upstream habit of taking every ``something(...)`` for a call).

A value that is wholly a ``get_attr`` call becomes the property's value
(None when absent). ``get_attr`` calls inside longer text, such as
``get_attr(host, name) is down`` (which the retired validator accepted),
are replaced by the property's text, the rest kept as written: ``cmp-7
is down`` (an absent property gives empty text). templates.md says
nothing of such values; this is the reading that serves template
authors.
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
_GET_ATTR_ANYWHERE_RE = re.compile(r'get_attr\(%s,%s\)' % (_ARG, _ARG))
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


@dataclasses.dataclass(frozen=True, slots=True)
class Interpolation:
    """Text with ``get_attr`` calls inside (``get_attr(host, name) is
    down``): literal strings and :class:`GetAttr` parts, in order.
    """

    parts: tuple[str | GetAttr, ...]

    def __str__(self) -> str:
        return ''.join(str(part) for part in self.parts)


def parse_interpolation(value: Any) -> Interpolation | None:
    """``value`` as an :class:`Interpolation` if it holds a well-formed
    ``get_attr`` call and more text; None otherwise (also for a value
    that is wholly one call: see :func:`parse_get_attr`).
    """
    if not isinstance(value, str) or parse_get_attr(value) is not None:
        return None
    parts: list[str | GetAttr] = []
    position = 0
    for match in _GET_ATTR_ANYWHERE_RE.finditer(value):
        if match.start() > position:
            parts.append(value[position:match.start()])
        parts.append(GetAttr(match.group(1), match.group(2)))
        position = match.end()
    if not parts:
        return None
    if position < len(value):
        parts.append(value[position:])
    return Interpolation(tuple(parts))


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


def holds_function_call(value: Any) -> bool:
    """Whether ``value`` is a well-formed call or text with ``get_attr``
    calls inside (the code 138 check: ``(``, ``)`` and ``,`` are then
    allowed).
    """
    return is_function_call(value) or parse_interpolation(value) is not None


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
    if attr is not None:
        return attr
    text = parse_interpolation(value)
    return text if text is not None else value


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
    if isinstance(value, Interpolation):
        texts = []
        for part in value.parts:
            found = evaluate(part, lookup)
            texts.append('' if found is None else str(found))
        return ''.join(texts)
    if isinstance(value, dict):
        return {k: evaluate(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, lookup) for v in value]
    return value


def to_plain(value: Any) -> Any:
    """A compiled value back in template (string) form, for storage."""
    if isinstance(value, (GetAttr, Interpolation)):
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
    if isinstance(value, Interpolation):
        return [part for part in value.parts if isinstance(part, GetAttr)]
    found = []
    if isinstance(value, dict):
        for v in value.values():
            found.extend(attr_references(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(attr_references(v))
    return found
