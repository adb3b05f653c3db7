"""One active graph: a standby takes over when the active is killed.

Real processes (collector, persistor, two graphs, API), RabbitMQ with
durable queues and MariaDB. The active graph holds a term with a lease
in the database, and its lock queue on the broker; the standby waits.
After ``kill -9`` of the active graph's whole process group the standby
takes the next term: at once through the broker lock (the lease is one
minute then, so only the lock can explain the takeover), when the
lease expires without it (the two graphs on two hosts), or at once when
the standby runs on the dead graph's host and sees its process gone (no
broker lock, a one-minute lease: the case of a graph restarted alone).
It restores the snapshot taken after the first get_all plus the logged
events, and the API answers again with the same topology, the alarms
and states a template deduced included, without deducing them again.
The ten kills under load are in test_chaos.
"""
import re
import time

import psutil
import pytest
import sqlalchemy as sa
import yaml

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers
from vitrage.tests.integration import persistor_procs
from vitrage.tests.integration import test_distributed

LEASE = 4
# Deduces an alarm and a state on each switch: the failover must keep
# them, from the logged action events, without deducing them again.
TEMPLATE = """
metadata: {version: 3, type: standard, name: rack_switches}
entities:
  rack: {category: RESOURCE, type: rack}
  switch: {category: RESOURCE, type: switch}
scenarios:
  - condition: rack [contains] switch
    actions:
      - raise_alarm: {target: switch, alarm_name: in_rack, severity: WARNING}
      - set_state: {target: switch, state: SUBOPTIMAL}
"""
#: The lease when the broker lock is on: takeover must not wait for it.
LONG_LEASE = 60


def _static(directory):
    directory.mkdir()
    (directory / 'dc.yaml').write_text(yaml.safe_dump({
        'metadata': {'name': 'dc'},
        'definitions': {
            'entities': [
                {'static_id': s, 'type': t, 'id': s, 'name': s,
                 'state': 'available'}
                for s, t in (('sw-1', 'switch'), ('sw-2', 'switch'),
                             ('rack-1', 'rack'))],
            'relationships': [
                {'source': 'rack-1', 'target': 'sw-1',
                 'relationship_type': 'contains'},
                {'source': 'rack-1', 'target': 'sw-2',
                 'relationship_type': 'contains'}]}}))


def _term(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                'SELECT term, holder FROM graph_term')).one()
    finally:
        engine.dispose()


def _event_terms(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(sa.text(
                'SELECT term, COUNT(*) FROM events GROUP BY term')).all())
    finally:
        engine.dispose()


def _owner(graphs, holder):
    """The graph process whose worker holds the term."""
    pid = int(holder.rsplit(':', 1)[1])
    for graph in graphs:
        master = psutil.Process(graph.pid)
        if pid == graph.pid or pid in [c.pid for c in master.children(
                recursive=True)]:
            return graph
    raise AssertionError('no graph process has pid %d' % pid)


#: How the standby takes over: (broker lock on, lease, the graphs on one
#: host, what the standby's log must say).
WAYS = {
    'broker-lock': (True, LONG_LEASE, False, 'the broker lock of %s'),
    'lease': (False, LEASE, False, None),
    'dead-local-holder': (False, LONG_LEASE, True,
                          'its holder %s, a process of this host, is gone'),
}


