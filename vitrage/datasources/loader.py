"""Loading datasource plugins from the ``vitrage.datasources`` group."""
from oslo_config import cfg
from oslo_log import log
import stevedore

from vitrage.common import exceptions
from vitrage.datasources.base import DriverBase

LOG = log.getLogger(__name__)

NAMESPACE = 'vitrage.datasources'


def driver_class(name: str) -> type[DriverBase]:
    """The driver class registered under ``name``, capabilities checked.

    :param name: an entry-point name, as listed in ``[datasources] types``.
    :raises vitrage.common.exceptions.DatasourceLoadError: when no plugin
        has that name, it cannot be imported, or its capabilities are
        inconsistent.
    """
    try:
        manager = stevedore.DriverManager(NAMESPACE, name,
                                          invoke_on_load=False)
    except stevedore.exception.NoMatches:
        raise exceptions.DatasourceLoadError(
            'unknown datasource %r in [datasources] types (installed: %s)' % (
                name, ', '.join(sorted(available())) or 'none'))
    except Exception as exc:
        raise exceptions.DatasourceLoadError(
            'datasource %r failed to load: %s' % (name, exc)) from exc
    cls = manager.driver
    if not (isinstance(cls, type) and issubclass(cls, DriverBase)):
        raise exceptions.DatasourceLoadError(
            'datasource %r: %r is not a DriverBase subclass' % (name, cls))
    cls.check_capabilities()
    return cls


def available() -> list[str]:
    """Names of every installed datasource plugin."""
    return stevedore.ExtensionManager(
        NAMESPACE, invoke_on_load=False).names()


def enabled_classes(conf: cfg.ConfigOpts) -> dict[str, type[DriverBase]]:
    """The driver classes of ``[datasources] types``, by name.

    :raises vitrage.common.exceptions.DatasourceLoadError: see
        :func:`driver_class`.
    """
    return {name: driver_class(name) for name in conf.datasources.types}


def register_datasource_opts(conf: cfg.ConfigOpts) -> None:
    """Register the option group of each enabled datasource.

    :raises vitrage.common.exceptions.DatasourceLoadError: see
        :func:`driver_class`.
    """
    for name, cls in enabled_classes(conf).items():
        if cls.opts:
            conf.register_opts(cls.opts, group=name)


def all_datasource_opts() -> list[tuple[str, list]]:
    """Option groups of every installed datasource (for genconfig)."""
    groups = []
    for name in available():
        try:
            cls = driver_class(name)
        except exceptions.DatasourceLoadError as exc:
            LOG.warning('%s', exc)
            continue
        if cls.opts:
            groups.append((name, cls.opts))
    return groups
