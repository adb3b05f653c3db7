"""``/v1/rca``: root cause analysis of an alarm (rest-api-v1.md 4.11).

The causal graph comes from the alarm history (:mod:`vitrage.storage.
alarms`): the requested alarm, what causes it (``causes`` edges followed
upstream only, at any depth) and what it causes (followed downstream
only), ended ones included. Without alarm history (``[persistency]
enable_persistency = false``) it is the live graph's alarms and
``causes`` edges, walked the same way.
"""
import flask

from vitrage.api.errors import BadRequest
from vitrage.api.errors import json_response
from vitrage.api import request
from vitrage.storage import alarms


blueprint = flask.Blueprint('rca', __name__)

FAILED = 'Failed to get RCA'


@blueprint.route('/rca', methods=['GET'])
@blueprint.route('/rca/<alarm_id>', methods=['GET'])
@request.storage_failures(FAILED)
def show_rca(alarm_id: str | None = None) -> flask.Response:
    """The RCA graph of ``alarm_id`` (path or query parameter).

    An unknown alarm (or another project's) gives empty ``nodes`` and
    ``links``.

    :raises BadRequest: no ``alarm_id``.
    :raises vitrage.api.errors.Forbidden: ``all_tenants`` without admin.
    :raises ApiError: 404 ``Failed to get RCA`` when the database failed.
    :raises vitrage.graph.rpcapi.GraphError: without alarm history, when
        the graph fails.
    """
    args = flask.request.args
    alarm_id = alarm_id or args.get('alarm_id') or None
    if alarm_id is None:
        raise BadRequest('Missing mandatory parameter: alarm_id')
    all_tenants = request.parse_bool(args.get('all_tenants'), 'all_tenants')
    ctx = request.context(all_tenants)
    if not request.state().conf.persistency.enable_persistency:
        return json_response(request.call_graph('get_rca', ctx, alarm_id,
                                                all_tenants))
    scope = alarms.Scope.of(ctx, all_tenants)
    result = alarms.AlarmQueries(request.database()).rca(scope, alarm_id)
    return json_response(result)
