"""The template store and the API's template operations on SQLite."""
import pytest

from vitrage.evaluator import catalog as catalog_mod
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.graph.driver import EntityGraph
from vitrage.graph.states import StateNormalizer
from vitrage.graph.templates import TemplateSync
from vitrage.storage import templates as store_mod
from vitrage.tests.unit.evaluator.test_engine_world import VALUES_DIR

STANDARD = {
    'metadata': {'version': 3, 'name': 'net_down', 'type': 'standard'},
    'entities': {
        'alarm': {'category': 'ALARM', 'type': 'nagios',
                  'name': 'link down'},
        'host': {'category': 'RESOURCE', 'type': 'nova.host'},
    },
    'scenarios': [{'condition': 'alarm [on] host',
                   'actions': [{'set_state': {'target': 'host',
                                              'state': 'ERROR'}}]}],
}

PARAMETRISED = {
    'metadata': {'version': 3, 'name': 'with_params', 'type': 'standard'},
    'parameters': {'alarm_name': {'description': 'the alarm'}},
    'entities': {
        'alarm': {'category': 'ALARM', 'name': 'get_param(alarm_name)'},
        'host': {'category': 'RESOURCE', 'type': 'nova.host'},
    },
    'scenarios': [{'condition': 'alarm [on] host',
                   'actions': [{'mark_down': {'target': 'host'}}]}],
}


def named(template, name):
    copy = dict(template)
    copy['metadata'] = dict(template['metadata'], name=name)
    return copy


@pytest.fixture
def store(database):
    return store_mod.TemplateStore(database)


@pytest.fixture
def catalog(store):
    return catalog_mod.TemplateCatalog(store)


def test_store_round_trip_and_status_moves(store):
    added = store.add('t', 'standard', store_mod.LOADING, 'ok', {'a': '1'})
    assert store.get(added.uuid) == added
    assert store.get('t') == added
    assert store.get('nothing') is None
    assert store.set_status(added.uuid, store_mod.ACTIVE,
                            expected=(store_mod.LOADING,))
    # Not from ACTIVE: a delete that came in meanwhile is kept.
    assert not store.set_status(added.uuid, store_mod.ACTIVE,
                                expected=(store_mod.LOADING,))
    assert store.get(added.uuid).status == store_mod.ACTIVE
    assert store.names_in_use() == {'t'}
    store.set_status(added.uuid, store_mod.DELETING)
    assert store.names_in_use() == set()
    assert store.remove(added.uuid)
    assert not store.remove(added.uuid)
    assert store.count() == 0
    with pytest.raises(ValueError):
        store.add('x', None, 'BROKEN', None, {})


def test_list_rows_are_in_creation_order_with_api_keys(catalog):
    catalog.add([(None, named(STANDARD, 'b')), (None, named(STANDARD, 'a'))])
    rows = catalog.list_all()
    assert [r['name'] for r in rows] == ['b', 'a']
    assert set(rows[0]) == {'uuid', 'name', 'status', 'status details',
                            'date', 'type'}
    assert {r['status'] for r in rows} == {store_mod.LOADING}
    assert rows[0]['status details'] == 'Template validation is OK'
    assert rows[0]['date'].endswith('+00:00')


def test_validate_stores_nothing_and_reports_codes(catalog, store):
    results = catalog.validate([('/p/good.yaml', STANDARD),
                                ('/p/bad.yaml', {'metadata': {}})])
    assert [r['status code'] for r in results] == [0, 66]
    assert results[0] == {'file path': '/p/good.yaml',
                          'status': 'validation OK',
                          'description': 'Template validation',
                          'message': 'Template validation is OK',
                          'status code': 0}
    assert results[1]['status'] == 'validation failed'
    assert store.count() == 0


def test_add_valid_invalid_duplicate_and_unknown_type(catalog, store):
    invalid = named(STANDARD, 'broken')
    invalid['scenarios'] = []
    rows = catalog.add([(None, STANDARD), (None, invalid),
                        (None, named(STANDARD, 'net_down')),
                        (None, {'metadata': {'name': 'typeless'}})])
    assert [r['status'] for r in rows] == [
        store_mod.LOADING, store_mod.ERROR, store_mod.ERROR, store_mod.ERROR]
    assert rows[1]['status details'].startswith(
        'At least one scenario must be defined')
    assert rows[2]['status details'] == 'Duplicate template name'
    assert rows[2]['uuid'] == ''
    assert rows[3]['status details'] == 'Unknown template type'
    # Invalid ones are stored as ERROR; duplicates and unknown types not.
    assert sorted(t.name for t in store.rows()) == ['broken', 'net_down']


def test_add_resolves_parameters_and_reports_missing_ones(catalog, store):
    rows = catalog.add([(None, PARAMETRISED)], params={'alarm_name': 'x'})
    assert rows[0]['status'] == store_mod.LOADING
    stored = catalog.show('with_params')
    assert 'parameters' not in stored
    assert stored['entities']['alarm']['name'] == 'x'
    assert stored['metadata']['version'] == '3'      # scalars as strings
    rows = catalog.add([(None, named(PARAMETRISED, 'unresolved'))])
    assert rows[0]['status'] == store_mod.ERROR
    assert rows[0]['status details'].startswith(
        'Failed to resolve parameter')


