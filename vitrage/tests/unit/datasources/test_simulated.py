"""The simulated datasource: sizes, ids, failures, transformation."""
import collections
import itertools
import json
import uuid

import pytest

from vitrage.common.constants import GraphAction
from vitrage.common import exceptions
from vitrage.datasources import loader
from vitrage.datasources.simulated.cloud import CloudSizes
from vitrage.datasources.simulated.cloud import FailureSchedule
from vitrage.datasources.simulated.cloud import SimulatedCloud
from vitrage.datasources.simulated.cloud import sizes_for_vertices
from vitrage.datasources.simulated.driver import SimulatedDriver
from vitrage.tests.unit.datasources.helpers import envelope
from vitrage.tests.unit.datasources.helpers import make_conf


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def driver(clock=None, **options):
    conf = make_conf(['simulated'], {('simulated', name): value
                                     for name, value in options.items()})
    return SimulatedDriver(conf, 'simulated', clock=clock or FakeClock())


def by_type(events):
    grouped = collections.defaultdict(list)
    for event in events:
        grouped[event['vitrage_entity_type']].append(event)
    return grouped


def transform_all(drv, events):
    transformer = drv.transformer_class(drv.conf, 'simulated')
    return [transformer.transform(envelope(e, name='simulated'))
            for e in events]


class TestCapabilities:
    def test_loaded_through_the_loader(self):
        cls = loader.driver_class('simulated')
        assert cls is SimulatedDriver
        cls.check_capabilities()
        assert cls.update_method == 'pull'

    def test_options_have_help(self):
        names = {opt.name: opt for opt in SimulatedDriver.opts}
        assert set(names) == {
            'zones', 'hosts_per_zone', 'instances_per_host', 'networks',
            'volume_ratio', 'seed', 'changes_interval', 'failure_interval',
            'failures_per_round', 'recovery_after'}
        assert names['changes_interval'].default == 20
        assert all(opt.help for opt in SimulatedDriver.opts)

    def test_entity_types_cover_events(self):
        events = list(driver().get_all())
        assert {e['vitrage_entity_type'] for e in events} == \
            set(SimulatedDriver.entity_types)


class TestDefaultCloud:
    def setup_method(self):
        self.driver = driver()
        self.events = list(self.driver.get_all())
        self.types = by_type(self.events)

    def test_sizes(self):
        counts = {t: len(e) for t, e in self.types.items()}
        assert counts == {'nova.zone': 2, 'nova.host': 8,
                          'nova.instance': 40, 'neutron.port': 40,
                          'neutron.network': 2, 'cinder.volume': 10}
        # The cluster is the one vertex without an event of its own.
        assert self.driver.cloud.sizes.vertices == len(self.events) + 1

    def test_names(self):
        assert [z['zoneName'] for z in self.types['nova.zone']] == \
            ['zone-0', 'zone-1']
        assert sorted(self.types['nova.zone'][1]['hosts']) == \
            ['host-1-0', 'host-1-1', 'host-1-2', 'host-1-3']
        assert {h['host'] for h in self.types['nova.host']} == {
            'host-%d-%d' % (z, h) for z in range(2) for h in range(4)}
        names = [i['name'] for i in self.types['nova.instance']]
        assert names[:6] == ['vm-0-0-0', 'vm-0-0-1', 'vm-0-0-2',
                             'vm-0-0-3', 'vm-0-0-4', 'vm-0-1-0']
        assert self.types['nova.instance'][7][
            'OS-EXT-SRV-ATTR:instance_name'] == 'instance-00000007'

    def test_keys_are_unique(self):
        keys = [SimulatedDriver.entity_key(e) for e in self.events]
        assert len(set(keys)) == len(keys)
        updates = transform_all(self.driver, self.events)
        assert len({u.key for u in updates}) == len(updates)

    def test_links_are_consistent(self):
        updates = transform_all(self.driver, self.events)
        keys = {u.key for u in updates}
        for update in updates:
            for neighbor in update.neighbors:
                if neighbor.properties['vitrage_type'] != \
                        'openstack.cluster':
                    assert neighbor.key in keys, (update.key, neighbor.key)
        ports = [u for u in updates
                 if u.properties['vitrage_type'] == 'neutron.port']
        attached = collections.Counter(
            n.key for u in ports for n in u.neighbors if n.label ==
            'attached')
        assert len(attached) == 40 and set(attached.values()) == {1}

    def test_volumes_attach_to_instances(self):
        servers = {i['id'] for i in self.types['nova.instance']}
        attached = [a['server_id'] for v in self.types['cinder.volume']
                    for a in v['attachments']]
        assert len(set(attached)) == 10
        assert set(attached) <= servers

    def test_ports_are_compute_ports(self):
        for port in self.types['neutron.port']:
            assert 'compute' in port['device_owner']

    def test_instances_spread_over_networks(self):
        projects = collections.Counter(
            i['tenant_id'] for i in self.types['nova.instance'])
        assert len(projects) == 2
        assert set(projects.values()) == {20}

    def test_events_survive_json(self):
        assert json.loads(json.dumps(self.events)) == self.events

    def test_no_failures_by_default(self):
        assert {i['status'] for i in self.types['nova.instance']} == \
            {'ACTIVE'}
        later = list(driver(clock=FakeClock(10 ** 9)).get_all())
        assert later == self.events


