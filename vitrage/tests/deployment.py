"""Real Vitrage processes for end-to-end tests, and the stock client.

:class:`Deployment` starts console scripts (``vitrage-all-in-one``,
``vitrage-collector``, ``vitrage-graph``, ``vitrage-api``) as
subprocesses, each in its own process group with its output in a log
file of the test's tmp dir, and kills every group it started when the
test ends, whatever its outcome. :class:`Cli` runs the stock
python-vitrageclient ``vitrage`` command against a running API.
"""
from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

import pytest

#: Where the console scripts of this interpreter's environment are.
BIN_DIR = os.path.dirname(sys.executable)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: How much of a log a failure report shows.
LOG_TAIL = 6000


def script(name: str) -> str:
    """The path of a console script next to the running interpreter.

    :param name: e.g. ``vitrage-graph``.
    """
    return os.path.join(BIN_DIR, name)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without OpenStack credentials or HTTP proxies.

    :param extra: variables to set on top.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'VITRAGE_')) and
           k.lower() not in ('http_proxy', 'https_proxy', 'all_proxy')}
    env['NO_PROXY'] = env['no_proxy'] = '127.0.0.1,localhost'
    env.update(extra)
    return env


def write_config(path: pathlib.Path,
                 sections: dict[str, dict[str, Any]]) -> pathlib.Path:
    """Write an oslo.config file.

    :param path: the file to write.
    :param sections: ``{group: {option: value}}``; lists are joined with
        commas.
    """
    lines = []
    for group, options in sections.items():
        lines.append('[%s]' % group)
        for name, value in options.items():
            if isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            lines.append('%s = %s' % (name, value))
        lines.append('')
    path.write_text('\n'.join(lines))
    return path


