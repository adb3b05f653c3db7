"""The systemd units of ``etc/systemd``.

Each service has a unit that runs its console script on
``/etc/vitrage/vitrage.conf``, restarts it, and orders it after the
broker and the database it needs. ``systemd-analyze verify`` checks the
units (with ``ExecStart`` pointed at this environment's scripts and the
current user) when systemd is installed.
"""
import configparser
import glob
import os
import pathlib
import shutil
import subprocess

import psutil
import pytest

from vitrage.tests import deployment as deploy
from vitrage.tests import helpers

UNITS = helpers.repo_path('etc', 'systemd')
SERVICES = ('vitrage-graph', 'vitrage-collector', 'vitrage-persistor',
            'vitrage-api')
NEEDS_DATABASE = ('vitrage-graph', 'vitrage-persistor', 'vitrage-api')


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    assert parser.read(os.path.join(UNITS, name + '.service')), name
    return parser


def _console_scripts() -> set[str]:
    setup = configparser.ConfigParser()
    setup.read(helpers.repo_path('setup.cfg'))
    return {line.split('=')[0].strip()
            for line in setup['entry_points']['console_scripts'].splitlines()
            if line.strip()}


@pytest.mark.parametrize('service', SERVICES)
def test_unit_runs_the_service_and_restarts_it(service):
    unit = _unit(service)
    command = unit['Service']['ExecStart'].split()
    assert os.path.basename(command[0]) == service
    assert service in _console_scripts()
    assert command[1:] == ['--config-file', '/etc/vitrage/vitrage.conf']
    assert unit['Service']['Restart'] in ('always', 'on-failure')
    assert unit['Service']['User'] == 'vitrage'
    after = unit['Unit']['After'].split()
    assert 'network-online.target' in after
    assert 'rabbitmq-server.service' in after
    if service in NEEDS_DATABASE:
        assert 'mariadb.service' in after
    assert 'network-online.target' in unit['Unit']['Wants'].split()
    assert unit['Install']['WantedBy'] == 'multi-user.target'


def test_every_unit_is_known():
    names = {pathlib.Path(p).stem
             for p in glob.glob(os.path.join(UNITS, '*.service'))}
    assert names == set(SERVICES)


@pytest.mark.skipif(shutil.which('systemd-analyze') is None,
                    reason='systemd-analyze is not installed')
def test_systemd_analyze_verify(tmp_path):
    user = psutil.Process().username()
    for service in SERVICES:
        text = (pathlib.Path(UNITS) / (service + '.service')).read_text()
        text = text.replace('/usr/bin/%s' % service,
                            deploy.script(service))
        text = text.replace('User=vitrage', 'User=%s' % user)
        text = text.replace('Group=vitrage', 'Group=%s' % user)
        (tmp_path / (service + '.service')).write_text(text)
    result = subprocess.run(
        ['systemd-analyze', 'verify'] +
        sorted(str(p) for p in tmp_path.glob('*.service')),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # Unknown keys and bad values are only warnings to systemd.
    problems = [line for line in result.stderr.splitlines()
                if 'vitrage-' in line]
    assert problems == [], result.stderr
