"""vitrage-dbsync and vitrage-purge-data on the embedded SQLite default."""
import os
import subprocess
import sys

import sqlalchemy as sa

from vitrage.storage import migrations


def _run(script, config):
    path = os.path.join(os.path.dirname(sys.executable), script)
    return subprocess.run([path, '--config-file', config],
                          capture_output=True, text=True, timeout=120)


def test_dbsync_creates_the_default_sqlite_file_then_purge_runs(tmp_path):
    state = tmp_path / 'state'
    config = tmp_path / 'vitrage.conf'
    config.write_text('[DEFAULT]\nstate_path = %s\n' % state)
    done = _run('vitrage-dbsync', str(config))
    assert done.returncode == 0, done.stderr
    assert '-> %s' % migrations.head_revision() in done.stdout
    database = state / 'vitrage.sqlite'
    engine = sa.create_engine('sqlite:///%s' % database)
    assert 'events' in sa.inspect(engine).get_table_names()
    engine.dispose()
    again = _run('vitrage-dbsync', str(config))
    assert again.returncode == 0, again.stderr
    assert '%s -> %s' % ((migrations.head_revision(),) * 2) in again.stdout
    purged = _run('vitrage-purge-data', str(config))
    assert purged.returncode == 0, purged.stderr
    assert "'events': 0" in purged.stdout


def test_dbsync_names_a_bad_connection(tmp_path):
    config = tmp_path / 'vitrage.conf'
    config.write_text('[database]\nconnection = postgresql://u@h/db\n')
    done = _run('vitrage-dbsync', str(config))
    assert done.returncode == 2
    assert 'unsupported [database] connection' in done.stderr
