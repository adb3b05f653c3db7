"""A collector killed in the middle of a get_all (HA contract, promise 6).

Real processes on the real RabbitMQ: two ``vitrage-collector`` processes
serving the same ``simulated`` cloud, a ``vitrage-graph`` and a
``vitrage-api``. The collector batches are tiny, so the initial get_all
keeps its collector busy for a while; the test kills that collector's
process group with SIGKILL in the middle of it. With ``[datasources]
rpc_timeout`` left at ten minutes, the graph notices the dead collector
by its unanswered pings, gets the whole sample again from the other
collector and serves the same topology as a graph built here from the
same cloud.
"""
import json
import re

import psutil

from vitrage.collector.manager import CollectorManager
from vitrage.common.constants import DatasourceAction
from vitrage.graph.service import GraphService
from vitrage.graph import views
from vitrage import service as vitrage_service
from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers
from vitrage.tests.integration import persistor_procs
from vitrage.tests.integration import test_distributed

HOST = 'collector-kill-host'
#: About 3,650 vertices; with one event per message, the collector's
#: get_all lasts seconds.
CLOUD = {'zones': 2, 'hosts_per_zone': 40, 'instances_per_host': 20,
         'networks': 2, 'volume_ratio': 0.25, 'seed': 3,
         'changes_interval': 3600}
RPC_TIMEOUT = 600
PING_TIMEOUT = 2
#: Far below RPC_TIMEOUT: the graph must not wait for the RPC timeout.
READY_TIMEOUT = 180


def _collector_ids(deployment):
    """{collector id: its process}, from the "serving" log lines."""
    found = {}
    for proc in deployment.processes:
        for collector_id in re.findall(r'collector (\S+) serving',
                                       proc.log()):
            found[collector_id] = proc
    return found


def _cpu_seconds(proc):
    """CPU time of a cotyledon master and its workers."""
    try:
        master = psutil.Process(proc.pid)
        total = 0.0
        for each in [master] + master.children(recursive=True):
            times = each.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def _reference_topology(conf, config):
    """The topology of a graph that loaded the same cloud, built here."""
    vitrage_service.prepare_service(['--config-file', str(config)],
                                    conf=conf, setup_logging=False)
    runner = CollectorManager(conf, 'reference').runner('simulated')
    events, _sampled_at = runner.full(DatasourceAction.INIT_SNAPSHOT)
    graph = GraphService(conf)
    assert graph.processor.process_events(events) == 0
    # Through JSON, as the API answers.
    return json.loads(json.dumps(views.topology(
        graph.graph, {'is_admin': True}, all_tenants=True)))


def test_collector_killed_mid_get_all_is_replaced(deployment, tmp_path,
                                                  rabbit_transport_url,
                                                  conf):
    prefix = helpers.unique_name('vitrage_ckill')
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    config = deploy.write_config(tmp_path / 'vitrage.conf', {
        'DEFAULT': {'transport_url': rabbit_transport_url,
                    'control_exchange': prefix,
                    'state_path': tmp_path / 'state', 'host': HOST},
        'api': {'host': '127.0.0.1', 'port': port, 'auth_mode': 'noauth',
                'graph_rpc_timeout': 30},
        'datasources': {'types': 'simulated', 'snapshots_interval': 3600,
                        'ping_timeout': PING_TIMEOUT,
                        'rpc_timeout': RPC_TIMEOUT},
        'simulated': CLOUD,
        'collector': {'topic': prefix + '_collector', 'batch_size': 1},
        'entity_graph': {'topic': prefix + '_graph',
                         'events_topic': prefix + '_events'},
        'persistency': {'enable_persistency': 'false',
                        'persistor_topic': prefix + '_persistor'},
    })
    env = deploy.clean_env(XDG_STATE_HOME=str(tmp_path / 'xdg'))
    try:
        collectors = [deployment.start('collector-%d' % n,
                                       'vitrage-collector', config, env=env)
                      for n in (1, 2)]
        deploy.wait_until(lambda: len(_collector_ids(deployment)) == 2, 60,
                          'two collectors serving', deployment=deployment)
        graph = deployment.start('graph', 'vitrage-graph', config, env=env)
        deployment.start('api', 'vitrage-api', config, env=env)

        first = deploy.wait_until(
            lambda: re.search(r'request (\w+) sent to collector (\S+)',
                              graph.log()),
            60, 'the initial get_all sent', interval=0.1,
            deployment=deployment)
        request_id, victim_id = first.group(1), first.group(2)
        victim = _collector_ids(deployment)[victim_id]
        survivor = [c for c in collectors if c is not victim][0]
        # Kill it once it is busy sending the sample.
        busy_from = _cpu_seconds(victim)
        deploy.wait_until(lambda: _cpu_seconds(victim) > busy_from + 0.3,
                          60, 'the collector working on the get_all',
                          interval=0.1, deployment=deployment)
        assert deploy.http_status(url + '/v1/status/') != 200, \
            'the get_all ended before the kill: make it longer'
        victim.kill_group()
        deployment.processes.remove(victim)

        deploy.wait_for_api(url, deployment, timeout=READY_TIMEOUT)
        log = graph.log()
        assert re.search(r'collector %s did not answer request %s .*'
                         r'stopped answering pings' % (victim_id, request_id),
                         log), log[-5000:]
        survivor_id = [cid for cid, proc in _collector_ids(
            deployment).items() if proc is survivor][0]
        assert re.search(r'request \w+ sent to collector %s' % survivor_id,
                         log), log[-5000:]

        topology = deploy.Cli(url).json('topology', 'show',
                                        '--all-tenants')
        vertices, edges = deploy.topology_summary(topology)
        expected = deploy.topology_summary(_reference_topology(conf,
                                                               config))
        assert len(vertices) == len(expected[0]) > 3000
        assert vertices == expected[0]
        assert edges == expected[1]
        assert graph.poll() is None and survivor.poll() is None
    finally:
        names = {prefix + '_collector', prefix + '_graph',
                 prefix + '_graph.' + HOST, prefix + '_events.info'}
        names.update('%s_collector.%s' % (prefix, cid)
                     for cid in _collector_ids(deployment))
        deployment.cleanup()
        test_distributed.delete_queues(rabbit_transport_url, names)
        persistor_procs.delete_queues(rabbit_transport_url,
                                      prefix + '_persistor')
