"""The contract between datasources, the collector and the graph.

A datasource is a :class:`DriverBase` subclass (it runs in
vitrage-collector and produces *entity events*: plain dicts holding the
full current state of an entity plus the envelope keys of entities.md
section 5.1) whose ``transformer_class`` (it runs in vitrage-graph) turns
each event into a typed :class:`EntityUpdate` that the processor applies.
"""
import abc
from collections.abc import Iterable
import dataclasses
import hashlib
from typing import Any
from typing import ClassVar
import uuid

from oslo_config import cfg

from vitrage.common.constants import Category
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common.constants import UpdateMethod
from vitrage.common import exceptions

_ID_NAMESPACE = uuid.UUID('6f1b2a6c-4e0d-5b8e-9c3a-7d2e1f0a9b84')


_NS_BYTES = _ID_NAMESPACE.bytes
_sha1 = hashlib.sha1
_VARIANT = '89ab89ab89ab89ab'


def vitrage_id(entity_key: str) -> str:
    """The deterministic vertex id of an entity key: its UUID version 5.

    Every process, before and after a restart, gives the same entity the
    same id, so snapshots, logs and the API agree without a shared table.
    (Equal to ``str(uuid.uuid5(namespace, key))``, computed without the
    UUID object, which costs more than the hash on the processor's path.)
    """
    h = _sha1(_NS_BYTES + entity_key.encode('utf-8')).hexdigest()
    return '%s-%s-5%s-%s%s-%s' % (h[:8], h[8:12], h[13:16],
                                  _VARIANT[int(h[16], 16)], h[17:20],
                                  h[20:32])


def cached_id(entity_key: str) -> str:
    """``vitrage_cached_id``: the md5 of the entity key (entities.md)."""
    return hashlib.md5(entity_key.encode('utf-8'),
                       usedforsecurity=False).hexdigest()


def make_key(category: str, vitrage_type: str, *parts: Any) -> str:
    """An entity key: ``CATEGORY:type:part:part``."""
    return ':'.join([category, vitrage_type] + [str(p) for p in parts])


def resource_key(vitrage_type: str, entity_id: Any) -> str:
    return make_key(Category.RESOURCE, vitrage_type, entity_id)


@dataclasses.dataclass(slots=True)
class Neighbor:
    """An entity an update links to, and the edge between them.

    :ivar key: the neighbour's entity key.
    :ivar label: the edge label (``relationship_type``).
    :ivar outgoing: True for an edge from the updated entity to the
        neighbour, False for neighbour -> entity.
    :ivar properties: properties for the neighbour's vertex. When the
        neighbour does not exist yet it is created with them; when it
        exists, they only fill in properties it lacks.
    :ivar placeholder: create the neighbour as a placeholder (True) or as a
        real vertex (False, e.g. hosts known from a zone).
    :ivar vertex_id: the neighbour's vertex id, for a neighbour that
        exists already and whose key the caller does not know (the
        evaluator's targets); ``key`` may then be None.
    """

    key: str | None
    label: str
    outgoing: bool
    properties: dict
    placeholder: bool = True
    vertex_id: str | None = None


def resource_neighbor(vitrage_type: str, entity_id: Any, label: str,
                      outgoing: bool, sample: str,
                      extra: dict | None = None,
                      placeholder: bool = True) -> Neighbor:
    """A resource an update links to, known by its type and id.

    :param vitrage_type: the resource's type.
    :param entity_id: its datasource id.
    :param label: the edge label.
    :param outgoing: True for an edge from the updated entity to it.
    :param sample: the sample timestamp of the update.
    :param extra: more properties for its vertex (``name``...).
    :param placeholder: create it as a placeholder until its own
        datasource reports it (False: a real vertex).
    """
    properties = {Prop.CATEGORY: Category.RESOURCE, Prop.TYPE: vitrage_type,
                  Prop.ID: entity_id, Prop.SAMPLE_TIMESTAMP: sample}
    if extra:
        properties.update(extra)
    return Neighbor(resource_key(vitrage_type, entity_id), label, outgoing,
                    properties, placeholder)


@dataclasses.dataclass(slots=True)
class EntityUpdate:
    """What one entity event does to the graph (typed, graph side).

    :ivar key: the entity key; ``vitrage_id(key)`` is the vertex id.
    :ivar action: one of :class:`GraphAction`.
    :ivar properties: vertex properties to merge in (a None value removes
        the property). Must hold category, type and sample timestamp.
    :ivar neighbors: linked entities; see the processor for how edges to
        neighbours no longer listed are retired.
    :ivar vertex_id: set instead of ``key`` for internal events that
        address a vertex by id (consistency).
    """

    key: str | None
    action: str
    properties: dict
    neighbors: list[Neighbor] = dataclasses.field(default_factory=list)
    vertex_id: str | None = None

    def __post_init__(self) -> None:
        if self.action not in GraphAction.ALL:
            raise exceptions.MalformedEvent(
                'unknown graph action %r' % (self.action,))


