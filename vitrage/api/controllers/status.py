"""``GET /v1/status``: is vitrage-graph up and initialised (4.24)."""
import flask

from vitrage.api.errors import json_response
from vitrage.api import request

blueprint = flask.Blueprint('status', __name__)


@blueprint.route('/status', methods=['GET'])
@request.graph_backed
def get_status() -> flask.Response:
    result = request.call_graph('get_status', request.identity())
    return json_response(result)