class TestDeterminism:
    def test_two_drivers_report_the_same(self):
        first = list(driver(seed=7).get_all())
        second = list(driver(seed=7).get_all())
        assert first == second

    def test_seed_changes_ids_not_names(self):
        first = by_type(driver(seed=1).get_all())['nova.instance']
        second = by_type(driver(seed=2).get_all())['nova.instance']
        assert [i['name'] for i in first] == [i['name'] for i in second]
        assert not {i['id'] for i in first} & {i['id'] for i in second}

    def test_ids_are_uuid5(self):
        cloud = SimulatedCloud(CloudSizes(), seed=3)
        for name in ('instance:0', 'port:17', 'volume:1234567'):
            value = cloud.uuid(name)
            parsed = uuid.UUID(value)
            assert parsed.version == 5
            assert str(parsed) == value
        ids = {cloud.instance_id(i) for i in range(100)}
        ids |= {cloud.port_id(i) for i in range(100)}
        assert len(ids) == 200

    def test_fast_uuid_matches_uuid5(self):
        cloud = SimulatedCloud(CloudSizes(), seed=5)
        base = uuid.uuid5(uuid.UUID('0b8f7c1e-3d52-5a4f-8e61-2c9d4b7a1f30'),
                          'vitrage-simulated:5')
        for index in range(50):
            name = 'instance:%d' % index
            assert cloud.uuid(name) == str(uuid.uuid5(base, name))

    def test_generation_is_lazy(self):
        huge = driver(zones=1000, hosts_per_zone=1000,
                      instances_per_host=100, networks=3)
        first = list(itertools.islice(huge.get_all(), 20))
        assert [e['vitrage_entity_type'] for e in first[:5]] == [
            'neutron.network'] * 3 + ['nova.zone', 'nova.host']
        assert len(first) == 20


