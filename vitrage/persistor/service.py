"""vitrage-persistor: writes the graph's handled events to the database.

Several persistors may run at once: they share one queue (competing
consumers) and their writes are idempotent on ``(term, seq)``. Each one is
a cotyledon service that, after the fork, opens the database and starts
an oslo.messaging batch notification listener on ``[persistency]
persistor_topic`` with ``allow_requeue=True``; see
:mod:`vitrage.persistor.endpoint` for when a message is acknowledged.

Batches are handled one at a time, in the order polled (the listener's
worker pool has one thread), so a barrier is committed after every message
this persistor received before it.

Operators: make the queue survive a broker or persistor restart with
``[oslo_messaging_rabbit] amqp_durable_queues = true`` (or
``rabbit_quorum_queue = true``); the graph sends with the same settings.
Counters are logged every ``[persistency] stats_interval`` seconds, and the
retention rules of :mod:`vitrage.storage.purge` run every
``purge_interval`` seconds.
"""
import threading

import cotyledon
from oslo_config import cfg
from oslo_log import log
import oslo_messaging

from vitrage.persistor import endpoint as endpoint_mod
from vitrage.persistor import writer as writer_mod
from vitrage.storage import connection as db_connection
from vitrage.storage import purge

LOG = log.getLogger(__name__)


def make_listener(conf: cfg.ConfigOpts, transport,
                  endpoint: endpoint_mod.PersistorEndpoint
                  ) -> oslo_messaging.server.MessageHandlingServer:
    """The batch notification listener of the persistor topic.

    :param conf: the configuration (``[persistency]`` options).
    :param transport: an oslo.messaging notification transport.
    :param endpoint: the endpoint handling the batches.
    """
    options = conf.persistency
    target = oslo_messaging.Target(topic=options.persistor_topic)
    return oslo_messaging.get_batch_notification_listener(
        transport, [target], [endpoint], executor='threading',
        allow_requeue=True, batch_size=options.batch_size,
        batch_timeout=options.batch_timeout_ms / 1000.0)


class PersistorService(cotyledon.Service):
    """One persistor worker process.

    :param worker_id: the cotyledon worker number.
    :param conf: the configuration.
    """

    name = 'vitrage-persistor'

    def __init__(self, worker_id: int, conf: cfg.ConfigOpts) -> None:
        super().__init__(worker_id)
        self.conf = conf
        self._stopped = threading.Event()
        self._listener = None
        self._transport = None
        self._database = None
        self.endpoint: endpoint_mod.PersistorEndpoint | None = None

    def run(self) -> None:
        self._database = db_connection.from_conf(self.conf)
        writer = writer_mod.Writer(self._database,
                                   self.conf.persistency.batch_size)
        self.endpoint = endpoint_mod.PersistorEndpoint(writer)
        self._transport = oslo_messaging.get_notification_transport(
            self.conf)
        self._listener = make_listener(self.conf, self._transport,
                                       self.endpoint)
        # One worker thread: batches are written in the order polled.
        self._listener.start(override_pool_size=1)
        LOG.info('persistor %d listening on %s', self.worker_id,
                 self.conf.persistency.persistor_topic)
        self._start_timer(self.conf.persistency.stats_interval,
                          self._log_stats)
        self._start_timer(self.conf.persistency.purge_interval,
                          self._purge)

    def _start_timer(self, interval: int, task) -> None:
        if interval <= 0:
            return

        def loop() -> None:
            while not self._stopped.wait(interval):
                task()

        threading.Thread(target=loop, daemon=True,
                         name='persistor-%s' % task.__name__).start()

    def _log_stats(self) -> None:
        if self.endpoint is not None:
            LOG.info('persistor %d counters: %s', self.worker_id,
                     dict(self.endpoint.stats))

    def _purge(self) -> None:
        try:
            purge.purge_from_conf(self._database, self.conf)
        except Exception:
            # The next period tries again; the persistor keeps writing.
            LOG.exception('periodic purge failed')

    def terminate(self) -> None:
        self._stopped.set()
        if self._listener is not None:
            self._listener.stop()
            self._listener.wait()
        if self._transport is not None:
            self._transport.cleanup()
        if self._database is not None:
            self._database.dispose()
        self._log_stats()
        super().terminate()


def build_manager(conf: cfg.ConfigOpts,
                  workers: int = 1) -> cotyledon.ServiceManager:
    """The service manager of ``vitrage-persistor``.

    :param conf: the configuration.
    :param workers: persistor processes to run.
    """
    manager = cotyledon.ServiceManager()
    manager.add(PersistorService, workers=workers, args=(conf,))
    return manager
