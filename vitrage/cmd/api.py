"""vitrage-api: the REST API served by a threaded WSGI server.

Listens on ``[api] host``:``[api] port`` (port 0 picks a free one, see
``server.server_port``) until SIGTERM or SIGINT. In ``noauth`` mode the
host must be a loopback address unless ``[api]
allow_noauth_on_public_address`` is set (:func:`check_listen_address`).
Behind a production front end (Apache mod_wsgi, uWSGI) use
:func:`vitrage.api.app.build_app` directly instead.
"""
import ipaddress
import logging
import signal
import socket
import threading
from typing import Any

from oslo_config import cfg
import oslo_messaging
from werkzeug import serving

from vitrage.api import app as api_app
from vitrage.cmd import console_script
from vitrage.common import exceptions
from vitrage.graph.rpcapi import GraphClient
from vitrage import service
from vitrage.storage import services

LOG = logging.getLogger(__name__)


class _QuietHandler(serving.WSGIRequestHandler):
    """Request lines go to the debug log, not to stderr at INFO."""

    def log_request(self, code: Any = '-', size: Any = '-') -> None:
        LOG.debug('%s "%s" %s %s', self.address_string(),
                  getattr(self, 'requestline', ''), code, size)

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug('%s %s', self.address_string(), format % args)


class ApiServer(serving.ThreadedWSGIServer):
    """A WSGI server with a thread per request.

    :meth:`start` serves in a background thread; :meth:`shutdown` stops
    it and closes the socket.
    """

    daemon_threads = True

    def __init__(self, host: str, port: int, app: Any) -> None:
        super().__init__(host, port, app, handler=_QuietHandler)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever,
                                        name='vitrage-api', daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only ever means this machine.

    A name counts when every address it resolves to is a loopback one; a
    name that does not resolve does not count.

    :param host: ``[api] host``.
    """
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    addresses = {info[4][0].split('%')[0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(a).is_loopback for a in addresses)


def check_listen_address(conf: cfg.ConfigOpts) -> None:
    """Refuse ``noauth`` on an address others can reach, unless allowed.

    In ``noauth`` mode the API trusts the identity headers of any caller,
    so anyone who reaches it may claim the admin role. On a loopback
    address only local users can; elsewhere ``[api]
    allow_noauth_on_public_address`` must say so, and a warning is
    logged.

    :param conf: ``[api] auth_mode``, ``host`` and
        ``allow_noauth_on_public_address``.
    :raises vitrage.common.exceptions.ConfigError: noauth on a public
        address without the option, naming the options to change.
    """
    api = conf.api
    if api.auth_mode != 'noauth' or is_loopback(api.host):
        return
    if not api.allow_noauth_on_public_address:
        raise exceptions.ConfigError(
            '[api] host %s is not a loopback address and [api] auth_mode '
            'is noauth, which trusts any caller\'s X-Roles: listen on '
            '127.0.0.1, use auth_mode keystone, or set [api] '
            'allow_noauth_on_public_address = true' % api.host)
    LOG.warning('vitrage-api serves auth_mode noauth on %s, a non-loopback '
                'address: anyone who reaches it may claim any identity and '
                'role ([api] allow_noauth_on_public_address is set)',
                api.host)


def serve(conf: cfg.ConfigOpts, app: Any) -> ApiServer:
    """Start serving ``app`` on ``[api] host``/``port`` in a thread.

    :param conf: the configuration.
    :param app: the WSGI application.
    :returns: the running server; ``shutdown()`` stops it.
    :raises OSError: the address cannot be bound.
    """
    server = ApiServer(conf.api.host, conf.api.port, app)
    server.start()
    LOG.info('vitrage-api listening on http://%s:%d%s', conf.api.host,
             server.server_port, conf.api.url_prefix)
    return server


@console_script
def main(argv: list[str] | None = None) -> None:
    conf = service.prepare_service(argv)
    check_listen_address(conf)
    transport = oslo_messaging.get_rpc_transport(conf)
    client = GraphClient(conf, transport)
    server = serve(conf, api_app.build_app(conf, client))
    registration = services.register(conf, 'ApiWorker')
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        LOG.info('vitrage-api stopping on signal %d', signum)
        stop.set()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop.wait(1):
        pass
    if registration is not None:
        registration.stop()
    server.shutdown()
    transport.cleanup()
    LOG.info('vitrage-api stopped')
