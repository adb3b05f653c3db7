"""``/v1/resources``: list, show and count resources (rest-api-v1.md
4.4-4.6, and the deprecated ``GET /v1/resources`` list form)."""
import flask

from vitrage.api.errors import json_response
from vitrage.api import request

blueprint = flask.Blueprint('resources', __name__)


def _selection(params: dict) -> tuple[dict, dict]:
    all_tenants = request.parse_bool(params.get('all_tenants'),
                                     'all_tenants')
    selection = {
        'resource_type': request.parse_str(params.get('resource_type'),
                                           'resource_type') or None,
        'all_tenants': all_tenants,
        'query': request.parse_query(params.get('query')),
    }
    return request.context(all_tenants), selection


@blueprint.route('/resources', methods=['POST'])
@request.graph_backed
def list_resources() -> flask.Response:
    ctx, selection = _selection(request.json_body())
    result = request.call_graph('list_resources', ctx, **selection)
    return json_response(result)


@blueprint.route('/resources', methods=['GET'])
@request.graph_backed
def list_resources_by_query_string() -> flask.Response:
    ctx, selection = _selection(flask.request.args.to_dict())
    result = request.call_graph('list_resources', ctx, **selection)
    return json_response(result)


@blueprint.route('/resources/count', methods=['POST'])
@request.graph_backed
def count_resources() -> flask.Response:
    body = request.json_body()
    ctx, selection = _selection(body)
    group_by = request.parse_str(body.get('group_by'), 'group_by')
    result = request.call_graph('count_resources', ctx,
                                group_by=group_by or 'vitrage_type',
                                **selection)
    return json_response(result)


@blueprint.route('/resources/<vitrage_id>', methods=['GET'])
@request.graph_backed
def show_resource(vitrage_id: str) -> flask.Response:
    result = request.call_graph('show_resource', request.identity(),
                                vitrage_id)
    return json_response(result)
