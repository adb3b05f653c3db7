"""Every console script registers its processes: ``vitrage service list``
over real vitrage-collector, vitrage-persistor, vitrage-graph and
vitrage-api processes sharing one SQLite database."""
import subprocess

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers

ROLES = ('ApiWorker', 'CollectorService', 'GraphWorker', 'PersistorService')


def test_console_scripts_register_and_unregister(deployment, tmp_path):
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    config = deploy.write_config(tmp_path / 'vitrage.conf', {
        'DEFAULT': {'transport_url': 'kombu+vitrage-memory:////',
                    'host': 'registry-node'},
        'database': {'connection': 'sqlite:///%s' % (
            tmp_path / 'vitrage.sqlite')},
        'datasources': {'types': ['simulated']},
        'persistency': {'workers': 2},
        'api': {'auth_mode': 'noauth', 'host': '127.0.0.1', 'port': port,
                'check_graph_ready': False,
                'service_heartbeat_interval': 1},
    })
    subprocess.run([deploy.script('vitrage-dbsync'), '--config-file',
                    str(config)], check=True, capture_output=True,
                   env=deploy.clean_env(), timeout=120)
    procs = {name: deployment.start(name, 'vitrage-%s' % name, config)
             for name in ('collector', 'persistor', 'graph', 'api')}
    cli = deploy.Cli(url)

    def listed():
        if deploy.http_status(url + '/') != 200:
            return None
        rows = cli.json('service', 'list', '-f', 'json')
        return rows if {r['Name'].split('_')[0] for r in rows} == set(
            ROLES) and len(rows) == 5 else None

    rows = deploy.wait_until(listed, 90, 'every role in service list',
                             deployment=deployment)
    names = [r['Name'] for r in rows]
    assert names == sorted(names)
    assert names == ['ApiWorker_worker_0', 'CollectorService_worker_0',
                     'GraphWorker_worker_0', 'PersistorService_worker_0',
                     'PersistorService_worker_1']
    assert {r['Hostname'] for r in rows} == {'registry-node'}
    pids = [r['Process Id'] for r in rows]
    assert len(set(pids)) == 5
    assert rows[0]['Process Id'] == procs['api'].pid

    # A stopped service leaves the list.
    procs['persistor'].terminate(60)

    def persistors_gone():
        rows = cli.json('service', 'list', '-f', 'json')
        return [r for r in rows if r['Name'].startswith('Persistor')] == []
    deploy.wait_until(persistors_gone, 30, 'persistors to leave the list',
                      deployment=None)
