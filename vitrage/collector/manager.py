"""Runs the datasource drivers of one collector process."""
from collections.abc import Iterator
import threading

from oslo_config import cfg
from oslo_log import log

from vitrage.collector.baseline import Baseline
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.datasources.base import DriverBase
from vitrage.datasources import loader

LOG = log.getLogger(__name__)


class DatasourceRunner:
    """One enabled datasource in a collector: its driver and baseline."""

    def __init__(self, conf: cfg.ConfigOpts, name: str,
                 driver_cls: type[DriverBase], collector_id: str) -> None:
        self.name = name
        self.driver_cls = driver_cls
        self.driver = driver_cls(conf, name)
        self.baseline = Baseline(collector_id)
        self.default_type = (driver_cls.entity_types[0]
                             if driver_cls.entity_types else name)
        # get_all and get_changes of one datasource never overlap.
        self.lock = threading.Lock()

    def stamp(self, events: Iterator[dict], action: str,
              sample_date: str) -> Iterator[dict]:
        """Add the envelope keys of entities.md section 5.1."""
        name = self.name
        default_type = self.default_type
        for event in events:
            if not isinstance(event, dict):
                LOG.error('datasource %s produced a %s, not an event; '
                          'dropped', name, type(event).__name__)
                continue
            event[Envelope.DATASOURCE_ACTION] = action
            event[Envelope.SAMPLE_DATE] = sample_date
            event[Envelope.DATASOURCE_NAME] = name
            if Envelope.ENTITY_TYPE not in event:
                event[Envelope.ENTITY_TYPE] = default_type
            yield event

    def full(self, action: str) -> tuple[Iterator[dict], str]:
        """Events of a full sample; the baseline is re-seeded.

        :returns: (events, sample date).
        """
        sample_date = timeutils.sample_now()
        events = self.baseline.reseed(self.driver.get_all(), self._key)
        return self.stamp(events, action, sample_date), sample_date

    def changes(self, token: str | None) -> tuple[Iterator[dict], str, bool]:
        """Events that changed since the report stamped ``token``.

        :returns: (events, sample date, whether it is a full re-seed
            because ``token`` is not this baseline's).
        """
        sample_date = timeutils.sample_now()
        if token is None or token != self.baseline.token:
            events = self.baseline.reseed(self.driver.get_all(), self._key)
            reseeded = True
        else:
            events = self.baseline.changes(
                self.driver.get_all(), self._key, self.driver.deleted_event)
            reseeded = False
        return (self.stamp(events, DatasourceAction.UPDATE, sample_date),
                sample_date, reseeded)

    def _key(self, event: dict) -> str:
        return self.driver.entity_key(event)


class CollectorManager:
    """The datasources of ``[datasources] types``, ready to be sampled."""

    def __init__(self, conf: cfg.ConfigOpts, collector_id: str) -> None:
        """
        :raises vitrage.common.exceptions.DatasourceLoadError: when an
            enabled datasource cannot be loaded.
        """
        self.conf = conf
        self.collector_id = collector_id
        self.runners = {
            name: DatasourceRunner(conf, name, cls, collector_id)
            for name, cls in loader.enabled_classes(conf).items()}

    def runner(self, name: str) -> DatasourceRunner:
        """:raises vitrage.common.exceptions.NotFound: unknown name."""
        try:
            return self.runners[name]
        except KeyError:
            raise exceptions.NotFound(
                'datasource %r is not enabled in this collector (enabled: '
                '%s)' % (name, ', '.join(sorted(self.runners))))

    def push_drivers(self) -> dict[str, list[DatasourceRunner]]:
        """Runners by the notification event types they take."""
        by_type: dict[str, list[DatasourceRunner]] = {}
        for runner in self.runners.values():
            for event_type in runner.driver_cls.push_event_types:
                by_type.setdefault(event_type, []).append(runner)
        return by_type
