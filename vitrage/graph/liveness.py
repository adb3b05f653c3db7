"""Seeing at once that the active graph died: a lock queue on RabbitMQ.

The active vitrage-graph declares an *exclusive* queue on the broker
(``<[entity_graph] topic>.active_graph``). RabbitMQ deletes an exclusive
queue the moment the connection that declared it closes, and the kernel
closes the sockets of a process that is killed, even with SIGKILL. A
standby probes the queue with a passive declare: "locked" while the
holder lives, "not found" once it is gone. A standby that saw the lock
held and then sees it gone takes the next term at once
(:meth:`vitrage.storage.terms.TermStore.take_over`), instead of waiting
for the holder's lease to expire.

The lease stays the rule; the lock only makes the common case fast. A
host that loses power closes no socket: the lock stays until the broker
notices, and the lease decides. A holder that only lost its broker
connection loses its term at its next heartbeat, and the persistor
fences what it still sends; so a false alarm costs a failover, never two
writers.
"""
import logging
from typing import Any

from amqp import exceptions as amqp_exc
import kombu
from oslo_config import cfg
import oslo_messaging as messaging

LOG = logging.getLogger(__name__)

#: AMQP reply codes of a passive declare.
RESOURCE_LOCKED = 405
NOT_FOUND = 404

HELD = 'held'
FREE = 'free'
UNKNOWN = 'unknown'


def broker_urls(conf: cfg.ConfigOpts) -> str | None:
    """The kombu URL(s) of ``[DEFAULT] transport_url`` when it is
    RabbitMQ, else None (the in-memory transport of the all-in-one).
    """
    from oslo_messaging import opts as messaging_opts
    # oslo.messaging registers transport_url when it makes a transport;
    # the term is taken before that.
    for group, opts in messaging_opts.list_opts():
        if group in (None, 'DEFAULT'):
            conf.register_opts(opts)
    try:
        url = messaging.TransportURL.parse(conf, conf.transport_url)
    except (messaging.InvalidTransportURL, cfg.NoSuchOptError):
        return None
    if url.transport not in ('rabbit', 'amqp') or not url.hosts:
        return None
    vhost = url.virtual_host or ''
    return ';'.join(
        'amqp://%s:%s@%s:%d/%s' % (h.username or 'guest',
                                   h.password or 'guest', h.hostname,
                                   h.port or 5672, vhost)
        for h in url.hosts)


class BrokerLock:
    """The lock queue of the active graph.

    :param url: kombu URL(s) of the broker.
    :param name: the queue's name.
    :param timeout: seconds to connect.
    """

    def __init__(self, url: str, name: str, timeout: float = 2.0) -> None:
        self.url = url
        self.name = name
        self.timeout = timeout
        self._holding: kombu.Connection | None = None
        self._probing: kombu.Connection | None = None

    # -- the active graph ---------------------------------------------
    def hold(self) -> bool:
        """Declare the exclusive queue on a connection of its own, or
        check that the connection still holds it (each heartbeat).

        No heartbeats: the connection lives as long as the process (the
        lease covers a dead peer the broker does not notice).

        :returns: whether the lock is held (False: broker unreachable or
            another process holds it; the lease still works).
        """
        if self._holding is not None:
            try:
                channel = self._holding.channel()
                channel.queue_declare(self.name, passive=True)
                channel.close()
                return True
            except (OSError, amqp_exc.AMQPError,
                    kombu.exceptions.KombuError) as exc:
                # The broker restarted (and dropped the queue): again.
                LOG.warning('lost the broker lock %s: %s; taking it '
                            'again', self.name, exc)
                self.release()
        connection = kombu.Connection(self.url, heartbeat=0,
                                      connect_timeout=self.timeout)
        try:
            connection.connect()
            channel = connection.channel()
            channel.queue_declare(self.name, exclusive=True,
                                  auto_delete=True)
        except (OSError, amqp_exc.AMQPError,
                kombu.exceptions.KombuError) as exc:
            LOG.warning('cannot hold the broker lock %s: %s (standbys '
                        'will wait for the lease)', self.name, exc)
            connection.release()
            return False
        self._holding = connection
        LOG.info('holding the broker lock %s', self.name)
        return True

    def release(self) -> None:
        """Close the holding connection (a clean stop)."""
        connection, self._holding = self._holding, None
        _close_quietly(connection)

    # -- standbys -------------------------------------------------------
    def probe(self) -> str:
        """Whether a live process holds the lock.

        :returns: :data:`HELD`, :data:`FREE` or :data:`UNKNOWN` (the
            broker cannot be asked).
        """
        try:
            if self._probing is None:
                self._probing = kombu.Connection(
                    self.url, heartbeat=0, connect_timeout=self.timeout)
                self._probing.connect()
            channel = self._probing.channel()
            try:
                channel.queue_declare(self.name, passive=True)
            finally:
                try:
                    channel.close()
                except (OSError, amqp_exc.AMQPError):
                    pass
        except amqp_exc.AMQPError as exc:
            code = getattr(exc, 'reply_code', None) or getattr(
                exc, 'code', None)
            if code == RESOURCE_LOCKED:
                return HELD
            if code == NOT_FOUND:
                return FREE
            self._reset()
            return UNKNOWN
        except (OSError, kombu.exceptions.KombuError):
            self._reset()
            return UNKNOWN
        # Declared passively without error: this connection owns it
        # (never for a standby), or an older non-exclusive queue.
        return HELD

    def _reset(self) -> None:
        connection, self._probing = self._probing, None
        _close_quietly(connection)

    def close(self) -> None:
        """Close every connection."""
        self.release()
        self._reset()


def _close_quietly(connection: Any) -> None:
    """Release a kombu connection that may be broken already."""
    if connection is not None:
        try:
            connection.release()
        except (OSError, amqp_exc.AMQPError):
            pass
