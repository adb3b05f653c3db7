"""The newcomer's scenario, with the stock ``vitrage`` CLI against the
all-in-one and the sample templates it seeds (etc/vitrage/templates):

``vitrage event post --type compute.host.down`` for a host makes the
graph deduce, within moments: the host in ERROR and marked down, an
``instance_down`` alarm caused by the host alarm on every instance of the
host, and those instances in ERROR; ``vitrage rca show`` on an instance
alarm gives the chain back to the host alarm. ``status up`` undoes all of
it, and the alarm history keeps the ended alarms and their causes.
"""
import json

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests.functional import test_all_in_one as aio

HOST = 'host-1-2'
TIMEOUT = 30


def alarms(cli: deploy.Cli, name: str) -> list[dict]:
    return [a for a in cli.json('alarm', 'list', '--all-tenants', '-f',
                                'json') if a['Name'] == name]


def test_host_down_deduces_alarms_states_and_causes(deployment, tmp_path):
    _proc, base_url = aio.start_all_in_one(deployment, tmp_path,
                                           {'instances_per_host': 3})
    cli = deploy.Cli(base_url)
    resources = cli.json('resource', 'list', '--all-tenants', '-f', 'json')
    [host] = [r for r in resources if r['Data Source ID'] == HOST]
    topology = cli.json('topology', 'show', '--all-tenants')
    nodes = topology['nodes']
    instances = {nodes[link['target']]['vitrage_id']
                 for link in topology['links']
                 if nodes[link['source']]['vitrage_id'] == host['ID'] and
                 link['relationship_type'] == 'contains'}
    assert len(instances) == 3
    # The graph has put the samples in force before deducing anything.
    deploy.wait_until(
        lambda: {r['Status'] for r in cli.json('template', 'list', '-f',
                                               'json')} == {'ACTIVE'},
        TIMEOUT, 'the sample templates ACTIVE', deployment=deployment)

    cli.run('event', 'post', '--type', 'compute.host.down', '--details',
            json.dumps({'hostname': HOST, 'status': 'down'}))
    deduced = deploy.wait_until(
        lambda: (lambda found: found if len(found) == 3 else None)(
            alarms(cli, 'instance_down')),
        TIMEOUT, 'three instance_down alarms', interval=0.1,
        deployment=deployment)
    assert {a['Resource ID'] for a in deduced} == instances
    assert {a['Type'] for a in deduced} == {'vitrage'}
    assert {a['Severity'] for a in deduced} == {'CRITICAL'}
    [host_alarm] = alarms(cli, 'compute.host.down')

    shown = cli.json('resource', 'show', host['ID'], '-f', 'json')
    assert shown['vitrage_state'] == 'ERROR'
    assert shown['is_marked_down'] is True
    assert shown['vitrage_operational_state'] == 'ERROR'
    for instance in instances:
        assert cli.json('resource', 'show', instance, '-f', 'json')[
            'vitrage_state'] == 'ERROR'

    alarm_id = deduced[0]['ID']
    rca = cli.json('rca', 'show', alarm_id, '--all-tenants')
    by_index = [n['vitrage_id'] for n in rca['nodes']]
    assert by_index[rca['inspected_index']] == alarm_id
    assert host_alarm['ID'] in by_index
    assert (by_index.index(host_alarm['ID']), by_index.index(alarm_id),
            'causes') in {(link['source'], link['target'],
                           link['relationship_type'])
                          for link in rca['links']}
    # From the host alarm: it caused all three.
    rca = cli.json('rca', 'show', host_alarm['ID'], '--all-tenants')
    assert {n['vitrage_id'] for n in rca['nodes']} == \
        {host_alarm['ID']} | {a['ID'] for a in deduced}
    assert len(rca['links']) == 3

    cli.run('event', 'post', '--type', 'compute.host.down', '--details',
            json.dumps({'hostname': HOST, 'status': 'up'}))
    deploy.wait_until(
        lambda: not alarms(cli, 'instance_down') and
        not alarms(cli, 'compute.host.down'),
        TIMEOUT, 'the alarms cleared', interval=0.1, deployment=deployment)
    shown = cli.json('resource', 'show', host['ID'], '-f', 'json')
    assert shown.get('vitrage_state') is None
    assert not shown.get('is_marked_down')
    for instance in instances:
        assert cli.json('resource', 'show', instance, '-f', 'json').get(
            'vitrage_state') is None
    ended = {a['ID']: a for a in cli.json(
        'alarm', 'history', '--all-tenants', '-f', 'json')}
    assert {a['ID'] for a in deduced} | {host_alarm['ID']} <= set(ended)
    assert all(ended[a['ID']]['End Time'] for a in deduced)
    # Ended alarms stay linked in the RCA.
    rca = cli.json('rca', 'show', alarm_id, '--all-tenants')
    assert {n['vitrage_id'] for n in rca['nodes']} >= {alarm_id,
                                                       host_alarm['ID']}
    assert all(n['state'] == 'Inactive' for n in rca['nodes'])
