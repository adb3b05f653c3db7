"""The soak tier: the HA contract under a steady load (issue 11).

Three minutes of 25 doctor events per second through ``POST /v1/event``
on a whole deployment (two hot-standby graphs, two collectors, one
persistor, the API, the ``host_down`` template) on a private RabbitMQ
and a private MariaDB, while the active graph is killed (kill -9 of its
process group, restarted as systemd would) every 20 to 40 s, and the
persistor, a collector, RabbitMQ and MariaDB are each killed or
restarted once. Then:

* nothing accepted is lost: every event the API answered 2xx for is in
  the events table (duplicates are allowed);
* nothing is refused, but while RabbitMQ itself is down or the API is
  reconnecting to it (10 s at most): there is no durable intake then;
  those refusals are printed apart;
* every host is in the right state: its doctor alarm, and the
  template's alarms on its instances, are raised in the graph and listed
  by ``alarm list`` iff the last event accepted for it was ``down``;
* the final graph equals a fresh graph fed the same final inputs;
* no two graphs were active at once.

The figures are printed (``-s``), with the seed:
``VITRAGE_SOAK_SEED`` repeats a run's disruption moments. The harness is
:mod:`vitrage.tests.integration.soak`; ``bench/soak.py`` is the long run.
"""
import os
import time

import pytest

from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers
from vitrage.tests.integration.private_servers import (  # noqa: F401
    private_mariadb_fixture)
from vitrage.tests.integration.private_servers import (  # noqa: F401
    private_rabbit_fixture)
from vitrage.tests.integration import services
from vitrage.tests.integration import soak
from vitrage.tests.integration import soak_disrupt

#: Seconds of load: with start-up and the checks, under six minutes.
LOAD_SECONDS = 180
RATE = 25


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_soak_nothing_accepted_is_lost(deployment, tmp_path, private_rabbit,
                                       private_mariadb, conf):
    seed = int(os.environ.get('VITRAGE_SOAK_SEED') or time.time_ns())
    print('VITRAGE_SOAK_SEED=%d' % seed)
    db_url = services.create_database(private_mariadb.url,
                                      helpers.unique_name('vitrage_soak'))
    cluster = soak.SoakCluster(deployment, tmp_path, private_rabbit.url,
                               db_url, hosts=30, instances_per_host=2)
    try:
        cluster.start()
        result = soak.run_soak(
            cluster, soak.SoakParams(seed=seed, rate=RATE,
                                     load_seconds=LOAD_SECONDS,
                                     graph_every=(20, 40)),
            conf, rabbit=private_rabbit, mariadb=private_mariadb)
        print(result.table())
        done = {d.action for d in result.disruptions}
        assert done == {soak_disrupt.GRAPH, soak_disrupt.PERSISTOR,
                        soak_disrupt.COLLECTOR, soak_disrupt.RABBIT,
                        soak_disrupt.MARIADB}, result.table()
        assert not [d for d in result.disruptions if d.error], \
            result.table()
        assert result.lost == [], result.table()
        assert result.refused_count == 0, result.table()
        assert result.wrong_hosts == {}, result.table()
        assert result.graph_diff == '', result.table()
        assert result.two_actives == [], result.table()
        # Every graph kill was followed by a takeover: the API served
        # again and a later term was taken.
        for disruption in result.disruptions:
            if disruption.action == soak_disrupt.GRAPH:
                assert disruption.gap is not None, result.table()
                assert disruption.new_term > disruption.old_term, \
                    result.table()
    finally:
        cluster.cleanup()
