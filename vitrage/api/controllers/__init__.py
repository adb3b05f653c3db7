"""One module per REST resource; each exposes a Flask ``blueprint``.

Every module of this package but :mod:`root` is mounted under ``/v1``
and behind the readiness gate (:data:`V1`, found at import so that a new
resource needs no registration elsewhere); :mod:`root` (versions,
healthcheck) is mounted at ``/``.
"""
import importlib
import pkgutil

import flask


def _v1_blueprints() -> tuple[flask.Blueprint, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == 'root' or info.name.startswith('_'):
            continue
        module = importlib.import_module('%s.%s' % (__name__, info.name))
        blueprint = getattr(module, 'blueprint', None)
        if isinstance(blueprint, flask.Blueprint):
            found.append(blueprint)
    return tuple(found)


V1 = _v1_blueprints()
