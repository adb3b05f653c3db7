"""The one place that builds a configuration for a console script."""
import sys

from oslo_config import cfg
from oslo_log import log

from vitrage import conf as vitrage_conf

LOG = log.getLogger(__name__)


def prepare_service(argv: list[str] | None = None,
                    conf: cfg.ConfigOpts | None = None,
                    default_config_files: list[str] | None = None,
                    setup_logging: bool = True) -> cfg.ConfigOpts:
    """Register options, parse the command line and config files.

    oslo.messaging registers some of its options on the global
    ``cfg.CONF`` only, so services use it unless a test passes its own.

    :param argv: command line arguments (``sys.argv[1:]`` when None).
    :param conf: the ConfigOpts to fill; the global ``cfg.CONF`` if None.
    :param default_config_files: config files read when ``--config-file``
        is not given.
    :raises oslo_config.cfg.Error: when the configuration is invalid.
    """
    if argv is None:
        argv = sys.argv[1:]
    if conf is None:
        conf = cfg.CONF
    log.register_options(conf)
    vitrage_conf.register_opts(conf)
    conf(argv, project='vitrage', validate_default_values=True,
         default_config_files=default_config_files)
    if setup_logging:
        log.setup(conf, 'vitrage')
    from vitrage.datasources import loader
    loader.register_datasource_opts(conf)
    check_values(conf)
    return conf


def check_values(conf: cfg.ConfigOpts) -> None:
    """Read every Vitrage option now, so a bad value stops the command at
    once with its name instead of failing later in a worker that its
    supervisor restarts again and again.

    :raises vitrage.common.exceptions.ConfigError: naming the option.
    """
    from vitrage.common import exceptions
    from vitrage.conf import opts
    for group, options in opts.list_opts():
        for opt in options:
            try:
                if group == 'DEFAULT':
                    getattr(conf, opt.dest)
                elif group in conf:
                    getattr(conf[group], opt.dest)
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                continue   # not registered in this process
            except (cfg.Error, ValueError) as exc:
                raise exceptions.ConfigError(
                    '[%s] %s: %s' % (group, opt.dest, exc)) from exc
