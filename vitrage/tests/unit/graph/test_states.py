"""Aggregated and operational state (entities.md section 6)."""
import pytest

from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.graph import states
from vitrage.graph.states import StateNormalizer

SHIPPED = states.resolve_dir(states.DEFAULT_DIR)


@pytest.fixture(scope='module')
def normalizer():
    return StateNormalizer(SHIPPED, frozenset(['nova.instance', 'nova.host',
                                               'broken.ds']))


def resource(vtype, **kw):
    props = {Prop.CATEGORY: 'RESOURCE', Prop.TYPE: vtype}
    props.update(kw)
    return props


def test_shipped_folder_is_found():
    assert SHIPPED.endswith('datasources_values')


def test_state_is_looked_up_case_insensitively(normalizer):
    v = resource('nova.instance', state='active')
    normalizer.apply(v)
    assert v[Prop.AGGREGATED_STATE] == 'ACTIVE'
    assert v[Prop.OPERATIONAL_STATE] == 'OK'


def test_higher_priority_of_state_and_vitrage_state_wins(normalizer):
    v = resource('nova.instance', state='ACTIVE', vitrage_state='ERROR')
    normalizer.apply(v)
    assert v[Prop.AGGREGATED_STATE] == 'ERROR'
    assert v[Prop.OPERATIONAL_STATE] == 'ERROR'
    v = resource('nova.instance', state='DELETED', vitrage_state='ERROR')
    normalizer.apply(v)
    assert v[Prop.OPERATIONAL_STATE] == 'DELETED'


def test_unknown_value_and_no_value_are_na(normalizer):
    v = resource('nova.instance', state='WHATEVER')
    normalizer.apply(v)
    assert v[Prop.OPERATIONAL_STATE] == 'N/A'
    v = resource('nova.instance')
    normalizer.apply(v)
    assert v[Prop.OPERATIONAL_STATE] == 'N/A'
    assert Prop.AGGREGATED_STATE not in v


def test_type_without_file_uses_default_unless_a_datasource(normalizer):
    v = resource('rack', state='available')
    normalizer.apply(v)
    assert v[Prop.OPERATIONAL_STATE] == 'OK'
    v = resource('broken.ds', state='available')
    normalizer.apply(v)
    assert v[Prop.OPERATIONAL_STATE] == 'undefined datasource'
    assert v[Prop.AGGREGATED_STATE] == 'undefined datasource'


def test_alarm_severity(normalizer):
    v = {Prop.CATEGORY: 'ALARM', Prop.TYPE: 'vitrage', 'severity': 'major'}
    normalizer.apply(v)
    assert v[Prop.AGGREGATED_SEVERITY] == 'MAJOR'
    assert v[Prop.OPERATIONAL_SEVERITY] == 'SEVERE'


def test_bad_file_is_rejected_with_its_name(tmp_path):
    bad = tmp_path / 'x.yaml'
    bad.write_text('category: RESOURCE\nvalues:\n  - aggregated values:\n'
                   '      priority: 1\n      original values:\n'
                   '        - {name: UP, operational_value: FINE}\n')
    with pytest.raises(exceptions.ConfigError, match='x.yaml.*FINE'):
        states.load_table(str(bad))
    (tmp_path / 'default.yaml').write_text('category: RESOURCE\nvalues: []\n')
    n = StateNormalizer(str(tmp_path))
    assert 'x' not in n.tables and 'default' in n.tables
