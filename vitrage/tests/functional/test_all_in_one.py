"""The ``vitrage-all-in-one`` console script, driven by the stock client.

The real console script runs as a subprocess on the embedded default
(in-memory transport, SQLite in a temporary state directory, the
``simulated`` datasource plus the demo static topology of
``etc/vitrage/static_datasources``), with a generated config file that
only picks a free API port, the state directory and small simulated
sizes. The python-vitrageclient ``vitrage`` command queries it.
"""
import collections
import pathlib

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers

# Small simulated sizes. Two zones of four hosts match the hosts that the
# demo static topology (etc/vitrage/static_datasources/demo.yaml) links
# its switches to, so the demo adds no host of its own.
ZONES = 2
HOSTS_PER_ZONE = 4
INSTANCES_PER_HOST = 1
NETWORKS = 1
VOLUME_RATIO = 0.25
HOSTS = ZONES * HOSTS_PER_ZONE
INSTANCES = HOSTS * INSTANCES_PER_HOST
VOLUMES = round(INSTANCES * VOLUME_RATIO)
# What the demo static file adds: two top-of-rack switches (each attached
# to the four hosts of one zone) and a router connected to both.
DEMO_SWITCHES = 2
DEMO_ROUTERS = 1

UNSCOPED_COUNTS = {
    'openstack.cluster': 1,
    'nova.zone': ZONES,
    'nova.host': HOSTS,
    'switch': DEMO_SWITCHES,
    'router': DEMO_ROUTERS,
}
ALL_COUNTS = dict(UNSCOPED_COUNTS, **{
    'nova.instance': INSTANCES,
    'neutron.port': INSTANCES,
    'neutron.network': NETWORKS,
    'cinder.volume': VOLUMES,
})
# Edges by label: cluster->zone, zone->host, host->instance, network->port
# contain; port->instance, volume->instance, switch->host attached;
# router->switch connect.
ALL_EDGES = {
    'contains': ZONES + HOSTS + INSTANCES + INSTANCES,
    'attached': INSTANCES + VOLUMES + HOSTS,
    'connect': DEMO_SWITCHES,
}
# The all-in-one's main() returns after stopping on SIGTERM: exit code 0.
CLEAN_EXIT = 0
STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 30


def start_all_in_one(deployment: deploy.Deployment,
                     tmp_path: pathlib.Path,
                     simulated: dict | None = None,
                     extra: dict | None = None
                     ) -> tuple[deploy.ServiceProcess, str]:
    """Start vitrage-all-in-one and wait until its graph is ready.

    :returns: the process and the API's base URL.
    """
    port = helpers.free_port()
    state = tmp_path / 'state'
    sections = {
        'DEFAULT': {'state_path': state},
        'api': {'port': port},
        'simulated': dict({
            'zones': ZONES, 'hosts_per_zone': HOSTS_PER_ZONE,
            'instances_per_host': INSTANCES_PER_HOST,
            'networks': NETWORKS, 'volume_ratio': VOLUME_RATIO,
        }, **(simulated or {})),
    }
    for group, options in (extra or {}).items():
        sections.setdefault(group, {}).update(options)
    config = deploy.write_config(tmp_path / 'vitrage.conf', sections)
    env = deploy.clean_env(XDG_STATE_HOME=str(tmp_path / 'xdg'))
    proc = deployment.start('all-in-one', 'vitrage-all-in-one', config,
                            env=env)
    base_url = 'http://127.0.0.1:%d' % port
    deploy.wait_for_api(base_url, deployment, STARTUP_TIMEOUT)
    return proc, base_url


def type_counts(items: list[dict], key: str) -> dict[str, int]:
    return dict(collections.Counter(item[key] for item in items))


