"""noauth trusts the caller's headers: only on loopback unless allowed."""
import logging

import pytest

from vitrage.cmd import api as api_cmd
from vitrage.common import exceptions


@pytest.mark.parametrize('host, expected', [
    ('127.0.0.1', True), ('127.0.1.1', True), ('::1', True),
    ('localhost', True), ('0.0.0.0', False), ('::', False),
    ('192.0.2.7', False), ('no-such-host.invalid', False),
])
def test_is_loopback(host, expected):
    assert api_cmd.is_loopback(host) is expected


def test_the_default_host_is_public_and_refused_in_noauth(conf):
    assert conf.api.host == '0.0.0.0'
    assert conf.api.allow_noauth_on_public_address is False
    conf.set_override('auth_mode', 'noauth', 'api')
    with pytest.raises(exceptions.ConfigError) as error:
        api_cmd.check_listen_address(conf)
    message = str(error.value)
    assert '\n' not in message
    for name in ('[api] host 0.0.0.0', '[api] auth_mode',
                 'allow_noauth_on_public_address'):
        assert name in message


def test_noauth_on_loopback_and_keystone_anywhere_start(conf, caplog):
    conf.set_override('auth_mode', 'keystone', 'api')
    api_cmd.check_listen_address(conf)          # 0.0.0.0 with Keystone
    conf.set_override('auth_mode', 'noauth', 'api')
    for host in ('127.0.0.1', '::1'):
        conf.set_override('host', host, 'api')
        api_cmd.check_listen_address(conf)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_allowed_noauth_on_a_public_address_warns(conf, caplog):
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('host', '192.0.2.7', 'api')
    conf.set_override('allow_noauth_on_public_address', True, 'api')
    with caplog.at_level(logging.WARNING, logger='vitrage.cmd.api'):
        api_cmd.check_listen_address(conf)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert '192.0.2.7' in record.getMessage()
    assert 'noauth' in record.getMessage()
