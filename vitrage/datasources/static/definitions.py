"""Reading and validating static datasource files (entities.md section 8).

A file is loaded with a YAML loader that keeps scalars as the file spells
them: only ``true``/``false`` are booleans (``state: on`` stays the string
``on``, not YAML 1.1's True) and dates stay strings (events travel as
JSON). Every problem is reported as :class:`InvalidStaticFile` naming the
file and the place in it; the caller skips that file whole.
"""
import dataclasses
import re
from typing import Any

from oslo_log import log
import yaml

from vitrage.common.constants import Category
from vitrage.common import exceptions

LOG = log.getLogger(__name__)

_BOOL_TAG = 'tag:yaml.org,2002:bool'
_TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp'
_INT_TAG = 'tag:yaml.org,2002:int'
_FLOAT_TAG = 'tag:yaml.org,2002:float'

#: Keys of an entity that are not extra properties.
ENTITY_KEYS = ('static_id', 'type', 'id', 'name', 'state', 'category')
RELATIONSHIP_KEYS = ('source', 'target', 'relationship_type')


class InvalidStaticFile(exceptions.VitrageError):
    """A static datasource file is unreadable or breaks the schema."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and without implicit dates."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r'^(?:true|True|TRUE|false|False|FALSE)$'),
    list('tTfF'))


class _Int(int):
    """An int read from a file, with the text it was written as."""

    text: str


class _Float(float):
    """A float read from a file, with the text it was written as."""

    text: str


def _number(kind: type, loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    constructor = yaml.SafeLoader.yaml_constructors[node.tag]
    number = kind(constructor(loader, node))
    number.text = node.value
    return number


_Loader.add_constructor(_INT_TAG,
                        lambda loader, node: _number(_Int, loader, node))
_Loader.add_constructor(_FLOAT_TAG,
                        lambda loader, node: _number(_Float, loader, node))


def _as_written(value: Any) -> Any:
    """``value`` with the numbers of the loader made plain ints/floats."""
    if isinstance(value, _Int):
        return int(value)
    if isinstance(value, _Float):
        return float(value)
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_written(item) for key, item in value.items()}
    return value


def _identity_text(value: Any) -> Any:
    """An unquoted number as the text it was written as (``id: 007`` is
    ``"007"``); any other value unchanged.
    """
    if isinstance(value, (_Int, _Float)):
        return value.text
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


@dataclasses.dataclass
class StaticEntity:
    """One entity of a file."""

    static_id: Any
    type: str
    id: str
    name: str | None
    state: str | None
    properties: dict
    foreign: bool


@dataclasses.dataclass
class StaticFile:
    """A valid file: its entities by static_id and its relationships."""

    path: str
    name: str | None
    entities: dict
    relationships: list


def load_yaml(text: str) -> Any:
    """Parse YAML text keeping scalars as written (see module doc).

    :param text: the YAML document.
    :raises yaml.YAMLError: on a syntax error.
    """
    return _as_written(_load_raw(text))


def _load_raw(text: str) -> Any:
    """Like :func:`load_yaml`, numbers keeping their text (``.text``)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader


def read_file(path: str, foreign_types: frozenset | set) -> StaticFile:
    """Read and validate one static datasource file.

    Duplicate ``static_id`` values are logged as warnings; the first
    definition is kept.

    :param path: the file.
    :param foreign_types: entity types that other enabled datasources
        produce; entities of these types only refer to existing vertices.
    :raises InvalidStaticFile: naming the file and the problem.
    """
    try:
        with open(path, encoding='utf-8') as stream:
            document = _load_raw(stream.read())
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidStaticFile('static file %s cannot be read: %s' % (
            path, exc)) from exc
    except yaml.YAMLError as exc:
        raise InvalidStaticFile('static file %s is not valid YAML: %s' % (
            path, exc)) from exc
    return parse(document, path, foreign_types)