class TestFailures:
    OPTIONS = {'failure_interval': 100, 'failures_per_round': 2,
               'recovery_after': 30, 'seed': 11}

    def state_at(self, now, **options):
        opts = dict(self.OPTIONS, **options)
        clock = FakeClock(now)
        drv = driver(clock=clock, **opts)
        events = by_type(drv.get_all())
        down = {h['host'] for h in events['nova.host']
                if h['state'] == 'down'}
        unavailable = {name for z in events['nova.zone']
                       for name, services in z['hosts'].items()
                       if not services['nova-compute']['available']}
        error_hosts = {i['OS-EXT-SRV-ATTR:host']
                       for i in events['nova.instance']
                       if i['status'] == 'ERROR'}
        active_hosts = {i['OS-EXT-SRV-ATTR:host']
                        for i in events['nova.instance']
                        if i['status'] == 'ACTIVE'}
        return drv, down, unavailable, error_hosts, active_hosts

    def test_failure_then_recovery(self):
        drv, down, unavailable, errors, active = self.state_at(1000)
        picked = drv.cloud.schedule.picked(10, 8)
        cloud = drv.cloud
        expected = {cloud.host_name(i // 4, i % 4) for i in picked}
        assert len(expected) == 2
        assert down == unavailable == errors == expected
        assert not active & expected
        for now in (1029, 1029.99):
            assert self.state_at(now)[1] == expected
        for now in (999, 1030, 1099):
            _, down, unavailable, errors, _ = self.state_at(now)
            assert down == unavailable == errors == set()

    def test_zone_update_reports_failed_host(self):
        drv, down, *_ = self.state_at(1000)
        zones = [e for e in drv.get_all()
                 if e['vitrage_entity_type'] == 'nova.zone']
        states = {}
        for update in transform_all(drv, zones):
            for neighbor in update.neighbors:
                if neighbor.properties['vitrage_type'] == 'nova.host':
                    states[neighbor.properties['id']] = \
                        neighbor.properties['state']
        assert {h for h, s in states.items() if s == 'unavailable'} == down
        assert len(states) == 8

    def test_overlapping_rounds(self):
        schedule = FailureSchedule(interval=10, per_round=1,
                                   recovery_after=25, seed=4)
        assert list(schedule.rounds_at(100)) == [8, 9, 10]
        expected = set()
        for round_number in (8, 9, 10):
            expected.update(schedule.picked(round_number, 50))
        assert schedule.failed_hosts(100, 50) == expected

    def test_rounds_pick_different_hosts(self):
        schedule = FailureSchedule(interval=10, per_round=1,
                                   recovery_after=5, seed=4)
        picks = {tuple(schedule.picked(r, 100)) for r in range(1, 21)}
        assert len(picks) > 1
        again = FailureSchedule(interval=10, per_round=1,
                                recovery_after=5, seed=4)
        assert [again.picked(r, 100) for r in range(1, 21)] == \
            [schedule.picked(r, 100) for r in range(1, 21)]

    def test_more_failures_than_hosts(self):
        schedule = FailureSchedule(interval=10, per_round=9,
                                   recovery_after=5, seed=0)
        assert schedule.failed_hosts(10, 3) == {0, 1, 2}

    def test_off(self):
        schedule = FailureSchedule(interval=0, per_round=3,
                                   recovery_after=60)
        assert schedule.failed_hosts(12345, 10) == frozenset()

    def test_failed_instance_update_state(self):
        drv, down, *_ = self.state_at(1000)
        instances = [e for e in drv.get_all()
                     if e['vitrage_entity_type'] == 'nova.instance']
        for update in transform_all(drv, instances):
            on_failed = update.properties['host_id'] in down
            assert update.properties['state'] == \
                ('ERROR' if on_failed else 'ACTIVE')
            assert update.action == GraphAction.UPDATE_ENTITY


class TestSizes:
    def test_benchmark_cloud(self):
        sizes = SimulatedDriver.sizes_for_vertices(100_000)
        assert abs(sizes.vertices - 100_000) <= 500
        assert 2_400 <= sizes.hosts <= 2_460
        assert sizes.instances == 20 * sizes.hosts
        assert sizes.volumes == 0

    @pytest.mark.parametrize('target', [1_000, 10_000, 100_000, 250_000,
                                        1_000_000])
    @pytest.mark.parametrize('ratio', [0.0, 0.3])
    def test_accuracy(self, target, ratio):
        sizes = sizes_for_vertices(target, volume_ratio=ratio)
        per_host = 1 + 20 * (2 + ratio)
        assert abs(sizes.vertices - target) <= sizes.zones * per_host
        assert sizes.hosts_per_zone <= 500 + 1

    @pytest.mark.parametrize('ratio', [0.0, 0.25, 1.0])
    def test_vertex_count_matches_events(self, ratio):
        sizes = sizes_for_vertices(5_000, instances_per_host=7,
                                   volume_ratio=ratio)
        drv = driver(**sizes.as_options())
        assert sum(1 for _ in drv.get_all()) + 1 == sizes.vertices

    def test_bad_target(self):
        with pytest.raises(ValueError):
            sizes_for_vertices(0)

    def test_bad_sizes(self):
        with pytest.raises(ValueError, match='zones'):
            CloudSizes(zones=0)
        with pytest.raises(ValueError, match='volume_ratio'):
            CloudSizes(volume_ratio=1.5)


class TestTransformer:
    def test_dispatches_by_entity_type(self):
        drv = driver()
        updates = transform_all(drv, drv.get_all())
        types = collections.Counter(u.properties['vitrage_type']
                                    for u in updates)
        assert types['nova.instance'] == 40
        assert all(u.properties['vitrage_datasource_name'] == 'simulated'
                   for u in updates)

    def test_unknown_type(self):
        drv = driver()
        transformer = drv.transformer_class(drv.conf, 'simulated')
        with pytest.raises(exceptions.MalformedEvent, match='nova.flavor'):
            transformer.transform(envelope(
                {'vitrage_entity_type': 'nova.flavor', 'id': 'x'}))

    def test_entity_key_needs_an_id(self):
        with pytest.raises(exceptions.MalformedEvent):
            SimulatedDriver.entity_key({'vitrage_entity_type': 'nova.host'})
