"""The distributed deployment over RabbitMQ agrees with the all-in-one.

``vitrage-collector``, ``vitrage-graph`` and ``vitrage-api`` run as three
processes from one generated config file, on the real RabbitMQ with topics
of this test alone, with the ``static`` datasource reading YAML files
written here. The stock ``vitrage`` client queries the API. The same
files served by ``vitrage-all-in-one`` give the same topology; edits to
the files reach the graph; the collector restarts on its own while the
graph keeps serving.
"""
from collections.abc import Iterator
import json
import pathlib
import re
import subprocess
import urllib.parse

import kombu
import pytest
import yaml

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers

#: ``[DEFAULT] host`` of the distributed processes (names a queue).
HOST = 'e2e-host'
STATIC_CHANGES_INTERVAL = 10  # the minimum the option allows
STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 30
# A change is seen within one polling interval, plus a collector ping
# timeout when the graph's usual collector went away: a generous bound.
CHANGE_TIMEOUT = 4 * STATIC_CHANGES_INTERVAL


def entity(static_id: str, entity_type: str, state: str, **extra) -> dict:
    return dict({'static_id': static_id, 'type': entity_type,
                 'id': static_id, 'name': static_id, 'state': state},
                **extra)


def link(source: str, target: str, label: str) -> dict:
    return {'source': source, 'target': target, 'relationship_type': label}


def static_file(name: str, entities: list[dict],
                relationships: list[dict]) -> str:
    """A static datasource file (entities.md section 8) as YAML text."""
    return yaml.safe_dump({
        'metadata': {'name': name},
        'definitions': {'entities': entities,
                        'relationships': relationships}},
        sort_keys=False)


# Static ids double as datasource ids and names.
PHYSICAL_ENTITIES = [
    entity('sw-core', 'switch', 'available'),
    entity('sw-tor-a', 'switch', 'available'),
    entity('sw-tor-b', 'switch', 'available'),
    entity('rack-a', 'rack', 'AVAILABLE', row='1'),
    entity('rack-b', 'rack', 'AVAILABLE', row='2'),
    entity('srv-a1', 'server', 'ACTIVE'),
    entity('srv-a2', 'server', 'ACTIVE'),
    entity('srv-b1', 'server', 'ACTIVE'),
]
PHYSICAL_LINKS = [
    link('sw-core', 'sw-tor-a', 'connect'),
    link('sw-core', 'sw-tor-b', 'connect'),
    link('rack-a', 'sw-tor-a', 'contains'),
    link('rack-a', 'srv-a1', 'contains'),
    link('rack-a', 'srv-a2', 'contains'),
    link('rack-b', 'sw-tor-b', 'contains'),
    link('rack-b', 'srv-b1', 'contains'),
    link('sw-tor-a', 'srv-a1', 'attached'),
    link('sw-tor-a', 'srv-a2', 'attached'),
    link('sw-tor-b', 'srv-b1', 'attached'),
]
PHYSICAL = static_file('test-physical', PHYSICAL_ENTITIES, PHYSICAL_LINKS)
# A second file: a storage array used by a server of the first file
# (defined again, identically, so that it can be linked).
STORAGE = static_file('test-storage', [
    entity('array-1', 'storage_array', 'AVAILABLE'),
    entity('srv-a1', 'server', 'ACTIVE'),
], [link('srv-a1', 'array-1', 'uses')])

