"""Small helpers shared by every test tier.

They live in a module (not in ``conftest.py``) so that test modules can
import them; ``vitrage/tests/conftest.py`` exposes fixtures built on them.
"""
from collections.abc import Iterator
import contextlib
import os
import socket
import time
import uuid

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_log import log

from vitrage import conf as vitrage_conf


def free_port(host: str = '127.0.0.1') -> int:
    """A TCP port that nothing listens on at the moment of the call.

    The port is released before returning, so another process could take
    it in between; tests bind it right away to keep that window short.

    :param host: the address the port is looked up on.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        return sock.getsockname()[1]


def unique_name(prefix: str = 'vitrage_test') -> str:
    """A name no concurrent test run uses: for topics, queues, databases.

    Only ``[a-z0-9_]`` characters, so it is a valid database name too.

    :param prefix: what the name starts with.
    """
    return '%s_%d_%s' % (prefix, os.getpid(), uuid.uuid4().hex[:10])


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to a true value."""
    return os.environ.get('CI', '').strip().lower() not in (
        '', '0', 'false', 'no', 'off')


def repo_path(*parts: str) -> str:
    """An absolute path inside the source tree (``etc/``, ``bench/``...).

    :param parts: path components relative to the repository root.
    """
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    return os.path.join(root, *parts)


def sqlite_database(path: os.PathLike | str) -> str:
    """A new SQLite database file with the current schema; its URL.

    :param path: the file to create.
    """
    from vitrage.storage import connection
    from vitrage.storage import migrations
    url = 'sqlite:///%s' % path
    database = connection.Database(url)
    try:
        migrations.upgrade(database.engine)
    finally:
        database.dispose()
    return url


@contextlib.contextmanager
def fresh_conf(conf: cfg.ConfigOpts | None = None
               ) -> Iterator[config_fixture.Config]:
    """``cfg.CONF`` with Vitrage's options, reset when the block ends.

    Inside the block, ``fixture.config(group=..., name=value)`` overrides
    options and ``fixture.register_opts(...)`` adds some; on exit the
    overrides, the options registered through the fixture and the parsed
    command line are all undone. The command line is left unparsed, so
    ``vitrage.service.prepare_service(argv, conf=fixture.conf)`` works.
    ``[entity_graph] datasources_values_dir`` points at the tree's
    ``etc/vitrage/datasources_values``.

    :param conf: the object to manage; the global ``cfg.CONF`` if None
        (oslo.messaging registers some options on the global only).
    """
    if conf is None:
        conf = cfg.CONF
    # Registering an option again is a no-op; CLI options can only be
    # registered while no command line is parsed, which the previous
    # fixture's cleanup guarantees.
    log.register_options(conf)
    vitrage_conf.register_opts(conf)
    fixture = config_fixture.Config(conf)
    fixture.setUp()
    try:
        fixture.config(
            group='entity_graph',
            datasources_values_dir=repo_path(
                'etc', 'vitrage', 'datasources_values'))
        yield fixture
    finally:
        fixture.cleanUp()


def wait_for(predicate, timeout: float, what: str,
             interval: float = 0.1) -> None:
    """Poll ``predicate`` until it is true.

    :raises AssertionError: naming ``what`` when ``timeout`` seconds pass.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting: %s'
                                 % (timeout, what))
        time.sleep(interval)
