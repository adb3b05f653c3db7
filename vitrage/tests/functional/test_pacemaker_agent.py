"""The Pacemaker OCF resource agent ``etc/pacemaker/vitrage-graph``.

The agent runs under ``/bin/sh`` as Pacemaker would run it, its
parameters in ``OCF_RESKEY_*`` variables, without resource-agents
installed. It manages a real ``vitrage-graph`` (persistency off, the
in-memory transport: it runs but has no collector to become ready with),
and ``vitrage-all-in-one`` where readiness through ``status_url`` is
checked (it serves ``/v1/status/`` once its graph is ready).
"""
import os
import pathlib
import signal
import subprocess
import xml.etree.ElementTree as ElementTree

import psutil
import pytest

from vitrage.tests import deployment as deploy
from vitrage.tests import helpers

AGENT = helpers.repo_path('etc', 'pacemaker', 'vitrage-graph')
OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_INSTALLED = 5
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7


class Agent:
    """Runs the agent's actions with one set of parameters."""

    def __init__(self, tmp_path: pathlib.Path, **params: str) -> None:
        self.params = {'user': psutil.Process().username(),
                       'pid': str(tmp_path / 'run' / 'graph.pid'),
                       'log_file': str(tmp_path / 'graph.out')}
        self.params.update(params)
        self.xdg = tmp_path / 'xdg'

    def run(self, action: str, timeout: float = 120,
            **override: str) -> subprocess.CompletedProcess:
        params = dict(self.params, **override)
        env = deploy.clean_env(XDG_STATE_HOME=str(self.xdg),
                               OCF_ROOT='/nonexistent',
                               OCF_RESKEY_CRM_meta_timeout='120000')
        env.update(('OCF_RESKEY_%s' % k, v) for k, v in params.items())
        return subprocess.run(['/bin/sh', AGENT, action], env=env,
                              capture_output=True, text=True,
                              timeout=timeout)

    def pid(self) -> int:
        return int(pathlib.Path(self.params['pid']).read_text())

    def output(self) -> str:
        try:
            return pathlib.Path(self.params['log_file']).read_text()
        except FileNotFoundError:
            return ''


def _graph_config(tmp_path: pathlib.Path) -> pathlib.Path:
    static = tmp_path / 'static'
    static.mkdir()
    return deploy.write_config(tmp_path / 'vitrage.conf', {
        'DEFAULT': {'transport_url': 'kombu+vitrage-memory:////',
                    'state_path': tmp_path / 'state'},
        'datasources': {'types': 'static'},
        'static': {'directory': static},
        'persistency': {'enable_persistency': 'false'},
    })


