"""The graph's hand-off of handled events to vitrage-persistor.

Every event the active graph applies gets a position ``(term, seq)`` in
handling order and is published on ``[persistency] persistor_topic`` as
``vitrage.graph.events`` (the wire format of :mod:`vitrage.persistor.batch`),
with the alarm history changes it made in the same message, so that both
are written or refused together.

The graph acknowledges its own input message only once the persistor has
*written* the handled events (HA contract, promise 2):
:class:`Durability` watches the events table for the positions of the
hand-off. The persistor writes only the current term's events; a graph
whose term was taken over (its successor sealed it) sees its positions
never written, does not acknowledge, and the broker gives the inputs to
the successor. So nothing a graph accepted is lost, whether it dies, is
deposed while alive, or wakes from a stall; and what it acknowledged is
in the log its successor restores from.

Durability needs the broker to keep the persistor's queue across
restarts: set ``[oslo_messaging_rabbit] amqp_durable_queues = true`` (or
``rabbit_quorum_queue = true``) on the graph and the persistors alike,
with a ``control_exchange`` that was durable from the start. The RabbitMQ
driver of oslo.messaging publishes with publisher confirms.

oslo.messaging's ``Notifier`` logs and swallows send failures, which
would lose events silently; :class:`ConfirmedSender` raises instead, so
the input message is requeued and handled again.
"""
import bisect
import datetime
import threading
import time

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log
import oslo_messaging as messaging
import sqlalchemy as sa

from vitrage.common.bus import ConfirmedSender
from vitrage.common.constants import AlarmState
from vitrage.common.constants import Category
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Envelope
from vitrage.common.constants import Prop
from vitrage.persistor import batch
from vitrage.storage import models
from vitrage.storage import terms as terms_mod

LOG = log.getLogger(__name__)

#: Seqs a position range covers: ``(first, last)``, both included.
SeqRange = tuple[int, int]


class TermLost(messaging.MessagingException):
    """The term of a hand-off is no longer the current one: what it handed
    off and was not written yet never will be.
    """


def _utc_now() -> str:
    return str(datetime.datetime.now(datetime.timezone.utc))


class Handoff:
    """Positions handled events and hands them to the persistors."""

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: messaging.Transport, term: int) -> None:
        self.term = term
        self.seq = 0
        self.sender = ConfirmedSender(
            conf, topics=[conf.persistency.persistor_topic],
            transport=transport)
        self.stats = {'events': 0, 'messages': 0}

    def position(self, event: dict) -> dict:
        """The record of one handled event at the next position (called
        on the processing thread, in handling order).
        """
        self.seq += 1
        return {'seq': self.seq,
                'type': str(event.get(Envelope.EVENT_TYPE)
                            or event.get(Envelope.DATASOURCE_ACTION)
                            or 'unknown'),
                'collector_timestamp': event.get(Envelope.SAMPLE_DATE),
                'event': event}

    def publish(self, records: list[dict],
                history: list[tuple]) -> SeqRange | None:
        """Hand positioned events and the history changes they made over,
        in one message.

        :param records: from :meth:`position`, in order.
        :param history: (event type, payload) pairs.
        :returns: the seqs handed off (for :meth:`Durability.wait`), or
            None when there were no events.
        :raises oslo_messaging.MessagingException: when the broker did
            not confirm; nothing is acknowledged then.
        """
        if not records and not history:
            return None
        now = _utc_now()
        self.sender.send(batch.EVENTS, {
            'term': self.term, 'events': records,
            'history': [{'event_type': event_type, 'payload': payload,
                         'timestamp': now}
                        for event_type, payload in history]})
        self.stats['events'] += len(records)
        self.stats['messages'] += 1
        if not records:
            return None
        return records[0]['seq'], records[-1]['seq']


