"""The registry of running service processes (rest-api-v1.md 4.23).

Each Vitrage process registers one row of the ``services`` table, named
``<Role>_worker_<n>`` (``GraphWorker_worker_0``, ``ApiWorker_worker_0``,
``PersistorService_worker_1``...), with its host name and pid, and a
thread refreshes its ``heartbeat_at`` every ``[api]
service_heartbeat_interval`` seconds. ``GET /v1/service`` lists the rows
that beat within three intervals, sorted by name; a clean stop deletes
the row, and rows silent for ten intervals are deleted by the others.

The database (``[database] connection``) plays the part of upstream's
coordination backend; registration never stops a service: while the
database is unreachable the thread logs and tries again.
"""
import atexit
from collections.abc import Callable
import dataclasses
import datetime
import logging
import os
import threading
from typing import Any
import uuid

from oslo_config import cfg
import sqlalchemy as sa

from vitrage.storage import connection as db_connection
from vitrage.storage import models

LOG = logging.getLogger(__name__)

SERVICES = models.Service.__table__

LIVE_INTERVALS = 3
"""A row is live while it beat within this many intervals."""
PURGE_INTERVALS = 10
"""A row silent for this many intervals is deleted."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None)


def service_name(role: str, worker: int = 0) -> str:
    """``<Role>_worker_<n>``, as upstream named coordination members.

    :param role: the service class name, without ``_``.
    :param worker: the worker number within its service.
    """
    return '%s_worker_%d' % (role.replace('_', ''), worker)


@dataclasses.dataclass(frozen=True)
class ServiceInfo:
    """One live service process.

    :param name: ``<Role>_worker_<n>``.
    :param hostname: the ``[DEFAULT] host`` of its node.
    :param process: its pid.
    :param created: when it registered (naive UTC).
    """

    name: str
    hostname: str
    process: int
    created: datetime.datetime

    def to_api_dict(self) -> dict[str, Any]:
        """The entry of ``GET /v1/service``."""
        created = self.created.replace(microsecond=0,
                                       tzinfo=datetime.timezone.utc)
        return {'name': self.name, 'hostname': self.hostname,
                'process': self.process, 'created': created.isoformat()}


class ServiceRegistry:
    """Reads and writes the ``services`` table.

    :param database: the database holding the migrated schema.
    :param interval: seconds between heartbeats of a process.
    :param clock: naive-UTC time source (tests pass their own).
    """

    def __init__(self, database: db_connection.Database,
                 interval: float = 10.0,
                 clock: Callable[[], datetime.datetime] = _now) -> None:
        self.database = database
        self.interval = interval
        self.clock = clock

    def beat(self, service_id: str, name: str, hostname: str, pid: int,
             created: datetime.datetime) -> None:
        """Insert or refresh one process's row; delete long-silent rows.

        :param service_id: the process's registration id.
        :param name: ``<Role>_worker_<n>``.
        :param hostname: its node.
        :param pid: its pid.
        :param created: when it registered (naive UTC).
        :raises oslo_db.exception.DBError: on a database error.
        """
        now = self.clock()
        stale = now - datetime.timedelta(
            seconds=self.interval * PURGE_INTERVALS)
        with self.database.begin() as conn:
            updated = conn.execute(
                sa.update(SERVICES).where(SERVICES.c.id == service_id)
                .values(heartbeat_at=now)).rowcount
            if not updated:
                conn.execute(sa.insert(SERVICES).values(
                    id=service_id, name=name, hostname=hostname, pid=pid,
                    created_at=created, heartbeat_at=now))
            conn.execute(sa.delete(SERVICES).where(
                SERVICES.c.heartbeat_at < stale))

    def remove(self, service_id: str) -> None:
        """Delete a process's row (clean stop).

        :raises oslo_db.exception.DBError: on a database error.
        """
        with self.database.begin() as conn:
            conn.execute(sa.delete(SERVICES).where(
                SERVICES.c.id == service_id))

    def list_live(self) -> list[ServiceInfo]:
        """The processes that beat recently, sorted by name (then host
        and pid).

        :raises oslo_db.exception.DBError: on a database error.
        """
        since = self.clock() - datetime.timedelta(
            seconds=self.interval * LIVE_INTERVALS)
        query = (sa.select(SERVICES.c.name, SERVICES.c.hostname,
                           SERVICES.c.pid, SERVICES.c.created_at)
                 .where(SERVICES.c.heartbeat_at >= since)
                 .order_by(SERVICES.c.name, SERVICES.c.hostname,
                           SERVICES.c.pid))
        with self.database.connect() as conn:
            return [ServiceInfo(row.name, row.hostname, row.pid,
                                row.created_at)
                    for row in conn.execute(query)]


class Registration:
    """This process's row, kept fresh by a daemon thread.

    :param registry: where to register.
    :param name: ``<Role>_worker_<n>``.
    :param hostname: the node's name.
    :param pid: the process id (default: this process).
    """

    def __init__(self, registry: ServiceRegistry, name: str, hostname: str,
                 pid: int | None = None) -> None:
        self.registry = registry
        self.name = name
        self.hostname = hostname
        self.pid = os.getpid() if pid is None else pid
        self.id = str(uuid.uuid4())
        self.created = registry.clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat_once(self) -> bool:
        """Refresh the row now; False (and a warning) when the database
        refuses.
        """
        try:
            self.registry.beat(self.id, self.name, self.hostname, self.pid,
                               self.created)
        except Exception as exc:
            if not self._failing:
                LOG.warning('service registry: %s could not beat (will '
                            'retry): %s', self.name, exc)
            self._failing = True
            return False
        if self._failing:
            LOG.info('service registry: %s registered again', self.name)
        self._failing = False
        return True

    def start(self) -> 'Registration':
        """Register now and keep beating in a daemon thread."""
        self.beat_once()
        self._thread = threading.Thread(
            target=self._run, name='vitrage-service-registry', daemon=True)
        self._thread.start()
        atexit.register(self.stop)
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.registry.interval):
            self.beat_once()

    def stop(self) -> None:
        """Stop beating and delete the row (best effort)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None and \
                self._thread is not threading.current_thread():
            self._thread.join(timeout=self.registry.interval + 5)
        try:
            self.registry.remove(self.id)
        except Exception as exc:
            LOG.warning('service registry: %s could not unregister: %s',
                        self.name, exc)
        finally:
            self.registry.database.dispose()


