"""One module per REST resource; each exposes a Flask ``blueprint``.

Blueprints listed in :data:`V1` are mounted under ``/v1`` and behind the
readiness gate; :mod:`root` (versions, healthcheck) is mounted at ``/``.
"""
from vitrage.api.controllers import resources
from vitrage.api.controllers import status
from vitrage.api.controllers import topology

V1 = (topology.blueprint, resources.blueprint, status.blueprint)