def test_stock_client_against_the_all_in_one(deployment, tmp_path):
    proc, base_url = start_all_in_one(deployment, tmp_path)
    cli = deploy.Cli(base_url)

    # Project "p" owns nothing: it sees the entities without a project.
    scoped = cli.json('topology', 'show')
    assert type_counts(scoped['nodes'], 'vitrage_type') == UNSCOPED_COUNTS

    topology = cli.json('topology', 'show', '--all-tenants')
    nodes = topology['nodes']
    assert type_counts(nodes, 'vitrage_type') == ALL_COUNTS
    by_type = collections.defaultdict(list)
    for node in nodes:
        by_type[node['vitrage_type']].append(node)
    assert {n['id'] for n in by_type['nova.zone']} == {
        'zone-%d' % z for z in range(ZONES)}
    assert {n['id'] for n in by_type['nova.host']} == {
        'host-%d-%d' % (z, h) for z in range(ZONES)
        for h in range(HOSTS_PER_ZONE)}
    assert {n['name'] for n in by_type['nova.instance']} == {
        'vm-%d-%d-%d' % (z, h, i) for z in range(ZONES)
        for h in range(HOSTS_PER_ZONE) for i in range(INSTANCES_PER_HOST)}
    assert all(n['vitrage_operational_state'] == 'OK' for n in nodes)
    assert not any(n['vitrage_is_deleted'] for n in nodes)

    links = topology['links']
    assert all(link['key'] == link['relationship_type'] for link in links)
    assert type_counts(links, 'relationship_type') == ALL_EDGES
    edges = {(nodes[link['source']]['vitrage_type'],
              nodes[link['target']]['vitrage_type'],
              link['relationship_type']) for link in links}
    assert edges == {
        ('openstack.cluster', 'nova.zone', 'contains'),
        ('nova.zone', 'nova.host', 'contains'),
        ('nova.host', 'nova.instance', 'contains'),
        ('neutron.network', 'neutron.port', 'contains'),
        ('neutron.port', 'nova.instance', 'attached'),
        ('cinder.volume', 'nova.instance', 'attached'),
        ('switch', 'nova.host', 'attached'),
        ('router', 'switch', 'connect'),
    }
    # Every instance is contained by the host its name says.
    hosts_of = {}
    for link in links:
        source, target = nodes[link['source']], nodes[link['target']]
        if (source['vitrage_type'], target['vitrage_type']) == (
                'nova.host', 'nova.instance'):
            hosts_of[target['name']] = source['id']
    assert len(hosts_of) == INSTANCES
    for instance, host in hosts_of.items():
        assert host == 'host-' + instance[len('vm-'):].rsplit('-', 1)[0]

    resources = cli.json('resource', 'list', '-f', 'json')
    assert type_counts(resources, 'Type') == UNSCOPED_COUNTS
    assert {r['State'] for r in resources} == {'OK'}
    every = cli.json('resource', 'list', '--all-tenants', '-f', 'json')
    assert type_counts(every, 'Type') == ALL_COUNTS
    host = next(r for r in every if r['Data Source ID'] == 'host-0-1')
    assert host['Type'] == 'nova.host'
    assert host['Metadata']['name'] == 'host-0-1'

    shown = cli.json('resource', 'show', host['ID'], '-f', 'json')
    assert shown['vitrage_id'] == host['ID']
    assert shown['vitrage_type'] == 'nova.host'
    assert shown['vitrage_category'] == 'RESOURCE'
    assert shown['id'] == shown['name'] == 'host-0-1'
    assert shown['state'] == 'available'
    assert shown['vitrage_operational_state'] == 'OK'
    assert shown['vitrage_datasource_name'] == 'simulated'
    assert shown['vitrage_is_deleted'] is False
    assert shown['vitrage_is_placeholder'] is False

    assert cli.json('resource', 'count') == UNSCOPED_COUNTS
    assert cli.json('resource', 'count', '--all-tenants') == ALL_COUNTS
    status = cli.run('status')
    assert 'reason' in status.stdout and 'OK' in status.stdout

    # Without authentication headers at all, the same graph.
    anonymous = deploy.Cli(base_url, auth='none')
    topology_none = anonymous.json('topology', 'show', '--all-tenants')
    assert deploy.topology_summary(topology_none) == \
        deploy.topology_summary(topology)
    assert type_counts(anonymous.json('resource', 'list', '--all-tenants',
                                      '-f', 'json'), 'Type') == ALL_COUNTS
    assert 'OK' in anonymous.run('status').stdout

    # The embedded database lives in the configured state directory.
    assert (tmp_path / 'state' / 'vitrage.sqlite').is_file()

    code = proc.terminate(STOP_TIMEOUT)
    assert code == CLEAN_EXIT, 'all-in-one did not exit cleanly on ' \
        'SIGTERM (exit status %r)\n%s' % (code, deployment.logs())
    assert deploy.http_status(base_url + '/v1/status/', timeout=2) is None


def test_simulated_failures_show_and_recover(deployment, tmp_path):
    # One host fails every FAILURE_INTERVAL seconds (at epoch multiples)
    # for RECOVERY_AFTER seconds; the graph polls every second.
    failure_interval, recovery_after = 20, 10
    proc, base_url = start_all_in_one(
        deployment, tmp_path,
        simulated={'zones': 1, 'hosts_per_zone': 3,
                   'instances_per_host': 2, 'changes_interval': 1,
                   'failure_interval': failure_interval,
                   'recovery_after': recovery_after},
        extra={'datasources': {'types': 'simulated',
                               'changes_interval': 1}})
    cli = deploy.Cli(base_url)

    def instances() -> dict[str, str]:
        listed = cli.json('resource', 'list', '--all-tenants', '-f', 'json')
        return {r['Metadata']['name']: r['State'] for r in listed
                if r['Type'] == 'nova.instance'}

    first = instances()
    assert len(first) == 3 * 2

    def hosts(names) -> set[str]:
        # vm-<zone>-<host>-<i> runs on host-<zone>-<host>.
        return {'host-' + name[len('vm-'):].rsplit('-', 1)[0]
                for name in names}

    seen_ok: set[str] = set()

    def newly_failed_hosts() -> set[str]:
        """Hosts seen with all instances OK, now with all in ERROR."""
        states = instances()
        by_host = collections.defaultdict(set)
        for name, state in states.items():
            by_host[hosts([name]).pop()].add(state)
        failed = {h for h, seen in by_host.items() if seen == {'ERROR'}}
        found = failed & seen_ok
        seen_ok.update(h for h, seen in by_host.items() if seen == {'OK'})
        return found

    broken = deploy.wait_until(newly_failed_hosts,
                               2 * failure_interval + 30,
                               'a host with all its instances going from '
                               'OK to ERROR', interval=0.2,
                               deployment=deployment)
    host = sorted(broken)[0]
    on_host = {name for name in first if hosts([name]) == {host}}
    assert len(on_host) == 2

    def recovered() -> bool:
        states = instances()
        return all(states[name] == 'OK' for name in on_host)

    deploy.wait_until(recovered, recovery_after + 30,
                      'the instances of %s back to OK' % host,
                      interval=0.2, deployment=deployment)
    assert proc.poll() is None
