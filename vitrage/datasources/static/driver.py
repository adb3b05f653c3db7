"""The ``static`` datasource: entities and relationships from YAML files."""
from collections.abc import Iterator
import glob
import os

from oslo_config import cfg
from oslo_log import log

from vitrage.common.constants import UpdateMethod
from vitrage.common import exceptions
from vitrage.datasources.base import DriverBase
from vitrage.datasources import loader
from vitrage.datasources.static import definitions
from vitrage.datasources.static.transformer import StaticTransformer

LOG = log.getLogger(__name__)

STATIC_TYPE = 'static'

OPTS = [
    cfg.StrOpt('directory', default='/etc/vitrage/static_datasources',
               help='Directory of the static datasource files: every '
                    'file in it whose name ends in .yaml is read.'),
    cfg.IntOpt('changes_interval', default=30, min=10,
               help='Seconds between two readings of the files.'),
]


class StaticDriver(DriverBase):
    """Entities and relationships described in YAML files.

    **Options** (``[static]``): ``directory`` (default
    ``/etc/vitrage/static_datasources``), every ``*.yaml`` file of which is
    read every ``changes_interval`` seconds (default 30, at least 10).

    **File format** (entities.md section 8)::

        metadata:                 # optional; then "name" is required
          name: dc1-physical
        definitions:              # required, with both lists
          entities:
            - static_id: sw1      # file-local handle, required
              type: switch        # required
              id: "10.0.0.1"      # required; (type, id) is the identity
              name: tor-1         # optional
              state: available    # required unless another datasource
              rack: r12           #   produces the type; other keys are
            - static_id: h1       #   vertex properties
              type: nova.host
              id: host-0-0
          relationships:
            - {source: sw1, target: h1, relationship_type: attached}

    Scalars are read as written: only ``true``/``false`` are booleans, so
    ``state: on`` is the string ``on``; ``type``, ``id``, ``name`` and
    ``state`` are strings, an unquoted number being taken as the text it
    is written as (``id: 007`` is ``"007"``).

    **Failures**: a file that cannot be read or breaks the schema is
    skipped whole, with an error naming the file and the problem (logged
    once until the problem changes); the other files are still loaded.
    A repeated ``static_id`` in a file is ignored with a warning. An entity
    defined in several files is taken from the first file (in name
    order), relationships from all. A missing directory is logged and
    means no static entities.

    **Other datasources' types**: an entity whose type is produced by
    another enabled datasource (e.g. ``nova.host`` with ``simulated`` or
    ``nova.host`` enabled) is not an entity of its own: it only names the
    vertex that its relationships link to (created, as a non-placeholder,
    if absent). Its other properties are ignored.

    :param conf: the configuration, with the ``[<datasource_name>]`` group
        registered.
    :param datasource_name: the configured name of the datasource.
    """

    entity_types = (STATIC_TYPE,)
    transformer_class = StaticTransformer
    update_method = UpdateMethod.PULL
    deletes_vanished = True
    opts = OPTS

    def __init__(self, conf: cfg.ConfigOpts, datasource_name: str) -> None:
        super().__init__(conf, datasource_name)
        self.directory = conf[datasource_name].directory
        self._foreign_types: frozenset | None = None
        self._reported: dict[str, str] = {}

    def foreign_types(self) -> frozenset:
        """Entity types that the other enabled datasources produce.

        :raises vitrage.common.exceptions.DatasourceLoadError: when an
            enabled datasource cannot be loaded.
        """
        if self._foreign_types is None:
            types: set = set()
            for name, cls in loader.enabled_classes(self.conf).items():
                if name == self.name or issubclass(cls, StaticDriver):
                    continue
                types.update(cls.entity_types)
            self._foreign_types = frozenset(types)
        return self._foreign_types

    def get_all(self) -> Iterator[dict]:
        """One event per static entity of every valid file.

        :raises vitrage.common.exceptions.VitrageError: when the directory
            exists but cannot be listed.
        """
        return iter(self.events(self.read_files()))

    def read_files(self) -> list[definitions.StaticFile]:
        """The valid files of the directory, in name order.

        :raises vitrage.common.exceptions.VitrageError: when the directory
            exists but cannot be listed.
        """
        if not os.path.isdir(self.directory):
            self._report(self.directory, 'static datasource directory %s '
                         'does not exist: no static entities' %
                         self.directory, error=False)
            return []
        if not os.access(self.directory, os.R_OK | os.X_OK):
            raise exceptions.VitrageError(
                'static datasource directory %s cannot be read' %
                self.directory)
        foreign = self.foreign_types()
        files = []
        paths = sorted(glob.glob(os.path.join(glob.escape(self.directory),
                                              '*.yaml')))
        for path in paths:
            try:
                files.append(definitions.read_file(path, foreign))
            except definitions.InvalidStaticFile as exc:
                self._report(path, '%s; the file is skipped' % exc)
                continue
            self._reported.pop(path, None)
        # Forget the problems of files that went away: if one comes back
        # broken, it is reported again.
        for path in set(self._reported) - set(paths):
            del self._reported[path]
        return files

    def _report(self, path: str, message: str, error: bool = True) -> None:
        """Log a problem once, until it changes or goes away."""
        if self._reported.get(path) == message:
            LOG.debug('%s', message)
            return
        self._reported[path] = message
        if error:
            LOG.error('%s', message)
        else:
            LOG.warning('%s', message)

    @staticmethod
    def events(files: list[definitions.StaticFile]) -> list[dict]:
        """The entity events of valid files.

        Each event holds ``type``, ``id``, ``name``, ``state``, the extra
        ``properties`` and the ``relationships`` the entity takes part in
        (``relationship_type``, ``outgoing``, the other end's ``type``,
        ``id``, ``name``, ``state`` and whether it is ``foreign``).

        :param files: files read by :meth:`read_files`.
        """
        events: dict = {}
        origin: dict = {}
        seen: dict = {}
        for static_file in files:
            for entity in static_file.entities.values():
                if entity.foreign:
                    continue
                key = (entity.type, entity.id)
                if key in events:
                    first = events[key]
                    if (first['name'], first['state'], first['properties']) \
                            != (entity.name, entity.state,
                                entity.properties):
                        LOG.warning(
                            'static entity %s %r of %s is also defined in '
                            '%s; the definition of %s is kept',
                            entity.type, entity.id, static_file.path,
                            origin[key], origin[key])
                    continue
                origin[key] = static_file.path
                seen[key] = set()
                events[key] = {
                    'type': entity.type,
                    'id': entity.id,
                    'name': entity.name,
                    'state': entity.state,
                    'properties': entity.properties,
                    'relationships': [],
                }
            for source_id, target_id, label in static_file.relationships:
                source = static_file.entities[source_id]
                target = static_file.entities[target_id]
                if source.foreign and target.foreign:
                    LOG.warning(
                        'static file %s: relationship %s -%s-> %s joins two '
                        'entities of other datasources and is ignored',
                        static_file.path, source_id, label, target_id)
                    continue
                _link(events, seen, source, target, label, True)
                if target is not source:
                    _link(events, seen, target, source, label, False)
        return list(events.values())

    @staticmethod
    def entity_key(event: dict) -> str:
        """``<type>:<id>`` of a static entity.

        :param event: an event of :meth:`get_all`.
        :raises vitrage.common.exceptions.MalformedEvent: without type or
            id.
        """
        try:
            return '%s:%s' % (event['type'], event['id'])
        except KeyError as exc:
            raise exceptions.MalformedEvent(
                'static event without %s' % exc) from exc


def _link(events: dict, seen: dict, entity: definitions.StaticEntity,
          other: definitions.StaticEntity, label: str,
          outgoing: bool) -> None:
    """Add a relationship to the event of ``entity`` (not if foreign)."""
    if entity.foreign:
        return
    key = (entity.type, entity.id)
    identity = (label, outgoing, other.type, other.id)
    if identity in seen[key]:
        return
    seen[key].add(identity)
    relationship = {
        'relationship_type': label,
        'outgoing': outgoing,
        'type': other.type,
        'id': other.id,
        'foreign': other.foreign,
    }
    if not other.foreign:
        relationship['name'] = other.name
        relationship['state'] = other.state
    events[key]['relationships'].append(relationship)