EXPECTED_VERTICES = {
    ('switch', 'sw-core'), ('switch', 'sw-tor-a'), ('switch', 'sw-tor-b'),
    ('rack', 'rack-a'), ('rack', 'rack-b'), ('server', 'srv-a1'),
    ('server', 'srv-a2'), ('server', 'srv-b1'),
    ('storage_array', 'array-1'),
}
EXPECTED_EDGES = {
    ('sw-core', 'sw-tor-a', 'connect'), ('sw-core', 'sw-tor-b', 'connect'),
    ('rack-a', 'sw-tor-a', 'contains'), ('rack-a', 'srv-a1', 'contains'),
    ('rack-a', 'srv-a2', 'contains'), ('rack-b', 'sw-tor-b', 'contains'),
    ('rack-b', 'srv-b1', 'contains'), ('sw-tor-a', 'srv-a1', 'attached'),
    ('sw-tor-a', 'srv-a2', 'attached'), ('sw-tor-b', 'srv-b1', 'attached'),
    ('srv-a1', 'array-1', 'uses'),
}


class Distributed:
    """Collector, graph and API processes sharing one config file."""

    def __init__(self, deployment: deploy.Deployment,
                 tmp_path: pathlib.Path, transport_url: str) -> None:
        self.deployment = deployment
        self.static_dir = tmp_path / 'static'
        self.static_dir.mkdir()
        (self.static_dir / 'physical.yaml').write_text(PHYSICAL)
        (self.static_dir / 'storage.yaml').write_text(STORAGE)
        self.port = helpers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.prefix = prefix = helpers.unique_name('vitrage_e2e')
        self.config = deploy.write_config(tmp_path / 'distributed.conf', {
            'DEFAULT': {'transport_url': transport_url,
                        'state_path': tmp_path / 'state', 'host': HOST},
            'api': {'host': '127.0.0.1', 'port': self.port,
                    'auth_mode': 'noauth'},
            'datasources': {'types': 'static, doctor', 'ping_timeout': 3,
                            'notification_topics':
                                prefix + '_notifications'},
            'static': {'directory': self.static_dir,
                       'changes_interval': STATIC_CHANGES_INTERVAL},
            'collector': {'topic': prefix + '_collector'},
            'entity_graph': {'topic': prefix + '_graph',
                             'events_topic': prefix + '_events'},
            # Three processes, no vitrage-persistor: the graph starts
            # empty and loads everything from the collector.
            'persistency': {'enable_persistency': 'false',
                            'persistor_topic': prefix + '_persistor'},
        })
        self.env = deploy.clean_env(XDG_STATE_HOME=str(tmp_path / 'xdg'))
        self.cli = deploy.Cli(self.url)
        self.collector: deploy.ServiceProcess | None = None
        self.graph: deploy.ServiceProcess | None = None
        self.api: deploy.ServiceProcess | None = None
        self.collector_starts = 0

    def start_collector(self) -> deploy.ServiceProcess:
        self.collector_starts += 1
        self.collector = self.deployment.start(
            'collector-%d' % self.collector_starts, 'vitrage-collector',
            self.config, env=self.env)
        return self.collector

    def start(self) -> 'Distributed':
        self.start_collector()
        self.graph = self.deployment.start('graph', 'vitrage-graph',
                                           self.config, env=self.env)
        self.api = self.deployment.start('api', 'vitrage-api', self.config,
                                         env=self.env)
        deploy.wait_for_api(self.url, self.deployment, STARTUP_TIMEOUT)
        return self

    def topology(self) -> dict:
        return self.cli.json('topology', 'show', '--all-tenants')

    def by_id(self) -> dict[str, dict]:
        """The topology's vertices by their datasource id."""
        return {n['id']: n for n in self.topology()['nodes']}

    def queues(self) -> set[str]:
        """The broker queues that this deployment's servers declared."""
        names = {self.prefix + '_collector', self.prefix + '_graph',
                 self.prefix + '_graph.' + HOST,
                 self.prefix + '_events.info'}
        names.update('%s_notifications.%s' % (self.prefix, priority)
                     for priority in ('info', 'audit', 'debug', 'warn',
                                      'error', 'critical', 'sample'))
        for proc in self.deployment.processes:
            for collector_id in re.findall(r'collector (\S+) serving',
                                           proc.log()):
                names.add('%s_collector.%s' % (self.prefix, collector_id))
        return names