class ServiceProcess:
    """One console script run as a subprocess in its own process group.

    :param name: a label, also the log file's name.
    :param command: the command line.
    :param log_path: where stdout and stderr go.
    :param env: the environment.
    """

    def __init__(self, name: str, command: list[str],
                 log_path: pathlib.Path, env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None
        #: Set by :meth:`terminate`: an exit is then expected.
        self.stopping = False

    def start(self) -> 'ServiceProcess':
        with open(self.log_path, 'ab') as log_file:
            log_file.write(('=== %s\n' % ' '.join(self.command)).encode())
            log_file.flush()
            self.process = subprocess.Popen(
                self.command, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env,
                start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, '%s not started' % self.name
        return self.process.pid

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def terminate(self, timeout: float) -> int | None:
        """SIGTERM the process (not its group) and wait for it to exit.

        A cotyledon master forwards the signal to its workers itself.

        :param timeout: seconds to wait.
        :returns: the exit status, or None if it is still running.
        """
        self.stopping = True
        if self.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_group(self) -> None:
        """SIGKILL the whole process group (workers included) and reap."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''


class Deployment:
    """The processes of one test; see :func:`deployment_fixture`.

    :param directory: where the logs go (the test's tmp dir).
    """

    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory
        self.processes: list[ServiceProcess] = []

    def start(self, name: str, script_name: str, config: pathlib.Path,
              env: dict[str, str] | None = None) -> ServiceProcess:
        """Start ``script_name --config-file config``.

        :param name: label and log file name (``<name>.log``).
        :param script_name: the console script.
        :param config: the configuration file.
        :param env: the environment (:func:`clean_env` if None).
        """
        proc = ServiceProcess(
            name, [script(script_name), '--config-file', str(config)],
            self.directory / ('%s.log' % name),
            env if env is not None else clean_env())
        self.processes.append(proc)
        return proc.start()

    def logs(self) -> str:
        """The tail of every process's log, for failure reports."""
        parts = []
        for proc in self.processes:
            text = proc.log()
            parts.append('----- %s (pid %s, exit %s), %s -----\n%s' % (
                proc.name, proc.process and proc.process.pid, proc.poll(),
                proc.log_path, text[-LOG_TAIL:]))
        return '\n'.join(parts)

    def check_alive(self, *procs: ServiceProcess) -> None:
        """Fail, with the logs, when one of the processes has exited.

        :param procs: the processes to check; by default every process
            not stopped on purpose (:meth:`ServiceProcess.terminate`).
        :raises AssertionError: naming the process that exited.
        """
        for proc in procs or [p for p in self.processes if not p.stopping]:
            code = proc.poll()
            if code is not None:
                raise AssertionError('%s exited with %s\n%s' % (
                    proc.name, code, self.logs()))

    def cleanup(self) -> None:
        for proc in self.processes:
            proc.kill_group()


@pytest.fixture(name='deployment')
def deployment_fixture(request: pytest.FixtureRequest,
                       tmp_path: pathlib.Path) -> Iterator[Deployment]:
    """The ``deployment`` fixture: processes that are killed (whole
    groups) when the test ends. Test modules import it to use it.

    When the test failed, the tails of their logs are printed (pytest
    shows them as the teardown's captured output); the full logs stay in
    the test's tmp dir.
    """
    failed_before = request.session.testsfailed
    deploy = Deployment(tmp_path)
    try:
        yield deploy
    finally:
        deploy.cleanup()
        if request.session.testsfailed > failed_before:
            print(deploy.logs())


def http_status(url: str, timeout: float = 10) -> int | None:
    """The HTTP status of GET ``url``, or None when nothing answers."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until(predicate: Callable[[], Any], timeout: float,
               what: str, interval: float = 0.5,
               deployment: Deployment | None = None) -> Any:
    """Poll ``predicate`` until it returns something true.

    :param predicate: called until its result is true.
    :param timeout: the deadline, in seconds from now.
    :param what: what is waited for, for the failure message.
    :param interval: seconds between two calls.
    :param deployment: when given, fail early if one of its processes
        exits, and show its logs on failure.
    :returns: the predicate's last (true) result.
    :raises AssertionError: when the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if deployment is not None:
            deployment.check_alive()
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %.0f s waiting for %s '
                                 '(last: %r)%s' % (
                                     timeout, what, last,
                                     '\n' + deployment.logs()
                                     if deployment else ''))
        time.sleep(interval)


def wait_for_api(base_url: str, deployment: Deployment,
                 timeout: float = 60) -> None:
    """Wait until ``GET /v1/status/`` answers 200 (the graph is ready).

    :raises AssertionError: on timeout or when a process exits.
    """
    wait_until(lambda: http_status(base_url + '/v1/status/') == 200,
               timeout, '200 from %s/v1/status/' % base_url,
               deployment=deployment)


class Cli:
    """The stock ``vitrage`` command of python-vitrageclient.

    :param endpoint: the API's base URL.
    :param auth: ``vitrage-noauth`` (sends user and project headers) or
        ``none``.
    """

    def __init__(self, endpoint: str, auth: str = 'vitrage-noauth') -> None:
        self.endpoint = endpoint
        self.auth = auth

    def command(self, *args: str) -> list[str]:
        base = [script('vitrage'), '--os-auth-type', self.auth]
        if self.auth == 'vitrage-noauth':
            base += ['--user-id', 'u', '--project-id', 'p']
        return base + ['--endpoint', self.endpoint] + list(args)

    def run(self, *args: str, check: bool = True
            ) -> subprocess.CompletedProcess:
        """Run ``vitrage <args>``.

        :raises AssertionError: when ``check`` and it exits non-zero.
        """
        command = self.command(*args)
        result = subprocess.run(command, capture_output=True, text=True,
                                env=clean_env(), timeout=120)
        if check:
            assert result.returncode == 0, (
                '%s exited with %d\nstdout: %s\nstderr: %s' % (
                    ' '.join(command), result.returncode, result.stdout,
                    result.stderr))
        return result

    def json(self, *args: str) -> Any:
        """Run ``vitrage <args>`` and parse what it prints as JSON."""
        return json.loads(self.run(*args).stdout)


def topology_summary(topology: dict) -> tuple[dict, set]:
    """What two deployments must agree on, timestamps left out.

    :param topology: ``vitrage topology show`` output (node-link graph).
    :returns: ``({vitrage_id: (vitrage_type, id, state,
        vitrage_operational_state)}, {(source vitrage_id, target
        vitrage_id, relationship_type)})``.
    """
    nodes = topology['nodes']
    vertices = {n['vitrage_id']: (n.get('vitrage_type'), n.get('id'),
                                  n.get('state'),
                                  n.get('vitrage_operational_state'))
                for n in nodes}
    assert len(vertices) == len(nodes), 'repeated vitrage_id in topology'
    edges = set()
    for link in topology['links']:
        edges.add((nodes[link['source']]['vitrage_id'],
                   nodes[link['target']]['vitrage_id'],
                   link['relationship_type']))
    return vertices, edges
