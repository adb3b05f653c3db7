"""A RabbitMQ node and a MariaDB server of one test, to stop and restart.

The restart tests must not touch the shared servers on 5672 and 3306
(other test runs use them), so each starts its own, on free ports, with
its data in a temporary directory, as the current user:

* :class:`PrivateRabbit`: ``rabbitmq-server`` with its own node name,
  AMQP and distribution ports, mnesia and log directories, config file
  (no plugins) and Erlang cookie (``HOME``); it registers with the
  machine's epmd.
* :class:`PrivateMariaDB`: ``mariadb-install-db`` into a new data
  directory, then ``mariadbd`` on its own port and socket; ``root``
  logs in without a password over TCP.

Test modules import the fixtures ``private_rabbit_fixture`` and
``private_mariadb_fixture`` and ask for ``private_rabbit`` and
``private_mariadb``. Both servers survive :meth:`restart` with their
data (durable queues and persistent messages; databases). When a
server cannot be started the test is skipped, or fails when ``CI`` is
set
(:func:`vitrage.tests.integration.services.unavailable`).

The programs are looked up in ``/usr/lib/rabbitmq/bin`` first (the
``/usr/sbin/rabbitmq-server`` wrapper switches to the ``rabbitmq`` user
when run as root, who cannot write our directories), then on ``PATH``,
then in ``/usr/sbin``; ``VITRAGE_TEST_RABBITMQ_SERVER``,
``VITRAGE_TEST_MARIADBD`` and ``VITRAGE_TEST_MARIADB_INSTALL_DB`` name
them explicitly.
"""
from collections.abc import Iterator
import contextlib
import getpass
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from vitrage.tests import helpers
from vitrage.tests.integration import services

START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
_FIRST = ('/usr/lib/rabbitmq/bin',)
_SEARCH = ('/usr/sbin', '/usr/local/sbin', '/usr/libexec')


def find_program(name: str, env_var: str) -> str | None:
    """The path of a server program, or None when it is not installed.

    :param name: the program's name.
    :param env_var: an environment variable that may name it instead.
    """
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for directory in _FIRST:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return found
    for directory in _SEARCH:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


