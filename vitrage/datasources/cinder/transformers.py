"""Transformer of cinder volumes.

It reads the *snapshot* shape of the cinder API (entities.md section 7):
``id``, ``display_name`` (or ``name``), ``status``,
``os-vol-tenant-attr:tenant_id`` (or ``tenant_id`` / ``project_id``),
``size``, ``volume_type``, ``updated_at`` and ``attachments`` (a list of
objects naming the server in ``server_id``, or ``instance_uuid`` in
notifications).
"""
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import resource_key
from vitrage.datasources.base import resource_neighbor
from vitrage.datasources.base import TransformerBase
from vitrage.datasources.nova.transformers import add_known
from vitrage.datasources.nova.transformers import INSTANCE_TYPE
from vitrage.datasources.nova.transformers import normalized_time
from vitrage.datasources.nova.transformers import resource_properties

VOLUME_TYPE = 'cinder.volume'
VOLUME_PREFIX = resource_key(VOLUME_TYPE, '')

_TENANT_FIELDS = ('os-vol-tenant-attr:tenant_id', 'tenant_id', 'project_id')


def _first(event: dict, fields: tuple) -> object:
    for field in fields:
        value = event.get(field)
        if value is not None:
            return value
    return None


def _server_ids(volume_id: str, attachments: object) -> tuple:
    try:
        servers = []
        for attachment in attachments:
            server = attachment.get('server_id')
            if server is None:
                server = attachment['instance_uuid']
            servers.append(server)
        return tuple(servers)
    except (AttributeError, KeyError, TypeError) as exc:
        raise exceptions.MalformedEvent(
            'event of %s %r: attachments must be a list of objects with '
            'server_id or instance_uuid, got %r' % (
                VOLUME_TYPE, volume_id, attachments)) from exc


class VolumeTransformer(TransformerBase):
    """``cinder.volume``: a volume, attached to instances."""

    event_actions = {
        'volume.delete.end': GraphAction.DELETE_ENTITY,
        'volume.detach.start': GraphAction.DELETE_RELATIONSHIP,
        'volume.attach.end': GraphAction.UPDATE_RELATIONSHIP,
    }

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one volume into an update.

        :param event: a volume as listed by cinder, with the envelope keys.
        :raises vitrage.common.exceptions.MalformedEvent: without ``id`` or
            the sample date, or with malformed ``attachments``.
        """
        volume_id, sample, properties = resource_properties(
            event, VOLUME_TYPE)
        add_known(properties, Prop.NAME,
                  _first(event, ('display_name', 'name')))
        add_known(properties, Prop.STATE, event.get('status'))
        add_known(properties, Prop.PROJECT_ID, _first(event, _TENANT_FIELDS))
        add_known(properties, 'size', event.get('size'))
        add_known(properties, 'volume_type', event.get('volume_type'))
        add_known(properties, Prop.UPDATE_TIMESTAMP,
                  normalized_time(event, 'updated_at'))
        neighbors = []
        attachments = event.get('attachments')
        if attachments is not None:
            servers = _server_ids(volume_id, attachments)
            properties['attachments'] = servers
            for server in servers:
                neighbors.append(resource_neighbor(
                    INSTANCE_TYPE, server, EdgeLabel.ATTACHED, True, sample))
        return EntityUpdate(VOLUME_PREFIX + str(volume_id),
                            self.graph_action(event), properties, neighbors)
