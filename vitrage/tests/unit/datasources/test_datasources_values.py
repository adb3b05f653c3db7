"""The shipped state and severity tables (entities.md section 6)."""
import glob
import os

import pytest
import yaml

from vitrage.common.constants import AlarmSeverity
from vitrage.common.constants import Category
from vitrage.common.constants import ResourceState

VALUES_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                          'etc', 'vitrage', 'datasources_values')

RESOURCE_TABLES = (
    'default', 'static', 'static_physical', 'nova.host', 'nova.zone',
    'openstack.cluster', 'switch', 'network.interface', 'nova.instance',
    'neutron.network', 'neutron.port', 'cinder.volume', 'heat.stack',
    'trove.instance', 'trove.cluster')
ALARM_TABLES = (
    'vitrage', 'zabbix', 'nagios', 'aodh', 'prometheus', 'doctor',
    'collectd', 'kapacitor', 'monasca')


def load(name):
    with open(os.path.join(VALUES_DIR, name + '.yaml')) as stream:
        return yaml.safe_load(stream)


def mapping(name):
    """{raw name upper-cased: (priority, operational value)}."""
    result = {}
    for group in load(name)['values']:
        values = group['aggregated values']
        for entry in values['original values']:
            result[entry['name'].upper()] = (values['priority'],
                                             entry['operational_value'])
    return result


def test_every_shipped_table_is_there():
    names = {os.path.basename(path)[:-len('.yaml')]
             for path in glob.glob(os.path.join(VALUES_DIR, '*.yaml'))}
    assert names == set(RESOURCE_TABLES) | set(ALARM_TABLES)


@pytest.mark.parametrize('name', RESOURCE_TABLES + ALARM_TABLES)
def test_structure(name):
    table = load(name)
    assert set(table) == {'category', 'values'}
    expected = Category.RESOURCE if name in RESOURCE_TABLES \
        else Category.ALARM
    assert table['category'] == expected
    allowed = ResourceState.ALL if expected == Category.RESOURCE \
        else AlarmSeverity.ALL
    priorities = []
    names = []
    for group in table['values']:
        assert set(group) == {'aggregated values'}
        values = group['aggregated values']
        assert set(values) == {'priority', 'original values'}
        assert isinstance(values['priority'], int)
        assert values['priority'] > 0
        priorities.append(values['priority'])
        assert values['original values']
        for entry in values['original values']:
            assert set(entry) == {'name', 'operational_value'}
            assert isinstance(entry['name'], str) and entry['name']
            assert entry['operational_value'] in allowed, entry
            names.append(entry['name'].upper())
    assert len(set(priorities)) == len(priorities), 'priority repeated'
    assert len(set(names)) == len(names), 'raw value repeated'


def test_reference_orders():
    default = mapping('default')
    assert default == {'DELETED': (40, 'DELETED'), 'ERROR': (30, 'ERROR'),
                       'SUBOPTIMAL': (20, 'SUBOPTIMAL'),
                       'AVAILABLE': (10, 'OK'), 'ACTIVE': (10, 'OK')}
    assert mapping('static') == default
    assert mapping('vitrage') == {
        'CRITICAL': (50, 'CRITICAL'), 'SEVERE': (40, 'SEVERE'),
        'MAJOR': (40, 'SEVERE'), 'WARNING': (30, 'WARNING'),
        'MINOR': (30, 'WARNING'), 'UNKNOWN': (20, 'N/A'), 'OK': (10, 'OK')}


@pytest.mark.parametrize('table,raw,expected', [
    ('nova.instance', 'SHELVED_OFFLOADED', (80, 'DELETED')),
    ('nova.instance', 'ERROR', (70, 'ERROR')),
    ('nova.instance', 'BUILDING', (40, 'TRANSIENT')),
    ('nova.instance', 'RESCUED', (20, 'OK')),
    ('nova.host', 'AVAILABLE', (10, 'OK')),
    ('switch', 'AVAILABLE', (10, 'OK')),
    ('neutron.port', 'N/A', (30, 'N/A')),
    ('neutron.network', 'DOWN', (40, 'ERROR')),
    ('cinder.volume', 'IN-USE', (10, 'OK')),
    ('cinder.volume', 'RESTORING-BACKUP', (30, 'TRANSIENT')),
    ('heat.stack', 'SUSPEND_FAILED', (40, 'ERROR')),
    ('heat.stack', 'UPDATE_IN_PROGRESS', (30, 'TRANSIENT')),
    ('trove.cluster', 'NONE', (10, 'OK')),
    ('zabbix', 'NOT CLASSIFIED', (20, 'N/A')),
    ('aodh', 'INSUFFICIENT DATA', (20, 'N/A')),
    ('aodh', 'MODERATE', (30, 'SEVERE')),
    ('prometheus', 'RESOLVED', (10, 'OK')),
    ('collectd', 'FAILURE', (40, 'CRITICAL')),
    ('kapacitor', 'INFO', (20, 'WARNING')),
    ('monasca', 'UNDETERMINED', (20, 'N/A')),
])
def test_spot_values(table, raw, expected):
    assert mapping(table)[raw] == expected
