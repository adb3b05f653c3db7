"""The all-in-one's in-memory transport: delivers, and idles asleep."""
import threading
import uuid

import kombu
from oslo_config import cfg
import oslo_messaging
import pytest

from vitrage.common import memory_transport


class Echo:
    target = oslo_messaging.Target(version='1.0')

    def __init__(self) -> None:
        self.casts: list[int] = []
        self.cast_seen = threading.Event()

    def echo(self, ctx: dict, value: int) -> int:
        return value + 1

    def remember(self, ctx: dict, value: int) -> None:
        self.casts.append(value)
        self.cast_seen.set()


@pytest.fixture
def transport(conf: cfg.ConfigOpts):
    transport = oslo_messaging.get_rpc_transport(
        conf, url=memory_transport.URL)
    yield transport
    transport.cleanup()


@pytest.fixture
def counted_gets(monkeypatch):
    """How many times listeners looked into their queues."""
    calls = []
    real = memory_transport.Channel._get

    def _get(self, queue, timeout=None):
        calls.append(queue)
        return real(self, queue, timeout)
    monkeypatch.setattr(memory_transport.Channel, '_get', _get)
    return calls


def test_calls_casts_and_fanout_are_delivered(transport):
    topic = 'echo-%s' % uuid.uuid4().hex
    endpoint = Echo()
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=topic, server='s1'),
        [endpoint], executor='threading')
    server.start()
    try:
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic), timeout=30)
        assert [client.call({}, 'echo', value=i) for i in range(50)] == \
            list(range(1, 51))
        client.prepare(fanout=True).cast({}, 'remember', value=7)
        assert endpoint.cast_seen.wait(30)
        assert endpoint.casts == [7]
    finally:
        server.stop()
        server.wait()


def test_a_waiting_listener_is_woken_by_a_message(monkeypatch):
    # The reader waits up to a minute and looks again only after an hour:
    # it gets the message at once only because the message woke it.
    monkeypatch.setattr(memory_transport, '_LONGEST_WAIT', 3600)
    name = 'wake-%s' % uuid.uuid4().hex
    got: list = []
    with kombu.Connection(memory_transport.SCHEME + '://') as reader, \
            kombu.Connection(memory_transport.SCHEME + '://') as writer:
        inbox = reader.SimpleQueue(name)
        outbox = writer.SimpleQueue(name)

        def read() -> None:
            message = inbox.get(block=True, timeout=60)
            got.append(message.payload)
            message.ack()
        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        threading.Event().wait(0.5)       # the reader is waiting now
        outbox.put({'hello': 1})
        thread.join(timeout=20)
        assert got == [{'hello': 1}]
        inbox.close()
        outbox.close()


def test_an_idle_listener_does_not_spin(transport, counted_gets):
    # oslo.messaging polls a memory:// connection with no pause at all
    # (an idle all-in-one burnt a core); ours waits for messages.
    topic = 'idle-%s' % uuid.uuid4().hex
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=topic, server='s1'),
        [Echo()], executor='threading')
    server.start()
    try:
        threading.Event().wait(0.5)
        counted_gets.clear()
        threading.Event().wait(2)
        # A few looks a second at most (kombu's memory:// made tens of
        # thousands in the same time).
        assert len(counted_gets) < 100
    finally:
        server.stop()
        server.wait()


def test_the_scheme_is_registered_once():
    from kombu import transport as kombu_transport
    memory_transport.register()
    memory_transport.register()
    assert kombu_transport.resolve_transport(memory_transport.SCHEME) is \
        memory_transport.Transport
