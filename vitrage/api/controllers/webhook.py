"""``/v1/webhook``: register, list, show and delete webhooks
(rest-api-v1.md 4.19-4.22). Rows live in the ``webhooks`` table; the
notifier delivers to them."""
import json
from typing import Any

import flask

from vitrage.api.errors import ApiError
from vitrage.api.errors import BadRequest
from vitrage.api.errors import json_response
from vitrage.api import request
from vitrage.storage import webhooks

blueprint = flask.Blueprint('webhook', __name__)

ADD_FAILED = 'Failed to add webhooks.'
LIST_FAILED = 'Failed to get webhooks.'
SHOW_FAILED = 'Failed to get webhook.'
DELETE_FAILED = 'Failed to delete webhook.'


def _store() -> webhooks.WebhookStore:
    return webhooks.WebhookStore(request.database())


def _dict_literal(value: Any) -> Any:
    """A JSON object from a caller other than the stock client is kept as
    its JSON text; anything else is validated as sent.
    """
    if isinstance(value, dict):
        return json.dumps(value)
    return value


@blueprint.route('/webhook', methods=['POST'])
@request.storage_failures(ADD_FAILED)
def add_webhook() -> flask.Response:
    body = request.json_body()
    ctx = request.identity()
    try:
        webhook = _store().add(
            ctx['project_id'], ctx['is_admin'], body.get('url'),
            regex_filter=_dict_literal(body.get('regex_filter')),
            headers=_dict_literal(body.get('headers')))
    except webhooks.InvalidWebhook as exc:
        raise BadRequest('%s %s' % (ADD_FAILED, exc))
    return json_response(webhook.to_api_dict())


@blueprint.route('/webhook', methods=['GET'])
@request.storage_failures(LIST_FAILED)
def list_webhooks() -> flask.Response:
    all_tenants = request.parse_bool(flask.request.args.get('all_tenants'),
                                     'all_tenants')
    ctx = request.context(all_tenants)
    rows = _store().list_webhooks(ctx['project_id'], all_tenants)
    return json_response([row.to_api_dict() for row in rows])


@blueprint.route('/webhook/<webhook_id>', methods=['GET'])
@request.storage_failures(SHOW_FAILED)
def show_webhook(webhook_id: str) -> flask.Response:
    ctx = request.identity()
    try:
        webhook = _store().get(webhook_id, ctx['project_id'],
                               ctx['is_admin'])
    except webhooks.WebhookNotFound:
        raise ApiError(404, SHOW_FAILED)
    return json_response(webhook.to_api_dict())


@blueprint.route('/webhook/<webhook_id>', methods=['DELETE'])
@request.storage_failures(DELETE_FAILED)
def delete_webhook(webhook_id: str) -> flask.Response:
    ctx = request.identity()
    try:
        _store().delete(webhook_id, ctx['project_id'], ctx['is_admin'])
    except webhooks.WebhookNotFound:
        raise ApiError(404, DELETE_FAILED)
    return json_response({'SUCCESS': 'Webhook %s deleted' % webhook_id})
