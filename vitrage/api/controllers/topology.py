"""``POST /v1/topology``: the entity graph (rest-api-v1.md 4.3)."""
import flask

from vitrage.api.errors import json_response
from vitrage.api import request

blueprint = flask.Blueprint('topology', __name__)


@blueprint.route('/topology', methods=['POST'])
@request.graph_backed
def get_topology() -> flask.Response:
    body = request.json_body()
    all_tenants = request.parse_bool(body.get('all_tenants'), 'all_tenants')
    graph_type = request.parse_str(body.get('graph_type'), 'graph_type')
    depth = request.parse_int(body.get('depth'), 'depth', minimum=0)
    root = request.parse_str(body.get('root'), 'root') or None
    query = request.parse_query(body.get('query'))
    ctx = request.context(all_tenants)
    result = request.call_graph('get_topology', ctx,
                                graph_type=graph_type or 'graph',
                                depth=depth, query=query, root=root,
                                all_tenants=all_tenants)
    return json_response(result)