@pytest.mark.parametrize('way', sorted(WAYS))
def test_standby_takes_over_after_kill_9(deployment, tmp_path,
                                         rabbit_transport_url,
                                         mysql_database, way):
    broker_lock, lease, same_host, reason = WAYS[way]
    prefix = helpers.unique_name('vitrage_failover')
    _static(tmp_path / 'static')
    (tmp_path / 'templates').mkdir()
    (tmp_path / 'templates' / 'rack.yaml').write_text(TEMPLATE)
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    config = deploy.write_config(tmp_path / 'vitrage.conf', {
        'DEFAULT': {'transport_url': rabbit_transport_url,
                    'control_exchange': prefix,
                    'state_path': tmp_path / 'state',
                    'host': 'failover-host'},
        'database': {'connection': mysql_database},
        'oslo_messaging_rabbit': {'amqp_durable_queues': 'true'},
        'api': {'host': '127.0.0.1', 'port': port, 'auth_mode': 'noauth',
                'graph_rpc_timeout': 10},
        'datasources': {'types': 'static', 'ping_timeout': 3},
        'static': {'directory': tmp_path / 'static'},
        'evaluator': {'templates_dir': tmp_path / 'templates'},
        'collector': {'topic': prefix + '_collector'},
        'entity_graph': {'topic': prefix + '_graph',
                         'events_topic': prefix + '_events',
                         'lease_time': lease, 'heartbeat_interval': 1,
                         'broker_lock': str(broker_lock).lower()},
        'persistency': {'persistor_topic': prefix + '_persistor',
                        'purge_interval': 0},
    })
    persistor_procs.dbsync(str(config))
    # The standby on another host, unless the case is the same host.
    other = tmp_path / 'vitrage-b.conf'
    other.write_text(config.read_text().replace(
        'host = failover-host', 'host = %s' % (
            'failover-host' if same_host else 'failover-host-b'), 1))
    try:
        deployment.start('collector', 'vitrage-collector', config)
        deployment.start('persistor', 'vitrage-persistor', config)
        graphs = [deployment.start('graph-a', 'vitrage-graph', config)]
        deployment.start('api', 'vitrage-api', config)
        deploy.wait_for_api(url, deployment, timeout=90)
        graphs.append(deployment.start('graph-b', 'vitrage-graph', other))
        cli = deploy.Cli(url)
        before = deploy.topology_summary(
            cli.json('topology', 'show', '--all-tenants'))
        assert sorted(v[0] for v in before[0].values()) == [
            'rack', 'switch', 'switch', 'vitrage', 'vitrage']
        assert sorted(v[3] for v in before[0].values()
                      if v[0] == 'switch') == ['SUBOPTIMAL', 'SUBOPTIMAL']
        term1, holder1 = _term(mysql_database)
        # The standby waits: it does not take a term while the lease runs.
        time.sleep(LEASE + 2)
        assert _term(mysql_database) == (term1, holder1)

        active = _owner(graphs, holder1)
        standby = graphs[1] if active is graphs[0] else graphs[0]
        active.kill_group()
        deployment.processes.remove(active)

        term2, holder2 = deploy.wait_until(
            lambda: (lambda row: row if row[0] > term1 else None)(
                _term(mysql_database)),
            LONG_LEASE - 10 if lease == LONG_LEASE else 60,
            'the standby to take a new term', deployment=deployment)
        assert term2 == term1 + 1 and holder2 != holder1
        for other_way, (_lock, _lease, _host, said) in WAYS.items():
            if said is not None:
                assert ((said % holder1) in standby.log()) == \
                    (other_way == way), standby.log()[-3000:]
        assert _owner([standby], holder2) is standby
        deploy.wait_for_api(url, deployment, timeout=90)
        after = deploy.topology_summary(
            cli.json('topology', 'show', '--all-tenants'))
        assert after == before
        # The deductions came back with the log; none was made again.
        assert ', 0 action events' in standby.log(), standby.log()[-3000:]
        # It started from the snapshot taken after the first get_all,
        # plus the log, not from a new get_all.
        assert 'restored from' in standby.log(), standby.log()[-3000:]
        # The new term's handled events reach the events table too.
        deploy.wait_until(
            lambda: _event_terms(mysql_database).get(term2, 0) >= 3, 60,
            'events of the new term in the events table',
            deployment=deployment)
    finally:
        names = {prefix + '_collector', prefix + '_graph',
                 prefix + '_graph.active_graph',
                 prefix + '_graph.failover-host',
                 prefix + '_graph.failover-host-b', prefix + '_events.info'}
        for proc in deployment.processes:
            names.update('%s_collector.%s' % (prefix, collector_id)
                         for collector_id in re.findall(
                             r'collector (\S+) serving', proc.log()))
        deployment.cleanup()
        test_distributed.delete_queues(rabbit_transport_url, names)
        persistor_procs.delete_queues(rabbit_transport_url,
                                      prefix + '_persistor')
