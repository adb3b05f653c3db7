"""The static datasource: files, validation, events, transformation."""
import json
import logging
import os
import textwrap

import pytest

from vitrage.common.constants import GraphAction
from vitrage.common import exceptions
from vitrage.datasources import loader
from vitrage.datasources.simulated.driver import SimulatedDriver
from vitrage.datasources.static import definitions
from vitrage.datasources.static.driver import StaticDriver
from vitrage.tests.unit.datasources.helpers import envelope
from vitrage.tests.unit.datasources.helpers import make_conf
from vitrage.tests.unit.datasources.helpers import SAMPLE

LOGGER = 'vitrage.datasources.static'
DEMO = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                    'etc', 'vitrage', 'static_datasources', 'demo.yaml')

VALID = """
metadata:
  name: dc1-physical
  description: racks and switches
definitions:
  entities:
    - static_id: sw1
      type: switch
      id: "10.0.0.1"
      name: tor-switch-1
      state: available
      rack: r12
      ports: [1, 2]
    - static_id: rack
      type: rack
      id: r12
      state: OK
  relationships:
    - source: rack
      target: sw1
      relationship_type: contains
"""


def write(directory, name, text):
    path = os.path.join(str(directory), name)
    with open(path, 'w') as stream:
        stream.write(textwrap.dedent(text))
    return path


def static_driver(directory, types=('static',)):
    conf = make_conf(list(types), {('static', 'directory'): str(directory)})
    return StaticDriver(conf, 'static')


def events_by_key(driver):
    return {StaticDriver.entity_key(e): e for e in driver.get_all()}


def transform(driver, event, action='snapshot'):
    transformer = driver.transformer_class(driver.conf, 'static')
    return transformer.transform(envelope(event, action=action,
                                          name='static'))


class TestCapabilities:
    def test_loaded_through_the_loader(self):
        cls = loader.driver_class('static')
        assert cls is StaticDriver
        cls.check_capabilities()
        assert cls.update_method == 'pull'
        assert cls.entity_types == ('static',)

    def test_options(self):
        opts = {opt.name: opt for opt in StaticDriver.opts}
        assert opts['directory'].default == '/etc/vitrage/static_datasources'
        assert opts['changes_interval'].default == 30
        assert opts['changes_interval'].type.min == 10
        assert all(opt.help for opt in StaticDriver.opts)


