"""The in-process message transport of the all-in-one and the tests.

kombu's ``memory`` transport, woken by each new message instead of
polling. oslo.messaging sets the polling interval of a ``memory://``
connection to zero ("to speed up tests"), so every idle listener of a
process spins on ``sleep(0)``: an idle all-in-one burnt a whole core.
Here a listener with nothing to read waits on a condition that each
message put into any queue notifies, so it costs nothing while idle and
still gets a message as soon as it is sent.

Use it as ``transport_url = kombu+vitrage-memory:////``. Like kombu's
memory transport it only carries messages between the threads of one
process.
"""
import collections
import queue
import socket
import threading
import time
from typing import Any

from kombu import transport as kombu_transport
from kombu.transport import memory
from kombu.transport import virtual

#: The kombu transport name: ``kombu+vitrage-memory:////`` for
#: oslo.messaging.
SCHEME = 'vitrage-memory'
URL = 'kombu+%s:////' % SCHEME

#: How long a listener waits at most before it looks again anyway.
_LONGEST_WAIT = 1.0

_arrived = threading.Condition()
_arrivals = 0


def _notify() -> None:
    global _arrivals
    with _arrived:
        _arrivals += 1
        _arrived.notify_all()


class Channel(memory.Channel):
    """kombu's memory channel that notifies waiting listeners."""

    # Queues of its own: not shared with kombu's memory transport.
    events: dict = collections.defaultdict(set)
    queues: dict = {}

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        super()._put(queue, message, **kwargs)
        _notify()

    def _put_fanout(self, exchange: str, message: Any,
                    routing_key: str | None = None, **kwargs: Any) -> None:
        super()._put_fanout(exchange, message, routing_key, **kwargs)
        _notify()


class Transport(memory.Transport):
    """kombu's memory transport whose idle listeners sleep."""

    Channel = Channel
    global_state = virtual.BrokerState()
    driver_type = 'memory'
    driver_name = SCHEME

    def drain_events(self, connection: Any,
                     timeout: float | None = None) -> None:
        """Deliver one message to its consumer, waiting for it.

        :param connection: this transport's connection (kombu's API).
        :param timeout: seconds to wait, or None for no limit.
        :raises socket.timeout: when no message came in ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with _arrived:
                seen = _arrivals
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except queue.Empty:
                pass
            wait = _LONGEST_WAIT
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise socket.timeout()
            with _arrived:
                _arrived.wait_for(lambda: _arrivals != seen, timeout=wait)


def register() -> None:
    """Make ``vitrage-memory`` a kombu transport name (idempotent)."""
    kombu_transport.TRANSPORT_ALIASES.setdefault(
        SCHEME, '%s:Transport' % __name__)
