"""The baseline of the synchronizer seed: entity key -> hash of its last
reported state, so that polling yields only changes.

A baseline is only valid for the caller that saw everything it reported.
Each report is stamped with a *token*; the next ``get_changes`` must
present the token of the previous report, or the collector re-seeds (sends
every entity) instead of diffing against a history the caller may not
share (another collector answered in between, or this one restarted).
"""
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
import itertools
import json
import uuid

from vitrage.common.constants import Envelope

_ENVELOPE = frozenset((Envelope.DATASOURCE_ACTION, Envelope.SAMPLE_DATE,
                       Envelope.DATASOURCE_NAME))


def state_hash(event: dict) -> int:
    """A hash of an event's content, envelope and sample time excluded."""
    content = {k: v for k, v in event.items() if k not in _ENVELOPE}
    return hash(json.dumps(content, sort_keys=True, default=str))


class Baseline:
    """What one collector last reported for one datasource."""

    _tokens = itertools.count(1)

    def __init__(self, collector_id: str | None = None) -> None:
        self.collector_id = collector_id or uuid.uuid4().hex
        self._entries: dict[str, tuple[int, dict]] = {}
        self.token: str | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def _new_token(self) -> str:
        self.token = '%s:%d' % (self.collector_id, next(self._tokens))
        return self.token

    def reseed(self, events: Iterable[dict],
               key: Callable[[dict], str]) -> Iterator[dict]:
        """Report every entity and make them the new baseline.

        :param events: the full current state (driver get_all output).
        :param key: the driver's ``entity_key``.
        :returns: the events, passed through lazily; the token is final
            once the iterator is exhausted.
        """
        entries: dict[str, tuple[int, dict]] = {}
        self.token = None
        for event in events:
            entries[key(event)] = (state_hash(event), event)
            yield event
        self._entries = entries
        self._new_token()

    def changes(self, events: Iterable[dict], key: Callable[[dict], str],
                deleted: Callable[[dict], dict]) -> Iterator[dict]:
        """Report only what changed since the baseline, and deletions.

        :param events: the full current state (driver get_all output).
        :param key: the driver's ``entity_key``.
        :param deleted: the driver's ``deleted_event``.
        :returns: changed and new events, then one deletion event per
            entity that vanished.
        """
        old = self._entries
        entries: dict[str, tuple[int, dict]] = {}
        self.token = None
        for event in events:
            k = key(event)
            h = state_hash(event)
            entries[k] = (h, event)
            previous = old.get(k)
            if previous is None or previous[0] != h:
                yield event
        for k, (_h, last) in old.items():
            if k not in entries:
                yield deleted(last)
        self._entries = entries
        self._new_token()
