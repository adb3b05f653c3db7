"""The nova, neutron and cinder transformers (snapshot shapes)."""
import pytest

from vitrage.common.constants import GraphAction
from vitrage.common import exceptions
from vitrage.datasources.cinder.transformers import VolumeTransformer
from vitrage.datasources.neutron.transformers import is_compute_port
from vitrage.datasources.neutron.transformers import NetworkTransformer
from vitrage.datasources.neutron.transformers import PortTransformer
from vitrage.datasources.nova.transformers import HostTransformer
from vitrage.datasources.nova.transformers import InstanceTransformer
from vitrage.datasources.nova.transformers import ZoneTransformer
from vitrage.tests.unit.datasources.helpers import envelope
from vitrage.tests.unit.datasources.helpers import SAMPLE

SERVER = '6f0c9a52-2a7b-4d2c-9c57-0a3f7f3b1c11'
NETWORK = 'a1c1c3a4-8d1e-4b5a-9e43-77c6b4c0d001'
PORT = '0c5f7d1b-7d3c-4b8e-a4c9-1d2e3f4a5b6c'
VOLUME = 'b7e2f0a1-1a2b-4c3d-8e9f-0a1b2c3d4e5f'


def by_key(update):
    return {n.key: n for n in update.neighbors}


def zone_event(**extra):
    event = {
        'vitrage_entity_type': 'nova.zone',
        'zoneName': 'az1',
        'zoneState': {'available': True},
        'hosts': {
            'cmp-1': {'nova-compute': {'available': True, 'active': True}},
            'cmp-2': {'nova-compute': {'available': False, 'active': True}},
            'cmp-3': {'nova-compute': {'available': True, 'active': False}},
            'ctl-1': {'nova-conductor': {'available': True,
                                         'active': True}},
        },
    }
    event.update(extra)
    return envelope(event)


def instance_event(**extra):
    event = {
        'vitrage_entity_type': 'nova.instance',
        'id': SERVER,
        'name': 'web-1',
        'status': 'ACTIVE',
        'tenant_id': 'proj-1',
        'OS-EXT-SRV-ATTR:host': 'cmp-1',
        'OS-EXT-SRV-ATTR:instance_name': 'instance-0000000a',
    }
    event.update(extra)
    return event


class TestZone:
    def setup_method(self):
        self.transformer = ZoneTransformer(None, 'nova.zone')

    def test_vertex(self):
        update = self.transformer.transform(zone_event())
        assert update.key == 'RESOURCE:nova.zone:az1'
        assert update.action == GraphAction.UPDATE_ENTITY
        assert update.properties == {
            'vitrage_category': 'RESOURCE', 'vitrage_type': 'nova.zone',
            'id': 'az1', 'name': 'az1', 'state': 'available',
            'vitrage_sample_timestamp': SAMPLE,
            'vitrage_datasource_name': 'test'}

    def test_unavailable_zone(self):
        update = self.transformer.transform(
            zone_event(zoneState={'available': False}))
        assert update.properties['state'] == 'unavailable'

    def test_cluster_neighbor(self):
        update = self.transformer.transform(zone_event())
        cluster = by_key(update)['RESOURCE:openstack.cluster:'
                                 'OpenStack Cluster']
        assert cluster.label == 'contains'
        assert cluster.outgoing is False
        assert cluster.placeholder is False
        assert cluster.properties['id'] == 'OpenStack Cluster'
        assert cluster.properties['name'] == 'openstack.cluster'
        assert cluster.properties['state'] == 'available'
        assert cluster.properties['vitrage_type'] == 'openstack.cluster'

    def test_host_neighbors_carry_compute_state(self):
        neighbors = by_key(self.transformer.transform(zone_event()))
        states = {key: n.properties['state'] for key, n in neighbors.items()
                  if n.properties['vitrage_type'] == 'nova.host'}
        assert states == {
            'RESOURCE:nova.host:cmp-1': 'available',
            'RESOURCE:nova.host:cmp-2': 'unavailable',
            'RESOURCE:nova.host:cmp-3': 'unavailable',
            'RESOURCE:nova.host:ctl-1': 'unavailable',
        }
        host = neighbors['RESOURCE:nova.host:cmp-1']
        assert host.label == 'contains'
        assert host.outgoing is True
        assert host.placeholder is False
        assert host.properties['id'] == 'cmp-1'
        assert host.properties['vitrage_sample_timestamp'] == SAMPLE

    def test_init_snapshot_creates(self):
        event = zone_event()
        event['vitrage_datasource_action'] = 'init_snapshot'
        assert self.transformer.transform(event).action == \
            GraphAction.CREATE_ENTITY

    def test_missing_zone_name(self):
        event = zone_event()
        del event['zoneName']
        with pytest.raises(exceptions.MalformedEvent, match='zoneName'):
            self.transformer.transform(event)

    def test_hosts_not_a_mapping(self):
        with pytest.raises(exceptions.MalformedEvent, match='hosts'):
            self.transformer.transform(zone_event(hosts=['cmp-1']))


