"""``GET /v1/status``: is vitrage-graph up and initialised (4.24).

With a database, the answer also lists the vitrage-graph processes that
run (from the service registry) and which of them is active: the one
holding the current term; the others are standbys waiting for it
(``"graphs": [{"name", "hostname", "pid", "role"}]``, ``"term"``).
Clients read only ``reason``; the extra keys are for operators.
"""
import logging
from typing import Any

import flask
from oslo_db import exception as db_exc

from vitrage.api.errors import json_response
from vitrage.api import request

LOG = logging.getLogger(__name__)

blueprint = flask.Blueprint('status', __name__)

#: Registry names of processes that run a graph.
GRAPH_ROLES = ('GraphWorker', 'AllInOne')


def graph_roles(terms: Any, registry: Any) -> dict[str, Any]:
    """The current term and the graph processes with their roles.

    :param terms: a :class:`vitrage.storage.terms.TermStore`.
    :param registry: a :class:`vitrage.storage.services.ServiceRegistry`.
    :raises oslo_db.exception.DBError: when the database fails.
    """
    term, holder, _beat = terms.holder()
    graphs = []
    for info in registry.list_live():
        if info.name.split('_', 1)[0] not in GRAPH_ROLES:
            continue
        active = holder == '%s:%d' % (info.hostname, info.process)
        graphs.append({'name': info.name, 'hostname': info.hostname,
                       'pid': info.process,
                       'role': 'active' if active else 'standby'})
    return {'term': term, 'graphs': graphs}


def _roles() -> dict[str, Any]:
    conf = request.state().conf
    if not conf.persistency.enable_persistency:
        return {}
    from vitrage.storage import services
    from vitrage.storage import terms
    try:
        database = request.database()
        return graph_roles(terms.TermStore(database),
                           services.ServiceRegistry(database))
    except db_exc.DBError as exc:
        LOG.warning('status: cannot read the graph roles: %s', exc)
        return {}


@blueprint.route('/status', methods=['GET'])
@request.graph_backed
def get_status() -> flask.Response:
    result = request.call_graph('get_status', request.identity())
    answer = dict(result)
    answer.update(_roles())
    return json_response(answer)
