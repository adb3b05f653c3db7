"""Every ``vitrage template`` command of the stock client against the
all-in-one (rest-api-v1.md section 9), checking what it prints.

The all-in-one seeds its empty template store with the sample templates
of ``etc/vitrage/templates``; its graph puts them in force.
"""
import json
import pathlib

import yaml

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests.functional.test_all_in_one import start_all_in_one
from vitrage.tests import helpers

SAMPLES = sorted(p.stem for p in (pathlib.Path(__file__).parents[3] /
                                  'etc' / 'vitrage' / 'templates').glob(
                                      '*.yaml'))

PARAMETRISED = """
metadata:
  version: 3
  type: standard
  name: get_param(template_name)
parameters:
  template_name: {description: the name}
  alarm_name: {default: disk full}
entities:
  alarm: {category: ALARM, type: nagios, name: get_param(alarm_name)}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: alarm [on] host
    actions:
      - set_state: {target: host, state: SUBOPTIMAL}
"""

INVALID = """
metadata: {version: 3, type: standard, name: invalid}
entities:
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: alarm [on] host
    actions:
      - mark_down: {target: host}
"""


def listed(cli):
    return {row['Name']: row for row in cli.json('template', 'list',
                                                 '-f', 'json')}


def test_template_commands_of_the_stock_client(deployment, tmp_path):
    _proc, base_url = start_all_in_one(deployment, tmp_path)
    cli = deploy.Cli(base_url)

    # The samples seeded the store and are in force.
    helpers.wait_for(
        lambda: {n: r['Status'] for n, r in listed(cli).items()} ==
        {name: 'ACTIVE' for name in SAMPLES}, 20,
        'the sample templates become ACTIVE')
    assert {r['Type'] for r in listed(cli).values()} == {'standard'}

    versions = cli.json('template', 'versions', '-f', 'json')
    assert {(v['Version'], v['Status']) for v in versions} == {
        ('v1', 'SUPPORTED'), ('v2', 'SUPPORTED'), ('v3', 'CURRENT')}

    shown = yaml.safe_load(cli.run('template', 'show', 'host_down').stdout)
    assert shown['metadata']['name'] == 'host_down'
    assert len(shown['scenarios']) == 2

    good = tmp_path / 'param.yaml'
    good.write_text(PARAMETRISED)
    bad = tmp_path / 'invalid.yaml'
    bad.write_text(INVALID)
    results = cli.json('template', 'validate', '--path', str(bad))
    [result] = results['results']
    assert result['status'] == 'validation failed'
    assert result['status code'] == 10200
    assert result['file path'] == str(bad)
    [result] = cli.json('template', 'validate', '--path', str(good),
                        '--params', 'template_name=t1')['results']
    assert result['status code'] == 0
    [result] = cli.json('template', 'validate', '--path',
                        str(good))['results']
    assert result['status code'] == 163

    # add --wait polls until the graph has put it in force.
    out = cli.run('template', 'add', '--path', str(good), '--params',
                  'template_name=t1', 'alarm_name=cpu', '--wait', '20',
                  '-f', 'json').stdout
    [row] = json.loads(out)
    assert (row['Name'], row['Status']) == ('t1', 'ACTIVE')
    stored = yaml.safe_load(cli.run('template', 'show', 't1').stdout)
    assert stored['entities']['alarm']['name'] == 'cpu'
    assert 'parameters' not in stored
    [row] = cli.json('template', 'add', '--path', str(good), '--params',
                     'template_name=t1', '-f', 'json')
    assert (row['Status'], row['Status details']) == (
        'ERROR', 'Duplicate template name')
    [row] = cli.json('template', 'add', '--path', str(bad), '-f', 'json')
    assert row['Status'] == 'ERROR'
    assert row['Status details'].startswith(
        'Condition refers to an entity that is not defined')
    [row] = cli.json('template', 'add', '--path', str(good), '--params',
                     'template_name=t1', '--overwrite', '--wait', '20',
                     '-f', 'json')
    assert row['Status'] == 'ACTIVE'
    assert stored != yaml.safe_load(cli.run('template', 'show',
                                            't1').stdout)
    assert list(listed(cli)).count('t1') == 1

    cli.run('template', 'delete', 't1', 'invalid', '--wait', '20')
    names = set(listed(cli))
    assert names == set(SAMPLES)
    failed = cli.run('template', 'show', 't1', check=False)
    assert failed.returncode != 0
    assert 'Failed to show template.' in failed.stderr
