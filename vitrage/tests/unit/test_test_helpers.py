"""The shared test fixtures do what the other tests rely on."""
import os
import socket

from oslo_config import cfg
import pytest

from vitrage.tests import helpers
from vitrage.tests.integration import services


def test_fresh_conf_registers_vitrage_and_log_options():
    with helpers.fresh_conf() as fixture:
        conf = fixture.conf
        assert conf.api.port == 8999
        assert conf.datasources.types == ['static']
        assert 'debug' in conf
        assert os.path.isdir(conf.entity_graph.datasources_values_dir)


def test_fresh_conf_undoes_overrides_and_parsed_arguments():
    with helpers.fresh_conf() as fixture:
        fixture.config(group='api', port=1234)
        fixture.register_opt(cfg.StrOpt('only_here'), group='api')
        fixture.conf([], project='vitrage', default_config_files=[])
        assert fixture.conf.api.port == 1234
        assert fixture.conf.api.only_here is None
    with helpers.fresh_conf() as fixture:
        assert fixture.conf.api.port == 8999
        assert 'only_here' not in fixture.conf.api
        # The command line is unparsed again: CLI options can be added.
        fixture.register_cli_opt(cfg.BoolOpt('cli_only_here'))


def test_conf_fixture_is_the_global_conf(conf):
    assert conf is cfg.CONF
    assert conf.entity_graph.datasources_values_dir.endswith(
        os.path.join('etc', 'vitrage', 'datasources_values'))


def test_free_port_can_be_bound():
    port = helpers.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', port))
        assert sock.getsockname()[1] == port


def test_unique_name_is_unique_and_a_valid_identifier():
    names = {helpers.unique_name('vt') for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.startswith('vt_')
        assert name.isidentifier()


@pytest.mark.parametrize('value, expected', [
    ('', False), ('0', False), ('false', False), ('False', False),
    ('true', True), ('1', True), ('yes', True)])
def test_in_ci(monkeypatch, value, expected):
    monkeypatch.setenv('CI', value)
    assert helpers.in_ci() is expected


def test_in_ci_unset(monkeypatch):
    monkeypatch.delenv('CI', raising=False)
    assert helpers.in_ci() is False


def _closed_port() -> int:
    return helpers.free_port()


@pytest.mark.parametrize('variable, url_format, check', [
    ('VITRAGE_TEST_TRANSPORT_URL', 'rabbit://guest:guest@127.0.0.1:%d/',
     services.rabbit_url),
    ('VITRAGE_TEST_DB_URL', 'mysql+pymysql://root@127.0.0.1:%d',
     services.mysql_url)])
def test_unreachable_server_skips_outside_ci(monkeypatch, variable,
                                             url_format, check):
    monkeypatch.delenv('CI', raising=False)
    monkeypatch.setenv(variable, url_format % _closed_port())
    with pytest.raises(pytest.skip.Exception, match='unreachable'):
        check()


@pytest.mark.parametrize('variable, url_format, check', [
    ('VITRAGE_TEST_TRANSPORT_URL', 'rabbit://guest:guest@127.0.0.1:%d/',
     services.rabbit_url),
    ('VITRAGE_TEST_DB_URL', 'mysql+pymysql://root@127.0.0.1:%d',
     services.mysql_url)])
def test_unreachable_server_fails_in_ci(monkeypatch, variable, url_format,
                                        check):
    monkeypatch.setenv('CI', 'true')
    monkeypatch.setenv(variable, url_format % _closed_port())
    with pytest.raises(pytest.fail.Exception, match='CI is set'):
        check()


@pytest.mark.parametrize('variable, url', [
    ('VITRAGE_TEST_TRANSPORT_URL', 'kombu+memory:////'),
    ('VITRAGE_TEST_DB_URL', 'sqlite:///x.db')])
def test_wrong_url_scheme_is_named(monkeypatch, variable, url):
    monkeypatch.setenv(variable, url)
    check = (services.rabbit_url if 'TRANSPORT' in variable
             else services.mysql_url)
    with pytest.raises(ValueError, match=variable):
        check()


@pytest.mark.parametrize('name', ['', 'a-b', 'x`; drop', 'caf\u00e9'])
def test_database_names_are_checked(name):
    with pytest.raises(ValueError, match='database name'):
        services.create_database('mysql+pymysql://root@127.0.0.1:1', name)
