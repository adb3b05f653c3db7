"""``GET /`` (API versions) and ``GET /healthcheck`` (rest-api-v1.md 4.1,
4.2); neither needs authentication nor a ready graph."""
import os

import flask

from vitrage.api.errors import json_response

blueprint = flask.Blueprint('root', __name__)

HEALTHCHECK_DISABLE_FILE = '/var/run/vitrage/healthcheck_disable'
"""While this file exists /healthcheck answers 503 (the app's config key
``HEALTHCHECK_DISABLE_FILE`` overrides the path)."""


@blueprint.route('/', methods=['GET'])
def versions() -> flask.Response:
    href = flask.request.url_root.rstrip('/') + '/v1/'
    return json_response({'versions': [{
        'id': 'v1.0', 'status': 'CURRENT', 'updated': '2015-11-29',
        'links': [{'rel': 'self', 'href': href}]}]})


@blueprint.route('/healthcheck', methods=['GET'])
def healthcheck() -> flask.Response:
    path = flask.current_app.config.get('HEALTHCHECK_DISABLE_FILE',
                                        HEALTHCHECK_DISABLE_FILE)
    if path and os.path.exists(path):
        return json_response({'detailed': False,
                              'reasons': ['DISABLED BY FILE']}, 503)
    return json_response({'detailed': False, 'reasons': ['OK']})
