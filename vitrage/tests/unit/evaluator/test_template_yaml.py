"""Every scalar stays a string (YAML 1.1 pitfall, templates.md 1)."""
import pytest

from vitrage import evaluator
from vitrage.evaluator import template_yaml

V2_ON = '''
metadata: {version: 2, name: yaml_strings, type: standard}
definitions:
  entities:
    - entity: {category: ALARM, type: zabbix, priority: 90, active: yes, template_id: a}
    - entity: {category: RESOURCE, type: nova.host, template_id: h}
  relationships:
    - relationship: {source: a, target: h, relationship_type: on, template_id: a_on_h}
scenarios:
  - scenario:
      condition: a_on_h
      actions:
        - action: {action_type: mark_down, action_target: {target: h}}
'''  # noqa: E501


def test_scalars_stay_strings():
    doc = template_yaml.load_text(V2_ON)
    assert doc['metadata']['version'] == '2'
    rel = doc['definitions']['relationships'][0]['relationship']
    assert rel['relationship_type'] == 'on'
    entity = doc['definitions']['entities'][0]['entity']
    assert (entity['priority'], entity['active']) == ('90', 'yes')
    assert template_yaml.load_text('a:\nb: null\nc: 1.5') == {
        'a': '', 'b': 'null', 'c': '1.5'}
    assert template_yaml.load_text('') == {}


def test_on_label_and_string_values_reach_the_model():
    t = evaluator.load_text(V2_ON)
    rel, = t.relationships.values()
    assert rel.label == 'on'
    assert t.entities['a'].properties['priority'] == '90'
    assert t.entities['a'].properties['active'] == 'yes'


def test_invalid_yaml_error_is_clear():
    with pytest.raises(evaluator.TemplateYAMLError) as info:
        template_yaml.load_text('a: [1, 2\nb: c')
    assert str(info.value).startswith('Invalid YAML:')
    assert 'line' in str(info.value)


def test_load_file_names_the_file(tmp_path):
    path = tmp_path / 't.yaml'
    path.write_text('a: {')
    with pytest.raises(evaluator.TemplateYAMLError) as info:
        template_yaml.load_file(str(path))
    assert str(path) in str(info.value)


def test_stringify_json_like_templates():
    assert template_yaml.stringify(
        {'version': 3, 'flag': True, 'off': False, 'none': None,
         'list': [1, 2.5], 7: 'x'}) == {
        'version': '3', 'flag': 'true', 'off': 'false', 'none': '',
        'list': ['1', '2.5'], '7': 'x'}


def test_integer_version_behaves_like_the_string():
    doc = template_yaml.load_text(V2_ON)
    doc['metadata']['version'] = 2
    result = evaluator.validate(doc)
    assert result.status_code == 0
    assert result.template['metadata']['version'] == '2'
    doc['metadata']['version'] = 3
    assert evaluator.validate(doc).status_code == 4   # v3 shape differs


def test_missing_version_means_v1():
    doc = template_yaml.load_text(V2_ON)
    del doc['metadata']['version']
    t = evaluator.load(doc)
    assert t.version == '1'
