"""The soak's load: doctor events posted at a steady rate.

:class:`LoadGenerator` posts ``rate`` events per second through
``POST /v1/event``, host after host, each host alternating ``down`` and
``up``; each event carries ``details.event_id`` ``<run>-<n>``, which the
graph logs with the entity event (the ``events`` table's JSON payload).
An event is *accepted* when the API answered 2xx and *refused* otherwise
(by status; ``None`` when nothing answered). It stops by itself after
``max_events`` or ``seconds``; then a final round sends one more event
per host, at least :data:`FINAL_SPACING` s after that host's previous
one (doctor times have whole seconds), so that the last event of each
host is unambiguous.
"""
from collections.abc import Callable
import concurrent.futures
import dataclasses
import datetime
import threading
import time

DOCTOR_TYPE = 'compute.host.down'
#: Seconds between the last event of a host and its final one.
FINAL_SPACING = 1.2


@dataclasses.dataclass
class SentEvent:
    """One posted doctor event and the API's answer."""

    event_id: str
    host: str
    status: str
    #: ``time.monotonic()`` when it was sent and answered.
    sent_at: float
    answered_at: float = 0.0
    #: The HTTP status; None when nothing answered.
    http_status: int | None = None
    final: bool = False

    @property
    def accepted(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def doctor_event(event_id: str, host: str, status: str) -> dict:
    """The body of ``POST /v1/event`` for one doctor event."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {'type': DOCTOR_TYPE,
            'time': now.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
            'details': {'hostname': host, 'status': status,
                        'source': 'soak', 'event_id': event_id}}


class LoadGenerator:
    """Posts doctor events at a steady rate from a few threads.

    :param post: posts one body; returns the HTTP status or None.
    :param hosts: the hosts, visited in turn.
    :param rate: events per second.
    :param max_events: stop after this many (the final round aside).
    :param seconds: stop after this long.
    :param run_id: the prefix of the event ids.
    :param workers: threads posting at once.
    """

    def __init__(self, post: Callable[[dict], int | None], hosts: list[str],
                 rate: float, max_events: int, seconds: float, run_id: str,
                 workers: int = 8) -> None:
        if rate <= 0 or not hosts:
            raise ValueError('the load needs a rate > 0 and hosts, got %r '
                             'and %d hosts' % (rate, len(hosts)))
        self.post = post
        self.hosts = hosts
        self.rate = rate
        self.max_events = max_events
        self.seconds = seconds
        self.run_id = run_id
        self.sent: list[SentEvent] = []
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix='soak-load')
        self._futures: list[concurrent.futures.Future] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='soak-load')
        self._next_status = {host: 'down' for host in hosts}
        self.started_at = 0.0
        self.stopped_at = 0.0

    def start(self) -> 'LoadGenerator':
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending before the bounds are reached."""
        self._stop.set()

    def _send(self, host: str, final: bool = False) -> None:
        status = self._next_status[host]
        self._next_status[host] = 'up' if status == 'down' else 'down'
        with self._lock:
            event = SentEvent('%s-%d' % (self.run_id, len(self.sent)), host,
                              status, time.monotonic(), final=final)
            self.sent.append(event)
        body = doctor_event(event.event_id, host, status)
        self._futures.append(self._pool.submit(self._post, event, body))

    def _post(self, event: SentEvent, body: dict) -> None:
        try:
            event.http_status = self.post(body)
        except Exception:  # counted as refused (nothing answered)
            event.http_status = None
        event.answered_at = time.monotonic()

    def _run(self) -> None:
        count = 0
        while not self._stop.is_set() and count < self.max_events:
            due = self.started_at + count / self.rate
            if due - self.started_at > self.seconds:
                break
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            self._send(self.hosts[count % len(self.hosts)])
            count += 1
        self.stopped_at = time.monotonic()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the load ended and every answer is in."""
        self._thread.join(timeout)
        for future in list(self._futures):
            future.result(timeout)

    def final_round(self) -> None:
        """One last event per host, at least :data:`FINAL_SPACING` s after
        that host's previous one; waits for every answer.
        """
        self.wait()
        last = {}
        for event in self.sent:
            last[event.host] = event.sent_at
        for host in self.hosts:
            delay = last.get(host, 0) + FINAL_SPACING - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._send(host, final=True)
            time.sleep(1 / self.rate)
        for future in list(self._futures):
            future.result()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def expected_down(self) -> dict[str, bool]:
        """Whether each host's last accepted event was ``down``."""
        expected = {host: False for host in self.hosts}
        for event in self.sent:
            if event.accepted:
                expected[event.host] = event.status == 'down'
        return expected