class PrivateServer:
    """A server process in its own process group, logging to a file.

    :param directory: the server's own directory (data, logs).
    """

    name = 'server'

    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / 'server.log'
        self.process: subprocess.Popen | None = None
        self.port = helpers.free_port()
        self.starts = 0

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        """True once the server serves clients."""
        return _accepts(self.port)

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors='replace')[-size:]
        except FileNotFoundError:
            return ''

    def start(self) -> 'PrivateServer':
        """Start the server and wait until it serves.

        :raises AssertionError: when it exits or does not serve within
            :data:`START_TIMEOUT` seconds (its log is in the message).
        """
        self.starts += 1
        with open(self.log_path, 'ab') as log_file:
            log_file.write(('=== start %d: %s\n' % (
                self.starts, ' '.join(self.command()))).encode())
            log_file.flush()
            self.process = subprocess.Popen(
                self.command(), stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.environment(),
                start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            code = self.process.poll()
            if code is not None:
                raise AssertionError('%s exited with %s while starting:\n%s'
                                     % (self.name, code, self.log_tail()))
            if time.monotonic() > deadline:
                raise AssertionError('%s did not serve on port %d within '
                                     '%.0f s:\n%s' % (
                                         self.name, self.port,
                                         START_TIMEOUT, self.log_tail()))
            time.sleep(0.2)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the whole process group and wait until the port closes.

        :param sig: SIGTERM for a clean shutdown, SIGKILL for a crash.
        """
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        # Helpers of the group (erl_child_setup...) may outlive the
        # leader by a moment; nothing may listen when the next starts.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.process = None

    def restart(self, sig: int = signal.SIGTERM,
                downtime: float = 0.0) -> None:
        """Stop (with ``sig``) and start again on the same data.

        :param sig: SIGTERM for a clean shutdown, SIGKILL for a crash.
        :param downtime: seconds to stay down in between.
        """
        self.stop(sig)
        time.sleep(downtime)
        self.start()


class PrivateRabbit(PrivateServer):
    """A RabbitMQ node of one test (see the module docstring)."""

    name = 'private RabbitMQ'

    def __init__(self, directory: pathlib.Path, program: str,
                 settings: str = '') -> None:
        """
        :param settings: more lines of ``rabbitmq.conf``.
        """
        super().__init__(directory)
        self.program = program
        self.dist_port = helpers.free_port()
        while self.dist_port == self.port:
            self.dist_port = helpers.free_port()
        self.node = '%s@localhost' % helpers.unique_name('vitrage_rabbit')
        for sub in ('mnesia', 'log', 'home'):
            (directory / sub).mkdir(exist_ok=True)
        (directory / 'rabbitmq.conf').write_text(
            'listeners.tcp.default = 127.0.0.1:%d\n'
            'loopback_users.guest = true\n'
            'log.console = true\nlog.file = false\n%s' % (self.port,
                                                          settings))
        (directory / 'enabled_plugins').write_text('[].\n')
        (directory / 'rabbitmq-env.conf').write_text('')

    @property
    def url(self) -> str:
        """The oslo.messaging transport URL."""
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def command(self) -> list[str]:
        return [self.program]

    def environment(self) -> dict[str, str]:
        d = self.directory
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('RABBITMQ_', 'ERL_'))}
        env.update(
            HOME=str(d / 'home'),   # the Erlang cookie of this node
            RABBITMQ_CONF_ENV_FILE=str(d / 'rabbitmq-env.conf'),
            RABBITMQ_CONFIG_FILE=str(d / 'rabbitmq.conf'),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(d / 'enabled_plugins'),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(d / 'mnesia'),
            RABBITMQ_LOG_BASE=str(d / 'log'),
            RABBITMQ_PID_FILE=str(d / 'rabbit.pid'),
            ERL_EPMD_ADDRESS='127.0.0.1')
        return env

    def ready(self) -> bool:
        if not _accepts(self.port):
            return False
        import kombu
        try:
            with kombu.Connection(self.url.replace('rabbit://', 'amqp://'),
                                  connect_timeout=2) as connection:
                connection.connect()
            return True
        except Exception:  # not serving AMQP yet
            return False


class PrivateMariaDB(PrivateServer):
    """A MariaDB server of one test (see the module docstring)."""

    name = 'private MariaDB'

    def __init__(self, directory: pathlib.Path, program: str,
                 install_db: str) -> None:
        super().__init__(directory)
        self.program = program
        self.datadir = directory / 'data'
        self.user = getpass.getuser()
        result = subprocess.run(
            [install_db, '--no-defaults', '--datadir=%s' % self.datadir,
             '--user=%s' % self.user, '--skip-test-db',
             '--auth-root-authentication-method=normal'],
            capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise AssertionError('mariadb-install-db failed (%d):\n%s\n%s'
                                 % (result.returncode, result.stdout[-2000:],
                                    result.stderr[-2000:]))

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the server, no database selected."""
        return 'mysql+pymysql://root@127.0.0.1:%d' % self.port

    def command(self) -> list[str]:
        d = self.directory
        return [self.program, '--no-defaults',
                '--datadir=%s' % self.datadir,
                '--port=%d' % self.port, '--bind-address=127.0.0.1',
                '--socket=%s' % (d / 'mysqld.sock'),
                '--pid-file=%s' % (d / 'mysqld.pid'),
                '--user=%s' % self.user, '--skip-log-bin',
                '--innodb-buffer-pool-size=32M',
                '--log-error=%s' % self.log_path]

    def ready(self) -> bool:
        if not _accepts(self.port):
            return False
        import pymysql
        try:
            pymysql.connect(host='127.0.0.1', port=self.port, user='root',
                            password='', connect_timeout=2).close()
            return True
        except pymysql.MySQLError:
            return False


def _short_tmp(kind: str) -> pathlib.Path:
    # Unix socket paths must stay short (108 bytes).
    return pathlib.Path(tempfile.mkdtemp(prefix='vitrage-%s-' % kind))


@contextlib.contextmanager
def _started(server_factory, kind: str,
             what: str) -> Iterator[PrivateServer]:
    directory = _short_tmp(kind)
    server = None
    try:
        try:
            server = server_factory(directory)
            server.start()
        except AssertionError as exc:
            services.unavailable('cannot start a %s here: %s' % (what, exc))
        yield server
    finally:
        if server is not None:
            server.stop(signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def private_rabbit(settings: str = '') -> Iterator[PrivateRabbit]:
    """A RabbitMQ node of the caller alone, removed afterwards.

    :param settings: more lines of its ``rabbitmq.conf``.
    """
    program = find_program('rabbitmq-server', 'VITRAGE_TEST_RABBITMQ_SERVER')
    if program is None:
        services.unavailable('rabbitmq-server is not installed')
    with _started(lambda d: PrivateRabbit(d, program, settings),
                  'rabbit', 'private RabbitMQ') as server:
        yield server


@pytest.fixture(name='private_rabbit')
def private_rabbit_fixture() -> Iterator[PrivateRabbit]:
    """A RabbitMQ node of this test alone, removed afterwards."""
    with private_rabbit() as server:
        yield server


@contextlib.contextmanager
def private_mariadb() -> Iterator[PrivateMariaDB]:
    """A MariaDB server of the caller alone, removed afterwards."""
    program = find_program('mariadbd', 'VITRAGE_TEST_MARIADBD')
    install_db = find_program('mariadb-install-db',
                              'VITRAGE_TEST_MARIADB_INSTALL_DB')
    if program is None or install_db is None:
        services.unavailable('mariadbd or mariadb-install-db is not '
                             'installed')
    with _started(lambda d: PrivateMariaDB(d, program, install_db),
                  'mariadb', 'private MariaDB') as server:
        yield server


@pytest.fixture(name='private_mariadb')
def private_mariadb_fixture() -> Iterator[PrivateMariaDB]:
    """A MariaDB server of this test alone, removed afterwards."""
    with private_mariadb() as server:
        yield server