class TransformerBase(abc.ABC):
    """Turns entity events of one datasource into :class:`EntityUpdate`.

    Transformers run in vitrage-graph, on the hot path: keep them free of
    I/O and of per-event allocations that are not needed.
    """

    #: ALARM or RESOURCE.
    category: ClassVar[str] = Category.RESOURCE
    #: Per-event mapping of source event types to graph actions
    #: (entities.md section 5.2).
    event_actions: ClassVar[dict[str, str]] = {}

    def __init__(self, conf: cfg.ConfigOpts, vitrage_type: str) -> None:
        self.conf = conf
        self.vitrage_type = vitrage_type

    @abc.abstractmethod
    def transform(self, event: dict) -> EntityUpdate:
        """Turn one entity event into an update.

        :param event: the entity event with its envelope keys.
        :raises vitrage.common.exceptions.MalformedEvent: when the event
            lacks what the transformer needs.
        """

    def graph_action(self, event: dict) -> str:
        """The graph action of an event (entities.md section 5.2).

        :param event: the entity event.
        :raises vitrage.common.exceptions.MalformedEvent: on an unknown
            datasource action.
        """
        event_type = event.get(Envelope.EVENT_TYPE)
        if event_type in GraphAction.ALL:
            return event_type
        ds_action = event.get(Envelope.DATASOURCE_ACTION)
        if self.category == Category.ALARM and self.is_cleared(event) \
                and ds_action != DatasourceAction.INIT_SNAPSHOT:
            return GraphAction.DELETE_ENTITY
        if ds_action == DatasourceAction.INIT_SNAPSHOT:
            return GraphAction.CREATE_ENTITY
        if ds_action == DatasourceAction.SNAPSHOT:
            return GraphAction.UPDATE_ENTITY
        if ds_action == DatasourceAction.UPDATE:
            return self.event_actions.get(event_type,
                                          GraphAction.UPDATE_ENTITY)
        raise exceptions.MalformedEvent(
            'event of %s has no valid %s: %r' % (
                self.vitrage_type, Envelope.DATASOURCE_ACTION, ds_action))

    def is_cleared(self, event: dict) -> bool:
        """For alarm datasources: whether the event says the alarm ended."""
        return False

    @staticmethod
    def require(event: dict, *names: str) -> list:
        """The values of required keys of an event.

        :raises vitrage.common.exceptions.MalformedEvent: naming the first
            missing key.
        """
        values = []
        for name in names:
            value = event.get(name)
            if value is None:
                raise exceptions.MalformedEvent(
                    'event of %s lacks %r' % (
                        event.get(Envelope.ENTITY_TYPE, '?'), name))
            values.append(value)
        return values


class DriverBase(abc.ABC):
    """A datasource driver: runs in vitrage-collector.

    Capabilities are class attributes, checked when the plugin is loaded
    (:mod:`vitrage.datasources.loader`):

    * ``update_method``: ``pull`` (get_changes is polled), ``push``
      (notifications are pushed to :meth:`enrich_event`), ``none``
      (snapshots only).
    * ``deletes_vanished``: entities missing from a full snapshot are
      deleted (entities.md section 5.4).
    * ``push_event_types``: notification event types :meth:`enrich_event`
      takes (push drivers only).
    * ``opts``: the option group of the datasource (``[<name>]``).
    * ``entity_types``: the ``vitrage_type`` values it produces.
    """

    #: The ``vitrage_type`` values of the entities this driver produces
    #: (the first is the default ``vitrage_entity_type`` of its events).
    entity_types: ClassVar[tuple[str, ...]] = ()
    transformer_class: ClassVar[type[TransformerBase]]
    update_method: ClassVar[str] = UpdateMethod.NONE
    deletes_vanished: ClassVar[bool] = True
    push_event_types: ClassVar[tuple[str, ...]] = ()
    opts: ClassVar[list] = []

    def __init__(self, conf: cfg.ConfigOpts, datasource_name: str) -> None:
        self.conf = conf
        self.name = datasource_name

    @abc.abstractmethod
    def get_all(self) -> Iterable[dict]:
        """Sample the source: the full current state of every entity.

        Events carry the source payload; the collector adds the envelope
        keys it does not set itself.

        :raises vitrage.common.exceptions.VitrageError: when the source
            cannot be read; the collector reports it to the caller and
            keeps its previous baseline.
        """

    @staticmethod
    @abc.abstractmethod
    def entity_key(event: dict) -> str:
        """A stable key identifying the entity of an event (baseline key).

        :param event: an event returned by :meth:`get_all`.
        :raises vitrage.common.exceptions.MalformedEvent: when the event
            does not identify an entity.
        """

    def deleted_event(self, event: dict) -> dict:
        """The event that says an entity vanished from the source.

        :param event: the last event seen for the entity.
        """
        deleted = dict(event)
        deleted[Envelope.EVENT_TYPE] = GraphAction.DELETE_ENTITY
        return deleted

    def enrich_event(self, event_type: str, payload: dict) -> list[dict]:
        """Turn a pushed notification into entity events.

        :param event_type: the notification's event type.
        :param payload: the notification's payload.
        :raises vitrage.common.exceptions.MalformedEvent: on a payload the
            driver cannot read.
        """
        return []

    @classmethod
    def check_capabilities(cls) -> None:
        """Refuse a plugin class whose capabilities do not add up.

        :raises vitrage.common.exceptions.DatasourceLoadError: naming the
            wrong attribute.
        """
        problems = []
        if cls.update_method not in UpdateMethod.ALL:
            problems.append('update_method %r is not one of %s' % (
                cls.update_method, ', '.join(UpdateMethod.ALL)))
        transformer = getattr(cls, 'transformer_class', None)
        if not (isinstance(transformer, type)
                and issubclass(transformer, TransformerBase)):
            problems.append('transformer_class is not a TransformerBase')
        if cls.update_method == UpdateMethod.PUSH and not cls.push_event_types:
            problems.append('a push driver must list push_event_types')
        if cls.push_event_types and \
                cls.enrich_event is DriverBase.enrich_event:
            problems.append('push_event_types given but enrich_event is '
                            'not implemented')
        if not isinstance(cls.deletes_vanished, bool):
            problems.append('deletes_vanished must be a bool')
        if problems:
            raise exceptions.DatasourceLoadError(
                'datasource driver %s.%s: %s' % (
                    cls.__module__, cls.__name__, '; '.join(problems)))
