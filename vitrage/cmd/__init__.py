"""Console scripts.

Each builds its configuration with :func:`vitrage.service.prepare_service`
and runs one ServiceManager. :func:`console_script` turns a configuration
error into one clear line and exit status 2 instead of a traceback.
"""
import functools
import os
import sys
from typing import Any
from typing import Callable

from oslo_config import cfg

from vitrage.common import exceptions


def console_script(main: Callable[..., Any]) -> Callable[..., Any]:
    """Report configuration errors of ``main`` in one line, exit 2."""
    @functools.wraps(main)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return main(*args, **kwargs)
        except (exceptions.ConfigError, cfg.Error) as exc:
            sys.stderr.write('%s: configuration error: %s\n' % (
                os.path.basename(sys.argv[0]), exc))
            sys.exit(2)
    return wrapper