class TestHost:
    def setup_method(self):
        self.transformer = HostTransformer(None, 'nova.host')

    def test_vertex_and_zone(self):
        update = self.transformer.transform(envelope(
            {'host': 'cmp-1', 'zone': 'az1', 'binary': 'nova-compute',
             'state': 'up'}))
        assert update.key == 'RESOURCE:nova.host:cmp-1'
        assert update.properties['id'] == 'cmp-1'
        assert update.properties['name'] == 'cmp-1'
        assert update.properties['vitrage_type'] == 'nova.host'
        assert 'state' not in update.properties
        [zone] = update.neighbors
        assert zone.key == 'RESOURCE:nova.zone:az1'
        assert (zone.label, zone.outgoing, zone.placeholder) == \
            ('contains', False, True)

    def test_missing_zone(self):
        with pytest.raises(exceptions.MalformedEvent, match="'zone'"):
            self.transformer.transform(envelope({'host': 'cmp-1'}))


class TestInstance:
    def setup_method(self):
        self.transformer = InstanceTransformer(None, 'nova.instance')

    def test_vertex(self):
        update = self.transformer.transform(envelope(instance_event()))
        assert update.key == 'RESOURCE:nova.instance:' + SERVER
        props = update.properties
        assert props['id'] == SERVER
        assert props['name'] == 'web-1'
        assert props['state'] == 'ACTIVE'
        assert props['project_id'] == 'proj-1'
        assert props['host_id'] == 'cmp-1'
        assert props['instance_name'] == 'instance-0000000a'
        assert props['vitrage_sample_timestamp'] == SAMPLE
        assert props['vitrage_category'] == 'RESOURCE'
        assert 'update_timestamp' not in props

    def test_host_neighbor(self):
        update = self.transformer.transform(envelope(instance_event()))
        [host] = update.neighbors
        assert host.key == 'RESOURCE:nova.host:cmp-1'
        assert (host.label, host.outgoing, host.placeholder) == \
            ('contains', False, True)
        assert host.properties['id'] == 'cmp-1'

    def test_no_host_no_neighbor(self):
        update = self.transformer.transform(envelope(instance_event(
            **{'OS-EXT-SRV-ATTR:host': None, 'status': 'BUILDING'})))
        assert update.neighbors == []
        assert 'host_id' not in update.properties

    def test_updated_is_normalised(self):
        update = self.transformer.transform(envelope(instance_event(
            updated='2024-04-30T08:09:10.123456+02:00')))
        assert update.properties['update_timestamp'] == \
            '2024-04-30T06:09:10Z'

    def test_bad_updated(self):
        with pytest.raises(exceptions.MalformedEvent, match='updated'):
            self.transformer.transform(envelope(instance_event(
                updated='yesterday')))

    @pytest.mark.parametrize('status', ['deleted', 'DELETED'])
    def test_deleted_status_forces_delete(self, status):
        update = self.transformer.transform(envelope(
            instance_event(status=status)))
        assert update.action == GraphAction.DELETE_ENTITY

    @pytest.mark.parametrize('event_type,action', [
        ('compute.instance.delete.end', GraphAction.DELETE_ENTITY),
        ('instance.delete.end', GraphAction.DELETE_ENTITY),
        ('instance.update', GraphAction.UPDATE_ENTITY),
        ('delete_entity', GraphAction.DELETE_ENTITY),
    ])
    def test_event_actions(self, event_type, action):
        update = self.transformer.transform(envelope(
            instance_event(), action='update', event_type=event_type))
        assert update.action == action

    @pytest.mark.parametrize('missing', ['id', 'vitrage_sample_date'])
    def test_missing_key(self, missing):
        event = envelope(instance_event())
        del event[missing]
        with pytest.raises(exceptions.MalformedEvent, match=missing):
            self.transformer.transform(event)


class TestNetwork:
    def setup_method(self):
        self.transformer = NetworkTransformer(None, 'neutron.network')

    def test_vertex(self):
        update = self.transformer.transform(envelope(
            {'id': NETWORK, 'name': 'private', 'status': 'ACTIVE',
             'project_id': 'proj-1',
             'updated_at': '2024-04-30T08:09:10Z'}))
        assert update.key == 'RESOURCE:neutron.network:' + NETWORK
        assert update.neighbors == []
        props = update.properties
        assert (props['name'], props['state'], props['project_id'],
                props['update_timestamp']) == \
            ('private', 'ACTIVE', 'proj-1', '2024-04-30T08:09:10Z')

    def test_delete_event(self):
        update = self.transformer.transform(envelope(
            {'id': NETWORK}, action='update',
            event_type='network.delete.end'))
        assert update.action == GraphAction.DELETE_ENTITY


