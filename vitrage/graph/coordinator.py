"""The event coordinator: two priority queues, one processing thread.

Evaluator actions (high priority) are taken before datasource events (low
priority), and all graph changes happen on the coordinator's thread under
the graph lock, so readers holding the lock see a consistent graph.
"""
import collections
from collections.abc import Callable
import dataclasses
import threading
import time
from typing import Any

from oslo_log import log

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class Work:
    """A batch of entity events (or a callable) to run on the graph."""

    events: list[dict] = dataclasses.field(default_factory=list)
    request_id: str | None = None
    call: Callable[[], Any] | None = None
    done: threading.Event = dataclasses.field(
        default_factory=threading.Event)
    error: BaseException | None = None
    #: What the events handler returned for this batch.
    result: Any = None


class EventCoordinator:
    """Feeds work to a handler on one thread, high priority first."""

    def __init__(self, handle_events: Callable[[list[dict]], Any],
                 lock: threading.RLock) -> None:
        """
        :param handle_events: applies a list of events to the graph (runs
            with ``lock`` held).
        :param lock: the graph lock.
        """
        self._handle_events = handle_events
        self._lock = lock
        self._high: collections.deque[Work] = collections.deque()
        self._low: collections.deque[Work] = collections.deque()
        self._cond = threading.Condition()
        self._progress: dict[str, int] = collections.Counter()
        self._progress_cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        #: time.monotonic() when the current work began; None when idle.
        self._busy_since: float | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop,
                                        name='event-coordinator',
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def submit(self, work: Work, high: bool = False) -> Work:
        """Queue work; ``work.done`` is set once it has run."""
        with self._cond:
            (self._high if high else self._low).append(work)
            self._cond.notify()
        return work

    def run_sync(self, call: Callable[[], Any], high: bool = True,
                 timeout: float | None = None) -> Any:
        """Run a callable on the processing thread and wait for it.

        :raises TimeoutError: when it did not run within ``timeout``.
        """
        work = self.submit(Work(call=call), high=high)
        if not work.done.wait(timeout):
            raise TimeoutError('graph work did not run in %ss' % timeout)
        if work.error is not None:
            raise work.error
        return work.events

    def busy_for(self) -> float:
        """Seconds the processing thread has been inside its current
        piece of work; 0 when it is idle (the stall watchdog of
        :mod:`vitrage.graph.leadership`).
        """
        since = self._busy_since
        return 0.0 if since is None else time.monotonic() - since

    def backlog(self) -> int:
        with self._cond:
            return len(self._high) + len(self._low)

    def processed_batches(self, request_id: str) -> int:
        with self._progress_cond:
            return self._progress.get(request_id, 0)

    def wait_for_batches(self, request_id: str, count: int,
                         timeout: float) -> bool:
        """Wait until ``count`` batches of a request were processed."""
        with self._progress_cond:
            return self._progress_cond.wait_for(
                lambda: self._progress.get(request_id, 0) >= count,
                timeout)

    def forget(self, request_id: str) -> None:
        with self._progress_cond:
            self._progress.pop(request_id, None)

    def _take(self) -> Work | None:
        with self._cond:
            while not self._high and not self._low:
                if self._stopping:
                    return None
                self._cond.wait()
            return self._high.popleft() if self._high else \
                self._low.popleft()

    def _loop(self) -> None:
        while True:
            work = self._take()
            if work is None:
                return
            self._busy_since = time.monotonic()
            try:
                with self._lock:
                    if work.call is not None:
                        work.events = work.call()
                    else:
                        work.result = self._handle_events(work.events)
            except Exception as exc:
                # The coordinator must outlive any one bad batch.
                LOG.exception('graph work failed')
                work.error = exc
            finally:
                self._busy_since = None
                if work.request_id is not None:
                    with self._progress_cond:
                        self._progress[work.request_id] += 1
                        self._progress_cond.notify_all()
                work.done.set()
