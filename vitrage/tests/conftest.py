"""Fixtures for every test tier.

``conf`` gives each test the global ``cfg.CONF`` (oslo.messaging needs the
global object, see doc/source/admin/architecture.rst) with Vitrage's and
oslo.log's options registered, and resets it after the test: overrides,
the parsed command line and options registered through the fixture are
gone. Plain helpers (``free_port``, ``unique_name``...) are in
:mod:`vitrage.tests.helpers`, importable from test modules.
"""
from collections.abc import Iterator

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import pytest

from vitrage.tests import helpers


@pytest.fixture
def conf_fixture() -> Iterator[config_fixture.Config]:
    """The oslo.config fixture around ``cfg.CONF``, undone after the test.

    Use ``conf_fixture.config(group=..., name=value)`` to override options
    and ``conf_fixture.register_opts(...)`` for options the test adds.
    See :func:`vitrage.tests.helpers.fresh_conf`.
    """
    with helpers.fresh_conf() as fixture:
        yield fixture


@pytest.fixture
def conf(conf_fixture: config_fixture.Config) -> cfg.ConfigOpts:
    """``cfg.CONF`` with Vitrage's options, fresh for this test.

    The command line is not parsed and no ``/etc/vitrage`` file is read:
    options hold their defaults unless the test overrides them (e.g.
    ``conf.set_override('types', ['simulated'], 'datasources')``, undone
    after the test).
    """
    return conf_fixture.conf


@pytest.fixture
def unused_port() -> int:
    """A free TCP port on 127.0.0.1 (see :func:`helpers.free_port`)."""
    return helpers.free_port()


@pytest.fixture
def unique_topic() -> str:
    """A topic name of this test alone, so concurrent runs never meet."""
    return helpers.unique_name('vitrage_test_topic')
