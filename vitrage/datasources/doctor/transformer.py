"""Transformer of doctor events (notifiers.md section 7, entities.md 7).

An event (as :class:`~vitrage.datasources.doctor.driver.DoctorDriver`
forwards it) holds the posted ``type``, ``time`` (already in the sample
format), ``details`` (a mapping with at least ``hostname`` and
``status``) and ``update_timestamp`` (the time of the first ``down``).
It becomes the ALARM vertex of key ``ALARM:doctor:<type>:<hostname>``,
``on`` the ``nova.host`` vertex whose ``id`` is the host name (a
placeholder when the host is not known).
"""
from vitrage.common.constants import AlarmState
from vitrage.common.constants import Category
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Envelope
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import make_key
from vitrage.datasources.base import resource_neighbor
from vitrage.datasources.base import TransformerBase
from vitrage.datasources.base import vitrage_id
from vitrage.datasources.nova.transformers import HOST_PREFIX
from vitrage.datasources.nova.transformers import HOST_TYPE

DOCTOR_TYPE = 'doctor'

STATUS_DOWN = 'down'
STATUS_UP = 'up'
STATUSES = (STATUS_DOWN, STATUS_UP)

HOSTNAME = 'hostname'
STATUS = 'status'
DEFAULT_SEVERITY = 'critical'

#: Detail keys that would overwrite the graph's own bookkeeping; they are
#: not copied to the vertex.
_RESERVED_PREFIX = 'vitrage_'
_RESERVED = frozenset((Prop.IS_REAL_VITRAGE_ID, Prop.CATEGORY, Prop.TYPE,
                       Prop.NAME, Prop.STATE))


def alarm_key(event_type: str, hostname: str) -> str:
    """The entity key of the doctor alarm of ``(type, hostname)``."""
    return make_key(Category.ALARM, DOCTOR_TYPE, event_type, hostname)


def copied_details(details: dict) -> dict:
    """The ``details`` entries that become vertex properties.

    Keys of the graph's own (``vitrage_*``, category, type, name, state)
    and null values (which would remove a property) are left out.
    """
    return {key: value for key, value in details.items()
            if isinstance(key, str) and value is not None
            and not key.startswith(_RESERVED_PREFIX)
            and key not in _RESERVED}


class DoctorTransformer(TransformerBase):
    """``doctor``: an alarm raised (``down``) or cleared (``up``) on a host.

    Vertex: ``vitrage_type`` doctor, ``name`` = the event type, ``state``
    Active, ``severity`` = ``details.severity`` (default ``critical``),
    every other ``details`` entry, ``time``, ``update_timestamp``, and
    ``vitrage_resource_id`` / ``vitrage_resource_type`` of the host.
    """

    category = Category.ALARM

    def is_cleared(self, event: dict) -> bool:
        """An ``up`` event clears the alarm."""
        details = event.get('details')
        return isinstance(details, dict) and details.get(STATUS) == STATUS_UP

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one doctor event into an update.

        :param event: an event of the doctor driver, with its envelope.
        :raises vitrage.common.exceptions.MalformedEvent: without
            ``type``, ``time``, ``details.hostname``, a ``details.status``
            of ``up`` or ``down``, or the sample date.
        """
        event_type, when, details, sample = self.require(
            event, 'type', 'time', 'details', Envelope.SAMPLE_DATE)
        if not isinstance(details, dict):
            raise exceptions.MalformedEvent(
                'doctor event: details must be a mapping, got %s'
                % type(details).__name__)
        hostname = details.get(HOSTNAME)
        status = details.get(STATUS)
        if not isinstance(hostname, str) or not hostname:
            raise exceptions.MalformedEvent(
                'doctor event %r lacks details.hostname' % (event_type,))
        if status not in STATUSES:
            raise exceptions.MalformedEvent(
                'doctor event %r on %s: details.status must be "up" or '
                '"down", got %r' % (event_type, hostname, status))
        properties = copied_details(details)
        properties.update({
            Prop.CATEGORY: Category.ALARM,
            Prop.TYPE: DOCTOR_TYPE,
            Prop.NAME: event_type,
            Prop.STATE: (AlarmState.INACTIVE if status == STATUS_UP
                         else AlarmState.ACTIVE),
            Prop.SEVERITY: details.get(Prop.SEVERITY) or DEFAULT_SEVERITY,
            'time': when,
            Prop.UPDATE_TIMESTAMP: event.get(Prop.UPDATE_TIMESTAMP) or when,
            Prop.SAMPLE_TIMESTAMP: sample,
            Prop.DATASOURCE_NAME: event.get(Envelope.DATASOURCE_NAME),
            Prop.RESOURCE_ID: vitrage_id(HOST_PREFIX + hostname),
            Prop.RESOURCE_TYPE: HOST_TYPE,
        })
        host = resource_neighbor(HOST_TYPE, hostname, EdgeLabel.ON, True,
                                 sample)
        return EntityUpdate(alarm_key(event_type, hostname),
                            self.graph_action(event), properties, [host])
