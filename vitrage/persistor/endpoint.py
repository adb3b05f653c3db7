"""The batch notification endpoint of vitrage-persistor.

oslo.messaging's batch listener calls :meth:`PersistorEndpoint.info` with
the messages of one poll and acknowledges them when it returns (``None``
or ``HANDLED``), or requeues them all when it returns ``REQUEUE`` or
raises (``allow_requeue=True``). So a message is acknowledged only after
its rows are committed:

* a malformed message is rejected (logged with the reason, counted,
  acknowledged) and the rest of the batch is written;
* a duplicate position is success;
* events of a term other than the current one are refused (logged,
  counted, acknowledged): older terms are sealed (``fenced``), newer ones
  were taken by no graph (``unknown_terms``);
* a database that is unreachable or busy makes the whole batch requeue,
  after a pause that grows up to :data:`MAX_BACKOFF` seconds;
* a message whose rows the database refuses (a value too long...) is
  isolated by writing the batch message by message, and rejected alone.
"""
import collections
import threading
import time

from oslo_db import exception as db_exc
from oslo_log import log
import oslo_messaging
import sqlalchemy.exc

from vitrage.common import exceptions
from vitrage.persistor import batch as batch_mod
from vitrage.persistor import writer as writer_mod

LOG = log.getLogger(__name__)

MAX_BACKOFF = 10.0
# Errors of the rows themselves: retrying them would fail again.
_DATA_ERRORS = (db_exc.DBDataError, db_exc.DBReferenceError,
                db_exc.DBConstraintError, db_exc.DBInvalidUnicodeParameter,
                sqlalchemy.exc.DataError, sqlalchemy.exc.StatementError)
_TRANSIENT_ERRORS = (db_exc.DBConnectionError, db_exc.DBDeadlock,
                     sqlalchemy.exc.OperationalError,
                     sqlalchemy.exc.InterfaceError)

STAT_NAMES = ('messages', 'batches', 'events_written', 'duplicates',
              'fenced', 'unknown_terms', 'malformed',
              'rejected_by_database', 'history',
              'barriers', 'requeued_batches')


def _is_data_error(exc: Exception) -> bool:
    if isinstance(exc, _TRANSIENT_ERRORS):
        return False
    if isinstance(exc, _DATA_ERRORS):
        return True
    inner = getattr(exc, 'inner_exception', None)
    return isinstance(inner, _DATA_ERRORS) and not isinstance(
        inner, _TRANSIENT_ERRORS)


class PersistorEndpoint:
    """Parses and writes the messages of the persistor topic.

    :param writer: writes parsed messages to the database.
    :param sleep: how to pause before a requeue (tests pass a fake).
    """

    def __init__(self, writer: writer_mod.Writer,
                 sleep=time.sleep) -> None:
        self.writer = writer
        self._sleep = sleep
        self._backoff = 0.0
        self._lock = threading.Lock()
        self.stats: collections.Counter = collections.Counter(
            {name: 0 for name in STAT_NAMES})

    def info(self, messages: list[dict]):
        """Write one poll's messages; the result tells ack or requeue.

        :param messages: dicts with ``ctxt``, ``publisher_id``,
            ``event_type``, ``payload`` and ``metadata``.
        :returns: None to acknowledge all, or
            ``oslo_messaging.NotificationResult.REQUEUE``.
        """
        with self._lock:
            return self._handle(messages)

    def _reject_priority(self, messages: list[dict], priority: str) -> None:
        with self._lock:
            for message in messages:
                self._reject(message, 'priority %r, the persistor takes '
                                      'only info' % priority)

    def audit(self, messages: list[dict]) -> None:
        self._reject_priority(messages, 'audit')

    def warn(self, messages: list[dict]) -> None:
        self._reject_priority(messages, 'warn')

    def error(self, messages: list[dict]) -> None:
        self._reject_priority(messages, 'error')

    def critical(self, messages: list[dict]) -> None:
        self._reject_priority(messages, 'critical')

    def debug(self, messages: list[dict]) -> None:
        self._reject_priority(messages, 'debug')

    def sample(self, messages: list[dict]) -> None:
        self._reject_priority(messages, 'sample')

    def _reject(self, message: dict, reason: str,
                counter: str = 'malformed') -> None:
        self.stats[counter] += 1
        metadata = message.get('metadata') if isinstance(message,
                                                         dict) else None
        message_id = (metadata or {}).get('message_id') if isinstance(
            metadata, dict) else None
        LOG.warning('rejected message %s (event type %r): %s', message_id,
                    message.get('event_type') if isinstance(message, dict)
                    else None, reason)

    def _handle(self, messages: list[dict]):
        self.stats['messages'] += len(messages)
        self.stats['batches'] += 1
        good: list[tuple[dict, batch_mod.Parsed]] = []
        for message in messages:
            try:
                if not isinstance(message, dict):
                    raise exceptions.MalformedEvent('not a notification')
                good.append((message, batch_mod.parse(message)))
            except exceptions.MalformedEvent as exc:
                self._reject(message, str(exc))
        if not good:
            return None
        combined = batch_mod.Parsed()
        for _message, parsed in good:
            combined.extend(parsed)
        try:
            self._account(self.writer.write(combined))
        except Exception as exc:
            if not _is_data_error(exc):
                return self._requeue(exc)
            LOG.warning('the database refused a batch (%s); writing its '
                        '%d messages one by one', exc, len(good))
            return self._write_one_by_one(good)
        self._backoff = 0.0
        return None

    def _write_one_by_one(self, good: list[tuple[dict, batch_mod.Parsed]]):
        for message, parsed in good:
            try:
                self._account(self.writer.write(parsed))
            except Exception as exc:
                if not _is_data_error(exc):
                    return self._requeue(exc)
                self._reject(message, 'the database refused it: %s' % exc,
                             counter='rejected_by_database')
        self._backoff = 0.0
        return None

    def _requeue(self, exc: Exception):
        self.stats['requeued_batches'] += 1
        self._backoff = min(MAX_BACKOFF, max(0.1, self._backoff * 2))
        LOG.warning('database unavailable (%s); requeueing the batch after '
                    '%.1f s', exc, self._backoff)
        self._sleep(self._backoff)
        return oslo_messaging.NotificationResult.REQUEUE

    def _account(self, result: writer_mod.WriteResult) -> None:
        self.stats['events_written'] += result.written
        self.stats['duplicates'] += result.duplicates
        self.stats['fenced'] += result.fenced
        self.stats['unknown_terms'] += result.unknown
        self.stats['history'] += result.history
        self.stats['barriers'] += result.barriers
