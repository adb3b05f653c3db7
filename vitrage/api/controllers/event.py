"""``POST /v1/event``: inject an external event (rest-api-v1.md 4.18,
notifiers.md section 7).

The event is published on the notification topics the collectors listen
on (``[datasources] notification_topics``, exchange
``notification_exchange``), publisher ``api_<hostname>``, payload
``{"type", "time", "details"}``, with the event type
``vitrage.custom.event.down`` / ``.up`` when ``details.status`` is
``down`` / ``up`` (the doctor datasource), otherwise ``type`` itself
(e.g. ``prometheus.alarm`` from Alertmanager). The answer is 200 with
``null`` once the transport took the message; the alarm appears when a
collector and the graph have handled it.
"""
import datetime
import socket
import threading

import flask
from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from vitrage.api.errors import ApiError
from vitrage.api.errors import BadRequest
from vitrage.api.errors import json_response
from vitrage.api import request
from vitrage.common import bus
from vitrage.common import timeutils

LOG = log.getLogger(__name__)

blueprint = flask.Blueprint('event', __name__)

EVENT_DOWN = 'vitrage.custom.event.down'
EVENT_UP = 'vitrage.custom.event.up'
ALERTMANAGER_AGENT = 'Alertmanager'
ALERTMANAGER_TYPE = 'prometheus.alarm'
FAILED = 'Failed to post event'
#: Connection attempts of one publication before the API gives up.
SEND_RETRY = 3

_EXTENSION = 'vitrage.event_publisher'
_lock = threading.Lock()


class EventPublisher:
    """Publishes posted events as ``info`` notifications.

    Unlike :class:`oslo_messaging.Notifier`, which logs and swallows a
    failed send, a failure raises (the hand-off's
    :class:`~vitrage.common.bus.ConfirmedSender`), so the caller can
    be told.

    :param conf: the configuration (``[datasources]
        notification_topics`` and ``notification_exchange``).
    :param transport: an oslo.messaging notification transport.
    """

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: messaging.Transport) -> None:
        self.sender = bus.ConfirmedSender(
            conf, list(conf.datasources.notification_topics), transport,
            publisher_id='api_%s' % socket.gethostname(),
            exchange=conf.datasources.notification_exchange,
            retry=SEND_RETRY)

    def publish(self, event_type: str, payload: dict) -> None:
        """Send one notification on every topic.

        :param event_type: the notification's event type.
        :param payload: its payload.
        :raises oslo_messaging.MessagingException: (or another transport
            error) when the message could not be sent.
        """
        self.sender.send(event_type, payload)


def publisher() -> EventPublisher:
    """The application's publisher, made on first use.

    :raises oslo_messaging.MessagingException: when the transport cannot
        be built.
    """
    app = flask.current_app
    with _lock:
        found = app.extensions.get(_EXTENSION)
        if found is None:
            conf = request.state().conf
            found = EventPublisher(
                conf, messaging.get_notification_transport(conf))
            app.extensions[_EXTENSION] = found
    return found


def event_type_of(event_type: str, details: object) -> str:
    """The notification event type of a posted event (section 7)."""
    if isinstance(details, dict):
        status = details.get('status')
        if status == 'down':
            return EVENT_DOWN
        if status == 'up':
            return EVENT_UP
    return event_type


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None).isoformat(timespec='microseconds')


def _check_time(value: object) -> str:
    if not isinstance(value, str):
        raise BadRequest("Invalid value %r for 'time': expected an ISO-8601 "
                         "time" % (value,))
    try:
        timeutils.parse_iso(value)
    except ValueError:
        raise BadRequest("Invalid value %r for 'time': expected an ISO-8601 "
                         "time" % (value,)) from None
    return value


@blueprint.route('/event', methods=['POST'])
def post_event() -> flask.Response:
    """Publish one event for the datasources.

    Body: ``{"time": ISO-8601 (default: now, UTC), "type": str,
    "details": object (default: the whole body)}``. Without ``type``, a
    request whose ``User-Agent`` starts with ``Alertmanager`` is a
    ``prometheus.alarm`` (an Alertmanager webhook posts here directly).

    :raises BadRequest: the body is not a JSON object, ``type`` is
        missing or not a string, ``time`` is not ISO-8601, or
        ``details`` is not an object.
    :raises ApiError: 404 ``Failed to post event`` when the message could
        not be handed to the message bus.
    """
    body = request.json_body()
    event_type = body.get('type')
    if event_type is None and flask.request.headers.get(
            'User-Agent', '').startswith(ALERTMANAGER_AGENT):
        event_type = ALERTMANAGER_TYPE
    if event_type is None or event_type == '':
        raise BadRequest('Missing mandatory field: type')
    if not isinstance(event_type, str):
        raise BadRequest("Invalid value %r for 'type': expected a string"
                         % (event_type,))
    when = body.get('time')
    when = _utc_now() if when is None or when == '' else _check_time(when)
    details = body.get('details', body)
    if not isinstance(details, dict):
        raise BadRequest("Invalid value for 'details': expected a JSON "
                         "object")
    payload = {'type': event_type, 'time': when, 'details': details}
    notification_type = event_type_of(event_type, details)
    try:
        publisher().publish(notification_type, payload)
    except Exception as exc:
        LOG.error('could not publish a posted %s event: %s',
                  notification_type, exc)
        raise ApiError(404, FAILED, '%s: %s' % (type(exc).__name__, exc))
    LOG.debug('published %s event %r', notification_type, event_type)
    return json_response(None)


# Intake never waits for a graph (HA contract, promise 2): the event waits
# on the durable bus while no graph is active.
post_event.graph_free = True
