"""Reading template text, and the "every scalar is a string" rule.

The stock client reads template files with PyYAML's ``BaseLoader``, which
resolves no YAML 1.1 implicit types: ``on``, ``yes``, ``90`` and ``3``
stay strings (``on`` is a relationship label, so ``safe_load``'s boolean
would break ``alarm [on] host``). The server must see the same thing, and
templates that arrive as JSON with numbers or booleans in them are
normalised the same way (templates.md section 1).
"""
from typing import Any

import yaml

from vitrage.common import exceptions


class TemplateYAMLError(exceptions.VitrageError):
    """Template text is not one valid YAML document."""


def load_text(text: str) -> Any:
    """Parse template text, keeping every scalar a string.

    An empty value (``key:``) becomes ``""``; an empty document ``{}``.

    :param text: the YAML text of one template.
    :raises TemplateYAMLError: the text is not one valid YAML document
        (the message names the line and column).
    """
    try:
        document = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as e:
        raise TemplateYAMLError('Invalid YAML: %s' % _one_line(e)) from e
    return {} if document is None else document


def load_file(path: str) -> Any:
    """Read and parse a template file (see :func:`load_text`).

    :param path: the file to read.
    :raises TemplateYAMLError: the file is not valid YAML.
    :raises OSError: the file cannot be read.
    """
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        return load_text(text)
    except TemplateYAMLError as e:
        raise TemplateYAMLError('%s: %s' % (path, e)) from e


def stringify(value: Any) -> Any:
    """Return ``value`` with every scalar turned into a string.

    Mappings and lists are copied recursively (mapping keys too); None
    becomes ``""`` (as an empty YAML value does), booleans ``true`` /
    ``false``, numbers their ``str()``.
    """
    if isinstance(value, dict):
        return {stringify(k): stringify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [stringify(v) for v in value]
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return value
    return str(value)


def _one_line(error: Exception) -> str:
    return ' '.join(str(error).split())
