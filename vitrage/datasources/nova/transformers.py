"""Transformers of nova availability zones, compute hosts and instances.

They read the *snapshot* shapes of the nova API (entities.md section 7):

* ``nova.zone``: an availability zone as listed with its hosts
  (``zoneName``, ``zoneState.available``, ``hosts`` mapping each host
  name to its services, each with ``available`` and ``active``). Drivers
  do not send the ``internal`` zone.
* ``nova.host``: a ``nova-compute`` service (``host``, ``zone``).
* ``nova.instance``: a server (``id``, ``name``, ``status``,
  ``tenant_id``, ``OS-EXT-SRV-ATTR:host``,
  ``OS-EXT-SRV-ATTR:instance_name``, optional ``updated``).

A push driver turns notification payloads into these shapes before they
reach the graph, so one transformer serves snapshots and notifications.
"""
from vitrage.common.constants import Category
from vitrage.common.constants import CLUSTER_ID
from vitrage.common.constants import CLUSTER_NAME
from vitrage.common.constants import CLUSTER_STATE
from vitrage.common.constants import CLUSTER_TYPE
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import resource_key
from vitrage.datasources.base import resource_neighbor
from vitrage.datasources.base import TransformerBase

ZONE_TYPE = 'nova.zone'
HOST_TYPE = 'nova.host'
INSTANCE_TYPE = 'nova.instance'

#: The nova service whose health makes a host available.
COMPUTE_SERVICE = 'nova-compute'
#: The zone of nova's control services; it is not an entity.
INTERNAL_ZONE = 'internal'

HOST_FIELD = 'OS-EXT-SRV-ATTR:host'
INSTANCE_NAME_FIELD = 'OS-EXT-SRV-ATTR:instance_name'

ZONE_AVAILABLE = 'available'
ZONE_UNAVAILABLE = 'unavailable'

CLUSTER_KEY = resource_key(CLUSTER_TYPE, CLUSTER_ID)
# Key prefixes: ``prefix + str(id)`` equals ``resource_key(type, id)`` and
# costs less on the hot path.
ZONE_PREFIX = resource_key(ZONE_TYPE, '')
HOST_PREFIX = resource_key(HOST_TYPE, '')
INSTANCE_PREFIX = resource_key(INSTANCE_TYPE, '')
_CLUSTER_PROPERTIES = {
    Prop.CATEGORY: Category.RESOURCE,
    Prop.TYPE: CLUSTER_TYPE,
    Prop.ID: CLUSTER_ID,
    Prop.NAME: CLUSTER_NAME,
    Prop.STATE: CLUSTER_STATE,
}


def normalized_time(event: dict, field: str) -> str | None:
    """``event[field]`` in the sample format, None when absent.

    :param event: an entity event.
    :param field: the name of a time field of the event.
    :raises vitrage.common.exceptions.MalformedEvent: when the value is
        not an ISO-8601 time.
    """
    value = event.get(field)
    if value is None:
        return None
    try:
        return timeutils.normalize(value)
    except (TypeError, ValueError) as exc:
        raise exceptions.MalformedEvent(
            'event of %s: %r is not an ISO-8601 time (%r): %s' % (
                event.get(Envelope.ENTITY_TYPE, '?'), field, value,
                exc)) from exc


def resource_properties(event: dict, vitrage_type: str,
                        id_field: str = 'id') -> tuple[object, str, dict]:
    """What every resource event of a transformer starts with.

    :param event: an entity event.
    :param vitrage_type: the entities' type.
    :param id_field: the event's field holding the entity id.
    :returns: (entity id, sample date, the properties: category, type,
        id, sample timestamp and datasource name).
    :raises vitrage.common.exceptions.MalformedEvent: without the id or
        the sample date.
    """
    entity_id = event.get(id_field)
    sample = event.get(Envelope.SAMPLE_DATE)
    if entity_id is None or sample is None:
        TransformerBase.require(event, id_field, Envelope.SAMPLE_DATE)
    return entity_id, sample, {
        Prop.CATEGORY: Category.RESOURCE,
        Prop.TYPE: vitrage_type,
        Prop.ID: entity_id,
        Prop.SAMPLE_TIMESTAMP: sample,
        Prop.DATASOURCE_NAME: event.get(Envelope.DATASOURCE_NAME),
    }


def add_known(properties: dict, name: str, value: object) -> None:
    """Set ``properties[name]`` unless ``value`` is None.

    A None property in an update would remove the property from the
    vertex; a value the source did not send is left as it is instead.
    """
    if value is not None:
        properties[name] = value