def parse(document: Any, path: str,
          foreign_types: frozenset | set) -> StaticFile:
    """Validate a loaded static datasource document.

    :param document: the loaded YAML.
    :param path: the file it came from (for messages).
    :param foreign_types: see :func:`read_file`.
    :raises InvalidStaticFile: naming the file and the problem.
    """
    def fail(message: str, *args: Any) -> InvalidStaticFile:
        return InvalidStaticFile('static file %s: %s' % (
            path, message % args))

    if not isinstance(document, dict):
        raise fail('the file must hold a mapping with "definitions", got %s',
                   _kind(document))
    metadata = document.get('metadata')
    name = None
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise fail('"metadata" must be a mapping, got %s',
                       _kind(metadata))
        name = metadata.get('name')
        if not isinstance(name, str) or not name:
            raise fail('"metadata" needs a "name" string')
    definitions = document.get('definitions')
    if not isinstance(definitions, dict):
        raise fail('"definitions" is required and must be a mapping, got %s',
                   _kind(definitions))
    for section in ('entities', 'relationships'):
        if not isinstance(definitions.get(section), list):
            raise fail('"definitions.%s" is required and must be a list, '
                       'got %s', section, _kind(definitions.get(section)))

    entities: dict = {}
    for index, raw in enumerate(definitions['entities']):
        where = 'definitions.entities[%d]' % index
        entity = _entity(raw, where, foreign_types, fail)
        if entity.static_id in entities:
            LOG.warning('static file %s: %s repeats static_id %r; the '
                        'first definition is kept', path, where,
                        entity.static_id)
            continue
        entities[entity.static_id] = entity

    relationships = []
    for index, raw in enumerate(definitions['relationships']):
        where = 'definitions.relationships[%d]' % index
        if not isinstance(raw, dict):
            raise fail('%s must be a mapping, got %s', where, _kind(raw))
        for key in RELATIONSHIP_KEYS:
            if raw.get(key) is None:
                raise fail('%s lacks "%s"', where, key)
        label = raw['relationship_type']
        if not isinstance(label, str) or not label:
            raise fail('%s: "relationship_type" must be a non-empty string, '
                       'got %s', where, _kind(label))
        for end in ('source', 'target'):
            if raw[end] not in entities:
                raise fail('%s: %s %r is not the static_id of an entity of '
                           'the file', where, end, raw[end])
        relationships.append((_as_written(raw['source']),
                              _as_written(raw['target']), label))
    return StaticFile(path, name, entities, relationships)


def _entity(raw: Any, where: str, foreign_types: frozenset | set,
            fail: Any) -> StaticEntity:
    if not isinstance(raw, dict):
        raise fail('%s must be a mapping, got %s', where, _kind(raw))
    static_id = _as_written(raw.get('static_id'))
    if static_id is None or isinstance(static_id, (bool, dict, list)) \
            or static_id == '':
        raise fail('%s lacks a "static_id" (a string)', where)
    where = '%s (static_id %r)' % (where, static_id)
    # The identity and display fields are text: an unquoted number is
    # taken as written (``id: 12345`` is "12345"), as the retired
    # project's loader, which kept every scalar a string, did.
    raw = dict(raw)
    for key in ('type', 'id', 'name', 'state'):
        if key in raw:
            raw[key] = _identity_text(raw[key])
    raw = _as_written(raw)
    entity_type = raw.get('type')
    foreign = entity_type in foreign_types
    required = ('type', 'id') if foreign else ('type', 'id', 'state')
    for key in ('type', 'id', 'name', 'state'):
        value = raw.get(key)
        if value is None:
            if key in required:
                raise fail('%s lacks "%s"', where, key)
            continue
        if not isinstance(value, str):
            raise fail('%s: "%s" must be a string, got %s %r (quote it)',
                       where, key, type(value).__name__, value)
        if not value and key in required:
            raise fail('%s: "%s" must not be empty', where, key)
    category = raw.get('category', Category.RESOURCE)
    if category != Category.RESOURCE:
        raise fail('%s: "category" must be %s, got %r', where,
                   Category.RESOURCE, category)
    properties = {}
    for key, value in raw.items():
        if key in ENTITY_KEYS:
            continue
        if not isinstance(key, str):
            raise fail('%s: property names must be strings, got %r',
                       where, key)
        if key.startswith('vitrage_'):
            raise fail('%s: property "%s" is reserved (vitrage_ prefix)',
                       where, key)
        if not _plain(value):
            raise fail('%s: property "%s" must hold strings, numbers, '
                       'booleans, lists or mappings, got %s', where, key,
                       _kind(value))
        properties[key] = value
    return StaticEntity(static_id, entity_type, raw['id'], raw.get('name'),
                        raw.get('state'), properties, foreign)


def _plain(value: Any) -> bool:
    """Whether a value survives JSON: the events travel over RPC."""
    if value is None or isinstance(value, (str, int, float)):
        return True
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v)
                   for k, v in value.items())
    return False


def _kind(value: Any) -> str:
    return 'nothing' if value is None else type(value).__name__
