"""The ``doctor`` datasource driver: host up/down events pushed through
``POST /v1/event`` (notifiers.md section 7)."""
from collections.abc import Iterator
import threading

from oslo_config import cfg
from oslo_log import log

from vitrage.common.constants import Envelope
from vitrage.common.constants import UpdateMethod
from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.datasources.base import DriverBase
from vitrage.datasources.doctor.transformer import DOCTOR_TYPE
from vitrage.datasources.doctor.transformer import DoctorTransformer
from vitrage.datasources.doctor.transformer import HOSTNAME
from vitrage.datasources.doctor.transformer import STATUS
from vitrage.datasources.doctor.transformer import STATUS_DOWN
from vitrage.datasources.doctor.transformer import STATUSES

LOG = log.getLogger(__name__)

EVENT_DOWN = 'vitrage.custom.event.down'
EVENT_UP = 'vitrage.custom.event.up'


def event_time(value: object) -> str:
    """A posted event time in the sample format ``%Y-%m-%dT%H:%M:%SZ``.

    Any ISO-8601 time is accepted (upstream required the fraction of a
    second). A time without a zone keeps its digits (the stock client
    posts its local time; upstream did not convert it either); a time
    with a zone is converted to UTC.

    :param value: the ``time`` of the posted event.
    :raises vitrage.common.exceptions.MalformedEvent: when it is not an
        ISO-8601 time.
    """
    if not isinstance(value, str):
        raise exceptions.MalformedEvent(
            'doctor event: time must be a string, got %r' % (value,))
    try:
        parsed = timeutils.parse_iso(value)
    except ValueError:
        raise exceptions.MalformedEvent(
            'doctor event: time %r is not an ISO-8601 time' % value) from None
    return parsed.strftime(timeutils.SAMPLE_FORMAT)


class DoctorDriver(DriverBase):
    """Host failures reported by a doctor (fault management) monitor.

    A monitor posts ``{"type": "compute.host.down", "time": ...,
    "details": {"hostname": "cmp-7", "status": "down", ...}}`` to
    ``POST /v1/event``; vitrage-api publishes it on the notification
    topics (``[datasources] notification_topics``) as
    ``vitrage.custom.event.down`` or ``vitrage.custom.event.up``, and a
    collector with this datasource enabled turns it into an entity event.

    **Alarm**: one ALARM vertex (``vitrage_type`` ``doctor``) per
    ``(type, hostname)``, ``on`` the ``nova.host`` whose ``id`` is the
    host name (a placeholder when no datasource reports that host).
    ``down`` raises or refreshes it; ``up`` clears (deletes) it, and is
    ignored when there is no such alarm. Its properties are every
    ``details`` entry, ``severity`` (default ``critical``), ``name`` (the
    event type) and ``time`` (the posted time as ``YYYY-MM-DDTHH:MM:SSZ``).
    ``update_timestamp`` is the time of the first ``down`` while the
    alarm stays raised, as far as this collector saw it (each collector
    remembers the alarms it raised; a refresh taken by another collector
    carries that collector's first time).

    **Options**: none (``[doctor]`` has no options). Enable it with
    ``[datasources] types = ...,doctor``.

    **Failures**: an event without ``time``, ``type``, ``details.hostname``
    or with a ``details.status`` other than ``up``/``down`` is dropped
    with an error naming what is wrong; the next events are handled as
    usual. Doctor alarms exist by notification only: :meth:`get_all`
    reports nothing, and they survive a graph restart through the event
    log and snapshots.

    :param conf: the configuration.
    :param datasource_name: the configured name of the datasource.
    """

    entity_types = (DOCTOR_TYPE,)
    transformer_class = DoctorTransformer
    update_method = UpdateMethod.PUSH
    deletes_vanished = False
    push_event_types = (EVENT_DOWN, EVENT_UP)

    def __init__(self, conf: cfg.ConfigOpts, datasource_name: str) -> None:
        super().__init__(conf, datasource_name)
        self._lock = threading.Lock()
        #: (type, hostname) -> update_timestamp of the raised alarms.
        self._raised: dict[tuple[str, str], str] = {}

    def get_all(self) -> Iterator[dict]:
        """Nothing: doctor alarms are only pushed.

        :raises: nothing.
        """
        return iter(())

    @staticmethod
    def entity_key(event: dict) -> str:
        """``<type>:<hostname>`` of a doctor event.

        :param event: an event of :meth:`enrich_event`.
        :raises vitrage.common.exceptions.MalformedEvent: without type or
            hostname.
        """
        details = event.get('details')
        if not event.get('type') or not isinstance(details, dict) or \
                not details.get(HOSTNAME):
            raise exceptions.MalformedEvent(
                'doctor event without type or details.hostname')
        return '%s:%s' % (event['type'], details[HOSTNAME])

    def enrich_event(self, event_type: str, payload: dict) -> list[dict]:
        """Check one posted event and turn it into an entity event.

        :param event_type: ``vitrage.custom.event.down`` or ``.up``.
        :param payload: ``{"type", "time", "details"}`` as published by
            ``POST /v1/event``.
        :raises vitrage.common.exceptions.MalformedEvent: naming the
            missing or bad field.
        """
        if not isinstance(payload, dict):
            raise exceptions.MalformedEvent(
                'doctor event: payload must be a mapping, got %s'
                % type(payload).__name__)
        alarm_type = payload.get('type')
        if not isinstance(alarm_type, str) or not alarm_type:
            raise exceptions.MalformedEvent('doctor event lacks type')
        if payload.get('time') is None:
            raise exceptions.MalformedEvent(
                'doctor event %r lacks time' % alarm_type)
        when = event_time(payload['time'])
        details = payload.get('details')
        if not isinstance(details, dict):
            raise exceptions.MalformedEvent(
                'doctor event %r: details must be a mapping, got %r'
                % (alarm_type, details))
        hostname = details.get(HOSTNAME)
        if not isinstance(hostname, str) or not hostname:
            raise exceptions.MalformedEvent(
                'doctor event %r lacks details.hostname' % alarm_type)
        status = details.get(STATUS)
        if status not in STATUSES:
            raise exceptions.MalformedEvent(
                'doctor event %r on %s: details.status must be "up" or '
                '"down", got %r' % (alarm_type, hostname, status))
        key = (alarm_type, hostname)
        with self._lock:
            if status == STATUS_DOWN:
                first = self._raised.setdefault(key, when)
            else:
                self._raised.pop(key, None)
                first = when
        return [{
            'type': alarm_type,
            'time': when,
            'details': dict(details),
            'update_timestamp': first,
            Envelope.ENTITY_TYPE: DOCTOR_TYPE,
        }]