def host_is_available(services: dict) -> bool:
    """Whether a zone lists a host as up (nova-compute available, active).

    :param services: the services of one host, by binary name.
    """
    if not isinstance(services, dict):
        return False
    compute = services.get(COMPUTE_SERVICE)
    return bool(isinstance(compute, dict) and compute.get('available')
                and compute.get('active'))


class ZoneTransformer(TransformerBase):
    """``nova.zone``: the zone, its hosts with their state, the cluster."""

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one availability zone into an update.

        :param event: a zone as listed by nova, with the envelope keys.
        :raises vitrage.common.exceptions.MalformedEvent: without
            ``zoneName`` or the sample date.
        """
        zone, sample, properties = resource_properties(
            event, ZONE_TYPE, 'zoneName')
        zone_state = event.get('zoneState') or {}
        properties[Prop.NAME] = zone
        properties[Prop.STATE] = (ZONE_AVAILABLE if zone_state.get('available')
                                  else ZONE_UNAVAILABLE)
        cluster = dict(_CLUSTER_PROPERTIES)
        cluster[Prop.SAMPLE_TIMESTAMP] = sample
        neighbors = [Neighbor(CLUSTER_KEY, EdgeLabel.CONTAINS, False,
                              cluster, placeholder=False)]
        hosts = event.get('hosts') or {}
        if not isinstance(hosts, dict):
            raise exceptions.MalformedEvent(
                'event of %s %r: hosts is not a mapping' % (ZONE_TYPE, zone))
        for host, services in hosts.items():
            neighbors.append(resource_neighbor(
                HOST_TYPE, host, EdgeLabel.CONTAINS, True, sample,
                {Prop.NAME: host,
                 Prop.STATE: (ZONE_AVAILABLE if host_is_available(services)
                              else ZONE_UNAVAILABLE)},
                placeholder=False))
        return EntityUpdate(ZONE_PREFIX + str(zone),
                            self.graph_action(event), properties, neighbors)


class HostTransformer(TransformerBase):
    """``nova.host``: a compute host inside its zone.

    A host has no state of its own: its zone reports it.
    """

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one nova-compute service into an update.

        :param event: a compute service as listed by nova, with the
            envelope keys.
        :raises vitrage.common.exceptions.MalformedEvent: without ``host``,
            ``zone`` or the sample date.
        """
        host, zone, sample = self.require(event, 'host', 'zone',
                                          Envelope.SAMPLE_DATE)
        properties = {
            Prop.CATEGORY: Category.RESOURCE,
            Prop.TYPE: HOST_TYPE,
            Prop.ID: host,
            Prop.NAME: host,
            Prop.SAMPLE_TIMESTAMP: sample,
            Prop.DATASOURCE_NAME: event.get(Envelope.DATASOURCE_NAME),
        }
        neighbors = [resource_neighbor(ZONE_TYPE, zone, EdgeLabel.CONTAINS,
                                       False, sample, {Prop.NAME: zone})]
        return EntityUpdate(HOST_PREFIX + str(host),
                            self.graph_action(event), properties, neighbors)


class InstanceTransformer(TransformerBase):
    """``nova.instance``: a server on its host.

    A server whose status is ``deleted`` is deleted from the graph,
    whatever the event says.
    """

    event_actions = {
        'compute.instance.delete.end': GraphAction.DELETE_ENTITY,
        'instance.delete.end': GraphAction.DELETE_ENTITY,
    }

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one server into an update.

        :param event: a server as listed by nova, with the envelope keys.
        :raises vitrage.common.exceptions.MalformedEvent: without ``id`` or
            the sample date, or with a bad ``updated`` time.
        """
        server_id, sample, properties = resource_properties(
            event, INSTANCE_TYPE)
        status = event.get('status')
        host = event.get(HOST_FIELD)
        add_known(properties, Prop.NAME, event.get('name'))
        add_known(properties, Prop.STATE, status)
        add_known(properties, Prop.PROJECT_ID, event.get('tenant_id'))
        add_known(properties, 'host_id', host)
        add_known(properties, 'instance_name', event.get(INSTANCE_NAME_FIELD))
        add_known(properties, Prop.UPDATE_TIMESTAMP,
                  normalized_time(event, 'updated'))
        if isinstance(status, str) and status.lower() == 'deleted':
            action = GraphAction.DELETE_ENTITY
        else:
            action = self.graph_action(event)
        neighbors = []
        if host:
            neighbors.append(resource_neighbor(
                HOST_TYPE, host, EdgeLabel.CONTAINS, False, sample,
                {Prop.NAME: host}))
        return EntityUpdate(INSTANCE_PREFIX + str(server_id), action,
                            properties, neighbors)
