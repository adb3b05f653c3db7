"""The ``simulated`` datasource: a made-up OpenStack cloud."""
from collections.abc import Callable
from collections.abc import Iterator
import time

from oslo_config import cfg

from vitrage.common.constants import Envelope
from vitrage.common.constants import UpdateMethod
from vitrage.common import exceptions
from vitrage.datasources.base import DriverBase
from vitrage.datasources.simulated.cloud import CloudSizes
from vitrage.datasources.simulated.cloud import ENTITY_TYPES
from vitrage.datasources.simulated.cloud import FailureSchedule
from vitrage.datasources.simulated.cloud import SimulatedCloud
from vitrage.datasources.simulated.cloud import sizes_for_vertices
from vitrage.datasources.simulated.transformer import SimulatedTransformer

OPTS = [
    cfg.IntOpt('zones', default=2, min=1,
               help='Number of availability zones.'),
    cfg.IntOpt('hosts_per_zone', default=4, min=1,
               help='Compute hosts in each zone.'),
    cfg.IntOpt('instances_per_host', default=5, min=0,
               help='Instances on each host; each has one port.'),
    cfg.IntOpt('networks', default=2, min=1,
               help='Networks; instances are spread over them in turn.'),
    cfg.FloatOpt('volume_ratio', default=0.25, min=0.0, max=1.0,
                 help='Fraction of the instances that have a volume '
                      'attached (spread evenly).'),
    cfg.IntOpt('seed', default=0,
               help='Seed of the ids and of the failure schedule. '
                    'Collectors with the same options and seed report '
                    'the same cloud.'),
    cfg.IntOpt('changes_interval', default=20, min=1,
               help='Seconds between two polls for changes.'),
    cfg.IntOpt('failure_interval', default=0, min=0,
               help='Seconds between two failure rounds (0: no '
                    'failures). Rounds start at epoch multiples of it.'),
    cfg.IntOpt('failures_per_round', default=1, min=1,
               help='Hosts that fail in each failure round.'),
    cfg.IntOpt('recovery_after', default=60, min=1,
               help='Seconds a failed host stays down.'),
]


class SimulatedDriver(DriverBase):
    """A deterministic simulated OpenStack cloud (demos, tests, benchmarks).

    The events have the shapes of the nova, neutron and cinder APIs, so
    they go through the same transformers as the real datasources; each
    event names its own ``vitrage_entity_type``.

    **Entities and names** (``z`` zone, ``h`` host in its zone, ``i``
    instance on its host, all from 0; ``g`` the global instance index,
    zone-major):

    * zones ``zone-<z>``; hosts ``host-<z>-<h>``;
    * networks ``net-<n>``, each of its own project;
    * instances ``vm-<z>-<h>-<i>`` (hypervisor name ``instance-<g in hex>``)
      on network ``g mod networks`` and in its project;
    * one port ``port-<z>-<h>-<i>`` per instance, in that network, address
      ``10.x.y.z`` = g + 1;
    * volumes ``vol-<z>-<h>-<i>`` attached to a ``volume_ratio`` fraction of
      the instances, spread evenly.

    Instances, ports, volumes, networks and projects have uuid5 ids made
    from ``seed`` and their index: stable across restarts and processes.

    **Options** (``[simulated]``): ``zones``, ``hosts_per_zone``,
    ``instances_per_host``, ``networks``, ``volume_ratio``, ``seed``,
    ``changes_interval`` (polling, default 20 s) and the failure schedule
    ``failure_interval``, ``failures_per_round``, ``recovery_after``.

    **Failures**: when ``failure_interval`` is not 0, every
    ``failure_interval`` seconds (at epoch multiples) ``failures_per_round``
    hosts picked at random from the seed fail for ``recovery_after``
    seconds. A failed host is reported by its zone as unavailable (its
    nova-compute service not available), its compute service is ``down``
    and its instances are ``ERROR``; on recovery they are ``available`` and
    ``ACTIVE`` again. The state is a function of the options and the clock
    only, so every collector reports the same.

    :param conf: the configuration, with the ``[<datasource_name>]`` group
        registered.
    :param datasource_name: the configured name of the datasource.
    :param clock: returns epoch seconds (tests inject a fake one).
    """

    entity_types = ENTITY_TYPES
    transformer_class = SimulatedTransformer
    update_method = UpdateMethod.PULL
    deletes_vanished = True
    opts = OPTS

    def __init__(self, conf: cfg.ConfigOpts, datasource_name: str,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(conf, datasource_name)
        group = conf[datasource_name]
        try:
            sizes = CloudSizes(
                zones=group.zones, hosts_per_zone=group.hosts_per_zone,
                instances_per_host=group.instances_per_host,
                networks=group.networks, volume_ratio=group.volume_ratio)
        except ValueError as exc:
            raise exceptions.ConfigError(
                '[%s] %s' % (datasource_name, exc)) from exc
        schedule = FailureSchedule(
            interval=group.failure_interval,
            per_round=group.failures_per_round,
            recovery_after=group.recovery_after, seed=group.seed)
        self.cloud = SimulatedCloud(sizes, seed=group.seed,
                                    schedule=schedule)
        self.clock = clock

    def get_all(self) -> Iterator[dict]:
        """Every entity of the simulated cloud as it is now, lazily.

        Reading never fails: the cloud is computed from the options and
        the clock.
        """
        return self.cloud.events(self.clock())

    @staticmethod
    def entity_key(event: dict) -> str:
        """``<vitrage_entity_type>:<id>`` (zones and hosts by name).

        :param event: an event of :meth:`get_all`.
        :raises vitrage.common.exceptions.MalformedEvent: when the event
            has no type or id.
        """
        entity_type = event.get(Envelope.ENTITY_TYPE)
        entity_id = event.get('id') or event.get('zoneName') \
            or event.get('host')
        if not entity_type or not entity_id:
            raise exceptions.MalformedEvent(
                'simulated event without a type or an id: %r' % (
                    sorted(event),))
        return '%s:%s' % (entity_type, entity_id)

    @staticmethod
    def sizes_for_vertices(target: int, **kwargs) -> CloudSizes:
        """Sizes of a cloud of about ``target`` vertices.

        See :func:`vitrage.datasources.simulated.cloud.sizes_for_vertices`.

        :param target: the wanted number of vertices.
        :raises ValueError: on a bad target or size.
        """
        return sizes_for_vertices(target, **kwargs)
