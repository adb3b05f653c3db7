"""The scenario evaluator inside vitrage-graph, on the embedded default.

Templates are stored as the API stores them; the active graph puts them
in force (LOADING -> ACTIVE), deduces alarms and states as datasource
changes arrive, hands the action events off like any other event, keeps
its deductions across a restore without redoing them, and undoes them
when the template is deleted.
"""
import time

import pytest

from vitrage.common.constants import Prop
from vitrage.evaluator import catalog as catalog_mod
from vitrage.storage import templates as store_mod
from vitrage.tests.functional import embedded
from vitrage.tests.functional.test_restore import graph_state
from vitrage.tests.functional.test_restore import topology
from vitrage.tests import helpers

SWITCH_DOWN = """
metadata: {version: 3, name: switch_down, type: standard}
entities:
  bad: {category: RESOURCE, type: switch, state: ERROR}
  other: {category: RESOURCE, type: switch}
scenarios:
  - condition: bad [attached] other
    actions:
      - raise_alarm:
          target: other
          alarm_name: neighbour_down
          severity: WARNING
      - set_state: {target: other, state: SUBOPTIMAL}
"""


def switch(graph, name):
    found = [v for v in graph.vertices() if v.get(Prop.ID) == name and
             v.get(Prop.TYPE) == 'switch']
    return found[0]


def deduced(graph, name='neighbour_down'):
    return [v for v in graph.vertices()
            if v.get(Prop.TYPE) == 'vitrage' and v.get(Prop.NAME) == name
            and not v.get(Prop.IS_DELETED)]


def add_template(catalog, text):
    from vitrage.evaluator import template_yaml
    return catalog.add([(None, template_yaml.load_text(text))])[0]


def status_of(store, uuid):
    found = store.get(uuid)
    return None if found is None else found.status


@pytest.fixture
def static(tmp_path):
    directory = tmp_path / 'static'
    directory.mkdir()
    (directory / 'a.yaml').write_text(topology(
        [('sw-1', 'available'), ('sw-2', 'available')]))
    return directory


def test_templates_in_force_deduce_survive_restore_and_undo(
        tmp_path, conf, static):
    database = embedded.configure(conf, tmp_path, static,
                                  evaluator={'templates_poll_interval': 0.2})
    store = store_mod.TemplateStore(database)
    catalog = catalog_mod.TemplateCatalog(store)
    row = add_template(catalog, SWITCH_DOWN)
    assert row['status'] == store_mod.LOADING
    with embedded.running(conf, database) as services:
        first = services.graph()
        first.start()
        assert first.wait_ready(60)
        helpers.wait_for(
            lambda: status_of(store, row['uuid']) == store_mod.ACTIVE, 10,
            'the template becomes ACTIVE')
        assert deduced(first.graph) == []

        (static / 'a.yaml').write_text(topology(
            [('sw-1', 'ERROR'), ('sw-2', 'available')]))
        assert first.get_changes(['static'])
        alarms = deduced(first.graph)
        sw2 = switch(first.graph, 'sw-2')
        assert len(alarms) == 1
        assert alarms[0][Prop.SEVERITY] == 'WARNING'
        assert alarms[0][Prop.RESOURCE_ID] == sw2[Prop.VITRAGE_ID]
        assert sw2[Prop.VITRAGE_STATE] == 'SUBOPTIMAL'
        assert first.stats['actions'] == 2
        expected = graph_state(first.graph)
        first.terminate()
        time.sleep(0.5)

        # A restored graph holds the deductions and does not redo them.
        second = services.graph()
        second.start()
        assert second.wait_ready(60)
        assert second.restored
        assert graph_state(second.graph) == expected
        assert second.stats['actions'] == 0
        assert len(second.evaluator.active_actions()) == 2

        # Deleting the template undoes what it did.
        catalog.delete(['switch_down'])
        helpers.wait_for(lambda: store.get(row['uuid']) is None, 10,
                         'the deleted template is removed')
        assert deduced(second.graph) == []
        assert switch(second.graph, 'sw-2').get(Prop.VITRAGE_STATE) is None

        # Adding it again (a running graph) deduces again.
        again = add_template(catalog, SWITCH_DOWN)
        helpers.wait_for(
            lambda: status_of(store, again['uuid']) == store_mod.ACTIVE, 10,
            'the added template becomes ACTIVE')
        helpers.wait_for(lambda: len(deduced(second.graph)) == 1, 10,
                         'the deduced alarm is back')


def test_a_template_that_cannot_load_is_marked_error(tmp_path, conf,
                                                     static):
    database = embedded.configure(conf, tmp_path, static,
                                  evaluator={'templates_poll_interval': 0.2})
    store = store_mod.TemplateStore(database)
    # Stored behind the API's back: valid YAML, broken scenario.
    broken = store.add('broken', 'standard', store_mod.LOADING, 'ok',
                       {'metadata': {'version': '3', 'name': 'broken',
                                     'type': 'standard'}})
    good = add_template(catalog_mod.TemplateCatalog(store), SWITCH_DOWN)
    with embedded.running(conf, database) as services:
        graph = services.graph()
        graph.start()
        assert graph.wait_ready(60)
        helpers.wait_for(
            lambda: status_of(store, broken.uuid) == store_mod.ERROR, 10,
            'the broken template is marked ERROR')
        assert 'entities' in store.get(broken.uuid).status_details
        assert status_of(store, good['uuid']) == store_mod.ACTIVE
        assert graph.evaluator.template_names == ['switch_down']


def test_without_persistency_the_directory_holds_the_templates(
        tmp_path, conf, static):
    templates = tmp_path / 'templates'
    templates.mkdir()
    (templates / 'switch_down.yaml').write_text(SWITCH_DOWN)
    (templates / 'broken.yaml').write_text('metadata: {version: 3}\n')
    (static / 'a.yaml').write_text(topology(
        [('sw-1', 'ERROR'), ('sw-2', 'available')]))
    database = embedded.configure(
        conf, tmp_path, static, persistency={'enable_persistency': False},
        evaluator={'templates_dir': templates})
    with embedded.running(conf, database) as services:
        graph = services.graph()
        graph.start()
        assert graph.wait_ready(60)
        assert graph.evaluator.template_names == ['switch_down']
        assert len(deduced(graph.graph)) == 1
