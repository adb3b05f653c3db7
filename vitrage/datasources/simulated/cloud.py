"""The simulated cloud: sizes, naming, failure schedule, events.

Everything here is a pure function of the sizes, the seed and the time
given, so every collector process that samples the cloud at the same
moment reports the same entities with the same ids and states.
"""
from collections.abc import Iterator
import dataclasses
import hashlib
import math
import random
import uuid

from vitrage.common.constants import Envelope
from vitrage.datasources.cinder.transformers import VOLUME_TYPE
from vitrage.datasources.neutron.transformers import NETWORK_TYPE
from vitrage.datasources.neutron.transformers import PORT_TYPE
from vitrage.datasources.nova.transformers import COMPUTE_SERVICE
from vitrage.datasources.nova.transformers import HOST_FIELD
from vitrage.datasources.nova.transformers import HOST_TYPE
from vitrage.datasources.nova.transformers import INSTANCE_NAME_FIELD
from vitrage.datasources.nova.transformers import INSTANCE_TYPE
from vitrage.datasources.nova.transformers import ZONE_TYPE

#: The ``vitrage_type`` values of the simulated entities.
ENTITY_TYPES = (ZONE_TYPE, HOST_TYPE, INSTANCE_TYPE, NETWORK_TYPE,
                PORT_TYPE, VOLUME_TYPE)

_NAMESPACE = uuid.UUID('0b8f7c1e-3d52-5a4f-8e61-2c9d4b7a1f30')
_VARIANT = '89ab89ab89ab89ab'
#: Fixed ``updated_at`` of networks: events must not change by themselves.
_CREATED = '2024-01-01T00:00:00Z'
#: Failure rounds older than this many rounds are not looked at.
MAX_ROUNDS_BACK = 1000


@dataclasses.dataclass(frozen=True)
class CloudSizes:
    """How big the simulated cloud is (the ``[simulated]`` size options)."""

    zones: int = 2
    hosts_per_zone: int = 4
    instances_per_host: int = 5
    networks: int = 2
    volume_ratio: float = 0.25

    def __post_init__(self) -> None:
        for name in ('zones', 'hosts_per_zone', 'networks'):
            if getattr(self, name) < 1:
                raise ValueError('%s must be at least 1' % name)
        if self.instances_per_host < 0:
            raise ValueError('instances_per_host must not be negative')
        if not 0.0 <= self.volume_ratio <= 1.0:
            raise ValueError('volume_ratio must be between 0 and 1')

    @property
    def hosts(self) -> int:
        return self.zones * self.hosts_per_zone

    @property
    def instances(self) -> int:
        return self.hosts * self.instances_per_host

    @property
    def volumes(self) -> int:
        # Instance g has a volume iff int((g+1)*r) > int(g*r): the sum
        # telescopes to int(instances * r).
        return int(self.instances * self.volume_ratio)

    @property
    def vertices(self) -> int:
        """Vertices in the graph, the cluster included.

        The cluster, zones, hosts, networks, instances, one port per
        instance and the volumes.
        """
        return (1 + self.zones + self.hosts + self.networks
                + 2 * self.instances + self.volumes)

    def as_options(self) -> dict:
        """The sizes as ``[simulated]`` option values, by option name."""
        return dataclasses.asdict(self)