class TestValidFile:
    def test_events(self, tmp_path):
        write(tmp_path, 'dc1.yaml', VALID)
        events = events_by_key(static_driver(tmp_path))
        assert set(events) == {'switch:10.0.0.1', 'rack:r12'}
        switch = events['switch:10.0.0.1']
        assert switch['properties'] == {'rack': 'r12', 'ports': [1, 2]}
        assert switch['relationships'] == [{
            'relationship_type': 'contains', 'outgoing': False,
            'type': 'rack', 'id': 'r12', 'foreign': False, 'name': None,
            'state': 'OK'}]

    def test_transformed(self, tmp_path):
        write(tmp_path, 'dc1.yaml', VALID)
        driver = static_driver(tmp_path)
        update = transform(driver, events_by_key(driver)['switch:10.0.0.1'])
        assert update.key == 'RESOURCE:switch:10.0.0.1'
        assert update.action == GraphAction.UPDATE_ENTITY
        assert update.properties == {
            'vitrage_category': 'RESOURCE', 'vitrage_type': 'switch',
            'id': '10.0.0.1', 'name': 'tor-switch-1', 'state': 'available',
            'vitrage_sample_timestamp': SAMPLE,
            'vitrage_datasource_name': 'static', 'rack': 'r12',
            'ports': [1, 2]}
        [rack] = update.neighbors
        assert rack.key == 'RESOURCE:rack:r12'
        assert (rack.label, rack.outgoing, rack.placeholder) == \
            ('contains', False, True)
        assert rack.properties == {
            'vitrage_category': 'RESOURCE', 'vitrage_type': 'rack',
            'id': 'r12', 'state': 'OK', 'vitrage_sample_timestamp': SAMPLE}

    def test_source_side(self, tmp_path):
        write(tmp_path, 'dc1.yaml', VALID)
        driver = static_driver(tmp_path)
        update = transform(driver, events_by_key(driver)['rack:r12'])
        [switch] = update.neighbors
        assert (switch.key, switch.outgoing) == \
            ('RESOURCE:switch:10.0.0.1', True)
        assert switch.properties['name'] == 'tor-switch-1'
        assert 'name' not in update.properties

    def test_deleted_event(self, tmp_path):
        write(tmp_path, 'dc1.yaml', VALID)
        driver = static_driver(tmp_path)
        event = events_by_key(driver)['rack:r12']
        update = transform(driver, driver.deleted_event(event), 'update')
        assert update.action == GraphAction.DELETE_ENTITY

    def test_only_yaml_files(self, tmp_path):
        write(tmp_path, 'dc1.yaml', VALID)
        write(tmp_path, 'notes.txt', 'not: [yaml')
        write(tmp_path, 'old.yaml.bak', VALID.replace('r12', 'r13'))
        assert set(events_by_key(static_driver(tmp_path))) == \
            {'switch:10.0.0.1', 'rack:r12'}

    def test_self_relationship(self, tmp_path):
        write(tmp_path, 'loop.yaml', """
            definitions:
              entities:
                - {static_id: a, type: switch, id: s1, state: available}
              relationships:
                - {source: a, target: a, relationship_type: connect}
            """)
        driver = static_driver(tmp_path)
        update = transform(driver, events_by_key(driver)['switch:s1'])
        assert [(n.key, n.label, n.outgoing) for n in update.neighbors] == \
            [('RESOURCE:switch:s1', 'connect', True)]

    def test_missing_directory(self, tmp_path, caplog):
        driver = static_driver(tmp_path / 'nowhere')
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert list(driver.get_all()) == []
        assert 'does not exist' in caplog.text

    def test_entity_in_two_files(self, tmp_path, caplog):
        write(tmp_path, 'a.yaml', VALID)
        write(tmp_path, 'b.yaml', """
            definitions:
              entities:
                - {static_id: s, type: switch, id: "10.0.0.1",
                   state: ERROR}
                - {static_id: p, type: pdu, id: pdu-1, state: available}
              relationships:
                - {source: p, target: s, relationship_type: powers}
            """)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            events = events_by_key(static_driver(tmp_path))
        switch = events['switch:10.0.0.1']
        assert switch['state'] == 'available'
        assert [(r['type'], r['relationship_type'])
                for r in switch['relationships']] == \
            [('rack', 'contains'), ('pdu', 'powers')]
        assert 'also defined' in caplog.text


class TestYamlScalars:
    def test_states_stay_strings(self, tmp_path):
        write(tmp_path, 'b.yaml', """
            definitions:
              entities:
                - {static_id: a, type: light, id: l1, state: on,
                   name: yes, powered: true, mode: off, since: 2024-01-01}
                - {static_id: b, type: light, id: l2, state: OFF}
              relationships: []
            """)
        events = events_by_key(static_driver(tmp_path))
        light = events['light:l1']
        assert (light['state'], light['name']) == ('on', 'yes')
        assert light['properties'] == {'powered': True, 'mode': 'off',
                                       'since': '2024-01-01'}
        assert events['light:l2']['state'] == 'OFF'

    def test_events_survive_json(self, tmp_path):
        write(tmp_path, 'dc1.yaml', VALID)
        write(tmp_path, 'd.yaml', """
            definitions:
              entities:
                - {static_id: a, type: t, id: i, state: s,
                   when: 2024-01-01 10:00:00, tags: {a: [1, x]}}
              relationships: []
            """)
        events = list(static_driver(tmp_path).get_all())
        assert len(events) == 3
        assert json.loads(json.dumps(events)) == events

    def test_unquoted_numbers_are_identity_text_as_written(self, tmp_path):
        # The retired project read every scalar as a string: files with
        # numeric ids were loaded, not skipped.
        write(tmp_path, 'n.yaml', """
            definitions:
              entities:
                - {static_id: 1, type: switch, id: 12345, name: 1.50,
                   state: available, port_count: 48}
                - {static_id: 2, type: switch, id: 007, state: 200}
              relationships:
                - {source: 1, target: 2, relationship_type: connected}
            """)
        events = events_by_key(static_driver(tmp_path))
        assert set(events) == {'switch:12345', 'switch:007'}
        first = events['switch:12345']
        assert (first['id'], first['name'], first['state']) == (
            '12345', '1.50', 'available')
        assert first['properties'] == {'port_count': 48}
        assert type(first['properties']['port_count']) is int
        assert events['switch:007']['state'] == '200'
        assert [(r['type'], r['id'], r['outgoing'])
                for r in first['relationships']] == [
            ('switch', '007', True)]
        assert json.loads(json.dumps(list(events.values()))) == list(
            events.values())

    def test_loader_keeps_numbers(self):
        assert definitions.load_yaml('a: 1\nb: 1.5\nc: no\nd: False') == \
            {'a': 1, 'b': 1.5, 'c': 'no', 'd': False}


