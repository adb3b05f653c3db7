"""Large graph answers on a real RabbitMQ with a small max_message_size.

RabbitMQ refuses a message larger than its ``max_message_size`` (16 MiB by
default since RabbitMQ 4.0): a whole-graph answer of a large graph must
travel in parts. A private node with a 256 KiB limit stands for a real
deployment with a graph a hundred times larger.
"""
import threading

from oslo_config import cfg
import oslo_messaging
import pytest

from vitrage.graph import rpcapi
from vitrage.graph import views
from vitrage.tests import helpers
from vitrage.tests.integration import private_servers
from vitrage.tests.unit.graph import sample_graph

LIMIT = 256 * 1024
CTX = {'user_id': 'u', 'project_id': 'p1', 'roles': ['admin'],
       'is_admin': True}


class Holder:
    def __init__(self, switches: int) -> None:
        self.graph = sample_graph.build()
        for i in range(switches):
            self.graph.add_vertex('sw%d' % i, {
                'vitrage_category': 'RESOURCE', 'vitrage_type': 'switch',
                'vitrage_is_deleted': False, 'vitrage_is_placeholder': False,
                'name': 'switch-%d' % i, 'id': 'sw-%d' % i,
                'state': 'available', 'project_id': 'p1',
                'serial': helpers.unique_name('serial')})
            self.graph.add_edge('zone', 'sw%d' % i, 'contains')
        self.lock = threading.RLock()

    def is_ready(self) -> bool:
        return True


@pytest.fixture
def small_broker():
    with private_servers.private_rabbit(
            'max_message_size = %d\n' % LIMIT) as server:
        yield server


def test_answers_larger_than_a_broker_message_come_in_parts(
        conf: cfg.ConfigOpts, small_broker):
    topic = helpers.unique_name('vitrage_test_graph')
    conf.set_override('topic', topic, 'entity_graph')
    conf.set_override('answer_part_size', 128 * 1024, 'entity_graph')
    conf.set_override('graph_rpc_timeout', 10, 'api')
    transport = oslo_messaging.get_rpc_transport(conf,
                                                 url=small_broker.url)
    holder = Holder(30000)
    server = rpcapi.get_server(conf, transport, holder, 'big-graph')
    server.start()
    try:
        expected = views.topology(holder.graph, CTX, all_tenants=True)
        client = rpcapi.GraphClient(conf, transport)
        whole = client._client.prepare(timeout=10)

        # In one message the answer is refused by the broker: the caller
        # gets no answer (what a client older than 1.2 would see).
        with pytest.raises(oslo_messaging.MessagingTimeout):
            whole.call(dict(CTX, require_ready=True), 'get_topology',
                       graph_type='graph', depth=None, query=None,
                       root=None, all_tenants=True)

        result = client.get_topology(CTX, 'graph', None, None, None, True)
        assert len(result) > 2 * LIMIT
        assert result.decode_result() == expected
        resources = client.list_resources(CTX, 'switch', True, None)
        assert len(resources.decode_result()) == 30000
    finally:
        server.stop()
        server.wait()
        transport.cleanup()