def supported(conf: cfg.ConfigOpts) -> bool:
    """Whether a database is configured to hold the registry."""
    return bool(conf.database.connection)


def registry_from_conf(conf: cfg.ConfigOpts) -> ServiceRegistry:
    """A registry on ``[database] connection``.

    :raises vitrage.common.exceptions.ConfigError: unsupported URL.
    """
    return ServiceRegistry(db_connection.from_conf(conf),
                           conf.api.service_heartbeat_interval)


def register(conf: cfg.ConfigOpts, role: str, worker: int = 0
             ) -> Registration | None:
    """Register this process as ``<role>_worker_<worker>`` and keep it
    registered until it stops.

    Never raises: without a database, or with an unusable one, the
    process runs unregistered (and says so in its log).

    :param conf: the configuration (``[database]``, ``[api]``, ``host``).
    :param role: the service class name (``GraphWorker``...).
    :param worker: the worker number.
    :returns: the registration, None when none could be made.
    """
    name = service_name(role, worker)
    if not supported(conf):
        LOG.info('service registry: no [database] connection, %s is not '
                 'registered', name)
        return None
    try:
        registry = registry_from_conf(conf)
    except Exception as exc:
        LOG.warning('service registry: %s is not registered: %s', name, exc)
        return None
    return Registration(registry, name, conf.host).start()


def register_workers(manager: Any, conf: cfg.ConfigOpts) -> None:
    """Register every worker a cotyledon ``ServiceManager`` starts, in
    the worker process, under its service class name.

    :param manager: a ``cotyledon.ServiceManager``, before ``run()``.
    :param conf: the configuration.
    """
    def on_new_worker(service_id: Any, worker_id: int,
                      service: Any) -> None:
        register(conf, type(service).__name__, int(worker_id))
    manager.register_hooks(on_new_worker=on_new_worker)