INVALID = {
    'syntax.yaml': ('definitions: [unclosed', 'not valid YAML'),
    'list.yaml': ('- a\n- b\n', 'must hold a mapping'),
    'empty.yaml': ('', 'must hold a mapping'),
    'no_definitions.yaml': ('metadata: {name: x}\n', '"definitions" is '
                            'required'),
    'no_relationships.yaml': (
        'definitions:\n  entities: []\n',
        '"definitions.relationships" is required'),
    'metadata_name.yaml': (
        'metadata: {description: d}\n'
        'definitions: {entities: [], relationships: []}\n',
        '"metadata" needs a "name"'),
    'no_static_id.yaml': (
        'definitions:\n  entities:\n    - {type: t, id: i, state: s}\n'
        '  relationships: []\n', 'definitions.entities[0] lacks a '
        '"static_id"'),
    'no_id.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, '
        'state: s}\n  relationships: []\n', 'lacks "id"'),
    'list_id.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: [4], '
        'state: s}\n  relationships: []\n',
        '"id" must be a string, got list [4] (quote it)'),
    'bool_state.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: i, '
        'state: true}\n  relationships: []\n', '"state" must be a string'),
    'no_state.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: i}\n'
        '  relationships: []\n', 'lacks "state"'),
    'reserved.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: i, '
        'state: s, vitrage_id: x}\n  relationships: []\n', 'reserved'),
    'unknown_target.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: i, '
        'state: s}\n  relationships:\n    - {source: a, target: zz, '
        'relationship_type: r}\n',
        "target 'zz' is not the static_id of an entity"),
    'no_label.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: i, '
        'state: s}\n  relationships:\n    - {source: a, target: a}\n',
        'definitions.relationships[0] lacks "relationship_type"'),
    'category.yaml': (
        'definitions:\n  entities:\n    - {static_id: a, type: t, id: i, '
        'state: s, category: ALARM}\n  relationships: []\n',
        '"category" must be RESOURCE'),
}