class Durability:
    """Tells when the persistor has written the positions of a term.

    One thread looks at the events table while someone waits (every
    ``poll_interval`` seconds: one indexed range read, and a read of the
    term row): a hand-off is durable once every seq of its range is
    there. When the term row shows another term, the waiters get
    :class:`TermLost`.

    :param database: the :class:`vitrage.storage.connection.Database`.
    :param term: the term whose positions are awaited.
    :param poll_interval: seconds between two looks.
    """

    def __init__(self, database, term: int,
                 poll_interval: float = 0.01) -> None:
        self.database = database
        self.term = term
        self.poll_interval = poll_interval
        self._cond = threading.Condition()
        self._waiting: dict[int, list] = {}
        self._ids = 0
        self._lost = False
        self._stop_at: float | None = None
        self._thread: threading.Thread | None = None
        self.stats = {'waits': 0, 'timeouts': 0, 'reads': 0}

    def wait(self, seqs: SeqRange, timeout: float) -> bool:
        """Wait until every seq of ``seqs`` is in the events table.

        :param seqs: ``(first, last)`` from :meth:`Handoff.publish`.
        :param timeout: seconds to wait at most.
        :returns: True when written, False after ``timeout`` or once
            stopped (the persistor or the database is down, or the
            service stops: requeue the input).
        :raises TermLost: the term is no longer current, so the rest will
            never be written.
        """
        first, last = seqs
        deadline = time.monotonic() + timeout
        with self._cond:
            self.stats['waits'] += 1
            self._ids += 1
            key = self._ids
            # [first, last, seen written]
            entry = [first, last, False]
            self._waiting[key] = entry
            self._start()
            self._cond.notify_all()
            try:
                while not entry[2]:
                    if self._lost:
                        raise TermLost('term %d was taken over: its events '
                                       '%d-%d will not be written'
                                       % (self.term, first, last))
                    end = deadline if self._stop_at is None else \
                        min(deadline, self._stop_at)
                    remaining = end - time.monotonic()
                    if remaining <= 0:
                        self.stats['timeouts'] += 1
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._waiting.pop(key, None)

    def stop(self, grace: float = 0.0) -> None:
        """Stop looking after ``grace`` seconds: waiters still waiting
        then return False.

        :param grace: how long hand-offs in flight may still become
            durable (a clean stop lets them, a lost term does not).
        """
        with self._cond:
            stop_at = time.monotonic() + grace
            if self._stop_at is None or stop_at < self._stop_at:
                self._stop_at = stop_at
            self._cond.notify_all()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name='handoff-durability', daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        pause = self.poll_interval
        while True:
            with self._cond:
                while not self._waiting and self._stop_at is None:
                    self._cond.wait()
                if not self._waiting:
                    self._thread = None
                    return
                low = min(e[0] for e in self._waiting.values())
                high = max(e[1] for e in self._waiting.values())
            try:
                written, current = self._read(low, high)
                pause = self.poll_interval
            except db_exc.DBError as exc:
                LOG.warning('cannot read which handed-off events are '
                            'written: %s', exc)
                pause = min(1.0, max(pause * 2, 0.1))
                time.sleep(pause)
                continue
            with self._cond:
                for entry in self._waiting.values():
                    first, last = entry[0], entry[1]
                    if not entry[2] and _covered(written, first, last):
                        entry[2] = True
                if current != self.term:
                    self._lost = True
                self._cond.notify_all()
            time.sleep(pause)

    def _read(self, low: int, high: int) -> tuple[list[int], int]:
        events = models.Event.__table__
        term_table = models.GraphTerm.__table__
        self.stats['reads'] += 1
        with self.database.connect() as connection:
            written = connection.execute(
                sa.select(events.c.seq)
                .where(events.c.term == self.term)
                .where(events.c.seq >= low)
                .where(events.c.seq <= high)
                .order_by(events.c.seq)).scalars().all()
            current = connection.execute(
                sa.select(term_table.c.term)
                .where(term_table.c.id == terms_mod.ROW_ID)).scalar()
        return list(written), current or 0


def _covered(written: list[int], first: int, last: int) -> bool:
    """Whether the sorted ``written`` holds every seq of [first, last]."""
    start = bisect.bisect_left(written, first)
    end = bisect.bisect_right(written, last)
    return end - start == last - first + 1


def _live(vertex: dict | None) -> bool:
    return vertex is not None and not vertex.get(Prop.IS_DELETED) and \
        not vertex.get(Prop.IS_PLACEHOLDER)


class HistoryRecorder:
    """A processor listener turning alarm and causal-edge changes into
    the history notifications of notifiers.md section 3.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[str, dict]] = []

    def take(self) -> list[tuple[str, dict]]:
        pending, self.pending = self.pending, []
        return pending

    def vertex_changed(self, vertex_id: str, before: dict | None,
                       after: dict | None) -> None:
        current = after if after is not None else before
        if current is None or current.get(Prop.CATEGORY) != Category.ALARM:
            return
        was, now = _live(before), _live(after)
        if now and not was:
            self.pending.append(('vitrage.alarm.activate', dict(after)))
        elif was and not now:
            payload = dict(after if after is not None else before)
            payload[Prop.STATE] = AlarmState.INACTIVE
            self.pending.append(('vitrage.alarm.deactivate', payload))
        elif now:
            if before.get(Prop.OPERATIONAL_SEVERITY) != \
                    after.get(Prop.OPERATIONAL_SEVERITY):
                self.pending.append(('vitrage.alarm.change', dict(after)))
            if before.get(Prop.RESOURCE_PROJECT_ID) != \
                    after.get(Prop.RESOURCE_PROJECT_ID):
                self.pending.append(('vitrage.alarm.change_project_id',
                                     dict(after)))

    def edge_changed(self, source_id: str, target_id: str, label: str,
                     before: dict | None, after: dict | None) -> None:
        if label != EdgeLabel.CAUSES:
            return
        was = before is not None and not before.get(Prop.IS_DELETED)
        now = after is not None and not after.get(Prop.IS_DELETED)
        if was == now:
            return
        payload = dict(after if after is not None else before)
        payload.update({'source_id': source_id, 'target_id': target_id})
        self.pending.append((
            'vitrage.causal_relationship.%s' % (
                'activate' if now else 'deactivate'), payload))
