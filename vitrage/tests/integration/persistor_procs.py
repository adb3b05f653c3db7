"""Real vitrage-persistor processes for the integration tests and bench.

Writes a config file, runs ``vitrage-dbsync``, starts and SIGKILLs
``vitrage-persistor`` process groups, publishes ``vitrage.graph.events``
messages exactly as the graph does, and counts what reached MariaDB.
"""
import os
import signal
import subprocess
import sys
import time

from oslo_config import cfg
import oslo_messaging
import sqlalchemy as sa

from vitrage.graph import handoff
from vitrage.persistor import batch
from vitrage import service

CONFIG = """\
[DEFAULT]
transport_url = {transport_url}
state_path = {state_path}
debug = false
# Its own exchange: a durable queue cannot sit on an exchange that
# other tests declared non-durable.
control_exchange = {topic}

[database]
connection = {db_url}

[persistency]
persistor_topic = {topic}
workers = {workers}
batch_size = {batch_size}
batch_timeout_ms = {batch_timeout_ms}
stats_interval = 5
purge_interval = 0

[oslo_messaging_rabbit]
# Messages must survive the SIGKILL of every consumer.
amqp_durable_queues = true
"""


def write_config(folder: str, transport_url: str, db_url: str, topic: str,
                 batch_size: int = 1000, batch_timeout_ms: int = 100,
                 workers: int = 1) -> str:
    """Write a vitrage.conf into ``folder``; return its path."""
    path = os.path.join(folder, 'vitrage.conf')
    with open(path, 'w') as handle:
        handle.write(CONFIG.format(
            transport_url=transport_url, state_path=folder, db_url=db_url,
            topic=topic, batch_size=batch_size,
            batch_timeout_ms=batch_timeout_ms, workers=workers))
    return path


def _script(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def dbsync(config: str) -> None:
    """Run ``vitrage-dbsync`` on ``config``.

    :raises subprocess.CalledProcessError: when it fails.
    """
    subprocess.run([_script('vitrage-dbsync'), '--config-file', config],
                   check=True, capture_output=True, timeout=120)


def hold_term(db_url: str, term: int, holder: str = 'test-publisher'
              ) -> None:
    """Make ``term`` the current one, as a graph taking it would: the
    persistor writes only the current term.
    """
    import sqlalchemy as sa
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                'UPDATE graph_term SET term = :term, holder = :holder '
                'WHERE id = 1'), {'term': term, 'holder': holder})
    finally:
        engine.dispose()


class Persistor:
    """One ``vitrage-persistor`` command, in a process group of its own.

    :param config: the config file.
    :param log_path: where its output goes (appended).
    """

    def __init__(self, config: str, log_path: str) -> None:
        self.config = config
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, 'ab')
        try:
            self.process = subprocess.Popen(
                [_script('vitrage-persistor'), '--config-file', self.config,
                 '--log-file', self.log_path],
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            log.close()

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a crash would."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class GraphPublisher:
    """Publishes on the persistor topic with the graph's own sender
    (broker-confirmed, raising on failure), behind a Notifier's ``info``.
    """

    def __init__(self, sender: handoff.ConfirmedSender) -> None:
        self.sender = sender

    def info(self, ctxt: dict, event_type: str, payload: dict) -> None:
        self.sender.send(event_type, payload)


def notifier(config: str, topic: str) -> GraphPublisher:
    """A publisher sending to the persistor topic as vitrage-graph does.

    Reads ``config`` into the global ``cfg.CONF`` (oslo.messaging needs
    it); call only once per process or test.
    """
    conf = service.prepare_service(['--config-file', config],
                                   conf=cfg.CONF, setup_logging=False)
    transport = oslo_messaging.get_notification_transport(conf)
    return GraphPublisher(handoff.ConfirmedSender(
        conf, topics=[topic], transport=transport))


def events_payload(term: int, seqs: range) -> dict:
    """A ``vitrage.graph.events`` payload of realistic entity events."""
    return {'term': term, 'events': [
        {'seq': seq, 'type': 'update_entity',
         'collector_timestamp': '2025-03-02T08:15:04Z',
         'event': {'vitrage_datasource_action': 'update',
                   'vitrage_entity_type': 'nova.instance',
                   'vitrage_sample_date': '2025-03-02T08:15:04Z',
                   'id': 'instance-%08d' % seq,
                   'name': 'vm-%d' % seq,
                   'status': 'ACTIVE',
                   'tenant_id': 'a3d5e7f901b24c6e8d0f1a2b3c4d5e6f',
                   'host': 'compute-%d' % (seq % 50),
                   'update_timestamp': '2025-03-02T08:15:04Z'}}
        for seq in seqs]}


def publish(notify: oslo_messaging.Notifier, term: int, total: int,
            per_message: int, start: int = 0, progress=None) -> list[float]:
    """Publish events ``start..start+total-1`` of ``term``.

    :returns: the seconds each message took to publish.
    """
    costs = []
    for first in range(start, start + total, per_message):
        seqs = range(first, min(first + per_message, start + total))
        began = time.perf_counter()
        notify.info({}, batch.EVENTS, events_payload(term, seqs))
        costs.append(time.perf_counter() - began)
        if progress is not None:
            progress(first + len(seqs) - start)
    return costs


def count_events(db_url: str) -> tuple[int, int]:
    """Rows of ``events`` and distinct positions among them."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.text(
                'SELECT COUNT(*), COUNT(DISTINCT term, seq) FROM events')
            ).one()
    finally:
        engine.dispose()
    return row[0], row[1]


def wait_for_events(db_url: str, expected: int, timeout: float,
                    alive=None) -> tuple[int, int]:
    """Poll ``events`` until it holds ``expected`` rows or time is up."""
    deadline = time.monotonic() + timeout
    counts = count_events(db_url)
    while counts[0] < expected and time.monotonic() < deadline:
        if alive is not None:
            alive()
        time.sleep(0.5)
        counts = count_events(db_url)
    return counts


def delete_queues(transport_url: str, topic: str) -> None:
    """Delete the durable queues and exchange a test left on the broker."""
    import kombu

    url = transport_url.replace('rabbit://', 'amqp://', 1)
    with kombu.Connection(url, connect_timeout=5) as connection:
        channel = connection.channel()
        for priority in ('audit', 'debug', 'info', 'warn', 'error',
                         'critical', 'sample'):
            try:
                channel.queue_delete('%s.%s' % (topic, priority))
            except Exception:  # absent queue: the channel is closed
                channel = connection.channel()
        try:
            channel.exchange_delete(topic)
        except Exception:  # absent exchange
            pass
