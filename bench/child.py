"""Run a benchmark's measure in a fresh Python process.

Each bench script measures one size in a child process of its own (no
memory or collector state carried over from the size before) that
prints its figures as one JSON line last.
"""
import json
import subprocess
import sys


class ChildFailed(RuntimeError):
    """The child exited with an error or printed no figures."""


def run(script: str, *argv: str) -> dict:
    """The figures ``python script argv...`` printed (its last JSON line).

    :param script: the bench script's path (its ``__file__``).
    :raises ChildFailed: with the end of its stderr.
    """
    out = subprocess.run([sys.executable, script, *argv],
                         capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines()
             if line.startswith('{')]
    if out.returncode != 0 or not lines:
        raise ChildFailed(out.stderr[-3000:])
    return json.loads(lines[-1])