class TestPort:
    def setup_method(self):
        self.transformer = PortTransformer(None, 'neutron.port')

    def port(self, **extra):
        event = {
            'id': PORT, 'name': 'p1', 'status': 'ACTIVE',
            'tenant_id': 'proj-1', 'network_id': NETWORK,
            'device_id': SERVER, 'device_owner': 'compute:az1',
            'binding:host_id': 'cmp-1',
            'fixed_ips': [{'subnet_id': 's1', 'ip_address': '10.0.0.5'},
                          {'subnet_id': 's2', 'ip_address': 'fd00::5'}],
        }
        event.update(extra)
        return envelope(event)

    def test_vertex(self):
        update = self.transformer.transform(self.port())
        assert update.key == 'RESOURCE:neutron.port:' + PORT
        props = update.properties
        assert props['ip_addresses'] == ('10.0.0.5', 'fd00::5')
        assert props['host_id'] == 'cmp-1'
        assert props['project_id'] == 'proj-1'
        assert props['state'] == 'ACTIVE'

    def test_neighbors(self):
        neighbors = by_key(self.transformer.transform(self.port()))
        network = neighbors['RESOURCE:neutron.network:' + NETWORK]
        assert (network.label, network.outgoing) == ('contains', False)
        instance = neighbors['RESOURCE:nova.instance:' + SERVER]
        assert (instance.label, instance.outgoing) == ('attached', True)
        assert instance.properties['vitrage_type'] == 'nova.instance'

    def test_delete_event(self):
        event = self.port()
        event['vitrage_datasource_action'] = 'update'
        event['vitrage_event_type'] = 'port.delete.end'
        assert self.transformer.transform(event).action == \
            GraphAction.DELETE_ENTITY

    def test_malformed_fixed_ips(self):
        with pytest.raises(exceptions.MalformedEvent, match='fixed_ips'):
            self.transformer.transform(self.port(fixed_ips=['10.0.0.5']))

    def test_compute_ports_only(self):
        assert is_compute_port({'device_owner': 'compute:az1'})
        assert is_compute_port({'device_owner': 'compute:nova'})
        assert not is_compute_port({'device_owner': 'network:dhcp'})
        assert not is_compute_port({'device_owner': None})
        assert not is_compute_port({})


class TestVolume:
    def setup_method(self):
        self.transformer = VolumeTransformer(None, 'cinder.volume')

    def volume(self, **extra):
        event = {
            'id': VOLUME, 'display_name': 'data', 'status': 'in-use',
            'os-vol-tenant-attr:tenant_id': 'proj-1', 'size': 20,
            'volume_type': 'ssd', 'updated_at': '2024-04-30 08:09:10',
            'attachments': [{'server_id': SERVER},
                            {'instance_uuid': 'other-server'}],
        }
        event.update(extra)
        return envelope(event)

    def test_vertex(self):
        update = self.transformer.transform(self.volume())
        assert update.key == 'RESOURCE:cinder.volume:' + VOLUME
        props = update.properties
        assert props['name'] == 'data'
        assert props['state'] == 'in-use'
        assert props['project_id'] == 'proj-1'
        assert (props['size'], props['volume_type']) == (20, 'ssd')
        assert props['attachments'] == (SERVER, 'other-server')
        assert props['update_timestamp'] == '2024-04-30T08:09:10Z'

    def test_attached_instances(self):
        update = self.transformer.transform(self.volume())
        assert [(n.key, n.label, n.outgoing) for n in update.neighbors] == [
            ('RESOURCE:nova.instance:' + SERVER, 'attached', True),
            ('RESOURCE:nova.instance:other-server', 'attached', True)]

    def test_name_falls_back(self):
        event = self.volume(name='v2')
        del event['display_name']
        assert self.transformer.transform(event).properties['name'] == 'v2'

    @pytest.mark.parametrize('event_type,action', [
        ('volume.delete.end', GraphAction.DELETE_ENTITY),
        ('volume.detach.start', GraphAction.DELETE_RELATIONSHIP),
        ('volume.attach.end', GraphAction.UPDATE_RELATIONSHIP),
        ('volume.create.end', GraphAction.UPDATE_ENTITY),
    ])
    def test_event_actions(self, event_type, action):
        event = self.volume()
        event['vitrage_datasource_action'] = 'update'
        event['vitrage_event_type'] = event_type
        assert self.transformer.transform(event).action == action

    def test_malformed_attachments(self):
        with pytest.raises(exceptions.MalformedEvent, match='attachments'):
            self.transformer.transform(self.volume(attachments=[{}]))

    def test_missing_id(self):
        event = self.volume()
        del event['id']
        with pytest.raises(exceptions.MalformedEvent, match="'id'"):
            self.transformer.transform(event)
