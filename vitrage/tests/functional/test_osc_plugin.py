"""The ``openstack rca`` plugin of python-vitrageclient against the
all-in-one, checking what each command prints.

Known client bug (not the server's): ``openstack rca status``,
``openstack rca healthcheck`` and ``openstack rca event post`` fail
inside the client ("'OpenStackShell' object has no attribute 'client'")
before sending anything; ``vitrage status`` / ``healthcheck`` / ``event
post`` cover those endpoints (here the event is posted with ``vitrage``).
"""
import json
import subprocess
from typing import Any

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests.functional import test_all_in_one as aio
from vitrage.tests.functional.test_cli_templates import PARAMETRISED

HOST = 'host-0-3'
TIMEOUT = 30


class Osc:
    """``openstack rca ...`` with the vitrage-noauth plugin as admin."""

    def __init__(self, endpoint: str) -> None:
        self.base = [deploy.script('openstack'), '--os-auth-type',
                     'vitrage-noauth', '--os-user-id', 'u',
                     '--os-project-id', 'p', '--os-roles', 'admin',
                     '--os-endpoint', endpoint, 'rca']

    def run(self, *args: str) -> str:
        result = subprocess.run(self.base + list(args), capture_output=True,
                                text=True, env=deploy.clean_env(),
                                timeout=120)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args))


def test_openstack_rca_commands(deployment, tmp_path):
    _proc, base_url = aio.start_all_in_one(deployment, tmp_path)
    osc = Osc(base_url)

    topology = osc.json('topology', 'show', '--all-tenants')
    types = {n['vitrage_type'] for n in topology['nodes']}
    assert {'openstack.cluster', 'nova.host', 'nova.instance'} <= types
    resources = osc.json('resource', 'list', '--all-tenants', '-f', 'json')
    assert len(resources) == len(topology['nodes'])
    [host] = [r for r in resources if r['Data Source ID'] == HOST]
    shown = osc.json('resource', 'show', host['ID'], '-f', 'json')
    assert shown['vitrage_type'] == 'nova.host'
    counts = osc.json('resource', 'count', '--all-tenants')
    assert counts['nova.host'] == aio.HOSTS
    assert [s['Name'] for s in osc.json('service', 'list', '-f', 'json')
            ] == ['AllInOne_worker_0']

    deploy.wait_until(
        lambda: {t['Status'] for t in osc.json('template', 'list', '-f',
                                               'json')} == {'ACTIVE'},
        TIMEOUT, 'the sample templates ACTIVE', deployment=deployment)
    assert len(osc.json('template', 'versions', '-f', 'json')) == 3
    path = tmp_path / 'param.yaml'
    path.write_text(PARAMETRISED)
    [result] = osc.json('template', 'validate', '--path', str(path),
                        '--params', 'template_name=osc')['results']
    assert result['status code'] == 0
    [row] = osc.json('template', 'add', '--path', str(path), '--params',
                     'template_name=osc', '--wait', '20', '-f', 'json')
    assert (row['Name'], row['Status']) == ('osc', 'ACTIVE')
    assert 'osc' in osc.run('template', 'show', 'osc')
    osc.run('template', 'delete', 'osc', '--wait', '20')

    deploy.Cli(base_url).run(
        'event', 'post', '--type', 'compute.host.down', '--details',
        json.dumps({'hostname': HOST, 'status': 'down'}))
    listed = deploy.wait_until(
        lambda: [a for a in osc.json('alarm', 'list', '--all-tenants',
                                     '-f', 'json')
                 if a['Name'] == 'compute.host.down'],
        TIMEOUT, 'the host alarm', deployment=deployment)
    alarm_id = listed[0]['ID']
    assert osc.json('alarm', 'show', alarm_id, '-f', 'json')[
        'vitrage_resource_id'] == host['ID']
    deploy.wait_until(
        lambda: osc.json('alarm', 'count', '--all-tenants')['CRITICAL'] ==
        1 + aio.INSTANCES_PER_HOST, TIMEOUT,
        'the host alarm and the deduced ones counted',
        deployment=deployment)
    rca = osc.json('show', alarm_id, '--all-tenants')
    assert rca['nodes'][rca['inspected_index']]['vitrage_id'] == alarm_id
    assert len(rca['links']) == aio.INSTANCES_PER_HOST
    history = osc.json('alarm', 'history', '--all-tenants', '-f', 'json')
    assert alarm_id in {a['ID'] for a in history}

    added = osc.json('webhook', 'add', '--url', 'https://example.test/h',
                     '--regex_filter', '{"name": "compute.*"}', '-f',
                     'json')
    assert osc.json('webhook', 'show', added['id'], '-f', 'json')[
        'regex_filter'] == '{"name": "compute.*"}'
    assert [w['ID'] for w in osc.json('webhook', 'list', '-f', 'json')
            ] == [added['id']]
    osc.run('webhook', 'delete', added['id'])
    assert osc.json('webhook', 'list', '-f', 'json') == []
