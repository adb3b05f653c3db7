"""``/v1/alarm``: list, show, count and history of alarms
(rest-api-v1.md 4.7-4.10).

Lists, counts and history are read from the alarm history tables
(:mod:`vitrage.storage.alarms`), which the persistor keeps; ``show``
reads the live graph. Without alarm history (``[persistency]
enable_persistency = false``) lists and counts are made of the live
graph's alarms, and the history is not available (404).
"""
import datetime
from typing import Any

import flask

from vitrage.api.errors import ApiError
from vitrage.api.errors import BadRequest
from vitrage.api.errors import json_response
from vitrage.api import request
from vitrage.common import literals
from vitrage.common import timeutils
from vitrage.storage import alarms


blueprint = flask.Blueprint('alarm', __name__)

FAILED_LIST = 'Failed to get alarms'
FAILED_COUNT = 'Failed to get alarm count.'
FAILED_HISTORY = 'Failed to get alarm history'
NO_HISTORY = ('there is no alarm history: [persistency] enable_persistency '
              'is false')


def history_enabled() -> bool:
    """Whether the persistor keeps the alarm history tables."""
    return bool(request.state().conf.persistency.enable_persistency)


def _list_value(text: str) -> Any:
    """One ``filter_vals`` entry: a string, or a list written as JSON or
    as a Python literal (``["a", "b"]``: any of them).
    """
    stripped = text.strip()
    if not stripped.startswith('['):
        return text
    try:
        value = literals.json_or_literal(stripped)
    except ValueError:
        return text
    return value if isinstance(value, list) else text


def page_of(args: Any) -> alarms.Page:
    """The paging, sorting and filtering arguments of a list request.

    :param args: the query string (a werkzeug ``MultiDict``).
    :raises BadRequest: a malformed ``limit`` or ``next_page``.
    """
    sort_by = [v for v in args.getlist('sort_by') if v]
    return alarms.Page(
        limit=request.parse_int(args.get('limit'), 'limit', minimum=0),
        sort_by=sort_by or list(alarms.DEFAULT_SORT),
        sort_dirs=[v.lower() for v in args.getlist('sort_dirs') if v],
        filter_by=list(args.getlist('filter_by')),
        filter_vals=[_list_value(v) for v in args.getlist('filter_vals')],
        next_page=request.parse_bool(args.get('next_page'), 'next_page',
                                     default=True),
        marker=args.get('marker') or None)


def parse_time(value: str | None, name: str) -> datetime.datetime | None:
    """An ISO-8601 query parameter as naive UTC (no zone means UTC).

    :raises BadRequest: not ISO-8601.
    """
    if value is None or value == '':
        return None
    try:
        return timeutils.parse_iso(value).replace(tzinfo=None)
    except ValueError:
        raise BadRequest("Invalid value %r for '%s': expected an ISO-8601 "
                         "time" % (value, name)) from None


def _caller() -> tuple[dict, bool]:
    """The caller's context and ``all_tenants``.

    :raises vitrage.api.errors.ApiError: 403 ``all_tenants`` without
        admin, 400 a malformed ``all_tenants``.
    """
    all_tenants = request.parse_bool(flask.request.args.get('all_tenants'),
                                     'all_tenants')
    return request.context(all_tenants), all_tenants


def _live_alarms(ctx: dict, all_tenants: bool,
                 resource_id: str | None = None) -> list[dict]:
    return request.call_graph('list_alarms', ctx, resource_id, all_tenants)


def _queries() -> alarms.AlarmQueries:
    return alarms.AlarmQueries(request.database())


@blueprint.route('/alarm', methods=['GET'])
@request.storage_failures(FAILED_LIST)
def list_alarms() -> flask.Response:
    """Active alarms of every resource (``vitrage_id=all``) or of one.

    :raises BadRequest: a bad parameter.
    :raises vitrage.graph.rpcapi.GraphError: without alarm history, when
        the graph fails.
    :raises vitrage.api.errors.Forbidden: ``all_tenants`` without admin.
    """
    args = flask.request.args
    ctx, all_tenants = _caller()
    page = page_of(args)
    resource_id = args.get('vitrage_id') or None
    if not history_enabled():
        records = _live_alarms(ctx, all_tenants, resource_id)
        return json_response(alarms.page_records(records, page))
    result = _queries().list_alarms(alarms.Scope.of(ctx, all_tenants), page,
                                    resource_id)
    return json_response(result)


@blueprint.route('/alarm/count', methods=['GET'])
@request.storage_failures(FAILED_COUNT)
def count_alarms() -> flask.Response:
    """Active alarms per operational severity (all five keys).

    :raises vitrage.api.errors.Forbidden: ``all_tenants`` without admin.
    """
    ctx, all_tenants = _caller()
    if not history_enabled():
        return json_response(alarms.count_records(
            _live_alarms(ctx, all_tenants)))
    scope = alarms.Scope.of(ctx, all_tenants)
    return json_response(_queries().count(scope))


@blueprint.route('/alarm/history', methods=['GET'])
@request.storage_failures(FAILED_HISTORY)
def alarm_history() -> flask.Response:
    """Active and ended alarms, optionally in a ``start``/``end`` window.

    :raises BadRequest: a bad parameter, or ``end`` without ``start``.
    :raises ApiError: 404 without alarm history.
    :raises vitrage.api.errors.Forbidden: ``all_tenants`` without admin.
    """
    args = flask.request.args
    ctx, all_tenants = _caller()
    page = page_of(args)
    start = parse_time(args.get('start'), 'start')
    end = parse_time(args.get('end'), 'end')
    if not history_enabled():
        raise ApiError(404, FAILED_HISTORY, NO_HISTORY)
    result = _queries().history(alarms.Scope.of(ctx, all_tenants), page,
                                start, end)
    return json_response(result)


@blueprint.route('/alarm/<vitrage_id>', methods=['GET'])
@request.graph_backed
def show_alarm(vitrage_id: str) -> flask.Response:
    """One alarm of the live graph.

    :raises vitrage.graph.rpcapi.GraphError: 404 ``Failed to show
        alarm.`` for an unknown alarm or another project's.
    """
    result = request.call_graph('show_alarm', request.identity(),
                                vitrage_id)
    return json_response(result)
