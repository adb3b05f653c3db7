"""Aggregated and operational state and severity (entities.md section 6).

``<datasources_values_dir>/<vitrage_type>.yaml`` files map raw values to
normalised ones with a priority; this module loads them and computes the
``vitrage_aggregated_*`` / ``vitrage_operational_*`` properties.
"""
import os
import sys

from oslo_log import log
import yaml

from vitrage.common.constants import AlarmSeverity
from vitrage.common.constants import Category
from vitrage.common.constants import Prop
from vitrage.common.constants import ResourceState
from vitrage.common.constants import UNDEFINED_DATASOURCE
from vitrage.common import exceptions

LOG = log.getLogger(__name__)

DEFAULT_DIR = '/etc/vitrage/datasources_values'
DEFAULT_TYPE = 'default'
ALARM_TYPE = 'vitrage'
_NO_VALUE = (ResourceState.NA, 0)

Table = dict[str, tuple[str, int]]


def resolve_dir(configured: str) -> str:
    """The folder to read: the configured one, or the copy installed with
    the package when the configured default does not exist (so a pip
    install works without files in /etc).
    """
    if os.path.isdir(configured) or configured != DEFAULT_DIR:
        return configured
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (
            os.path.join(sys.prefix, 'etc', 'vitrage', 'datasources_values'),
            os.path.join(here, '..', '..', 'etc', 'vitrage',
                         'datasources_values')):
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    return configured


def load_table(path: str) -> tuple[str, Table]:
    """Read one values file.

    :returns: (category, {RAW VALUE: (operational value, priority)}).
    :raises vitrage.common.exceptions.ConfigError: naming the file and the
        problem.
    """
    try:
        with open(path, encoding='utf-8') as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise exceptions.ConfigError('%s: %s' % (path, exc))
    if not isinstance(doc, dict):
        raise exceptions.ConfigError('%s: not a mapping' % path)
    category = doc.get('category')
    if category == Category.RESOURCE:
        allowed = ResourceState.ALL
    elif category == Category.ALARM:
        allowed = AlarmSeverity.ALL
    else:
        raise exceptions.ConfigError(
            '%s: category must be RESOURCE or ALARM, not %r' % (
                path, category))
    table: Table = {}
    for item in doc.get('values') or []:
        try:
            agg = item['aggregated values']
            priority = int(agg['priority'])
            originals = agg['original values']
        except (KeyError, TypeError, ValueError) as exc:
            raise exceptions.ConfigError(
                '%s: bad "aggregated values" entry %r (%s)' % (
                    path, item, exc))
        for original in originals:
            name = str(original.get('name'))
            operational = str(original.get('operational_value', name))
            if operational not in allowed:
                raise exceptions.ConfigError(
                    '%s: operational value %r of %r is not one of %s' % (
                        path, operational, name, ', '.join(allowed)))
            table[name.upper()] = (operational, priority)
    return category, table


class StateNormalizer:
    """Computes normalised states and severities of vertices."""

    def __init__(self, values_dir: str,
                 datasource_types: frozenset[str] = frozenset()) -> None:
        """
        :param values_dir: folder of ``<vitrage_type>.yaml`` files.
        :param datasource_types: the types enabled datasources produce; a
            type among them with no file gets ``undefined datasource``.
        """
        self.values_dir = resolve_dir(values_dir)
        self.datasource_types = datasource_types
        self.tables: dict[str, Table] = {}
        self.load()

    def load(self) -> None:
        """(Re)read every file; a bad file is logged and skipped."""
        tables = {}
        try:
            names = sorted(os.listdir(self.values_dir))
        except OSError as exc:
            LOG.error('datasources values folder %s: %s',
                      self.values_dir, exc)
            names = []
        for name in names:
            if not name.endswith('.yaml'):
                continue
            try:
                _category, table = load_table(
                    os.path.join(self.values_dir, name))
            except exceptions.ConfigError as exc:
                LOG.error('ignoring datasources values file: %s', exc)
                continue
            tables[name[:-len('.yaml')]] = table
        if DEFAULT_TYPE not in tables:
            LOG.warning('no %s.yaml in %s: unknown types get N/A',
                        DEFAULT_TYPE, self.values_dir)
        self.tables = tables
        self._cache: dict[str, Table | None] = {}

    def table_for(self, vitrage_type: str) -> Table | None:
        """The table of a type; None means ``undefined datasource``."""
        try:
            return self._cache[vitrage_type]
        except KeyError:
            pass
        table = self.tables.get(vitrage_type)
        if table is None and vitrage_type not in self.datasource_types:
            table = self.tables.get(DEFAULT_TYPE, {})
        self._cache[vitrage_type] = table
        return table

    def value_priority(self, vitrage_type: str, raw: str | None) -> int:
        """The priority of a raw value in the type's table (0 if none)."""
        table = self.table_for(vitrage_type)
        if not table or raw is None:
            return 0
        return table.get(str(raw).upper(), _NO_VALUE)[1]

    def apply(self, props: dict) -> None:
        """Set the aggregated and operational properties of a vertex dict
        in place, from its raw ``state``/``vitrage_state`` or
        ``severity``.
        """
        vitrage_type = props.get(Prop.TYPE)
        if props.get(Prop.CATEGORY) == Category.ALARM:
            agg_key = Prop.AGGREGATED_SEVERITY
            op_key = Prop.OPERATIONAL_SEVERITY
            candidates = (props.get(Prop.SEVERITY),)
        else:
            agg_key = Prop.AGGREGATED_STATE
            op_key = Prop.OPERATIONAL_STATE
            candidates = (props.get(Prop.STATE),
                          props.get(Prop.VITRAGE_STATE))
        table = self.table_for(vitrage_type)
        if table is None:
            props[agg_key] = UNDEFINED_DATASOURCE
            props[op_key] = UNDEFINED_DATASOURCE
            return
        best_raw = None
        best = _NO_VALUE
        for raw in candidates:
            if raw is None:
                continue
            upper = str(raw).upper()
            found = table.get(upper, _NO_VALUE)
            if best_raw is None or found[1] > best[1]:
                best_raw, best = upper, found
        if best_raw is None:
            props.pop(agg_key, None)
        else:
            props[agg_key] = sys.intern(best_raw)
        props[op_key] = best[0]