@pytest.fixture
def graph_agent(tmp_path) -> Agent:
    agent = Agent(tmp_path, binary=deploy.script('vitrage-graph'),
                  config=str(_graph_config(tmp_path)))
    yield agent
    # Whatever the test left running goes.
    try:
        os.killpg(agent.pid(), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def test_meta_data_describes_the_agent(tmp_path):
    result = Agent(tmp_path).run('meta-data')
    assert result.returncode == OCF_SUCCESS, result.stderr
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == 'resource-agent'
    assert root.get('name') == 'vitrage-graph'
    actions = {a.get('name') for a in root.iter('action')}
    assert {'start', 'stop', 'monitor', 'validate-all',
            'meta-data'} <= actions
    params = {p.get('name'): p.find('content').get('default')
              for p in root.iter('parameter')}
    assert params['config'] == '/etc/vitrage/vitrage.conf'
    assert params['binary'] == 'vitrage-graph'
    assert 'status_url' in params and 'pid' in params


def test_validate_all_names_the_problem(tmp_path):
    config = _graph_config(tmp_path)
    agent = Agent(tmp_path, binary=deploy.script('vitrage-graph'),
                  config=str(config))
    assert agent.run('validate-all').returncode == OCF_SUCCESS

    missing = agent.run('validate-all', config=str(tmp_path / 'nope.conf'))
    assert missing.returncode == OCF_ERR_CONFIGURED
    assert 'nope.conf' in missing.stderr

    no_binary = agent.run('validate-all', binary=str(tmp_path / 'no-graph'))
    assert no_binary.returncode == OCF_ERR_INSTALLED
    assert 'no-graph' in no_binary.stderr

    no_user = agent.run('validate-all', user='no_such_user_vitrage')
    assert no_user.returncode == OCF_ERR_CONFIGURED
    assert 'no_such_user_vitrage' in no_user.stderr

    bad_timeout = agent.run('validate-all', status_timeout='soon')
    assert bad_timeout.returncode == OCF_ERR_CONFIGURED
    # A start with a bad configuration starts nothing.
    assert agent.run('start', config=str(tmp_path / 'nope.conf')
                     ).returncode == OCF_ERR_CONFIGURED
    assert agent.run('monitor').returncode == OCF_NOT_RUNNING


def test_unknown_action_is_unimplemented(tmp_path):
    result = Agent(tmp_path).run('promote')
    assert result.returncode == OCF_ERR_UNIMPLEMENTED
    assert 'usage' in result.stdout


@pytest.mark.slow
def test_start_monitor_stop_a_real_graph(graph_agent):
    agent = graph_agent
    assert agent.run('monitor').returncode == OCF_NOT_RUNNING
    # Stopping what does not run succeeds (Pacemaker's probe-and-stop).
    assert agent.run('stop').returncode == OCF_SUCCESS

    started = agent.run('start')
    assert started.returncode == OCF_SUCCESS, started.stderr + agent.output()
    master = psutil.Process(agent.pid())
    assert 'vitrage-graph' in ' '.join(master.cmdline())
    # Its own process group and session, not the agent's.
    assert os.getpgid(master.pid) == master.pid
    deploy.wait_until(lambda: master.children(), 30,
                      'the cotyledon worker of vitrage-graph')
    workers = master.children(recursive=True)
    assert agent.run('monitor').returncode == OCF_SUCCESS

    # Starting what runs changes nothing.
    assert agent.run('start').returncode == OCF_SUCCESS
    assert agent.pid() == master.pid

    stopped = agent.run('stop')
    assert stopped.returncode == OCF_SUCCESS, stopped.stderr
    assert not master.is_running() or \
        master.status() == psutil.STATUS_ZOMBIE
    for worker in workers:
        assert not worker.is_running() or \
            worker.status() == psutil.STATUS_ZOMBIE
    assert agent.run('monitor').returncode == OCF_NOT_RUNNING
    assert not os.path.exists(agent.params['pid'])


@pytest.mark.slow
def test_monitor_reports_a_killed_graph_as_not_running(graph_agent):
    agent = graph_agent
    assert agent.run('start').returncode == OCF_SUCCESS
    os.killpg(agent.pid(), signal.SIGKILL)
    deploy.wait_until(
        lambda: agent.run('monitor').returncode == OCF_NOT_RUNNING, 30,
        'monitor to see the killed graph')
    assert agent.run('stop').returncode == OCF_SUCCESS


@pytest.mark.slow
def test_status_url_gates_start_and_monitor(tmp_path):
    port = helpers.free_port()
    status_url = 'http://127.0.0.1:%d/v1/status/' % port
    config = deploy.write_config(tmp_path / 'aio.conf', {
        'DEFAULT': {'state_path': tmp_path / 'state'},
        'api': {'port': port},
        'datasources': {'types': 'static'},
        'static': {'directory': tmp_path},
    })
    agent = Agent(tmp_path, binary=deploy.script('vitrage-all-in-one'),
                  config=str(config), status_url=status_url)
    try:
        started = agent.run('start')
        assert started.returncode == OCF_SUCCESS, (started.stderr +
                                                   agent.output())
        # start returned only once the graph serves.
        assert deploy.http_status(status_url) == 200
        assert agent.run('monitor').returncode == OCF_SUCCESS
        # The process runs but nothing answers at that URL: a failure
        # Pacemaker must act on, not "not running".
        wrong = 'http://127.0.0.1:%d/v1/status/' % helpers.free_port()
        failed = agent.run('monitor', status_url=wrong)
        assert failed.returncode == OCF_ERR_GENERIC
        assert wrong in failed.stderr
        assert agent.run('stop').returncode == OCF_SUCCESS
        assert deploy.http_status(status_url, timeout=2) is None

        # A graph that never serves at status_url fails its start once
        # the start timeout is nearly spent (Pacemaker then stops it).
        never = agent.run('start', status_url=wrong,
                          CRM_meta_timeout='8000')
        assert never.returncode == OCF_ERR_GENERIC
        assert 'did not answer 200 before the start timeout' in \
            never.stderr
        assert agent.run('stop').returncode == OCF_SUCCESS
        assert agent.run('monitor').returncode == OCF_NOT_RUNNING
    finally:
        try:
            os.killpg(agent.pid(), signal.SIGKILL)
        except (OSError, ValueError):
            pass
