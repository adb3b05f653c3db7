"""``GET /v1/service``: the running Vitrage processes (rest-api-v1.md
4.23), read from the registry every process beats into
(:mod:`vitrage.storage.services`)."""
import logging

import flask

from vitrage.api.errors import ApiError
from vitrage.api.errors import json_response
from vitrage.api import request
from vitrage.storage import services

LOG = logging.getLogger(__name__)

blueprint = flask.Blueprint('service', __name__)

NOT_SUPPORTED = 'Service API not supported'
UNREACHABLE = 'Failed to connect to coordination backend'


@blueprint.route('/service', methods=['GET'])
def list_services() -> flask.Response:
    conf = request.state().conf
    if not services.supported(conf):
        raise ApiError(500, NOT_SUPPORTED)
    try:
        registry = services.ServiceRegistry(
            request.database(), conf.api.service_heartbeat_interval)
        live = registry.list_live()
    except Exception as exc:
        LOG.warning('service list: %s', exc)
        raise ApiError(500, UNREACHABLE, '%s: %s' % (type(exc).__name__,
                                                     exc))
    return json_response([service.to_api_dict() for service in live])
