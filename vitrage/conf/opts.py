"""Entry point of oslo-config-generator and of the Sphinx option docs."""
import itertools

from vitrage import conf as vitrage_conf
from vitrage.datasources import loader


def list_opts() -> list:
    """Every option group of Vitrage, datasource groups included."""
    # A GROUP of None is [DEFAULT]; [database] is oslo.db's own options
    # with Vitrage's default connection (vitrage.conf.database).
    groups = [(module.GROUP or 'DEFAULT', module.OPTS)
              for module in vitrage_conf._MODULES]
    groups.extend(loader.all_datasource_opts())
    merged: dict = {}
    for group, opts in groups:
        merged.setdefault(group, [])
        merged[group] = list(itertools.chain(merged[group], opts))
    return sorted(merged.items())
