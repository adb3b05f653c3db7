"""What the persistor reads off its topic: the wire format, validated.

Messages are oslo.messaging notifications on ``[persistency]
persistor_topic`` (priority ``info``, publisher ``vitrage.graph``):

``vitrage.graph.events``
    ``{"term": int, "events": [{"seq": int, "type": str,
    "collector_timestamp": "YYYY-MM-DDTHH:MM:SSZ" | null,
    "event": {...}}, ...], "history": [{"event_type": str,
    "payload": {...}, "timestamp": str | null}, ...]}``: handled events
    at positions ``(term, seq)`` and the alarm history changes they made
    (``history`` is optional). Both are written, or refused, together:
    the term fences the history too.
``vitrage.graph.barrier``
    ``{"term": int, "barrier_id": str}``: written to ``barriers`` once
    every message received before it is committed.
The history event types of :mod:`vitrage.storage.history` (the wire
    format of graphs older than the bundled ``history``; not fenced).

:func:`parse` turns one message into a :class:`Parsed` or raises
:class:`~vitrage.common.exceptions.MalformedEvent` naming the problem; a
message is taken or rejected whole.
"""
import dataclasses

from vitrage.common import exceptions
from vitrage.storage import eventlog
from vitrage.storage import history as history_mod

EVENTS = 'vitrage.graph.events'
BARRIER = 'vitrage.graph.barrier'
MAX_BARRIER_ID_LENGTH = 36


@dataclasses.dataclass(frozen=True)
class Barrier:
    term: int
    barrier_id: str


@dataclasses.dataclass
class Parsed:
    """The content of one message."""

    events: dict[int, list[eventlog.EventRecord]] = dataclasses.field(
        default_factory=dict)
    history: list[history_mod.HistoryRecord] = dataclasses.field(
        default_factory=list)
    barriers: list[Barrier] = dataclasses.field(default_factory=list)
    #: History records that belong to a term: written with its events,
    #: refused with them.
    term_history: dict[int, list[history_mod.HistoryRecord]] = \
        dataclasses.field(default_factory=dict)

    def extend(self, other: 'Parsed') -> None:
        for term, records in other.events.items():
            self.events.setdefault(term, []).extend(records)
        for term, records in other.term_history.items():
            self.term_history.setdefault(term, []).extend(records)
        self.history.extend(other.history)
        self.barriers.extend(other.barriers)

    @property
    def terms(self) -> set[int]:
        """The terms whose events or history this holds."""
        return set(self.events) | set(self.term_history)

    @property
    def event_count(self) -> int:
        return sum(len(records) for records in self.events.values())

    @property
    def empty(self) -> bool:
        return not (self.events or self.history or self.barriers or
                    self.term_history)


def _term(payload: dict) -> int:
    term = payload.get('term')
    if isinstance(term, bool) or not isinstance(term, int) or term < 0:
        raise exceptions.MalformedEvent('term must be an integer >= 0, got '
                                        '%r' % (term,))
    return term


def _event_record(index: int, item: object) -> eventlog.EventRecord:
    if not isinstance(item, dict):
        raise exceptions.MalformedEvent('events[%d] is not an object'
                                        % index)
    for key in ('seq', 'type', 'event'):
        if key not in item:
            raise exceptions.MalformedEvent('events[%d] lacks %r'
                                            % (index, key))
    try:
        return eventlog.EventRecord(
            seq=item['seq'], event_type=item['type'], event=item['event'],
            collector_timestamp=item.get('collector_timestamp'))
    except ValueError as exc:
        raise exceptions.MalformedEvent('events[%d]: %s'
                                        % (index, exc)) from None


def _bundled_history(items: object) -> list[history_mod.HistoryRecord]:
    if not isinstance(items, list):
        raise exceptions.MalformedEvent('history must be a list, got %r'
                                        % (type(items).__name__,))
    records = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or \
                item.get('event_type') not in history_mod.EVENT_TYPES:
            raise exceptions.MalformedEvent(
                'history[%d] is not a history change of a known type'
                % index)
        try:
            records.append(history_mod.parse(
                item['event_type'], item.get('payload'),
                item.get('timestamp')))
        except exceptions.MalformedEvent as exc:
            raise exceptions.MalformedEvent('history[%d]: %s'
                                            % (index, exc)) from None
    return records


def parse(message: dict) -> Parsed:
    """The content of one notification as the batch listener gives it.

    :param message: a dict with ``event_type``, ``payload`` and
        ``metadata`` (oslo.messaging's batch endpoint format).
    :raises vitrage.common.exceptions.MalformedEvent: naming the problem.
    """
    event_type = message.get('event_type')
    payload = message.get('payload')
    if event_type == EVENTS:
        if not isinstance(payload, dict):
            raise exceptions.MalformedEvent('payload is not an object')
        term = _term(payload)
        items = payload.get('events')
        if not isinstance(items, list):
            raise exceptions.MalformedEvent('events must be a list, got %r'
                                            % (type(items).__name__,))
        records = [_event_record(i, item) for i, item in enumerate(items)]
        history = _bundled_history(payload.get('history', []))
        return Parsed(events={term: records} if records else {},
                      term_history={term: history} if history else {})
    if event_type == BARRIER:
        if not isinstance(payload, dict):
            raise exceptions.MalformedEvent('payload is not an object')
        term = _term(payload)
        barrier_id = payload.get('barrier_id')
        if (not isinstance(barrier_id, str) or not barrier_id
                or len(barrier_id) > MAX_BARRIER_ID_LENGTH):
            raise exceptions.MalformedEvent(
                'barrier_id must be a string of 1 to %d characters, got %r'
                % (MAX_BARRIER_ID_LENGTH, barrier_id))
        return Parsed(barriers=[Barrier(term, barrier_id)])
    if event_type in history_mod.EVENT_TYPES:
        metadata = message.get('metadata') or {}
        timestamp = (metadata.get('timestamp')
                     if isinstance(metadata, dict) else None)
        record = history_mod.parse(event_type, payload, timestamp)
        return Parsed(history=[record])
    raise exceptions.MalformedEvent('unknown event type %r' % (event_type,))