def sizes_for_vertices(target: int, instances_per_host: int = 20,
                       volume_ratio: float = 0.0,
                       networks: int | None = None,
                       max_hosts_per_zone: int = 500) -> CloudSizes:
    """Sizes of a cloud of about ``target`` vertices.

    With the defaults, 100,000 vertices give 5 zones of 488 hosts with 20
    instances (and ports) each, like the benchmark cloud of the retired
    project. The result is within one host's worth of vertices per zone
    of the target (0.2 % at 100,000), and never below one host.

    :param target: the wanted number of vertices.
    :param instances_per_host: instances on each host.
    :param volume_ratio: fraction of the instances with a volume.
    :param networks: number of networks (default: one per 10,000 target
        vertices, 1 to 100).
    :param max_hosts_per_zone: zones are added to keep below this.
    :raises ValueError: on a target below 1 or a bad size.
    """
    if target < 1:
        raise ValueError('target must be at least 1 vertex')
    if networks is None:
        networks = max(1, min(100, target // 10000))
    per_host = 1 + instances_per_host * (2 + volume_ratio)
    budget = max(0.0, target - 1 - networks)
    zones = max(1, math.ceil(budget / (per_host * max_hosts_per_zone + 1)))
    hosts_per_zone = max(1, round((budget - zones) / (zones * per_host)))
    return CloudSizes(zones=zones, hosts_per_zone=hosts_per_zone,
                      instances_per_host=instances_per_host,
                      networks=networks, volume_ratio=volume_ratio)


@dataclasses.dataclass(frozen=True)
class FailureSchedule:
    """Which hosts are down at a given time.

    Round ``r`` (r >= 1) starts at epoch second ``r * interval``: it picks
    ``per_round`` hosts at random (seeded by the seed and ``r``), which
    stay down for ``recovery_after`` seconds. A host is down while any
    round that picked it is running. ``interval == 0`` turns failures off.
    """

    interval: float = 0
    per_round: int = 1
    recovery_after: float = 60
    seed: int = 0

    def rounds_at(self, now: float) -> range:
        """The rounds running at ``now`` (oldest first)."""
        if self.interval <= 0 or self.per_round <= 0:
            return range(0)
        last = math.floor(now / self.interval)
        first = math.floor((now - self.recovery_after) / self.interval) + 1
        first = max(1, first, last - MAX_ROUNDS_BACK + 1)
        return range(first, last + 1)

    def picked(self, round_number: int, hosts: int) -> list[int]:
        """The host indexes that fail in a round.

        :param round_number: the round.
        :param hosts: how many hosts the cloud has.
        """
        rng = random.Random('%s:%d' % (self.seed, round_number))
        return rng.sample(range(hosts), min(self.per_round, hosts))

    def failed_hosts(self, now: float, hosts: int) -> frozenset[int]:
        """Indexes (0 .. hosts-1, zone-major) of the hosts down at a time.

        :param now: epoch seconds.
        :param hosts: how many hosts the cloud has.
        """
        failed: set[int] = set()
        for round_number in self.rounds_at(now):
            failed.update(self.picked(round_number, hosts))
        return frozenset(failed)


class SimulatedCloud:
    """Generates the events of the simulated cloud, lazily.

    :param sizes: the sizes of the cloud.
    :param seed: makes ids and the failure schedule; two clouds with the
        same sizes and seed are identical.
    :param schedule: the failure schedule (none by default).
    """

    def __init__(self, sizes: CloudSizes, seed: int = 0,
                 schedule: FailureSchedule | None = None) -> None:
        self.sizes = sizes
        self.seed = seed
        self.schedule = schedule or FailureSchedule(seed=seed)
        namespace = uuid.uuid5(_NAMESPACE, 'vitrage-simulated:%s' % seed)
        self._hash = hashlib.sha1(namespace.bytes, usedforsecurity=False)

    def uuid(self, name: str) -> str:
        """The uuid5 of ``name`` in the namespace of this cloud's seed.

        Equal to ``uuid.uuid5``, computed faster.
        """
        digest = self._hash.copy()
        digest.update(name.encode('utf-8'))
        d = digest.hexdigest()
        return '%s-%s-5%s-%s%s-%s' % (d[:8], d[8:12], d[13:16],
                                      _VARIANT[int(d[16], 16)], d[17:20],
                                      d[20:32])

    @staticmethod
    def zone_name(zone: int) -> str:
        return 'zone-%d' % zone

    @staticmethod
    def host_name(zone: int, host: int) -> str:
        return 'host-%d-%d' % (zone, host)

    def network_id(self, network: int) -> str:
        return self.uuid('network:%d' % network)

    def project_id(self, network: int) -> str:
        return self.uuid('project:%d' % network)

    def instance_id(self, index: int) -> str:
        """The server id of the instance of global index ``index``."""
        return self.uuid('instance:%d' % index)

    def port_id(self, index: int) -> str:
        return self.uuid('port:%d' % index)

    def volume_id(self, index: int) -> str:
        return self.uuid('volume:%d' % index)

    def failed_hosts(self, now: float) -> frozenset[int]:
        """Global indexes of the hosts down at ``now``."""
        return self.schedule.failed_hosts(now, self.sizes.hosts)

    def events(self, now: float) -> Iterator[dict]:
        """Every entity of the cloud at ``now``, in OpenStack shapes.

        Each event has its ``vitrage_entity_type`` set.

        :param now: epoch seconds (decides which hosts are down).
        """
        sizes = self.sizes
        failed = self.failed_hosts(now)
        for network in range(sizes.networks):
            yield {
                Envelope.ENTITY_TYPE: NETWORK_TYPE,
                'id': self.network_id(network),
                'name': 'net-%d' % network,
                'status': 'ACTIVE',
                'tenant_id': self.project_id(network),
                'updated_at': _CREATED,
            }
        networks = [(self.network_id(n), self.project_id(n))
                    for n in range(sizes.networks)]
        hpz = sizes.hosts_per_zone
        for zone in range(sizes.zones):
            zone_name = self.zone_name(zone)
            hosts = {}
            for host in range(hpz):
                up = zone * hpz + host not in failed
                hosts[self.host_name(zone, host)] = {COMPUTE_SERVICE: {
                    'available': up, 'active': True,
                    'updated_at': _CREATED}}
            yield {
                Envelope.ENTITY_TYPE: ZONE_TYPE,
                'zoneName': zone_name,
                'zoneState': {'available': True},
                'hosts': hosts,
            }
            for host in range(hpz):
                yield from self._host_events(zone, host, networks, failed)

    def _host_events(self, zone: int, host: int, networks: list,
                     failed: frozenset) -> Iterator[dict]:
        sizes = self.sizes
        host_index = zone * sizes.hosts_per_zone + host
        host_name = self.host_name(zone, host)
        up = host_index not in failed
        yield {
            Envelope.ENTITY_TYPE: HOST_TYPE,
            'host': host_name,
            'zone': self.zone_name(zone),
            'binary': COMPUTE_SERVICE,
            'status': 'enabled',
            'state': 'up' if up else 'down',
        }
        status = 'ACTIVE' if up else 'ERROR'
        ratio = sizes.volume_ratio
        per_host = sizes.instances_per_host
        for slot in range(per_host):
            index = host_index * per_host + slot
            suffix = '%d-%d-%d' % (zone, host, slot)
            server = self.instance_id(index)
            network_id, project = networks[index % len(networks)]
            yield {
                Envelope.ENTITY_TYPE: INSTANCE_TYPE,
                'id': server,
                'name': 'vm-' + suffix,
                'status': status,
                'tenant_id': project,
                HOST_FIELD: host_name,
                INSTANCE_NAME_FIELD: 'instance-%08x' % index,
            }
            address = index + 1
            yield {
                Envelope.ENTITY_TYPE: PORT_TYPE,
                'id': self.port_id(index),
                'name': 'port-' + suffix,
                'status': 'ACTIVE',
                'tenant_id': project,
                'network_id': network_id,
                'device_id': server,
                'device_owner': 'compute:' + self.zone_name(zone),
                'binding:host_id': host_name,
                'fixed_ips': [{'ip_address': '10.%d.%d.%d' % (
                    (address >> 16) & 255, (address >> 8) & 255,
                    address & 255)}],
            }
            if int((index + 1) * ratio) > int(index * ratio):
                yield {
                    Envelope.ENTITY_TYPE: VOLUME_TYPE,
                    'id': self.volume_id(index),
                    'display_name': 'vol-' + suffix,
                    'status': 'in-use',
                    'size': 10,
                    'volume_type': 'standard',
                    'os-vol-tenant-attr:tenant_id': project,
                    'attachments': [{'server_id': server}],
                }
