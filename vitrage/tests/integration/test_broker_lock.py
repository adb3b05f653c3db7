"""The active graph's lock queue on the real RabbitMQ: held while its
process lives, gone as soon as the process is killed (SIGKILL)."""
import subprocess
import sys

from oslo_config import cfg

from vitrage.graph import liveness
from vitrage.tests import deployment as deploy
from vitrage.tests import helpers

HOLDER = '''
import sys, time
from vitrage.graph.liveness import BrokerLock
print(BrokerLock(sys.argv[1], sys.argv[2]).hold(), flush=True)
time.sleep(600)
'''


def kombu_url(conf: cfg.ConfigOpts, transport_url: str) -> str | None:
    liveness.broker_urls(conf)      # registers transport_url
    conf.set_override('transport_url', transport_url)
    return liveness.broker_urls(conf)


def test_lock_is_held_while_the_holder_lives(conf, rabbit_transport_url):
    url = kombu_url(conf, rabbit_transport_url)
    assert url is not None and url.startswith('amqp://')
    name = helpers.unique_name('vitrage_test_lock') + '.active_graph'
    probe = liveness.BrokerLock(url, name)
    assert probe.probe() == liveness.FREE
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, url, name],
                              stdout=subprocess.PIPE, text=True,
                              env=deploy.clean_env())
    try:
        assert holder.stdout.readline().strip() == 'True'
        assert probe.probe() == liveness.HELD
        # A second holder cannot take it.
        assert not liveness.BrokerLock(url, name).hold()
        holder.kill()
        holder.wait(30)
        helpers.wait_for(lambda: probe.probe() == liveness.FREE, 30,
                         'the lock gone with its killed holder')
        mine = liveness.BrokerLock(url, name)
        assert mine.hold()
        assert probe.probe() == liveness.HELD
        mine.release()
        assert probe.probe() == liveness.FREE
    finally:
        holder.kill()
        probe.close()


def test_no_lock_without_rabbitmq(conf):
    liveness.broker_urls(conf)      # registers transport_url
    conf.set_override('transport_url', 'kombu+memory:////')
    assert liveness.broker_urls(conf) is None
