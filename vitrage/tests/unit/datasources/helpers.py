"""Helpers shared by the datasource unit tests."""
from oslo_config import cfg

from vitrage import conf as vitrage_conf
from vitrage.datasources import loader

SAMPLE = '2024-05-01T12:00:00Z'


def make_conf(types: list[str], overrides: dict | None = None
              ) -> cfg.ConfigOpts:
    """A private configuration with the given datasources enabled.

    :param types: ``[datasources] types``.
    :param overrides: ``{(group, option): value}``.
    """
    conf = cfg.ConfigOpts()
    vitrage_conf.register_opts(conf)
    conf([], project='vitrage', default_config_files=[])
    conf.set_override('types', types, 'datasources')
    loader.register_datasource_opts(conf)
    for (group, name), value in (overrides or {}).items():
        conf.set_override(name, value, group)
    return conf


def envelope(event: dict, action: str = 'snapshot',
             name: str = 'test', event_type: str | None = None) -> dict:
    """``event`` with the envelope keys the collector adds."""
    event = dict(event)
    event['vitrage_datasource_action'] = action
    event['vitrage_sample_date'] = SAMPLE
    event['vitrage_datasource_name'] = name
    if event_type is not None:
        event['vitrage_event_type'] = event_type
    return event
