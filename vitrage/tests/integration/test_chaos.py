"""Ten kill -9 of the active graph under a steady load (HA contract,
promises 1, 2, 4 and 7).

Real processes on RabbitMQ (durable queues) and MariaDB: a collector
running the ``simulated`` datasource with a failure schedule (a host goes
down or comes back nearly every second, polled every second), a
persistor, an API and two ``vitrage-graph`` processes. One graph worker
holds the term, the other waits as a standby (cold, or hot following the
events table). Ten times, at a random moment, the active worker gets
SIGKILL; the standby takes the next term and serves, and cotyledon starts
a new worker in the killed one's process, which waits as a standby.

Then the load stops (the collector is stopped) and the graph settles.
Its topology must equal a reference graph built afresh from the
simulated cloud at the moment of the graph's last change (vertices,
states, edges). An eleventh kill, with no collector left to re-sample
anything, must give back exactly that graph from the snapshot and the
events log alone.

``VITRAGE_CHAOS_SEED`` repeats a run's kill moments (the seed is printed).
"""
import os
import random
import time

import pytest

from vitrage.common import timeutils
from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers
from vitrage.tests.integration import chaos
from vitrage.tests.integration import persistor_procs

KILLS = 10
LEASE = 2.0
STARTUP_TIMEOUT = 90
TAKEOVER_TIMEOUT = 60


def _summary(topology: dict) -> tuple[dict, set]:
    return deploy.topology_summary(topology)


def _settled_topology(url: str, deployment: deploy.Deployment) -> dict:
    """The topology once two readings 2 s apart agree."""
    previous = None

    def settled():
        nonlocal previous
        current = chaos.topology(url)
        if current is None:
            return None
        if previous is not None and _summary(current) == _summary(
                previous):
            return current
        previous = current
        return None

    return deploy.wait_until(settled, 60, 'the graph to settle',
                             interval=2, deployment=deployment)


@pytest.mark.slow
@pytest.mark.parametrize('standby_mode', ['cold', 'hot'])
def test_ten_kills_of_the_active_graph_under_load(
        deployment, tmp_path, rabbit_transport_url, mysql_database, conf,
        standby_mode):
    seed = int(os.environ.get('VITRAGE_CHAOS_SEED') or time.time_ns())
    print('VITRAGE_CHAOS_SEED=%d' % seed)
    rng = random.Random(seed)
    prefix = chaos.unique_prefix('chaos')
    port = helpers.free_port()
    url = 'http://127.0.0.1:%d' % port
    config = chaos.write_config(tmp_path, prefix, rabbit_transport_url,
                                mysql_database, port, lease=LEASE,
                                standby_mode=standby_mode)
    persistor_procs.dbsync(str(config))
    try:
        collector = deployment.start('collector', 'vitrage-collector',
                                     config)
        deployment.start('persistor', 'vitrage-persistor', config)
        graphs = [deployment.start('graph-a', 'vitrage-graph', config)]
        deployment.start('api', 'vitrage-api', config)
        deploy.wait_for_api(url, deployment, timeout=STARTUP_TIMEOUT)
        graphs.append(deployment.start('graph-b', 'vitrage-graph', config))
        deploy.wait_until(lambda: ' standby: term ' in graphs[1].log(),
                          STARTUP_TIMEOUT, 'graph-b to wait as a standby',
                          deployment=deployment)

        term, holder = chaos.term_holder(mysql_database)
        first_term = term
        takeovers = []
        for _kill in range(KILLS):
            time.sleep(rng.uniform(0.2, 2.5))
            term, holder = chaos.term_holder(mysql_database)
            chaos.kill_worker(chaos.holder_pid(holder))
            new_term, new_holder, waited = chaos.wait_takeover(
                mysql_database, url, term, deployment, TAKEOVER_TIMEOUT)
            assert new_holder != holder
            takeovers.append((term, new_term, round(waited, 1)))
            term, holder = new_term, new_holder
        print('takeovers (old term, new term, seconds):', takeovers)
        assert term >= first_term + KILLS
        # Each kill left its graph process running, with a new standby
        # worker: the two masters are both still up.
        deployment.check_alive()

        # The last term handles changes too before the load stops.
        deploy.wait_until(
            lambda: chaos.event_positions(mysql_database).get(term), 60,
            'events of term %d in the log' % term, deployment=deployment)
        # Quiesce: no more changes; the graph keeps what it has.
        assert collector.terminate(30) is not None, deployment.logs()
        settled = _settled_topology(url, deployment)
        final = _summary(settled)
        assert len(final[0]) == chaos.CLOUD_VERTICES

        # A graph that never failed, fed the cloud as it was at the last
        # change the graph saw (the sample date has whole seconds, and
        # the schedule changes on whole seconds; the second after it is
        # allowed for a sample stamped just before a second ended).
        last = timeutils.parse_sample(chaos.latest_sample(settled))
        chaos.parse_config(conf, config)
        references = [_summary(chaos.reference_topology(
            conf, last.timestamp() + offset))
            for offset in (0.5, 1.5)]
        assert final in references, chaos.diff(final, references[0])
        # Every state the graph holds came through the events log.
        from_log = _summary(chaos.log_topology(conf, mysql_database))
        assert from_log == final, chaos.diff(final, from_log)

        # Eleventh kill, no collector: the graph comes back from the
        # snapshot and the events log alone, unchanged.
        quiet_term, holder = chaos.term_holder(mysql_database)
        chaos.kill_worker(chaos.holder_pid(holder))
        last_term, _holder, _waited = chaos.wait_takeover(
            mysql_database, url, quiet_term, deployment, TAKEOVER_TIMEOUT)
        restored = chaos.topology(url)
        assert restored is not None
        assert _summary(restored) == final, chaos.diff(
            _summary(restored), final)

        # Only the first activation started empty; every takeover
        # restored the snapshot and the log.
        logs = ''.join(g.log() for g in graphs)
        assert logs.count('restored from') == \
            last_term - first_term, logs[-6000:]
        assert logs.count('a fresh start') == 1, logs[-6000:]
        # The term killed while idle handed every event it handled to
        # the persistor: its seqs are 1..N with no hole.
        positions = chaos.event_positions(mysql_database)
        quiet = positions.get(quiet_term, [])
        assert quiet and quiet == list(range(1, len(quiet) + 1))
        # The load reached the log throughout: most terms logged events.
        assert len(positions) > KILLS // 2, sorted(positions)
    finally:
        deployment.cleanup()
        chaos.delete_broker_objects(rabbit_transport_url, prefix,
                                    deployment)