class TestInvalidFiles:
    @pytest.mark.parametrize('name', sorted(INVALID))
    def test_skipped_with_error(self, tmp_path, caplog, name):
        text, message = INVALID[name]
        write(tmp_path, 'good.yaml', VALID)
        path = write(tmp_path, name, text)
        with caplog.at_level(logging.ERROR, logger=LOGGER):
            events = events_by_key(static_driver(tmp_path))
        assert set(events) == {'switch:10.0.0.1', 'rack:r12'}
        errors = [r.getMessage() for r in caplog.records
                  if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert path in errors[0]
        assert message in errors[0]
        assert 'skipped' in errors[0]

    def test_valid_entities_of_invalid_file_are_skipped(self, tmp_path):
        write(tmp_path, 'half.yaml', """
            definitions:
              entities:
                - {static_id: a, type: t, id: good, state: s}
                - {static_id: b, type: t, id: bad}
              relationships: []
            """)
        assert list(static_driver(tmp_path).get_all()) == []

    def test_error_logged_once_until_it_changes(self, tmp_path, caplog):
        path = write(tmp_path, 'bad.yaml', 'definitions: 1\n')
        driver = static_driver(tmp_path)
        with caplog.at_level(logging.ERROR, logger=LOGGER):
            list(driver.get_all())
            list(driver.get_all())
            assert len(caplog.records) == 1
            write(tmp_path, 'bad.yaml', 'definitions: [1]\n')
            list(driver.get_all())
            assert len(caplog.records) == 2
            os.remove(path)
            list(driver.get_all())
            write(tmp_path, 'bad.yaml', 'definitions: [1]\n')
            list(driver.get_all())
            assert len(caplog.records) == 3

    def test_duplicate_static_id(self, tmp_path, caplog):
        write(tmp_path, 'dup.yaml', """
            definitions:
              entities:
                - {static_id: a, type: switch, id: first, state: available}
                - {static_id: a, type: switch, id: second, state: ERROR}
                - {static_id: b, type: rack, id: r1, state: OK}
              relationships:
                - {source: b, target: a, relationship_type: contains}
            """)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            events = events_by_key(static_driver(tmp_path))
        assert set(events) == {'switch:first', 'rack:r1'}
        assert events['rack:r1']['relationships'][0]['id'] == 'first'
        assert "repeats static_id 'a'" in caplog.text
        assert 'dup.yaml' in caplog.text


FOREIGN = """
definitions:
  entities:
    - {static_id: sw, type: switch, id: sw-1, state: available}
    - {static_id: h, type: nova.host, id: host-0-1, rack: ignored}
    - {static_id: z, type: nova.zone, id: zone-0}
  relationships:
    - {source: sw, target: h, relationship_type: attached}
    - {source: h, target: z, relationship_type: in}
"""


class TestForeignTypes:
    def test_foreign_entities_are_only_neighbors(self, tmp_path, caplog):
        write(tmp_path, 'f.yaml', FOREIGN)
        driver = static_driver(tmp_path, types=('static', 'simulated'))
        assert 'nova.host' in driver.foreign_types()
        assert 'static' not in driver.foreign_types()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            events = events_by_key(driver)
        assert set(events) == {'switch:sw-1'}
        assert 'joins two entities of other datasources' in caplog.text
        update = transform(driver, events['switch:sw-1'])
        [host] = update.neighbors
        assert host.key == 'RESOURCE:nova.host:host-0-1'
        assert (host.label, host.outgoing, host.placeholder) == \
            ('attached', True, False)
        assert host.properties == {'vitrage_category': 'RESOURCE',
                                   'vitrage_type': 'nova.host',
                                   'id': 'host-0-1'}

    def test_not_foreign_without_their_datasource(self, tmp_path, caplog):
        write(tmp_path, 'f.yaml', FOREIGN)
        driver = static_driver(tmp_path)
        assert driver.foreign_types() == frozenset()
        with caplog.at_level(logging.ERROR, logger=LOGGER):
            assert list(driver.get_all()) == []
        assert 'lacks "state"' in caplog.text

    def test_static_type_of_openstack_name(self, tmp_path):
        write(tmp_path, 'h.yaml', """
            definitions:
              entities:
                - {static_id: h, type: nova.host, id: cmp-7,
                   state: available, rack: r1}
              relationships: []
            """)
        driver = static_driver(tmp_path)
        update = transform(driver, events_by_key(driver)['nova.host:cmp-7'])
        assert update.key == 'RESOURCE:nova.host:cmp-7'
        assert update.properties['rack'] == 'r1'


class TestDemoTopology:
    def test_demo_links_simulated_hosts(self, tmp_path):
        with open(DEMO) as stream:
            write(tmp_path, 'demo.yaml', stream.read())
        driver = static_driver(tmp_path, types=('static', 'simulated'))
        events = events_by_key(driver)
        assert {e['type'] for e in events.values()} == {'switch', 'router'}
        conf = make_conf(['simulated'])
        hosts = {'RESOURCE:nova.host:' + e['host']
                 for e in SimulatedDriver(conf, 'simulated').get_all()
                 if e['vitrage_entity_type'] == 'nova.host'}
        linked = set()
        for event in events.values():
            for neighbor in transform(driver, event).neighbors:
                if neighbor.properties['vitrage_type'] == 'nova.host':
                    assert neighbor.placeholder is False
                    linked.add(neighbor.key)
        assert linked and linked <= hosts


class TestTransformer:
    def test_missing_type(self, tmp_path):
        driver = static_driver(tmp_path)
        with pytest.raises(exceptions.MalformedEvent, match="'type'"):
            transform(driver, {'id': 'x'})

    def test_malformed_relationship(self, tmp_path):
        driver = static_driver(tmp_path)
        with pytest.raises(exceptions.MalformedEvent, match='relationship'):
            transform(driver, {'type': 't', 'id': 'x', 'relationships': [
                {'type': 'u', 'id': 'y'}]})

    def test_entity_key(self):
        assert StaticDriver.entity_key({'type': 't', 'id': 'x'}) == 't:x'
        with pytest.raises(exceptions.MalformedEvent):
            StaticDriver.entity_key({'type': 't'})
