"""Template parameters: ``get_param(<name>)`` (templates.md section 7).

A string value that is wholly a ``get_param`` call is replaced by the
parameter's value at add/validate time: the request's ``params[name]`` if
present and non-empty, else the parameter's ``default``. The
``parameters`` section is then dropped.
"""
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from vitrage.evaluator import functions
from vitrage.evaluator.status import TemplateValidationError

PARAMETERS = 'parameters'
DESCRIPTION = 'description'
DEFAULT = 'default'
_PARAMETER_KEYS = (DESCRIPTION, DEFAULT)


def check_section(template: Mapping[str, Any]) -> None:
    """Check the shape of the ``parameters`` section, if any.

    Each parameter is empty, a string (a description) or a mapping with
    optional ``description`` and ``default`` strings.

    :raises TemplateValidationError: 4 on any other shape.
    """
    if PARAMETERS not in template:
        return
    section = template[PARAMETERS]
    if section == '':
        return
    if not isinstance(section, dict):
        raise TemplateValidationError(
            4, "expected a mapping for data['parameters']")
    for name, definition in section.items():
        if isinstance(definition, str):
            continue
        if not isinstance(definition, dict):
            raise TemplateValidationError(
                4, "expected a mapping for data['parameters'][%r]" % name)
        for key, value in definition.items():
            if key not in _PARAMETER_KEYS:
                raise TemplateValidationError(
                    4, "extra keys not allowed @ data['parameters'][%r][%r]"
                    % (name, key))
            if not isinstance(value, str):
                raise TemplateValidationError(
                    4, "expected str for data['parameters'][%r][%r]"
                    % (name, key))


def has_parameters(template: Mapping[str, Any]) -> bool:
    """Whether resolution would change anything (section or calls)."""
    return PARAMETERS in template or any(True for _ in calls(template))


def calls(template: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(path, value)`` of every ``get_param`` value, in document order.

    The ``parameters`` section itself is not searched.
    """
    for key, value in template.items():
        if key != PARAMETERS:
            yield from _walk(value, "data[%r]" % key)


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, '%s[%r]' % (path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, '%s[%d]' % (path, i))
    elif functions.is_get_param_call(value):
        yield path, value


def check(template: Mapping[str, Any], version: str,
          params: Mapping[str, Any] | None) -> None:
    """Check every ``get_param`` call can be resolved.

    :param template: the (normalised) template.
    :param version: its version; v1 has no parameters.
    :param params: the request's parameter values.
    :raises TemplateValidationError: 160 (v1), 162 (malformed call),
        161 (undeclared parameter), 163 (no value and no default).
    """
    for path, value in calls(template):
        if version == '1':
            raise TemplateValidationError(160, '%s: %s' % (path, value))
        _value_of(template, value, path, params)


def resolve(template: Mapping[str, Any],
            params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``template`` with calls replaced and no ``parameters``.

    :raises TemplateValidationError: as :func:`check`.
    """
    result = {}
    for key, value in template.items():
        if key != PARAMETERS:
            result[key] = _replace(template, value, "data[%r]" % key,
                                   params)
    return result


def _replace(template: Mapping[str, Any], value: Any, path: str,
             params: Mapping[str, Any] | None) -> Any:
    if isinstance(value, dict):
        return {k: _replace(template, v, '%s[%r]' % (path, k), params)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(template, v, '%s[%d]' % (path, i), params)
                for i, v in enumerate(value)]
    if functions.is_get_param_call(value):
        return _value_of(template, value, path, params)
    return value


def _value_of(template: Mapping[str, Any], call: str, path: str,
              params: Mapping[str, Any] | None) -> str:
    name = functions.parse_get_param(call)
    if name is None:
        raise TemplateValidationError(162, '%s: %s' % (path, call))
    section = template.get(PARAMETERS)
    if not isinstance(section, dict) or name not in section:
        raise TemplateValidationError(161, 'parameter %r' % name)
    if params and params.get(name) not in (None, ''):
        value = params[name]
        return value if isinstance(value, str) else str(value)
    definition = section[name]
    if isinstance(definition, dict) and DEFAULT in definition:
        return definition[DEFAULT]
    raise TemplateValidationError(
        163, 'parameter %r has no value and no default' % name)