def unread_queues(prefix: str) -> dict[str, int]:
    """Queues of a deployment that hold messages and have no consumer,
    with their message counts (``rabbitmqctl list_queues``).
    """
    listing = subprocess.run(
        ['rabbitmqctl', 'list_queues', '-q', 'name', 'messages',
         'consumers'], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    unread = {}
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0].startswith(prefix) and \
                fields[1].isdigit() and int(fields[1]) and fields[2] == '0':
            unread[fields[0]] = int(fields[1])
    return unread


def delete_queues(transport_url: str, names: set[str]) -> None:
    """Delete queues from the broker (deleting a missing one is fine)."""
    url = urllib.parse.urlsplit(transport_url)._replace(scheme='amqp')
    with kombu.Connection(url.geturl(), connect_timeout=5) as connection:
        channel = connection.channel()
        for name in sorted(names):
            channel.queue_delete(name)


@pytest.fixture
def distributed(deployment, tmp_path,
                rabbit_transport_url) -> Iterator[Distributed]:
    """The three processes, serving; afterwards their broker queues are
    deleted (the processes are killed first).
    """
    service = Distributed(deployment, tmp_path, rabbit_transport_url)
    try:
        yield service.start()
    finally:
        deployment.cleanup()
        delete_queues(rabbit_transport_url, service.queues())


def readable(topology: dict) -> tuple[set, set]:
    """Vertices as ``(vitrage_type, id)``, edges as datasource ids."""
    nodes = topology['nodes']
    return ({(n['vitrage_type'], n['id']) for n in nodes},
            {(nodes[link['source']]['id'], nodes[link['target']]['id'],
              link['relationship_type']) for link in topology['links']})


def test_distributed_topology_equals_all_in_one(distributed, deployment,
                                                tmp_path):
    topology = distributed.topology()
    assert readable(topology) == (EXPECTED_VERTICES, EXPECTED_EDGES)
    by_id = {n['id']: n for n in topology['nodes']}
    assert by_id['sw-core']['state'] == 'available'
    assert by_id['sw-core']['vitrage_operational_state'] == 'OK'
    assert by_id['srv-a1']['vitrage_operational_state'] == 'OK'
    assert by_id['rack-a']['row'] == '1'
    assert all(link['key'] == link['relationship_type']
               for link in topology['links'])

    port = helpers.free_port()
    aio_config = deploy.write_config(tmp_path / 'all-in-one.conf', {
        'DEFAULT': {'state_path': tmp_path / 'aio-state'},
        'api': {'port': port},
        'datasources': {'types': 'static'},
        'static': {'directory': distributed.static_dir},
    })
    aio = deployment.start(
        'all-in-one', 'vitrage-all-in-one', aio_config,
        env=deploy.clean_env(XDG_STATE_HOME=str(tmp_path / 'aio-xdg')))
    aio_url = 'http://127.0.0.1:%d' % port
    deploy.wait_for_api(aio_url, deployment, STARTUP_TIMEOUT)
    reference = deploy.Cli(aio_url).json('topology', 'show',
                                         '--all-tenants')

    vertices, edges = deploy.topology_summary(topology)
    ref_vertices, ref_edges = deploy.topology_summary(reference)
    assert vertices == ref_vertices
    assert edges == ref_edges
    assert len(vertices) == len(EXPECTED_VERTICES)
    assert len(edges) == len(EXPECTED_EDGES)
    assert aio.terminate(STOP_TIMEOUT) == 0