def test_delete_error_at_once_others_through_deleting(catalog, store):
    invalid = named(STANDARD, 'broken')
    invalid['scenarios'] = []
    good, bad = catalog.add([(None, STANDARD), (None, invalid)])
    pending = catalog.delete([bad['name'], good['uuid'], 'unknown'])
    assert pending == [good['uuid']]
    assert [(t.name, t.status) for t in store.rows()] == [
        ('net_down', store_mod.DELETING)]
    # A DELETING template frees its name for a new one.
    assert catalog.add([(None, STANDARD)])[0]['status'] == \
        store_mod.LOADING


def test_overwrite_waits_until_the_old_template_is_gone(catalog, store):
    old = catalog.add([(None, STANDARD)])[0]
    seen = []

    def graph_unloads(uuids):
        seen.append(list(uuids))
        for uuid in uuids:
            store.remove(uuid)
        return True

    new = catalog.add([(None, STANDARD)], overwrite=True,
                      wait=graph_unloads)[0]
    assert seen == [[old['uuid']]]
    assert new['status'] == store_mod.LOADING
    assert [t.uuid for t in store.rows()] == [new['uuid']]
    with pytest.raises(catalog_mod.TemplateError):
        catalog.add([(None, STANDARD)], overwrite=True,
                    wait=lambda uuids: False)


def test_includes_see_only_definitions_in_force(catalog, store):
    definition = {'metadata': {'version': 2, 'name': 'defs',
                               'type': 'definition'},
                  'definitions': {'entities': [
                      {'entity': {'category': 'RESOURCE',
                                  'type': 'nova.host',
                                  'template_id': 'host'}}]}}
    user = {'metadata': {'version': 2, 'name': 'uses_defs',
                         'type': 'standard'},
            'includes': [{'name': 'defs'}],
            'definitions': {'entities': [
                {'entity': {'category': 'ALARM', 'type': 'nagios',
                            'template_id': 'alarm'}}],
                'relationships': [{'relationship': {
                    'source': 'alarm', 'target': 'host',
                    'relationship_type': 'on', 'template_id': 'on'}}]},
            'scenarios': [{'scenario': {
                'condition': 'on',
                'actions': [{'action': {
                    'action_type': 'mark_down',
                    'action_target': {'target': 'host'}}}]}}]}
    assert catalog.validate([(None, user)])[0]['status code'] != 0
    catalog.add([(None, definition)])
    assert catalog.validate([(None, user)])[0]['status code'] == 0


def test_seed_fills_only_an_empty_store(catalog, store, tmp_path):
    (tmp_path / 'a.yaml').write_text(
        'metadata: {version: 3, name: seeded, type: standard}\n'
        'entities:\n'
        '  alarm: {category: ALARM, type: nagios}\n'
        '  host: {category: RESOURCE, type: nova.host}\n'
        'scenarios:\n'
        '  - condition: alarm [on] host\n'
        '    actions: [{mark_down: {target: host}}]\n')
    (tmp_path / 'broken.yaml').write_text('metadata: [unclosed\n')
    (tmp_path / 'notes.txt').write_text('not a template')
    rows = catalog.seed(str(tmp_path))
    assert [r['name'] for r in rows] == ['seeded', 'broken']
    assert [r['status'] for r in rows] == [store_mod.LOADING,
                                           store_mod.ERROR]
    catalog.delete(['seeded'])
    assert catalog.seed(str(tmp_path)) == []


def test_duplicates_are_found_by_the_resolved_name(catalog, store):
    template = named(PARAMETRISED, 'get_param(name)')
    template['parameters'] = dict(template['parameters'],
                                  name={'description': 'its name'})
    params = {'alarm_name': 'x', 'name': 'one'}
    first = catalog.add([(None, template)], params=params)[0]
    assert (first['name'], first['status']) == ('one', store_mod.LOADING)
    again = catalog.add([(None, template)], params=params)[0]
    assert again['status details'] == catalog_mod.DUPLICATE_NAME
    other = catalog.add([(None, template)],
                        params=dict(params, name='two'))[0]
    assert other['status'] == store_mod.LOADING


def test_sync_reads_the_contents_only_after_a_change(store, monkeypatch):
    # The active graph polls the store every second: while nothing
    # changes it reads the rows' states, not their contents.
    reads = []
    rows = store.rows

    def counted(*args, **kwargs):
        reads.append(1)
        return rows(*args, **kwargs)
    monkeypatch.setattr(store, 'rows', counted)
    sync = TemplateSync(store)
    evaluator = ScenarioEvaluator(EntityGraph(), [],
                                  StateNormalizer(VALUES_DIR))
    added = store.add('net_down', 'standard', store_mod.LOADING, 'ok',
                      STANDARD)
    plan = sync.plan()
    assert [uuid for uuid, _ in plan.add] == [added.uuid]
    sync.apply(plan, evaluator)
    sync.commit(plan)
    assert store.get(added.uuid).status == store_mod.ACTIVE
    assert sync.plan().empty        # the status changed: read once more
    quiet = len(reads)
    for _ in range(3):
        assert sync.plan().empty
    assert len(reads) == quiet
    other = store.add('net_down_2', 'standard', store_mod.LOADING, 'ok',
                      named(STANDARD, 'net_down_2'))
    plan = sync.plan()
    assert [uuid for uuid, _ in plan.add] == [other.uuid]
    assert len(reads) == quiet + 1
    sync.apply(plan, evaluator)
    sync.commit(plan)
    store.set_status(added.uuid, store_mod.DELETING)
    plan = sync.plan()
    assert plan.remove == [added.uuid] and plan.drop == [added.uuid]
    assert evaluator.template_names == ['net_down', 'net_down_2']
    sync.apply(plan, evaluator)
    sync.commit(plan)
    assert evaluator.template_names == ['net_down_2']
    assert store.get(added.uuid) is None
