"""``/v1/template``: list, versions, show, validate, add and delete
templates (rest-api-v1.md 4.12-4.17).

Templates live in the database; the active vitrage-graph puts added ones
in force (LOADING becomes ACTIVE) and unloads deleted ones within
``[evaluator] templates_poll_interval``.
"""

import flask

from vitrage.api.errors import ApiError
from vitrage.api.errors import BadRequest
from vitrage.api.errors import json_response
from vitrage.api import request
from vitrage.evaluator import catalog as catalog_mod
from vitrage.evaluator import status
from vitrage.storage import templates as store_mod


blueprint = flask.Blueprint('template', __name__)


def _catalog() -> catalog_mod.TemplateCatalog:
    return catalog_mod.TemplateCatalog(
        store_mod.TemplateStore(request.database()))


def _submitted(body: dict) -> tuple[list, str | None, dict]:
    """The ``templates``, ``template_type`` and ``params`` of a body.

    :raises BadRequest: a field of the wrong shape.
    """
    templates = body.get('templates')
    if not isinstance(templates, list) or not templates:
        raise BadRequest("'templates' must be a non-empty list of "
                         "[file path, template] pairs")
    pairs = []
    for i, item in enumerate(templates):
        if isinstance(item, (list, tuple)) and len(item) == 2:
            path, template = item
        elif isinstance(item, dict):
            path, template = None, item
        else:
            raise BadRequest("templates[%d] must be a [file path, "
                             "template] pair" % i)
        if path is not None and not isinstance(path, str):
            raise BadRequest('templates[%d]: the file path must be a '
                             'string or null' % i)
        pairs.append((path, template))
    template_type = request.parse_str(body.get('template_type'),
                                      'template_type') or None
    params = body.get('params') or {}
    if not isinstance(params, dict):
        raise BadRequest("'params' must be an object of parameter values")
    return pairs, template_type, params


@blueprint.route('/template', methods=['GET'])
@request.storage_failures('Failed to get templates.')
def list_templates() -> flask.Response:
    return json_response(_catalog().list_all())


@blueprint.route('/template/versions', methods=['GET'])
def template_versions() -> flask.Response:
    return json_response([dict(v) for v in status.TEMPLATE_VERSIONS])


@blueprint.route('/template/<path:template_id>', methods=['GET'])
@request.storage_failures('Failed to show template.')
def show_template(template_id: str) -> flask.Response:
    found = _catalog().show(template_id)
    if found is None:
        raise ApiError(404, 'Failed to show template.',
                       'no template %r' % template_id)
    return json_response(found)


@blueprint.route('/template', methods=['POST'])
@request.storage_failures('Failed to validate template.')
def validate_templates() -> flask.Response:
    pairs, template_type, params = _submitted(request.json_body())
    results = _catalog().validate(pairs, template_type, params)
    return json_response({'results': results})


@blueprint.route('/template', methods=['PUT'])
@request.storage_failures('Failed to add template.',
                          catalog_mod.TemplateError)
def add_templates() -> flask.Response:
    body = request.json_body()
    pairs, template_type, params = _submitted(body)
    overwrite = request.parse_bool(body.get('overwrite'), 'overwrite')
    rows = _catalog().add(pairs, template_type, params, overwrite)
    return json_response(rows)


@blueprint.route('/template', methods=['DELETE'])
@request.storage_failures('Failed to delete template.')
def delete_templates() -> flask.Response:
    body = request.json_body()
    args = flask.request.args
    ids = body.get('id', body.get('uuid'))
    if ids is None:
        ids = args.getlist('id') or args.getlist('uuid') or None
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or \
            not all(isinstance(i, str) for i in ids):
        raise BadRequest("'id' must be a template uuid or name, or a "
                         "list of them")
    # An empty list deletes nothing and is not an error: clients that
    # clean up "every template" send one once none is left.
    if ids:
        _catalog().delete(ids)
    return json_response(None)