def test_static_file_changes_reach_the_graph(distributed):
    before = distributed.by_id()
    assert before['srv-a2']['state'] == 'ACTIVE'
    physical = distributed.static_dir / 'physical.yaml'
    physical.write_text(static_file(
        'test-physical',
        [dict(e, state='ERROR') if e['id'] == 'srv-a2' else e
         for e in PHYSICAL_ENTITIES if e['id'] != 'srv-b1'],
        [r for r in PHYSICAL_LINKS if 'srv-b1' not in r.values()]))
    assert 'srv-b1' not in physical.read_text()
    assert 'state: ERROR' in physical.read_text()

    def changed() -> dict | None:
        now = distributed.by_id()
        if now['srv-a2']['state'] == 'ERROR' and 'srv-b1' not in now:
            return now
        return None

    after = deploy.wait_until(changed, CHANGE_TIMEOUT,
                              'srv-a2 in ERROR and srv-b1 gone',
                              interval=1, deployment=distributed.deployment)
    assert after['srv-a2']['vitrage_operational_state'] == 'ERROR'
    assert after['srv-a2']['vitrage_id'] == before['srv-a2']['vitrage_id']
    vertices, edges = readable(distributed.topology())
    assert vertices == EXPECTED_VERTICES - {('server', 'srv-b1')}
    assert edges == {edge for edge in EXPECTED_EDGES
                     if 'srv-b1' not in edge}


def test_collector_restarts_independently_of_the_graph(distributed):
    before = deploy.topology_summary(distributed.topology())
    first = distributed.collector
    assert first.terminate(STOP_TIMEOUT) == 0, distributed.deployment.logs()

    # The graph keeps its graph and keeps answering without a collector.
    assert deploy.http_status(distributed.url + '/v1/status/') == 200
    assert deploy.topology_summary(distributed.topology()) == before

    # A pushed notification waits in RabbitMQ while no collector runs.
    distributed.cli.run('event', 'post', '--type', 'compute.host.down',
                        '--details', json.dumps({'hostname': 'srv-a1',
                                                 'status': 'down'}))
    # A change made while no collector runs arrives once one is back.
    storage = distributed.static_dir / 'storage.yaml'
    storage.write_text(STORAGE.replace('state: AVAILABLE', 'state: ERROR'))
    assert 'state: ERROR' in storage.read_text()
    second = distributed.start_collector()

    def arrived() -> bool:
        return distributed.by_id()['array-1']['state'] == 'ERROR'

    deploy.wait_until(arrived, CHANGE_TIMEOUT + STARTUP_TIMEOUT,
                      'array-1 in ERROR through the new collector',
                      interval=1, deployment=distributed.deployment)
    assert second.poll() is None
    assert distributed.graph.poll() is None
    alarms = deploy.wait_until(
        lambda: distributed.cli.json('alarm', 'list', '-f', 'json'),
        CHANGE_TIMEOUT, 'the doctor alarm posted while no collector ran',
        interval=0.5, deployment=distributed.deployment)
    assert [(a['Type'], a['Name']) for a in alarms] == [
        ('doctor', 'compute.host.down')]
    # Every queue the posted event went to is read: none fills up unread
    # (a queue declared by the publisher but consumed by nobody would
    # grow with every event, forever).
    assert unread_queues(distributed.prefix) == {}

    # And later changes keep arriving through the new collector.
    (distributed.static_dir / 'extra.yaml').write_text(static_file(
        'test-extra',
        [entity('pdu-1', 'pdu', 'AVAILABLE'),
         entity('rack-b', 'rack', 'AVAILABLE', row='2')],
        [link('pdu-1', 'rack-b', 'powers')]))
    topology = deploy.wait_until(
        lambda: (lambda t: t if ('pdu', 'pdu-1') in readable(t)[0] else
                 None)(distributed.topology()),
        CHANGE_TIMEOUT, 'pdu-1 in the topology', interval=1,
        deployment=distributed.deployment)
    vertices, edges = readable(topology)
    # The doctor alarm is on a host the static files do not have (a
    # placeholder, not shown).
    doctor = ('doctor', alarms[0]['ID'])
    assert vertices == EXPECTED_VERTICES | {('pdu', 'pdu-1'), doctor}
    assert edges == EXPECTED_EDGES | {('pdu-1', 'rack-b', 'powers')}
