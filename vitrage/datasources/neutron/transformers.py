"""Transformers of neutron networks and ports.

They read the *snapshot* shapes of the neutron API (entities.md section
7): a network (``id``, ``name``, ``status``, ``tenant_id``,
``updated_at``) and a port (``id``, ``name``, ``status``, ``tenant_id``,
``network_id``, ``device_id``, ``device_owner``, ``fixed_ips``,
``binding:host_id``). Only ports of compute instances are entities:
drivers keep the ports for which :func:`is_compute_port` holds.
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

NETWORK_TYPE = 'neutron.network'
PORT_TYPE = 'neutron.port'
NETWORK_PREFIX = resource_key(NETWORK_TYPE, '')
PORT_PREFIX = resource_key(PORT_TYPE, '')


def is_compute_port(port: dict) -> bool:
    """Whether a port belongs to a compute instance (an entity).

    :param port: a port as listed by neutron.
    """
    owner = port.get('device_owner')
    return isinstance(owner, str) and 'compute' in owner


def _project(event: dict) -> str | None:
    project = event.get('tenant_id')
    return project if project is not None else event.get('project_id')


class NetworkTransformer(TransformerBase):
    """``neutron.network``: a network (its ports link to it)."""

    event_actions = {'network.delete.end': GraphAction.DELETE_ENTITY}

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one network into an update.

        :param event: a network as listed by neutron, with the envelope
            keys.
        :raises vitrage.common.exceptions.MalformedEvent: without ``id`` or
            the sample date, or with a bad ``updated_at`` time.
        """
        network_id, sample, properties = resource_properties(
            event, NETWORK_TYPE)
        add_known(properties, Prop.NAME, event.get('name'))
        add_known(properties, Prop.STATE, event.get('status'))
        add_known(properties, Prop.PROJECT_ID, _project(event))
        add_known(properties, Prop.UPDATE_TIMESTAMP,
                  normalized_time(event, 'updated_at'))
        return EntityUpdate(NETWORK_PREFIX + str(network_id),
                            self.graph_action(event), properties)


class PortTransformer(TransformerBase):
    """``neutron.port``: a port in its network, attached to a server."""

    event_actions = {'port.delete.end': GraphAction.DELETE_ENTITY}

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one port of a compute instance into an update.

        :param event: a port as listed by neutron, with the envelope keys.
        :raises vitrage.common.exceptions.MalformedEvent: without ``id`` or
            the sample date, or with malformed ``fixed_ips``.
        """
        port_id, sample, properties = resource_properties(event, PORT_TYPE)
        add_known(properties, Prop.NAME, event.get('name'))
        add_known(properties, Prop.STATE, event.get('status'))
        add_known(properties, Prop.PROJECT_ID, _project(event))
        add_known(properties, 'host_id', event.get('binding:host_id'))
        add_known(properties, Prop.UPDATE_TIMESTAMP,
                  normalized_time(event, 'updated_at'))
        fixed_ips = event.get('fixed_ips')
        if fixed_ips is not None:
            try:
                properties['ip_addresses'] = tuple(
                    ip['ip_address'] for ip in fixed_ips)
            except (KeyError, TypeError) as exc:
                raise exceptions.MalformedEvent(
                    'event of %s %r: fixed_ips must be a list of objects '
                    'with ip_address, got %r' % (
                        PORT_TYPE, port_id, fixed_ips)) from exc
        neighbors = []
        network_id = event.get('network_id')
        if network_id:
            neighbors.append(resource_neighbor(
                NETWORK_TYPE, network_id, EdgeLabel.CONTAINS, False, sample))
        device_id = event.get('device_id')
        if device_id:
            neighbors.append(resource_neighbor(
                INSTANCE_TYPE, device_id, EdgeLabel.ATTACHED, True, sample))
        return EntityUpdate(PORT_PREFIX + str(port_id),
                            self.graph_action(event), properties, neighbors)
