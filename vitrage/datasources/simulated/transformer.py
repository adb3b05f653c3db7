"""Transformer of the simulated cloud.

It hands each event to the OpenStack transformer of its
``vitrage_entity_type``.
"""
from oslo_config import cfg

from vitrage.common.constants import Envelope
from vitrage.common import exceptions
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import TransformerBase
from vitrage.datasources.cinder import transformers as cinder
from vitrage.datasources.neutron import transformers as neutron
from vitrage.datasources.nova import transformers as nova

_TRANSFORMERS = {
    nova.ZONE_TYPE: nova.ZoneTransformer,
    nova.HOST_TYPE: nova.HostTransformer,
    nova.INSTANCE_TYPE: nova.InstanceTransformer,
    neutron.NETWORK_TYPE: neutron.NetworkTransformer,
    neutron.PORT_TYPE: neutron.PortTransformer,
    cinder.VOLUME_TYPE: cinder.VolumeTransformer,
}


class SimulatedTransformer(TransformerBase):
    """Dispatches each event to the transformer of its entity type."""

    def __init__(self, conf: cfg.ConfigOpts, vitrage_type: str) -> None:
        super().__init__(conf, vitrage_type)
        self._by_type = {entity_type: cls(conf, entity_type)
                         for entity_type, cls in _TRANSFORMERS.items()}

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one simulated event into an update.

        :param event: an event of the simulated driver, with its envelope.
        :raises vitrage.common.exceptions.MalformedEvent: when its
            ``vitrage_entity_type`` is not a simulated type, or the event
            lacks what that type's transformer needs.
        """
        transformer = self._by_type.get(event.get(Envelope.ENTITY_TYPE))
        if transformer is None:
            raise exceptions.MalformedEvent(
                'simulated event of unknown %s %r (known: %s)' % (
                    Envelope.ENTITY_TYPE, event.get(Envelope.ENTITY_TYPE),
                    ', '.join(sorted(self._by_type))))
        return transformer.transform(event)
